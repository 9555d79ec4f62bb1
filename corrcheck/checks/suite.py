"""The checks on one problem: user vs reference, gradients vs finite differences of the user's forward.

Pure apart from calling the user's code through the BoundOp: returns plain
CheckResults plus the raw material diagnosis needs (draws, user outputs).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from .. import reference
from .compare import compare
from .draw import Draw, random_draw
from ..errors import UnusableOutput, UserCallError
from .finite_diff import Objective, directional, exhaustive
from .problem import Problem
from ..result import CheckResult
from .tolerances import tolerance_for
from ..vocab import Against, FAILING, GRADS, Status, Target

EXHAUSTIVE_MAX_ENTRIES = 128   # auto mode: per-entry differences for small problems (sizes decide, so runs repeat)
EXHAUSTIVE_SECONDS = 2.0       # ...unless one user call is so slow that it would take longer than this
LOCALISE_CALLS = 200           # group testing stops here and says the list may be incomplete (a call
LOCALISE_SECONDS = 30.0        # count, so the same seed gives the same report; time only as a safety net)


@dataclass
class TargetOutcome:
    target: str
    user: list = field(default_factory=list)          # per draw: canonical array, or None
    expected: list = field(default_factory=list)      # per draw: reference result
    error: UserCallError | None = None


@dataclass
class ProblemOutcome:
    problem: Problem
    draws: list[Draw]
    checks: list[CheckResult] = field(default_factory=list)
    targets: dict[str, TargetOutcome] = field(default_factory=dict)
    fd_mode: str | None = None
    tolerance_notes: list = field(default_factory=list)
    seconds_per_call: float = 0.0

    @property
    def failed(self) -> bool:
        return any(c.status in FAILING for c in self.checks)

    def failing_targets(self) -> list[str]:
        """Targets with a failed or errored check, each once, in check order."""
        seen = []
        for c in self.checks:
            if c.status in FAILING and c.target not in seen:
                seen.append(c.target)
        return seen


def make_draw(problem: Problem, rng, has_bias: bool) -> Draw:
    """Random inputs of this problem's shapes from the run's seeded generator."""
    return random_draw(rng, problem.geom, batch=problem.batch, channels=problem.channels,
                       filters=problem.filters, in_spatial=problem.in_spatial, k_spatial=problem.k_spatial,
                       bias=has_bias)


def expected_for(target: str, d: Draw, geom) -> np.ndarray:
    """What `target` should be on this draw, by the independent reference."""
    if target == Target.FORWARD:
        return reference.forward(d.x, d.w, d.b, geometry=geom)
    if target == Target.GRAD_INPUT:
        return reference.grad_input(d.dout, d.w, d.x.shape, geometry=geom)
    if target == Target.GRAD_FILTER:
        return reference.grad_filter(d.dout, d.x, d.w.shape, geometry=geom)
    return reference.grad_bias(d.dout)


def user_result(op, target: str, d: Draw, geom) -> np.ndarray:
    """What the user's function for `target` answers on this draw, as a canonical array."""
    if target == Target.FORWARD:
        return op.forward(d.x, d.w, d.b, geom)
    return op.call(target, d.x, d.w, d.b, geom, dout=d.dout)


def error_check(target, against, err: UserCallError, note=None) -> CheckResult:
    """A check whose user call raised, hung or returned something unusable."""
    return CheckResult(target=target, against=against, status=Status.ERROR, message=err.message,
                       traceback=err.traceback, config_note=note)


def check_problem(op, problem: Problem, cfg, rng, *, draws: int = 2, finite_differences: bool = True,
                  repeatability: bool = True, first=None, second_draw: bool = True) -> ProblemOutcome:
    """All checks on one problem (see module doc).

    The user's functions run on the first draw; the other `draws` are made now
    (so the random stream does not depend on the verdict) but only used, by
    diagnosis, when a target fails: a passing check costs no extra calls.
    `first` = (target, draw, result) of an earlier call (the layout probe): that
    draw is reused and the new result must equal the old one (repeatability).
    """
    note = problem.note
    ds = [make_draw(problem, rng, op.has_bias) for _ in range(draws)]
    if first is not None:
        ds[0] = first[1]
    out = ProblemOutcome(problem, ds)
    geom = problem.geom
    repeated: set[str] = set()       # targets whose function was already called twice
    for target in op.targets:
        t = TargetOutcome(target)
        out.targets[target] = t
        d = ds[0]
        t.expected.append(expected_for(target, d, geom))
        started = time.perf_counter()
        try:
            t.user.append(user_result(op, target, d, geom))
        except UserCallError as err:
            t.user.append(None)
            t.error = err
        if target == Target.FORWARD:
            out.seconds_per_call = time.perf_counter() - started
        tol = tolerance_for(op.dtype_notes.get(target), cfg.rtol, cfg.atol)
        if op.dtype_notes.get(target) and "float" in op.dtype_notes[target]:
            note_text = (f"{op.names.get(target, target)} returned {op.dtype_notes[target]}: "
                         f"tolerances loosened to rtol={tol.rtol:g}, atol={tol.atol:g}")
            if note_text not in out.tolerance_notes:
                out.tolerance_notes.append(note_text)
        if t.error is not None:
            out.checks.append(error_check(target, Against.REFERENCE, t.error, note))
            continue
        res = compare(target, Against.REFERENCE, t.user[0], t.expected[0], tol,
                      user_index=lambda i, tg=target: op.user_index(tg, i), mode="direct", config_note=note)
        # Same inputs again right away (before any other input can reset hidden state)
        if first is not None and first[0] == target:
            rep = _differs(op, target, first[2], t.user[0], note)
        elif repeatability and target not in repeated:
            rep = _repeatability(op, target, ds[0], geom, t.user[0], note)
            repeated.update(op.served_with(target))
        else:
            rep = None
        if res.status == Status.PASS and len(ds) > 1 and second_draw:
            res = _second_draw(op, target, t, ds[1], geom, tol, note) or res
        out.checks.append(res)
        if rep is not None:
            out.checks.append(rep)
    if finite_differences and "forward" in op.targets and out.targets["forward"].error is None:
        _fd_checks(op, out, cfg, rng, note)
    for msg in op.mutations:
        tgt = next((t for t, n in op.names.items() if msg.startswith(n + " ")), "forward")
        out.checks.append(CheckResult(target=tgt, against=Against.REFERENCE, status=Status.FAIL, message=msg,
                                      config_note=note))
    op.mutations.clear()
    return out


def _second_draw(op, target, t, d, geom, tol, note) -> CheckResult | None:
    """Right on one input but wrong on a second of the same shape: a cache or state kept from
    an earlier call (e.g. a padded input memoised per shape). One more call per target."""
    t.expected.append(expected_for(target, d, geom))
    try:
        t.user.append(user_result(op, target, d, geom))
    except UserCallError as err:
        return error_check(target, Against.REFERENCE, err, note)
    res = compare(target, Against.REFERENCE, t.user[1], t.expected[1], tol,
                  user_index=lambda i: op.user_index(target, i), mode="direct", config_note=note)
    if res.status == Status.PASS:
        return None
    name = op.names.get(target, target)
    return replace(res, message=(f"{name} is right on the first input but wrong on a second input of the same "
                                 f"shape: it keeps something from an earlier call (a cache or global state)"))


def _repeatability(op, target, d, geom, first, note) -> CheckResult | None:
    """Same inputs twice must give the same answer (hidden state, accumulating dW, stale caches).

    Every gradient the same backward call returns is compared: a layer whose dW accumulates
    returns the same dx each time.
    """
    served = [target] + sorted(op.served_with(target) - {target}) if target != Target.FORWARD else [target]
    firsts = {target: first}
    for t in served[1:]:
        try:
            firsts[t] = user_result(op, t, d, geom)      # answered by the same call (memo), no new call
        except UserCallError:
            pass
    op.forget()
    for t in served:
        if t not in firsts:
            continue
        try:
            again = user_result(op, t, d, geom)
        except UserCallError as err:
            return error_check(t, Against.REFERENCE, err, note)
        rep = _differs(op, t, firsts[t], again, note)
        if rep is not None:
            return rep
    return None


def _differs(op, target, first, again, note) -> CheckResult | None:
    first, again = np.asarray(first), np.asarray(again)
    if first.shape == again.shape and np.array_equal(again, first, equal_nan=True):
        return None
    name = op.names.get(target, target)
    diff = float(np.nanmax(np.abs(again - first))) if again.shape == first.shape else float("nan")
    return CheckResult(
        target=target, against=Against.REFERENCE, status=Status.FAIL, config_note=note,
        message=(f"calling {name} twice on the same inputs gave different results (max difference {diff:.3g}): "
                 f"hidden state, a gradient accumulated across calls (dW += ... never reset) or a stale cache"))


def choose_mode(op, problem: Problem, cfg, seconds_per_call: float) -> str:
    """Exhaustive finite differences when every entry fits the time budget, else random directions."""
    if cfg.exhaustive:
        return "exhaustive"
    entries = problem.batch * problem.channels * int(np.prod(problem.in_spatial)) + \
        problem.filters * problem.channels * int(np.prod(problem.k_spatial))
    if entries <= EXHAUSTIVE_MAX_ENTRIES and 2 * entries * seconds_per_call <= EXHAUSTIVE_SECONDS:
        return "exhaustive"
    return "directional"


def _fd_checks(op, out: ProblemOutcome, cfg, rng, note):
    d = out.draws[0]
    geom = out.problem.geom
    mode = choose_mode(op, out.problem, cfg, out.seconds_per_call)
    forward_wrong = any(c.target == Target.FORWARD and c.against == Against.REFERENCE and c.status != Status.PASS
                        for c in out.checks)
    out.fd_mode = mode
    for target in GRADS:
        t = out.targets.get(target)
        if t is None or (target == Target.GRAD_BIAS and d.b is None):
            continue
        if t.error is not None:
            out.checks.append(error_check(target, Against.FINITE_DIFFERENCES, t.error, note))
            continue
        tol = tolerance_for(op.dtype_notes.get("forward") or op.dtype_notes.get(target), cfg.rtol, cfg.atol)
        obj = Objective(op, d, geom, target, tol, base=out.targets["forward"].user[0])
        grad = t.user[0]
        idx = (lambda i, tg=target: op.user_index(tg, i))
        try:
            cheap_bias = target == Target.GRAD_BIAS and grad.size <= 16 and \
                2 * grad.size * out.seconds_per_call <= EXHAUSTIVE_SECONDS
            if mode == "exhaustive" or cheap_bias:
                fd = exhaustive(obj)
                out.checks.append(compare(target, Against.FINITE_DIFFERENCES, grad, fd, tol, user_index=idx,
                                          mode="exhaustive", config_note=note))
            else:
                # with the forward already wrong, the FD gradient disagrees almost everywhere:
                # listing every entry costs calls and says little, so look less hard
                budget = LOCALISE_CALLS // 4 if forward_wrong else LOCALISE_CALLS
                passed, wrong, complete = directional(obj, grad, rng, budget=budget, seconds=LOCALISE_SECONDS)
                expected = grad.copy().reshape(-1)
                for i, v in wrong.items():
                    expected[i] = v
                res = compare(target, Against.FINITE_DIFFERENCES, grad, expected.reshape(grad.shape), tol,
                              user_index=idx, mode="directional", config_note=note)
                if not passed and res.status == Status.PASS:
                    res = CheckResult(**{**res.__dict__, "status": Status.FAIL,
                                         "message": "a random-direction check disagreed but no single entry could be singled out"})
                elif not complete:
                    res = CheckResult(**{**res.__dict__, "message": "localisation stopped at its call budget: "
                                                                    "more entries may be wrong (use --exhaustive)"})
                out.checks.append(res)
        except UnusableOutput as err:
            out.checks.append(error_check(target, Against.FINITE_DIFFERENCES, err, note))
        except UserCallError as err:
            out.checks.append(error_check(target, Against.FINITE_DIFFERENCES, err, note))
