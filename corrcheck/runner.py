"""One run, end to end: load, bind, check the user's config and its variants, diagnose, conclude.

Returns a RunResult; never prints. The CLI, the Python API and the demo all
come through `run`.
"""
from __future__ import annotations

import shlex
import time
from pathlib import Path

import numpy as np

from . import __version__
from .binding.discover import plan as bind_plan
from .checks.suite import ProblemOutcome, check_problem
from .config import RunConfig
from .errors import CorrcheckError
from .geometry import ConfigError
from .binding.layouts import LAYOUTS
from .checks.problem import build_problem, pad0_variant, probe_variants
from .result import ErrorInfo, RunResult
from .diagnosis.story import conclusion, summary_notes


def import_timeout(cfg: RunConfig) -> float:
    """Importing a file may import scipy or torch from a cold disk: allow far more than one call."""
    return max(30.0, 6 * cfg.timeout)


def load_namespace(cfg: RunConfig):
    """{dotted name: UserFunction}, the language, and the sources (for locations)."""
    if cfg.callables:
        from .loader.callables import from_callables
        return from_callables(cfg.callables), "python", {}
    if not cfg.files:
        raise CorrcheckError("give a file to check: corrcheck run FILE.py")
    suffixes = {Path(f).suffix.lower() for f in cfg.files}
    for f in cfg.files:
        p = Path(f)
        if not p.exists():
            raise _load_error(f"{f}: no such file")
        if p.is_dir():
            raise _load_error(f"{f} is a directory; give the .py or .js file(s) that define the functions")
    if suffixes <= {".js", ".mjs", ".cjs"}:
        from .loader.javascript import load_javascript
        ns = load_javascript(list(cfg.files), timeout=cfg.timeout)   # also the per-call limit inside V8
        language = "javascript"
    elif suffixes <= {".py"}:
        from .loader.python_source import load_python
        ns = load_python(list(cfg.files), timeout=import_timeout(cfg))
        language = "python"
    else:
        odd = sorted(s or "(none)" for s in suffixes - {".py", ".js", ".mjs", ".cjs"})
        if odd:
            raise _load_error(f"corrcheck checks .py and .js files, not {', '.join(odd)}")
        raise _load_error("give either Python or JavaScript files in one run, not both")
    sources = {}
    for f in cfg.files:
        try:
            sources[f] = Path(f).read_text(encoding="utf-8", errors="replace")
        except OSError:
            pass
    return ns, language, sources


def _load_error(msg):
    from .errors import LoadError
    return LoadError(msg)


def config_dict(cfg: RunConfig, op, problem) -> dict:
    g = problem.geom
    return {
        "op": g.op, "stride": list(g.stride), "pad": [list(p) for p in g.pad], "dilation": list(g.dilation),
        "layout": op.layout.name if op else cfg.layout, "convention": op.convention if op else cfg.convention,
        "input_shape": list(op.layout.x_shape(problem.batch, problem.channels, problem.in_spatial)),
        "filter_shape": list(op.layout.w_shape(problem.filters, problem.channels, problem.k_spatial)),
        "seed": int(cfg.seed),
    }


def reproduce_command(cfg: RunConfig, problem=None) -> str:
    parts = ["corrcheck", "run", *cfg.files]
    for flag in ("forward", "grad_input", "grad_filter", "grad_bias"):
        if getattr(cfg, flag):
            parts += [f"--{flag.replace('_', '-')}", getattr(cfg, flag)]
    if cfg.convention != "auto":
        parts += ["--convention", cfg.convention]
    if cfg.layout != "auto":
        parts += ["--layout", cfg.layout]
    if problem is not None:
        g = problem.geom
        from .geometry import format_axes, format_pad
        parts += ["--stride", format_axes(g.stride)]
        parts += ["--pad", g.mode if g.mode else format_pad(g.pad)]
        if any(d != 1 for d in g.dilation):
            parts += ["--dilation", format_axes(g.dilation)]
        parts += ["--input-size", "x".join(map(str, problem.in_spatial)),
                  "--filter-size", "x".join(map(str, problem.k_spatial))]
    else:
        for opt in ("stride", "pad", "dilation"):
            if getattr(cfg, opt) is not None:
                parts += [f"--{opt}", str(getattr(cfg, opt))]
    for opt in ("channels", "filters", "batch"):
        if getattr(cfg, opt):
            parts += [f"--{opt}", str(getattr(cfg, opt))]
    if cfg.op != "correlate":
        parts += ["--op", cfg.op]
    parts += ["--seed", str(cfg.seed)]
    # The checking options change the verdict too: a rerun without them could pass, or time out.
    from .config import DEFAULT_TIMEOUT
    for opt in ("rtol", "atol"):
        if getattr(cfg, opt) is not None:
            parts += [f"--{opt}", str(getattr(cfg, opt))]
    if cfg.timeout is not None and cfg.timeout != DEFAULT_TIMEOUT:
        parts += ["--timeout", f"{cfg.timeout:.12g}"]
    if cfg.exhaustive:
        parts.append("--exhaustive")
    return " ".join(shlex.quote(str(p)) for p in parts)


def default_geometry(cfg: RunConfig, plan) -> tuple[RunConfig, list[str]]:
    """Without --stride/--pad, check where stride and padding mistakes show (stride 2, pad 1)
    when the functions take them, and plain stride 1 / pad 0 when they do not."""
    if cfg.stride is not None and cfg.pad is not None:
        return cfg, []
    impl = plan.make_impl()
    takes = getattr(impl, "takes", lambda role: True)
    chosen = {}
    if cfg.stride is None:
        chosen["stride"] = 2 if takes("stride") else 1
    if cfg.pad is None:
        chosen["pad"] = 1 if takes("pad") else 0
    said = ", ".join(f"{k} {v}" for k, v in chosen.items())
    flags = " / ".join(f"--{k}" for k in chosen)
    return cfg.replace(**chosen), [f"no {flags} given: checked at {said}, where stride and padding mistakes show "
                                   f"(give {flags} for your own setting)"]


def _explain_sweep_failure(cfg: RunConfig, result: RunResult) -> RunResult:
    """The main config passed but the sweep found failures: check the smallest failing config in
    full, so its mistake is named, and say plainly that the layer is not right everywhere."""
    from dataclasses import replace

    from .geometry import format_axes, format_pad
    small = result.sweep.smallest_failing or {}
    if not small.get("input_shape"):
        return result
    layout = LAYOUTS[result.config["layout"]]
    sub = cfg.replace(sweep=False, fix=False, stride=format_axes(small["stride"]), pad=format_pad(small["pad"]),
                      dilation=format_axes(small["dilation"]), layout=layout.name,
                      input_size="x".join(map(str, _spatial_of(layout, small["input_shape"], "x"))),
                      filter_size="x".join(map(str, _spatial_of(layout, small["filter_shape"], "w"))))
    detail = run(sub)
    where = (f"stride {format_axes(small['stride'])}, pad {format_pad(small['pad'])}, input "
             f"{'x'.join(map(str, small['input_shape']))}")
    extra = tuple(replace(d, explanation=f"{d.explanation} (at {where}, the smallest failing sweep config)")
                  for d in detail.diagnoses)
    sentence = (f"At the configuration checked in detail everything passes, but {result.sweep.failed} of "
                f"{result.sweep.configs} sweep configurations fail, so the layer is not right in general; "
                f"the smallest failing one is {where}.")
    return replace(result, diagnoses=result.diagnoses + extra,
                   conclusion=sentence + (" " + detail.conclusion if detail.conclusion else ""))


def _spatial_of(layout, shape, which) -> tuple:
    """The spatial sizes inside a full user-layout shape (for --input-size / --filter-size)."""
    shape = tuple(shape)
    if not layout.channels:
        return shape
    if which == "w":
        return shape[:-2] if layout.channels_last else shape[2:]
    if layout.channels_last:
        return shape[1:-1]
    return shape[-layout.spatial:]


def error_result(cfg: RunConfig, exc: Exception, t0: float) -> RunResult:
    kind = getattr(exc, "kind", "usage")
    return RunResult(version=__version__, verdict="error", files=tuple(cfg.files),
                     error=ErrorInfo(kind if kind in ("usage", "load", "bind") else "usage", str(exc)),
                     seconds=time.perf_counter() - t0, command=reproduce_command(cfg))


def run(cfg: RunConfig, progress=None) -> RunResult:
    t0 = time.perf_counter()
    try:
        cfg = cfg.validate()
        ns, language, sources = load_namespace(cfg)
        from .window_runner import run_window, wants_window_path
        if wants_window_path(cfg, ns):      # grouped, transposed, pooling: their own binding and checks
            result = run_window(cfg, ns, language, sources, t0)
            if cfg.sweep:
                from .window_runner import sweep_window
                result = sweep_window(cfg, result, run, ns)
            if cfg.fix and result.verdict == "fail":
                from dataclasses import replace as _replace
                from .locate.window_fix import search_window_fix
                result = _replace(result, fix=search_window_fix(cfg, result, run),
                                  seconds=time.perf_counter() - t0)
            return result
        plan = bind_plan(ns, cfg)
        cfg, geometry_note = default_geometry(cfg, plan)
        rng = np.random.default_rng(cfg.seed)
        from .binding.probe import choose
        op, main, layout_notes, first = choose(plan, cfg, rng, language=language, user_files=tuple(cfg.files))
    except (CorrcheckError, ConfigError) as exc:
        transposed = _as_transposed(cfg, locals().get("ns"), locals().get("language"), locals().get("sources"), t0)
        return transposed or error_result(cfg, exc, t0)
    result = check_bound(cfg, op, main, plan_notes=plan.notes + geometry_note + layout_notes, sources=sources, t0=t0,
                         language=language, first=first)
    if result.verdict == "fail":
        result = _as_transposed(cfg, ns, language, sources, t0) or result
    if cfg.sweep:
        from .sweep import attach
        main_passed = result.verdict == "pass"
        result = attach(result, op, main, cfg, language=language, progress=progress, t0=t0)
        if main_passed and result.sweep and result.sweep.failed:
            result = _explain_sweep_failure(cfg, result)
    if cfg.fix and result.verdict == "fail":
        from dataclasses import replace as _replace
        from .locate.fix import search_fix
        result = _replace(result, fix=search_fix(cfg, result), seconds=time.perf_counter() - t0)
    return result


def _as_transposed(cfg, ns, language, sources, t0):
    """Shapes say transposed: nothing in the names did, the correlation checks fail, but every check of a
    transposed convolution (output larger than the input) passes. Then that is what the code is."""
    if ns is None or cfg.op != "correlate" or cfg.groups or cfg.sweep:
        return None
    from dataclasses import replace as _replace
    from .errors import UserCallError
    from .window_runner import run_window
    try:
        res = run_window(cfg.replace(op="transpose", fix=False), ns, language, sources or {}, t0)
    except (CorrcheckError, ConfigError, UserCallError):
        return None
    if res.verdict != "pass":
        return None
    note = ("your forward's output is larger than its input and agrees with a transposed convolution, not a "
            "correlation: checked as one (--op transpose says so directly)")
    return _replace(res, notes=(note,) + tuple(res.notes))


def check_bound(cfg, op, main, *, plan_notes=(), sources=None, t0=None, language="python",
                first=None) -> RunResult:
    """Everything after binding: checks on the main problem and its variants, diagnosis, story."""
    from .diagnosis.feed import diagnose_outcomes, explain_worst
    t0 = time.perf_counter() if t0 is None else t0
    rng = np.random.default_rng(cfg.seed + 1)
    outcomes: list[ProblemOutcome] = [check_problem(op, main, cfg, rng, first=first)]
    extra = pad0_variant(main)
    if extra is not None:
        outcomes.append(check_problem(op, extra, cfg, rng, draws=2, repeatability=False,
                                      finite_differences=False, second_draw=False))
    fwd = outcomes[0].targets.get("forward")
    if fwd is not None and fwd.error is not None:
        # the forward crashed here: find shapes where it runs, so the gradients can still be
        # compared with finite differences of it (the seed's f[y][x] survives only there)
        for variant in probe_variants(main):
            o = check_problem(op, variant, cfg, rng, draws=2, repeatability=False, second_draw=False)
            if o.targets["forward"].error is None:
                outcomes.append(o)
                break
    value_failure = any(c.status in ("fail", "error") and (c.mismatches or c.status == "error")
                        for c in outcomes[0].checks)
    if value_failure and len(set(main.in_spatial)) > 1 and cfg.input_size is None:
        try:
            square = build_problem(cfg, main.geom.ndim, op.layout, square=True,
                                   same_rule="holberton" if op.convention == "holberton" else "tf")
            outcomes.append(check_problem(op, square, cfg, rng, draws=1, repeatability=False, second_draw=False))
        except ConfigError:
            pass
    checks = list(outcomes[0].checks)
    failing = set(outcomes[0].failing_targets())
    for o in outcomes[1:]:
        if o.problem.label == "square":
            continue                 # only informs a note ("fails only on non-square inputs")
        new = [c for c in o.checks if c.status in ("fail", "error") and c.target not in failing]
        checks += new
        failing |= {c.target for c in new}
    diagnoses = diagnose_outcomes(op, outcomes, cfg, rng)
    from .locate.find import locate_all
    diagnoses = locate_all(diagnoses, op.names, sources or {}, {"layout": op.layout.name})
    explanations = explain_worst(op, outcomes, cfg)
    notes = list(plan_notes) + list(op.describe_binding()) + summary_notes(op, outcomes)
    failed = any(c.status in ("fail", "error") for c in checks)
    verdict = "fail" if failed else "pass"
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
