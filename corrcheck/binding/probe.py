"""Picking the layout and container (arrays or nested lists) by trying what the signature allows.

One call of the user's function per candidate: the first candidate whose result
has the right shape and matches the reference wins; otherwise the closest
shape-correct one. When the user named a layout that does not fit but another
one does, that is reported as a layout mismatch, not as wrong values.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .bound import BoundOp
from ..checks.suite import expected_for, make_draw, user_result
from ..errors import BindError, ConfigError, UnreadableOutput, UnusableOutput, UsageError, UserCallError, UserTimeout
from ..geometry import format_pad
from .layouts import LAYOUTS
from ..checks.problem import Problem, build_problem
from ..vocab import Convention
from .discover import no_convolution_seen


@dataclass
class Attempt:
    """One layout/container tried, kept so the choice (or the message when none fits) weighs all of them."""

    layout: str
    container: str
    square: bool
    error: str | None
    rel_error: float
    op: BoundOp | None = None
    problem: Problem | None = None
    ran: bool = False              # returned an array, only of the wrong shape (an output-size bug?)
    timed_out: bool = False
    first: tuple | None = None     # (target, draw, result, expected): the first call, reused by the checks
    unreadable: bool = False       # returned an object corrcheck cannot read as numbers


def _rel_error(u: np.ndarray, e: np.ndarray) -> float:
    if u.shape != e.shape or not np.all(np.isfinite(u)):
        return float("inf")
    return float(np.linalg.norm(u - e) / (np.linalg.norm(e) + 1e-300))


def _containers(language: str) -> tuple[str, ...]:
    return ("list",) if language == "javascript" else ("array", "list")


def _candidate_layouts(plan, cfg) -> list[str]:
    if cfg.layout != "auto":
        return [cfg.layout]
    layouts = list(plan.layouts)
    sizes = cfg.geometry_options.input_size
    if sizes is not None and len(sizes) > 1:           # one size per axis: that many spatial axes
        layouts = [l for l in layouts if LAYOUTS[l].spatial == len(sizes)] or layouts
    if cfg.channels or cfg.filters:
        layouts = [l for l in layouts if LAYOUTS[l].channels] or layouts
    if cfg.batch and cfg.batch > 1:
        layouts = [l for l in layouts if LAYOUTS[l].batch] or layouts
    return layouts


def _try(plan, cfg, layout, container, square, rng, language, user_files, same_rule) -> Attempt:
    L = LAYOUTS[layout]
    try:
        problem = build_problem(cfg, L.spatial, L, square=square, same_rule=same_rule)
    except ConfigError as exc:
        return Attempt(layout, container, square, str(exc), float("inf"))
    op = BoundOp(plan.make_impl(), L, convention=plan.convention, container=container, timeout=cfg.timeout,
                 user_files=user_files, language=language, same_rule=same_rule)
    target = "forward" if "forward" in op.targets else op.targets[0]
    d = make_draw(problem, rng, op.has_bias)
    try:
        got = user_result(op, target, d, problem.geom)
    except UserCallError as err:
        ran = isinstance(err, UnusableOutput) and err.got_shape is not None and len(err.got_shape) == \
            len(L.x_shape(1, 1, problem.in_spatial))
        return Attempt(layout, container, square, err.message, float("inf"), op, problem, ran,
                       isinstance(err, UserTimeout), unreadable=isinstance(err, UnreadableOutput))
    expected = expected_for(target, d, problem.geom)
    return Attempt(layout, container, square, None, _rel_error(got, expected), op, problem,
                   first=(target, d, got, expected))


def choose(plan, cfg, rng, *, language: str, user_files):
    """The BoundOp and main Problem to check, notes on what was chosen, and the probe's first
    call (target, draw, result) when it ran on the main problem (None otherwise)."""
    same_rule = "holberton" if plan.convention == Convention.HOLBERTON else "tf"
    attempts: list[Attempt] = []
    layouts = _candidate_layouts(plan, cfg)
    impl = plan.make_impl()
    containers = _containers(language)
    if getattr(impl, "flat", False):       # extents among the parameters: flat arrays are a candidate,
        containers = ("flat",) + containers if impl.flat_first else containers + ("flat",)

    def run(layout_list):
        for layout in layout_list:
            for container in containers:
                for square in (False, True):
                    a = _try(plan, cfg, layout, container, square, rng, language, user_files, same_rule)
                    attempts.append(a)
                    if a.error is None and a.rel_error < 1e-6:
                        return a
                    if a.timed_out:
                        return a               # a hang: do not pay for it once per candidate
                    if a.error is None:
                        break                  # shape-correct: no need for the square variant
        return None

    best = run(layouts)
    if best is None and same_rule == "holberton" and str(cfg.pad).strip().lower() == "same":
        # Holberton solutions write 'same' two ways (with and without + 1): the one the code uses
        same_rule = "holberton_plus_one"
        best = run(layouts)
    if best is None and not any(a.error is None or a.ran for a in attempts):
        _refuse_per_axis_values(plan, cfg, layouts, containers, attempts, language, user_files, same_rule)
    unreadable = [a for a in attempts if a.unreadable]
    if unreadable and len(unreadable) == len([a for a in attempts if a.op is not None]):
        # every form returned an object corrcheck cannot read: corrcheck's failure, not the user's
        raise BindError(unreadable[0].error)
    if getattr(plan, "weak", False) and not any(a.error is None or a.ran for a in attempts):
        # bound by position only, and no layout gives a convolution's output shape: not a conv
        raise no_convolution_seen(plan.seen, attempts[0].op.names if attempts and attempts[0].op else {})
    if best is None and cfg.layout != "auto":
        # the named layout failed: does another fit? then say "layout mismatch"
        others = [l for l in plan.layouts if l != cfg.layout]
        found = run(others)
        if found is not None and found.error is None:
            first = attempts[0]
            raise UsageError(
                f"layout mismatch: with --layout {cfg.layout} the functions fail "
                f"({first.error or 'wrong values'}), but they work as {found.layout}: use --layout {found.layout}")
    if best is None:
        ok = [a for a in attempts if a.error is None]
        ran = [a for a in attempts if a.ran]
        # the first tried (arrays before nested lists), unless another is closer by far: each attempt
        # has its own random draw, so errors of the same size say nothing about the container
        best = min(ok, key=lambda a: (a.rel_error * 10 >= ok[0].rel_error, ok.index(a))) if ok else (
            ran[0] if ran else next((a for a in attempts if a.op), None))
    if best is not None and best.op is not None:
        same_rule = best.op.same_rule        # the rule of the attempt that is kept
    if best is None or best.op is None:
        if attempts and all(a.op is None for a in attempts):
            raise ConfigError(attempts[0].error)      # the config itself cannot work, in any layout
        reasons = "; ".join(dict.fromkeys(a.error for a in attempts if a.error))
        raise UsageError(f"could not run the functions in any layout ({reasons[:300]})")
    notes = []
    if (best.square or best.error) and cfg.filter_size is None:
        # the non-square filter was handed over as a size (a layer's kernel_size) and that raised:
        # code that takes one kernel size, not a slip; check a square filter on the user's input
        one = _one_kernel_size(plan, cfg, best, attempts, language, user_files, same_rule)
        if one is not None:
            best, cfg = one
            best.op.impl.square_kernel = best.op.names.get("forward", "the code")    # the sweep reads it
            notes.append(f"{best.op.impl.square_kernel} takes one kernel size: checked with a "
                         f"square {'x'.join(map(str, best.problem.k_spatial))} filter (give --filter-size for "
                         f"another)")
    op = best.op
    if same_rule == "holberton_plus_one":
        notes.append("your 'same' pads ((n - 1)*s + k - n) // 2 + 1 on each side, one more than the other "
                     "Holberton formula: checked with yours")
    if best.square:
        # keep the user's (non-square) main problem: the failure there is the finding
        op_main = build_problem(cfg, LAYOUTS[best.layout].spatial, LAYOUTS[best.layout], same_rule=same_rule)
        if _one_pad(best.problem.geom) and not _one_pad(op_main.geom):
            # ...unless 'same' gives those sizes a pad per axis or side, which code that takes one pad
            # cannot be handed at all: then the square sizes, whose 'same' pad is one number, are the check
            notes.append(f"'same' padding at input {'x'.join(map(str, op_main.in_spatial))} and filter "
                         f"{'x'.join(map(str, op_main.k_spatial))} is pad {format_pad(op_main.geom.pad)}, which "
                         f"the code does not take (it takes one pad): checked at input "
                         f"{'x'.join(map(str, best.problem.in_spatial))} and filter "
                         f"{'x'.join(map(str, best.problem.k_spatial))} instead (give --input-size / --filter-size "
                         f"for other sizes)")
            op_main = replace(best.problem, label="main")
    else:
        op_main = best.problem
    for a in attempts:
        if a.op is not None and a.op is not op:
            op.calls.update(a.op.calls)
    if cfg.layout == "auto":
        notes.append(f"layout {best.layout} (detected" + {"list": ", nested lists", "flat": ", flat row-major arrays with "
                      "explicit extents"}.get(best.container, "") + ")")
    elif best.container == "list":
        notes.append(f"layout {best.layout}, nested lists")
    first = best.first if not best.square and best.first is not None else None
    return op, op_main, notes, first


def _one_kernel_size(plan, cfg, best, attempts, language, user_files, same_rule):
    """(attempt, cfg) with a square filter on the user's non-square input, when the non-square filter
    raised and only a kernel size is handed to the code (so a tuple met an int); else None."""
    impl = best.op.impl if hasattr(best.op, "impl") else None
    takes = getattr(impl, "takes", None)
    if takes is None or not takes("kernel_size"):      # a layer's constructor size, not a function's
        return None                                     # filter_size (a raise there may be the slip)
    raised = [a for a in attempts if a.layout == best.layout and not a.square and a.error and not a.ran]
    if not raised:
        return None
    side = max(best.problem.k_spatial)
    one = cfg.replace(filter_size=str(side))
    a = _try(plan, one, best.layout, best.container, False, np.random.default_rng(cfg.seed), language,
             user_files, same_rule)
    if a.unreadable:                 # built with one kernel size, but corrcheck cannot find its weights
        raise BindError(a.error)
    return (a, one) if a.error is None else None


def _refuse_per_axis_values(plan, cfg, layouts, containers, attempts, language, user_files, same_rule) -> None:
    """Every call raised with a stride or dilation given per axis (2x1): when the code runs with one
    number instead, it takes one value for every axis, and the option is what cannot work (exit 2)."""
    opts = cfg.geometry_options
    for role, values in (("stride", opts.stride), ("dilation", opts.dilation)):
        if values is None or len(set(values)) < 2:
            continue
        one = cfg.replace(**{role: max(values)})
        rng = np.random.default_rng(cfg.seed)
        for layout in layouts:
            if LAYOUTS[layout].spatial != len(values):
                continue
            for container in containers:
                a = _try(plan, one, layout, container, False, rng, language, user_files, same_rule)
                if a.error is None or a.ran:
                    first = next((t.error for t in attempts if t.error), "").split(" (at ")[0]
                    raise UsageError(f"the functions take one {role} for every axis: with --{role} "
                                     f"{'x'.join(map(str, values))} they fail ({first}), with --{role} "
                                     f"{max(values)} they run; give one number")


def _one_pad(geom) -> bool:
    """'same' padding that came out as one number: the same before and after, on every axis."""
    return geom.mode == "same" and len({p for pair in geom.pad for p in pair}) == 1


def first_call(op: BoundOp, problem: Problem, cfg):
    """The probe's first call made again on an already bound op: (target, draw, result, expected)
    on the draw `choose` would make first for `problem`, or None when the call fails (the checks
    then make it themselves and report why)."""
    target = "forward" if "forward" in op.targets else op.targets[0]
    d = make_draw(problem, np.random.default_rng(cfg.seed), op.has_bias)
    try:
        got = user_result(op, target, d, problem.geom)
    except UserCallError:
        return None
    return target, d, got, expected_for(target, d, problem.geom)
