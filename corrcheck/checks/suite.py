"""The checks on one problem: user vs reference, gradients vs finite differences of the user's forward.

Pure apart from calling the user's code through the BoundOp: returns plain
CheckResults plus the raw material diagnosis needs (draws, user outputs).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from .. import reference
from .compare import compare, same_values
from .draw import Draw, Draws, deferred_draw, remade_draw
from ..errors import UnusableOutput, UserCallError, UserTimeout
from .finite_diff import Objective, inner, directional, exhaustive
from .problem import Problem
from ..result import CheckResult
from .tolerances import tolerance_for
from ..vocab import Against, FAILING, GRADS, Status, Target

EXHAUSTIVE_MAX_ENTRIES = 128   # auto mode: per-entry differences for small problems (sizes decide, so runs repeat)
EXHAUSTIVE_SECONDS = 2.0       # ...unless one user call is so slow that it would take longer than this
LOCALISE_CALLS = 200           # group testing stops here and says the list may be incomplete (a call
LOCALISE_SECONDS = 30.0        # count, so the same seed gives the same report; time only as a safety net)
EXACT_SECONDS = 10.0           # when group testing stops early, every entry one by one if that costs less


@dataclass
class TargetOutcome:
    """One target's first-draw outputs, user's and reference's, kept so diagnosis needs no new calls."""

    target: str
    user: list = field(default_factory=list)          # first draw: canonical array, or None
    expected: list = field(default_factory=list)      # first draw: reference result
    error: UserCallError | None = None


@dataclass
class ProblemOutcome:
    """What one problem's checks produced: the results to report, and the draws and outputs diagnosis needs."""

    problem: Problem
    draws: list[Draw]
    checks: list[CheckResult] = field(default_factory=list)
    targets: dict[str, TargetOutcome] = field(default_factory=dict)
    fd_mode: str | None = None
    tolerance_notes: list = field(default_factory=list)
    seconds_per_call: float = 0.0
    base_L0: float | None = None     # <dout, user's forward> on the first draw, once its output is let go

    @property
    def failed(self) -> bool:
        """An errored check counts as failed too (FAILING), as it does for the exit code."""
        return any(c.status in FAILING for c in self.checks)

    def release(self, op) -> None:
        """A passing problem needs none of its arrays again (diagnosis reads failing ones only):
        drop the user's and the reference's results and the draws a recipe can remake, and
        forget the backward memo, so a large check holds one problem's arrays at a time."""
        for t in self.targets.values():
            t.user.clear()
            t.expected.clear()
        if isinstance(self.draws, Draws):
            self.draws.release()
        op.forget()

    def failing_targets(self) -> list[str]:
        """Targets with a failed or errored check, each once, in check order."""
        seen = []
        for c in self.checks:
            if c.status in FAILING and c.target not in seen:
                seen.append(c.target)
        return seen


def make_draw(problem: Problem, rng, has_bias: bool) -> Draw:
    """Random inputs of this problem's shapes from the run's seeded generator; the draw knows
    how to make itself again (Draw.recipe), so a passing check can let it go."""
    return _drawn(problem, rng, has_bias, now=True)[0]


def _drawn(problem: Problem, rng, has_bias: bool, now: bool):
    """A draw made now (with its recipe) or deferred until diagnosis asks for it."""
    make = remade_draw if now else deferred_draw
    return make(rng, problem.geom, batch=problem.batch, channels=problem.channels, filters=problem.filters,
                in_spatial=problem.in_spatial, k_spatial=problem.k_spatial, bias=has_bias)


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
                       traceback=err.traceback, config_note=note, timed_out=isinstance(err, UserTimeout))


def check_problem(op, problem: Problem, cfg, rng, *, draws: int = 2, finite_differences: bool = True,
                  repeatability: bool = True, first=None, second_draw: bool = True,
                  release: bool = True) -> ProblemOutcome:
    """All checks on one problem (see module doc).

    The user's functions run on the first draw; the other `draws` are made now
    (so the random stream does not depend on the verdict) but only used, by
    diagnosis, when a target fails: a passing check costs no extra calls.
    `first` = (target, draw, result, expected) of an earlier call (the layout probe):
    that draw, result and reference result are this target's first call, and the
    call made here again must give the same (repeatability).
    """
    note = problem.note
    checked = 2 if second_draw else 1  # draws the checks use now; the rest wait for a diagnosis, if any
    first_target = first_result = first_expected = None
    if first is not None:    # the probe's draw is the first one: only the others are drawn here
        first_target, first_draw, first_result, first_expected = first
        del first            # the probe's arrays live only until compared (50 MB each at large shapes)
        ds = Draws([first_draw] + [_drawn(problem, rng, op.has_bias, now=i < checked) for i in range(1, draws)])
    else:
        ds = Draws([_drawn(problem, rng, op.has_bias, now=i < checked) for i in range(draws)])
    out = ProblemOutcome(problem, ds)
    geom = problem.geom
    repeated: set[str] = set()       # targets whose function was already called twice
    for target in op.targets:
        t = TargetOutcome(target)
        out.targets[target] = t
        d = ds[0]
        reused = first_result is not None and first_target == target
        if reused:           # the probe made this call and its reference result already
            t.user.append(first_result)
            t.expected.append(first_expected)
            first_result = first_expected = None
        else:
            started = time.perf_counter()
            try:
                t.user.append(user_result(op, target, d, geom))
            except UserCallError as err:
                t.user.append(None)
                t.error = err
            if target == Target.FORWARD:
                out.seconds_per_call = time.perf_counter() - started
            t.expected.append(expected_for(target, d, geom))  # after the call: not alive while the user's code runs
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
        if res.status == Status.PASS and release and not getattr(cfg, "explain_cell", None):
            t.expected.clear()  # it matched: only a diagnosis reads it again, and remakes it
        # Same inputs again right away (before any other input can reset hidden state)
        if reused:
            rep = _again(op, target, d, geom, t.user[0], note, out)
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
        if release and not getattr(cfg, "explain_cell", None):
            _let_go(out, target, t, d, finite_differences)
    if finite_differences and "forward" in op.targets and out.targets["forward"].error is None:
        if release and not out.failed and not getattr(cfg, "explain_cell", None):
            # the differences call only the forward, on the first draw: the later draws and the
            # backward's memo (its raw answers) are not read again unless a check fails, and at
            # large shapes they are 200 MB alive through every call
            if isinstance(ds, Draws):
                ds.release(1)
            op.forget()
        _fd_checks(op, out, cfg, rng, note)
        if release and not getattr(cfg, "explain_cell", None):
            for target, t in out.targets.items():
                _let_go(out, target, t, d, False)
    for msg in op.mutations:
        tgt = next((t for t, n in op.names.items() if msg.startswith(n + " ")), "forward")
        out.checks.append(CheckResult(target=tgt, against=Against.REFERENCE, status=Status.FAIL, message=msg,
                                      config_note=note))
    op.mutations.clear()
    if release and not out.failed and not getattr(cfg, "explain_cell", None):
        out.release(op)
    return out


def _second_draw(op, target, t, d, geom, tol, note) -> CheckResult | None:
    """Right on one input but wrong on a second of the same shape: a cache or state kept from
    an earlier call (e.g. a padded input memoised per shape). One more call per target.

    Neither array is kept: diagnosis calls the user again on later draws when it needs them,
    and at large shapes the two are 100 MB that would stay alive for the whole run."""
    try:
        user = user_result(op, target, d, geom)
    except UserCallError as err:
        return error_check(target, Against.REFERENCE, err, note)
    res = compare(target, Against.REFERENCE, user, expected_for(target, d, geom), tol,
                  user_index=lambda i: op.user_index(target, i), mode="direct", config_note=note)
    if res.status == Status.PASS:
        return None
    name = op.names.get(target, target)
    return replace(res, message=(f"{name} is right on the first input but wrong on a second input of the same "
                                 f"shape: it keeps something from an earlier call (a cache or global state)"))


def _again(op, target, d, geom, first, note, out: ProblemOutcome) -> CheckResult | None:
    """The probe's call made once more on the same draw: it must give the same answer. This is
    also the call that times the forward (the probe's first call paid for imports and caches)."""
    started = time.perf_counter()
    try:
        again = user_result(op, target, d, geom)
    except UserCallError as err:
        return error_check(target, Against.REFERENCE, err, note)
    if target == Target.FORWARD:
        out.seconds_per_call = time.perf_counter() - started
    return _differs(op, target, first, again, note)


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
        if t != Target.FORWARD:
            op.share(t, firsts[t])
    return None


def _differs(op, target, first, again, note) -> CheckResult | None:
    first, again = np.asarray(first), np.asarray(again)
    if same_values(again, first):
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


def _let_go(out: ProblemOutcome, target: str, t: TargetOutcome, d: Draw, finite_differences_pending: bool) -> None:
    """A target that matched the reference: its reference result, and a matching forward's output,
    are read again only by diagnosis of a failing target, which this is not. Letting them go at
    once keeps ~100 MB less alive through the later targets' calls and the finite differences,
    which need of the forward only <dout, out>."""
    if t.error is not None or any(c.status != Status.PASS for c in out.checks if c.target == target):
        return
    if target == Target.FORWARD and t.user and t.user[0] is not None:
        out.base_L0 = inner(d.dout, t.user[0])
    elif target != Target.FORWARD and finite_differences_pending:
        t.expected.clear()          # the finite differences compare only the user's gradient
        return                      # (diagnosis makes the reference's again if they fail)
    t.user.clear()                  # both go together: readers skip a target without them
    t.expected.clear()


def _fd_checks(op, out: ProblemOutcome, cfg, rng, note):
    d = out.draws[0]
    geom = out.problem.geom
    mode = choose_mode(op, out.problem, cfg, out.seconds_per_call)
    forward_wrong = any(c.target == Target.FORWARD and c.against == Against.REFERENCE and c.status != Status.PASS
                        for c in out.checks)
    out.fd_mode = mode
    fwd = out.targets[Target.FORWARD].user
    L0 = out.base_L0 if out.base_L0 is not None else (inner(d.dout, fwd[0]) if fwd and fwd[0] is not None else None)
    for target in GRADS:
        t = out.targets.get(target)
        if t is None or (target == Target.GRAD_BIAS and d.b is None):
            continue
        if t.error is not None:
            out.checks.append(error_check(target, Against.FINITE_DIFFERENCES, t.error, note))
            continue
        tol = tolerance_for(op.dtype_notes.get("forward") or op.dtype_notes.get(target), cfg.rtol, cfg.atol)
        obj = Objective(op, d, geom, target, tol, L0=L0)
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
                if not complete and 2 * grad.size * out.seconds_per_call <= EXACT_SECONDS:
                    # group testing only found a subset: count exactly, one entry at a time
                    fd = exhaustive(obj)
                    res = compare(target, Against.FINITE_DIFFERENCES, grad, fd, tol, user_index=idx,
                                  mode="exhaustive", config_note=note)
                    res = replace(res, message=None if res.status == Status.PASS else
                                  "group testing stopped at its call budget, so every entry was then checked "
                                  "one by one: the count is exact")
                elif not passed and res.status == Status.PASS:
                    res = replace(res, status=Status.FAIL, mismatches=max(1, res.mismatches or 0),
                                  mismatches_lower_bound=True,
                                  message="a random-direction check disagreed but no single entry could be "
                                          "singled out: at least one entry is wrong")
                elif not complete:
                    res = replace(res, mismatches_lower_bound=True,
                                  message=f"at least {res.mismatches} entries are wrong: group testing stopped "
                                          f"at its call budget before it had singled out every wrong entry, and "
                                          f"checking each one would take too long here (use --exhaustive for "
                                          f"the exact count)")
                if res.mode == "directional" and res.status == Status.PASS:
                    # random directions compare sums, not entries: no per-entry error was measured
                    # (the comparison above would say 0)
                    res = replace(res, max_abs_error=None)
                out.checks.append(res)
        except UnusableOutput as err:
            out.checks.append(error_check(target, Against.FINITE_DIFFERENCES, err, note))
        except UserCallError as err:
            out.checks.append(error_check(target, Against.FINITE_DIFFERENCES, err, note))
