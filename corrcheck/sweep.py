"""`--sweep`: the same bound functions checked over a grid of strides, pads, dilations and sizes.

Many indexing mistakes hide at the user's one configuration (stride 1, pad 0,
square sizes, a stride that divides evenly); the grid below makes each of them
show somewhere. Every configuration gets the light check only (one draw, each
target against the reference, no finite differences, no diagnosis): a sweep
answers "where does it fail", the main run already explains "why".

The grid only asks for what the bound functions can express: dilation 2 when a
function takes a dilation, the asymmetric pad when the forward accepts one (one
probe call). What the user asked for explicitly is always swept, and a config
the functions cannot take then fails with the reason.

Configs run in `--jobs` processes; each worker binds the files again from the
RunConfig (only picklable Points travel), so a JavaScript engine is never
shared across a fork. Every config draws from its own seeded generator, so the
result does not depend on how configs are spread over processes.
"""
from __future__ import annotations

import math
import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace

import numpy as np

from .binding.conventions import has_named_role
from .errors import ConfigError, UserCallError, UserTimeout
from .geometry import Geometry, format_pad, make_geometry, pad_pairs
from . import cpus, reference_threads
from .binding.discover import plan as bind_plan
from .binding.probe import choose
from .checks.problem import Problem
from .checks.suite import check_problem, make_draw, user_result
from .loader.files import load_namespace
from .rerun import reproduce_command
from .result import SweepResult
from .vocab import FAILING, Convention, Verdict

STRIDES = (1, 2, 3)
PADS = (0, 1, 2)
ASYMMETRIC_PAD = (1, 0)          # before, after on every axis
DILATIONS = (1, 2)
# Measured start-up of one worker (start, import, bind the files again), in seconds.
WORKER_START_SECONDS = {"fork": 0.15, "spawn": 1.5}
MAX_TIMEOUTS = 2                 # after this many hung configs the rest is not worth --timeout each
# (input, filter) spatial sizes: odd square, even square (even filter), non-square with a
# remainder at stride 2 (n + 2p - k odd) and at stride 3 for pads 0 and 1.
SIZES = {
    1: (((7,), (3,)), ((6,), (2,)), ((8,), (3,))),
    2: (((7, 7), (3, 3)), ((6, 6), (2, 2)), ((8, 5), (3, 2))),
    3: (((5, 5, 5), (3, 3, 3)), ((4, 4, 4), (2, 2, 2)), ((6, 5, 4), (3, 2, 2))),
}


@dataclass(frozen=True)
class Point:
    """One sweep configuration; plain tuples so it pickles to worker processes."""

    stride: tuple[int, ...]
    pad: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    in_spatial: tuple[int, ...]
    k_spatial: tuple[int, ...]
    mode: str | None = None             # 'same' / 'valid': the pad was resolved from this mode (Holberton)

    def geometry(self, op: str) -> Geometry:
        """Rebuilt where it runs: Points stay plain tuples to pickle, and the op is the run's."""
        return Geometry(self.stride, self.pad, self.dilation, op, mode=self.mode)


@dataclass(frozen=True)
class Row:
    """The outcome of one Point: report.py reads (config, passed, failing targets, reason)."""

    index: int
    config: dict
    passed: bool
    failing: tuple[str, ...]
    reason: str | None
    calls: dict
    timed_out: bool = False         # a user function hung on this config
    checked: bool = True            # False: skipped after repeated hangs

    def as_tuple(self) -> tuple:
        """The SweepResult.rows form the report reads; calls and hangs stay with the sweep."""
        return (self.config, self.passed, self.failing, self.reason)


# ---------------------------------------------------------------- the grid

def build_grid(main: Problem, cfg, *, dilation: bool, asymmetric: bool, square_filters: bool = False,
               same_rule: str | None = None) -> list[Point]:
    """Every valid Point for the main problem's dimensionality (filters too big are left out);
    square_filters: code that takes one kernel size gets its non-square sizes as square filters;
    same_rule: code that takes its padding as 'same' / 'valid' (Holberton) is swept over those."""
    ndim = main.geom.ndim
    strides = [(s,) * ndim for s in STRIDES]
    pads = ["same", "valid"] if same_rule else [((p, p),) * ndim for p in PADS]
    if asymmetric:
        pads.append((ASYMMETRIC_PAD,) * ndim)
    dilations = [(d,) * ndim for d in (DILATIONS if dilation else DILATIONS[:1])]
    sizes = [(n, (max(k),) * ndim if square_filters else k) for n, k in SIZES[ndim]]
    # What the user asked for is part of the sweep, whether or not the functions can take it.
    opts = cfg.geometry_options
    _add(strides, _explicit_axes(opts, "stride", ndim))
    _add(pads, _explicit_pad(opts.pad, ndim) if same_rule is None or not isinstance(opts.pad, str) else None)
    _add(dilations, _explicit_axes(opts, "dilation", ndim))
    points = []
    for s in strides:
        for p in pads:
            for d in dilations:
                for n, k in sizes:
                    try:
                        if isinstance(p, str):         # a mode: its pad depends on the sizes
                            g = make_geometry(s, p, d, cfg.op, ndim, n, k, same_rule=same_rule)
                            point = Point(s, g.pad, d, n, k, mode=p)
                        else:
                            point = Point(s, p, d, n, k)
                        point.geometry(cfg.op).out_shape(n, k)
                    except ConfigError:
                        continue          # filter larger than the padded input: not a config at all
                    points.append(point)
    return points


def _add(values: list, value) -> None:
    if value is not None and value not in values:
        values.append(value)


def _explicit_axes(opts, name: str, ndim: int):
    """The user's parsed stride or dilation on `ndim` axes; None when not given or not for this ndim."""
    try:
        return opts.on_axes(name, ndim)
    except ConfigError:
        return None


def _explicit_pad(pad, ndim: int):
    """The user's parsed pad as pairs on `ndim` axes; None for same/valid (they depend on sizes:
    not a grid point), when not given, or not for this ndim."""
    if pad is None or isinstance(pad, (str, bool)):
        return None
    try:
        return pad_pairs(pad, ndim)
    except (ConfigError, TypeError, ValueError, IndexError):
        return None


def takes_dilation(op) -> bool:
    """Whether any bound function has a parameter that receives the dilation."""
    return has_named_role(op.impl, "dilation")


def takes_asymmetric_pad(op, main: Problem, cfg) -> tuple[bool, str | None]:
    """One call of every bound function at pad (1, 0): does each come back with the right shape?
    (else: why not). A forward built on np.pad takes the pair while its gradients, written with
    `h + 2 * pad`, cannot: an asymmetric pad the signature cannot carry is not the user's bug."""
    ndim = main.geom.ndim
    n, k = SIZES[ndim][0]
    geom = Geometry((1,) * ndim, (ASYMMETRIC_PAD,) * ndim, (1,) * ndim, cfg.op)
    problem = Problem(geom, n, k, main.batch, main.channels, main.filters, label="sweep")
    d = make_draw(problem, np.random.default_rng(cfg.seed), op.has_bias)
    try:
        for target in op.targets:
            user_result(op, target, d, geom)
    except UserCallError as err:
        return False, err.message
    finally:
        op.mutations.clear()
        op.forget()
    return True, None


# ---------------------------------------------------------------- one config

def describe_point(point: Point, op, main: Problem) -> dict:
    """The config as JSON: geometry plus shapes in the user's own layout (like RunResult.config)."""
    L = op.layout
    return {
        "stride": list(point.stride), "pad": [list(p) for p in point.pad], "dilation": list(point.dilation),
        "input_shape": list(L.x_shape(main.batch, main.channels, point.in_spatial)),
        "filter_shape": list(L.w_shape(main.filters, main.channels, point.k_spatial)),
    }


def check_point(op, main: Problem, cfg, index: int, point: Point) -> Row:
    """The light check of one config, on inputs drawn from (seed, index) only."""
    problem = Problem(point.geometry(cfg.op), point.in_spatial, point.k_spatial, main.batch, main.channels,
                      main.filters, label="sweep")
    before = dict(op.calls)
    rng = np.random.default_rng([int(cfg.seed), index])
    outcome = check_problem(op, problem, cfg, rng, draws=1, finite_differences=False, repeatability=False)
    calls = {t: n - before.get(t, 0) for t, n in op.calls.items() if n - before.get(t, 0)}
    bad = [c for c in outcome.checks if c.status in FAILING]
    hung = any(isinstance(t.error, UserTimeout) for t in outcome.targets.values())
    return Row(index, describe_point(point, op, main), not bad, tuple(outcome.failing_targets()),
               _reason(bad[0], op) if bad else None, calls, timed_out=hung)


def not_checked(op, main: Problem, index: int, point: Point) -> Row:
    """A config left out because the functions already hung on MAX_TIMEOUTS others: fails, unchecked."""
    return Row(index, describe_point(point, op, main), False, (),
               f"not checked: the functions did not return in time on {MAX_TIMEOUTS} other configurations",
               {}, checked=False)


def _reason(check, op) -> str:
    name = op.names.get(check.target, check.target)
    if check.message:
        return f"{name}: {check.message}" if not check.message.startswith(name) else check.message
    return (f"{name}: {check.mismatches} of {check.total} entries differ "
            f"(max abs error {check.max_abs_error:.3g})")


# ---------------------------------------------------------------- running the grid

_WORKER: dict = {}


def _bind_worker(cfg) -> None:
    """Worker initializer: bind the user's files again, in this process, as the parent did."""
    reference_threads.WORKERS = 1         # processes already run side by side: no threads within each
    try:
        ns, language, _ = load_namespace(cfg)
        plan = bind_plan(ns, cfg)
        op, main, *_ = choose(plan, cfg, np.random.default_rng(cfg.seed), language=language,
                             user_files=tuple(cfg.files))
        _WORKER.update(op=op, main=main, cfg=cfg, error=None)
    except Exception as exc:  # noqa: BLE001 - reported per config by _work, never as a traceback
        _WORKER.update(error=f"could not bind the functions in a sweep worker: {exc}")


def _work(index: int, point: Point) -> Row:
    if _WORKER.get("error"):
        return Row(index, {}, False, (), _WORKER["error"], {})
    op, main, cfg = _WORKER["op"], _WORKER["main"], _WORKER["cfg"]
    row = check_point(op, main, cfg, index, point)
    if not _WORKER.get("counted"):          # the re-binding's probe calls are real calls too
        _WORKER["counted"] = True
        extra = {t: n - row.calls.get(t, 0) for t, n in op.calls.items()}
        row = replace(row, calls={t: row.calls.get(t, 0) + extra.get(t, 0) for t in op.calls})
    return row


def run_points(op, main: Problem, cfg, points: list[Point], *, jobs: int, language: str,
               progress=None, auto: bool = False) -> list[Row]:
    """Rows in grid order, from `jobs` processes (or this one when jobs is 1 or the pool breaks).

    With `auto` (no --jobs given) the first config is timed here and processes are
    started only when they would save more than they cost to start.
    """
    progress = progress or (lambda *a, **k: None)
    total = len(points)
    rows: dict[int, Row] = {}
    method = start_method(language)

    def record(i, row):
        rows[i] = row
        progress(f"sweep: {len(rows)}/{total} configurations", completed=len(rows), total=total)

    def hung() -> bool:
        return sum(r.timed_out for r in rows.values()) >= MAX_TIMEOUTS

    progress(f"sweep: 0/{total} configurations", completed=0, total=total)
    if jobs > 1 and total > 1 and auto:
        started = time.perf_counter()
        record(0, check_point(op, main, cfg, 0, points[0]))
        rest = (total - 1) * (time.perf_counter() - started)
        if rest * (1 - 1 / jobs) < WORKER_START_SECONDS[method]:
            jobs = 1
    if jobs > 1 and total - len(rows) > 1:
        try:
            _run_pool(cfg, op, points, jobs, method, rows, record, hung)
        except (BrokenProcessPool, OSError):
            pass                             # finish the rest here, one by one
    for i in range(total):
        if i not in rows:
            record(i, not_checked(op, main, i, points[i]) if hung() else check_point(op, main, cfg, i, points[i]))
    return [rows[i] for i in range(total)]


def start_method(language: str) -> str:
    """fork keeps start-up cheap; a V8 engine or a node host must not be shared across a fork, nor
    torch's or jax's thread pools (a forked child that runs an OpenMP op after the parent did hangs)."""

    threaded = any(m in sys.modules for m in ("torch", "jax"))       # imported by the user's code
    return "fork" if language == "python" and not threaded and "fork" in mp.get_all_start_methods() else "spawn"


def _run_pool(cfg, op, points, jobs, method, rows, record, hung) -> None:
    todo = [i for i in range(len(points)) if i not in rows]
    bind_cfg = cfg.replace(layout=op.layout.name, convention=op.convention, sweep=False, fix=False)
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=mp.get_context(method),
                               initializer=_bind_worker, initargs=(bind_cfg,))
    try:
        futures = {pool.submit(_work, i, points[i]): i for i in todo}
        for fut in as_completed(futures):
            try:
                record(futures[fut], fut.result())
            except BrokenProcessPool:
                raise
            except Exception:  # noqa: BLE001 - redone in this process, where it fails the same way as --jobs 1
                continue
            if hung():
                break                        # the caller marks the rest as not checked
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------- summary

def _size_key(row: Row, point: Point):
    c = row.config
    return (math.prod(c["input_shape"]), math.prod(c["filter_shape"]), point.stride, point.pad, point.dilation)


def smallest_failing(rows: list[Row], points: list[Point]) -> tuple[Row, Point] | None:
    """The checked failing config with the fewest input, then filter elements (None when all pass)."""
    checked = [(r, p) for r, p in zip(rows, points) if not r.passed and r.checked]
    return min(checked, key=lambda rp: _size_key(*rp)) if checked else None


def summarize(rows: list[Row], points: list[Point], cfg, op) -> SweepResult:
    """Counts, the smallest failing config and its command."""
    failing = [(r, p) for r, p in zip(rows, points) if not r.passed]
    smallest = command = None
    small = smallest_failing(rows, points)
    if small is not None:
        row, point = small
        smallest = dict(row.config, failing=list(row.failing))
        if row.reason:
            smallest["reason"] = row.reason
        problem = Problem(point.geometry(cfg.op), point.in_spatial, point.k_spatial, 1, 1, 1, label="sweep")
        command = reproduce_command(cfg.replace(layout=op.layout.name), problem)
        smallest["command"] = command
    return SweepResult(configs=len(rows), failed=len(failing), smallest_failing=smallest,
                       rows=tuple(r.as_tuple() for r in rows), command=command)


def sweep(op, main: Problem, cfg, *, language: str = "python",
          progress=None) -> tuple[SweepResult, dict, list[str], Problem | None]:
    """The whole sweep: (result, user calls it made, notes on what the grid left out, the smallest
    failing config as a Problem for the same bound functions, or None)."""
    notes = []
    before = dict(op.calls)
    dilation = takes_dilation(op)
    if not dilation:
        notes.append("sweep: dilation 2 left out, no bound function takes a dilation")
    modes = op.convention == Convention.HOLBERTON       # its padding is 'same' or 'valid'
    asymmetric, why = (False, None) if modes else takes_asymmetric_pad(op, main, cfg)
    if not asymmetric and not modes:
        notes.append(f"sweep: asymmetric pad {format_pad((ASYMMETRIC_PAD,) * main.geom.ndim)} left out, "
                     f"the functions could not take it ({_short(why)}); give --pad 1,0 to require it")
    calls = {t: n - before.get(t, 0) for t, n in op.calls.items() if n - before.get(t, 0)}
    square = getattr(getattr(op, "impl", None), "square_kernel", None)
    if square:
        notes.append(f"sweep: square filters only, {square} takes one kernel size")
    if modes:
        notes.append("sweep: pads 'same' and 'valid', the Holberton convention's padding")
    points = build_grid(main, cfg, dilation=dilation, asymmetric=asymmetric,
                        square_filters=bool(square), same_rule=op.same_rule if modes else None)
    jobs = cfg.jobs if cfg.jobs else cpus.usable()
    rows = run_points(op, main, cfg, points, jobs=max(1, int(jobs)), language=language, progress=progress,
                      auto=not cfg.jobs)
    for r in rows:
        for t, n in r.calls.items():
            calls[t] = calls.get(t, 0) + n
    small = smallest_failing(rows, points)
    smallest = None
    if small is not None and small[0].config.get("input_shape"):
        point = small[1]
        smallest = Problem(point.geometry(cfg.op), point.in_spatial, point.k_spatial, main.batch, main.channels,
                           main.filters)
    return summarize(rows, points, cfg, op), calls, notes, smallest


def _short(text: str, limit: int = 140) -> str:
    """The reason without its source position, cut at a word (a NumPy message can run long)."""
    text = " ".join(str(text).split()).split(" (at ")[0]
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def attach(result, op, main: Problem, cfg, *, language: str = "python", progress=None, t0: float | None = None):
    """The main run's RunResult with the sweep added (calls summed, verdict fail when a config fails),
    and the smallest failing config as a Problem (None when every config passes)."""
    sw, calls, notes, smallest = sweep(op, main, cfg, language=language, progress=progress)
    merged = dict(result.calls)
    for t, n in calls.items():
        merged[t] = merged.get(t, 0) + n
    verdict = Verdict.FAIL if result.verdict == Verdict.FAIL or sw.failed else result.verdict
    return replace(result, sweep=sw, calls=merged, verdict=verdict, notes=tuple(result.notes) + tuple(notes),
                   seconds=time.perf_counter() - t0 if t0 is not None else result.seconds), smallest


__all__ = ["Point", "Row", "attach", "build_grid", "check_point", "run_points", "smallest_failing", "summarize", "sweep", "takes_dilation",
           "takes_asymmetric_pad"]
