"""One run, end to end: load, bind, check the user's config and its variants, diagnose, conclude.

Returns a RunResult; never prints. The CLI, the Python API and the demo all
come through `run`.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from . import __version__
from .binding.discover import plan as bind_plan
from .binding.layouts import LAYOUTS
from .binding.probe import choose, first_call
from .checks.problem import Problem, build_problem, even_variant, pad0_variant, probe_variants, stride1_variant
from .checks.suite import ProblemOutcome, check_problem
from .config import RunConfig
from .diagnosis.feed import diagnose_outcomes, explain_worst
from .binding.conventions import has_named_role
from .diagnosis.story import conclusion, reported_checks, summary_notes, unreceived_geometry_notes
from .errors import BindError, ConfigError, CorrcheckError, UnreadableOutput
from .geometry import format_axes, format_pad
from .loader.files import load_namespace
from .locate.find import locate_all
from .rerun import reproduce_command
from .result import ErrorInfo, RunResult
from .vocab import Convention, FAILING, Op, Status, Target, Verdict


def config_dict(cfg: RunConfig, op, problem) -> dict:
    """The JSON `config`: the geometry and shapes actually checked, in the user's layout (docs/contract.md)."""
    g = problem.geom
    return {
        "op": g.op, "stride": list(g.stride), "pad": [list(p) for p in g.pad], "dilation": list(g.dilation),
        "layout": op.layout.name if op else cfg.layout, "convention": op.convention if op else cfg.convention,
        "input_shape": list(op.layout.x_shape(problem.batch, problem.channels, problem.in_spatial)),
        "filter_shape": list(op.layout.w_shape(problem.filters, problem.channels, problem.k_spatial)),
        "seed": int(cfg.seed),
    }


def default_geometry(cfg: RunConfig, plan) -> tuple[RunConfig, list[str]]:
    """Without --stride/--pad, check where stride and padding mistakes show (stride 2, pad 1)
    when the functions take them, and plain stride 1 / pad 0 when they do not."""
    impl = plan.make_impl()
    notes = []
    if cfg.filter_size is None and getattr(impl, "square_kernel", None):
        # a module built from one kernel_size (nn.Conv2d's way) has square filters only
        cfg = cfg.replace(filter_size="3")
        notes.append(f"filter 3 per axis: {impl.square_kernel} takes one kernel_size (give --filter-size for another)")
    takes = getattr(impl, "takes", lambda role: True)
    notes += unreceived_geometry_notes(cfg.geometry_options, takes, pad=cfg.pad)
    if cfg.dilation is None:
        # like the stride: where dilation mistakes show, when a function is named to take one
        dilated = has_named_role(impl, "dilation")
        cfg = cfg.replace(dilation=2 if dilated else 1)
        if dilated:
            notes.append("no --dilation given: checked at dilation 2, where dilation mistakes show (give "
                         "--dilation for your own setting)")
    if cfg.stride is not None and cfg.pad is not None:
        return cfg, notes
    chosen = {}
    if cfg.stride is None:
        chosen["stride"] = 2 if takes("stride") else 1
    if cfg.pad is None:
        # Holberton's layers take their padding as 'same' or 'valid' only (a tuple reads as valid)
        chosen["pad"] = ("same" if plan.convention == Convention.HOLBERTON else 1) if takes("pad") else 0
    said = ", ".join(f"{k} {v}" for k, v in chosen.items())
    flags = " / ".join(f"--{k}" for k in chosen)
    why = ("where stride and padding mistakes show" if any(takes(k) for k in chosen)
           else f"as your functions take no {' or '.join(chosen)}")
    return cfg.replace(**chosen), notes + [f"no {flags} given: checked at {said}, {why} "
                                   f"(give {flags} for your own setting)"]


def _explain_sweep_failure(cfg: RunConfig, result: RunResult, op, smallest: Problem) -> RunResult:
    """The main config passed but the sweep found failures: check the smallest failing config in
    full on the same bound functions, so its mistake is named, and say plainly that the layer is
    not right everywhere."""
    sub = cfg.replace(sweep=False, fix=False, input_size=smallest.in_spatial, filter_size=smallest.k_spatial)
    detail = check_bound(sub, op, smallest, first=first_call(op, smallest, sub))
    g = smallest.geom
    shape = op.layout.x_shape(smallest.batch, smallest.channels, smallest.in_spatial)
    dilated = f", dilation {format_axes(g.dilation)}" if any(d != 1 for d in g.dilation) else ""
    where = f"stride {format_axes(g.stride)}, pad {format_pad(g.pad)}{dilated}, input {'x'.join(map(str, shape))}"
    extra = tuple(replace(d, explanation=f"{d.explanation} (at {where}, the smallest failing sweep config)")
                  for d in detail.diagnoses)
    sentence = (f"At the configuration checked in detail everything passes, but {result.sweep.failed} of "
                f"{result.sweep.configs} sweep configurations fail, so the layer is not right in general; "
                f"the smallest failing one is {where}.")
    return replace(result, diagnoses=result.diagnoses + extra,
                   conclusion=sentence + (" " + detail.conclusion if detail.conclusion else ""))


def error_result(cfg: RunConfig, exc: Exception, t0: float) -> RunResult:
    """The exit-2 result for a run stopped before any check; a kind outside the contract's three reads as usage."""
    kind = getattr(exc, "kind", "usage")
    return RunResult(version=__version__, verdict=Verdict.ERROR, files=tuple(cfg.files),
                     error=ErrorInfo(kind if kind in ("usage", "load", "bind") else "usage", str(exc)),
                     seconds=time.perf_counter() - t0, command=reproduce_command(cfg))


def run(cfg: RunConfig, progress=None) -> RunResult:
    """The whole `corrcheck run`: load, bind, check, diagnose, sweep and fix; what it cannot check is an error result."""
    t0 = time.perf_counter()
    try:
        cfg = given = cfg.validate()   # `given`: before the dense defaults, for the window fallbacks
        ns, language, sources = load_namespace(cfg)
        from .window_runner import run_window, wants_window_path
        if wants_window_path(cfg, ns):      # grouped, transposed, pooling: their own binding and checks
            return _finish_window(cfg, _other_flag(cfg, run_window(cfg, ns, language, sources, t0)), ns, t0)
        plan = bind_plan(ns, cfg)
        cfg, geometry_note = default_geometry(cfg, plan)
        rng = np.random.default_rng(cfg.seed)
        op, main, layout_notes, first = choose(plan, cfg, rng, language=language, user_files=tuple(cfg.files))
    except CorrcheckError as exc:
        found = locals().get("ns"), locals().get("language"), locals().get("sources")
        given = locals().get("given")
        if given is None:                   # the options themselves were refused
            return error_result(cfg, exc, t0)
        grouped = _as_grouped(given, *found, t0)
        if grouped is not None:
            return _finish_window(given, grouped, found[0], t0)
        return _as_transposed(given, *found, t0) or error_result(cfg, exc, t0)
    handoff = [first]
    del first                # the probe's draw and output (100 MB at large shapes) live only as long as needed
    try:
        result = check_bound(cfg, op, main, plan_notes=plan.notes + geometry_note + layout_notes, sources=sources,
                             t0=t0, language=language, first=handoff.pop(), chosen_stride=given.stride is None)
    except CorrcheckError as exc:
        return error_result(cfg, exc, t0)
    if result.verdict == Verdict.FAIL and not any(c.timed_out for c in result.checks):
        # second opinions run the code again: not when it already hung (each would wait out the limit)
        grouped = _as_grouped(given, ns, language, sources, t0)
        if grouped is not None:
            return _finish_window(given, grouped, ns, t0)
        result = _as_transposed(given, ns, language, sources, t0) or result
        result = _padded_same(given, op, result)
        result = _other_flag(cfg, result)
    if cfg.sweep:
        from .sweep import attach             # lazy: multiprocessing and the pool load only with --sweep
        main_passed = result.verdict == Verdict.PASS
        result, smallest = attach(result, op, main, cfg, language=language, progress=progress, t0=t0)
        if main_passed and smallest is not None:
            result = _explain_sweep_failure(cfg, result, op, smallest)
    if cfg.fix and result.verdict == Verdict.FAIL:
        from .locate.fix import search_fix    # lazy: the rewrites and temp copies load only with --fix
        result = replace(result, fix=search_fix(cfg, result, rerun=run))
    return replace(result, seconds=time.perf_counter() - t0)      # the whole run, second opinions included


def _finish_window(cfg, result, ns, t0) -> RunResult:
    """A grouped, transposed or pooling run's --sweep and --fix (their own, on the window path)."""
    if cfg.sweep:
        from .window_runner import sweep_window
        result = sweep_window(cfg, result, run, ns)
    if cfg.fix and result.verdict == Verdict.FAIL:
        from .locate.window_fix import search_window_fix   # lazy: the rewrites and temp copies load only with --fix
        result = replace(result, fix=search_window_fix(cfg, result, rerun=run))
    return replace(result, seconds=time.perf_counter() - t0)


def _as_grouped(cfg, ns, language, sources, t0):
    """Shapes say grouped: nothing in the names did and the dense check could not bind or failed, but the
    layer class makes its own filter (F, C/G, *K) with G > 1. Then it is checked as the grouped layer its
    weight says it is, whatever the verdict (the weight's shape is the layer's own statement)."""
    if ns is None or cfg.op != Op.CORRELATE or cfg.groups:
        return None
    from .window_runner import grouped_by_weight, run_window
    try:
        if not grouped_by_weight(cfg, ns, language):
            return None
        return run_window(cfg, ns, language, sources or {}, t0)
    except Exception:              # a second opinion only: whatever stops it, the dense result stands
        return None


def _as_transposed(cfg, ns, language, sources, t0):
    """Shapes say transposed: nothing in the names did, the correlation checks fail, but every check of a
    transposed convolution (output larger than the input) passes. Then that is what the code is."""
    if ns is None or cfg.op != Op.CORRELATE or cfg.op_given or cfg.groups or cfg.sweep:
        return None
    from .binding.layouts import spatial_sizes
    from .window_runner import run_window, transposed_output
    try:
        res = run_window(cfg.replace(op=Op.TRANSPOSE, fix=False), ns, language, sources or {}, t0)
    except Exception:              # a second opinion only: whatever stops it, the dense result stands
        return None
    if res.verdict != Verdict.PASS:
        return None
    # at stride 1 a correlation is also a transposed convolution (filter flipped, padding k-1-p); only
    # an output larger than the input says the code is one
    if not all(o > n for o, n in zip(transposed_output(res.config), spatial_sizes(res.config)[0])):
        return None
    note = ("your forward's output is larger than its input and agrees with a transposed convolution, not a "
            "correlation: checked as one (--op transpose says so directly)")
    return replace(res, notes=(note,) + tuple(res.notes))


def _padded_same(given, op, result: RunResult) -> RunResult:
    """Code that takes no padding but pads by TensorFlow's 'SAME' rule itself (output ceil(n / s)) was
    checked at pad 0, where its output has the wrong shape: when its forward has the right shape at
    --pad same, that is what the code pads, and the result is that run's (pass or fail), said in a note."""
    if given.pad is not None or getattr(op.impl, "takes", lambda role: True)("pad") or \
            not any(c.status == Status.ERROR for c in result.checks if c.target == Target.FORWARD):
        return result
    try:
        again = run(given.replace(pad="same"))
    except Exception:              # a second opinion only: whatever stops it, the result stands
        return result
    if again.verdict == Verdict.ERROR or any(c.status == Status.ERROR for c in again.checks
                                             if c.target == Target.FORWARD):
        return result
    note = ("your functions take no padding, and their output is ceil(n / stride) per axis: they pad "
            "'same' themselves, so they were checked at --pad same")
    # the pad was corrcheck's choice here, not the user's: no 'as asked' note about it
    return replace(again, notes=(note,) + tuple(n for n in again.notes if not n.startswith("no bound function takes a pad")))


# A named mistake that is also what another flag asks for: (the changed options, the flag, what the code is)
OTHER_FLAG = {
    "filter-flipped": lambda cfg: ({"op": Op.CONVOLVE}, "--op convolve", "a true convolution (the filter flipped)")
    if cfg.op == Op.CORRELATE else ({"op": Op.CORRELATE}, "--op correlate", "a correlation"),
    "avgpool-wrong-divisor": lambda cfg: None if cfg.count_include_pad else (
        {"count_include_pad": True}, "--count-include-pad", "an average pool that counts the padding (torch's "
        "avg_pool2d default)"),
}


def _other_flag(cfg, result: RunResult) -> RunResult:
    """A mistake that is what another flag describes (a filter read flipped is a true convolution, an
    average over the whole window counts the padding) may be meant. When every check passes with that
    flag, the conclusion says so: the verdict stays FAIL for what was asked, and the user learns the
    flag that describes the code."""
    for d in result.diagnoses:
        other = OTHER_FLAG[d.bug](cfg) if d.bug in OTHER_FLAG else None
        if other is None:
            continue
        changes, flag, what = other
        try:
            again = run(cfg.replace(**changes, fix=False, sweep=False))
        except Exception:          # a second opinion only: whatever stops it, the result stands
            return result
        if again.verdict != Verdict.PASS:
            return result
        return replace(result, conclusion=f"{result.conclusion} Your functions agree with each other as {what}: "
                       f"every check passes with {flag}. If that is what you meant, run with {flag}.")
    return result


def check_bound(cfg, op, main, *, plan_notes=(), sources=None, t0=None, language="python",
                first=None, chosen_stride: bool = False) -> RunResult:
    """Everything after binding: checks on the main problem and its variants, diagnosis, story."""
    t0 = time.perf_counter() if t0 is None else t0
    rng = np.random.default_rng(cfg.seed + 1)
    handoff = [first]
    del first                # check_problem lets go of the probe's output once it has compared it
    outcomes: list[ProblemOutcome] = [check_problem(op, main, cfg, rng, first=handoff.pop())]
    # pad 0 too (un-padding with [p:-p] is empty there), when a function takes the padding: code that
    # pads by its own fixed rule ('SAME' inside) computes another layer at pad 0
    takes = getattr(op.impl, "takes", lambda role: True)
    # an output size off by one where the stride divides evenly, and a stride-1 branch of its own
    # when corrcheck chose the stride
    for extra in (pad0_variant(main) if takes("pad") else None, even_variant(main),
                  stride1_variant(main) if chosen_stride and takes("stride") else None):
        if extra is not None:
            outcomes.append(check_problem(op, extra, cfg, rng, draws=2, repeatability=False,
                                          finite_differences=False, second_draw=False))
    unreadable = next((t.error for t in outcomes[0].targets.values() if isinstance(t.error, UnreadableOutput)), None)
    if unreadable is not None:
        # an object corrcheck cannot read is corrcheck not understanding the code: exit 2, never a FAIL
        raise BindError(unreadable.message)
    fwd = outcomes[0].targets.get("forward")
    if fwd is not None and fwd.error is not None:
        # the forward crashed here: find shapes where it runs, so the gradients can still be
        # compared with finite differences of it (the seed's f[y][x] survives only there)
        for variant in probe_variants(main):
            o = check_problem(op, variant, cfg, rng, draws=2, repeatability=False, second_draw=False)
            if o.targets["forward"].error is None:
                outcomes.append(o)
                break
    value_failure = any(c.status in FAILING and (c.mismatches or c.status == Status.ERROR)
                        for c in outcomes[0].checks)
    if value_failure and len(set(main.in_spatial)) > 1 and cfg.input_size is None:
        try:
            square = build_problem(cfg, main.geom.ndim, op.layout, square=True,
                                   same_rule=op.same_rule)
            outcomes.append(check_problem(op, square, cfg, rng, draws=1, repeatability=False, second_draw=False))
        except ConfigError:
            pass
    checks = reported_checks(outcomes)      # the square re-check only informs a note
    diagnoses = diagnose_outcomes(op, outcomes, cfg, rng)
    diagnoses = locate_all(diagnoses, op.names, sources or {}, {"layout": op.layout.name})
    failed = any(c.status in FAILING for c in checks)
    # a passing run has no worst cell: skip re-comparing every output (50 MB each at large shapes)
    explanations = explain_worst(op, outcomes, cfg) if failed or cfg.explain_cell else []
    notes = list(plan_notes) + list(op.describe_binding()) + summary_notes(op, outcomes)
    verdict = Verdict.FAIL if failed else Verdict.PASS
    bad = next((o for o in outcomes if o.failed), outcomes[0])
    inputs = _small_inputs(op, bad) if failed else None
    return RunResult(
        version=__version__, verdict=verdict, files=tuple(cfg.files),
        config=config_dict(cfg, op, main), bound=op.names, checks=tuple(checks),
        diagnoses=tuple(diagnoses), calls=dict(op.calls), seconds=time.perf_counter() - t0,
        notes=tuple(notes), conclusion=conclusion(op, outcomes),
        explanations=tuple(explanations), command=reproduce_command(cfg, bad.problem),
        inputs=inputs, sources=sources or {},
    )


def _small_inputs(op, outcome: ProblemOutcome) -> dict | None:
    d = outcome.draws[0]
    L = op.layout
    arrays = {"input": L.x_to_user(d.x), "filter": L.w_to_user(d.w)}
    if d.b is not None:
        arrays["bias"] = d.b
    if any(a.size > 200 for a in arrays.values()):
        return None
    return {k: np.round(v, 4).tolist() for k, v in arrays.items()}


__all__ = ["run", "check_bound", "LAYOUTS"]
