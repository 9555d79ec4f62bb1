"""What one `corrcheck` check costs: user-function calls and seconds (a script, not a test).

    python benchmarks/bench_checks.py [--sizes 8,16,32,64,128] [--budget 60] [--skip-targets]

Part 1, growth: a seed-style pure-Python nested-list forward and gradients, and
a vectorized NumPy one (both correct, written here), checked at growing square
inputs (3x3 filter, stride 1, pad 1) in the automatic finite-difference mode
and with --exhaustive. Calls come from RunResult.calls, seconds from
RunResult.seconds. An exhaustive run whose estimated cost (two forward calls
per input and filter entry) exceeds --budget seconds is not run; its estimate
is printed instead.

Part 2, the targets of issue 6:
  - the seed-style list code at 64x64 input, 5x5 filter, stride 2, pad 2:
    a passing check under 3 s and at most 12 calls per user function;
  - a cs231n-sized vectorized layer (N=8, C=16, F=32, 32x32, 3x3, s=1, p=1)
    in the cs231n convention: a passing check under 2 s.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import corrcheck  # noqa: E402

SEED_TARGET = dict(size=64, filter=5, stride=2, pad=2, seconds=3.0, calls=12)
CS231N_TARGET = dict(n=8, c=16, f=32, size=32, filter=3, stride=1, pad=1, seconds=2.0)


# ---------------------------------------------------------------- (a) seed style: nested lists, plain loops

def _at(a, r, c):
    if 0 <= r < len(a) and 0 <= c < len(a[0]):
        return a[r][c]
    return 0.0


def corre(a, f, s, p):
    """out[y][x] = sum_j,i a[y*s + j - p][x*s + i - p] * f[j][i]"""
    out_y = (len(a) - len(f) + 2 * p) // s + 1
    out_x = (len(a[0]) - len(f[0]) + 2 * p) // s + 1
    out = []
    for y in range(out_y):
        row = []
        for x in range(out_x):
            total = 0.0
            for j in range(len(f)):
                for i in range(len(f[j])):
                    total += _at(a, y * s + j - p, x * s + i - p) * f[j][i]
            row.append(total)
        out.append(row)
    return out


def backprop_filter(FS, dO, inp, s, p):
    fh, fw = (FS, FS) if isinstance(FS, int) else FS
    d_f = []
    for j in range(fh):
        row = []
        for i in range(fw):
            total = 0.0
            for h in range(len(dO)):
                for k in range(len(dO[h])):
                    total += dO[h][k] * _at(inp, j + h * s - p, i + k * s - p)
            row.append(total)
        d_f.append(row)
    return d_f


def backprop_input(dO, f, s, p, input_size):
    ih, iw = (input_size, input_size) if isinstance(input_size, int) else input_size
    d_i = [[0.0] * iw for _ in range(ih)]
    for h in range(len(dO)):
        for k in range(len(dO[h])):
            for j in range(len(f)):
                for i in range(len(f[j])):
                    r, c = h * s + j - p, k * s + i - p
                    if 0 <= r < ih and 0 <= c < iw:
                        d_i[r][c] += dO[h][k] * f[j][i]
    return d_i


SEED = dict(forward=corre, grad_filter=backprop_filter, grad_input=backprop_input)


# ---------------------------------------------------------------- (b) vectorized NumPy, functional hw

def np_forward(x, w, stride, pad):
    xp = np.pad(np.asarray(x, dtype=float), pad)
    win = sliding_window_view(xp, np.shape(w))[::stride, ::stride]
    return np.einsum("yxji,ji->yx", win, w)


def np_grad_filter(dout, x, stride, pad, filter_size):
    xp = np.pad(np.asarray(x, dtype=float), pad)
    kh, kw = (filter_size, filter_size) if isinstance(filter_size, int) else filter_size
    win = sliding_window_view(xp, (kh, kw))[::stride, ::stride]
    return np.einsum("yxji,yx->ji", win, dout)


def np_grad_input(dout, w, stride, pad, input_size):
    ih, iw = (input_size, input_size) if isinstance(input_size, int) else input_size
    kh, kw = np.shape(w)
    oy, ox = np.shape(dout)
    dxp = np.zeros((ih + 2 * pad, iw + 2 * pad))
    for j in range(kh):
        for i in range(kw):
            dxp[j:j + stride * oy:stride, i:i + stride * ox:stride] += w[j][i] * dout
    return dxp[pad:pad + ih, pad:pad + iw]


NUMPY = dict(forward=np_forward, grad_filter=np_grad_filter, grad_input=np_grad_input)


# ---------------------------------------------------------------- cs231n-sized vectorized layer

def _im2col(x, kh, kw, s, p):
    """(N, C, H, W) -> (N, OH, OW, C*kh*kw) windows, one contiguous copy"""
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    win = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::s, ::s]       # N C OH OW kh kw
    n, c, oh, ow = win.shape[:4]
    return np.ascontiguousarray(win.transpose(0, 2, 3, 1, 4, 5)).reshape(n, oh, ow, c * kh * kw)


def conv_forward_fast(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    f, c, kh, kw = w.shape
    cols = _im2col(x, kh, kw, s, p)
    out = (cols @ w.reshape(f, -1).T + b).transpose(0, 3, 1, 2)
    return out, (x, w, b, conv_param, cols)


def conv_backward_fast(dout, cache):
    x, w, b, conv_param, cols = cache
    s, p = conv_param["stride"], conv_param["pad"]
    f, c, kh, kw = w.shape
    n, _, oh, ow = dout.shape
    d = dout.transpose(0, 2, 3, 1).reshape(-1, f)                               # (N*OH*OW, F)
    dw = (cols.reshape(-1, c * kh * kw).T @ d).T.reshape(w.shape)
    db = d.sum(axis=0)
    dcols = (d @ w.reshape(f, -1)).reshape(n, oh, ow, c, kh, kw)
    dxp = np.zeros((n, c, x.shape[2] + 2 * p, x.shape[3] + 2 * p))
    for j in range(kh):
        for i in range(kw):
            dxp[:, :, j:j + s * oh:s, i:i + s * ow:s] += dcols[:, :, :, :, j, i].transpose(0, 3, 1, 2)
    return dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, db


# ---------------------------------------------------------------- measuring

# Where a user call comes from: the innermost corrcheck frame that names a phase.
PHASES = (("finite_diff.py", None, "finite differences"), ("checks.py", "_repeatability", "repeatability"),
          ("checks.py", "_fd_checks", "fd: timing call"), ("probe.py", None, "layout probing"),
          ("explain.py", None, "diagnosis"), ("diagnose.py", None, "diagnosis"),
          ("diagnosis_runner.py", None, "diagnosis"), ("fix.py", None, "fix"), ("sweep.py", None, "sweep"))


def _phase(frame) -> str:
    while frame is not None:
        path, name = frame.f_code.co_filename, frame.f_code.co_name
        if f"{os.sep}corrcheck{os.sep}" in path:
            base = os.path.basename(path)
            for file, func, phase in PHASES:
                if base == file and func in (None, name):
                    return phase
            if base == "checks.py" and name == "check_problem":
                problem = frame.f_locals.get("problem")
                return f"check: {getattr(problem, 'label', '?')} config"
        frame = frame.f_back
    return "other"


def attributed(fns: dict):
    """The same functions, wrapped to count each call by the corrcheck phase that made it."""
    counts: dict = {}

    def wrap(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            key = (fn.__name__, _phase(sys._getframe(1)))
            counts[key] = counts.get(key, 0) + 1
            return fn(*args, **kwargs)
        return wrapper

    return {k: wrap(f) for k, f in fns.items()}, counts


def print_attribution(counts: dict) -> None:
    for name in dict.fromkeys(n for n, _ in counts):
        parts = ", ".join(f"{phase} {n}" for (fn, phase), n in sorted(counts.items(), key=lambda kv: -kv[1])
                          if fn == name)
        print(f"    {name}: {parts}")


def check(fns, **options):
    started = time.perf_counter()
    result = corrcheck.check(**fns, **options)
    wall = time.perf_counter() - started
    if result.verdict == "error":
        raise SystemExit(f"could not check: {result.error.message}")
    modes = sorted({c.mode for c in result.checks if c.against == "finite_differences" and c.mode})
    return result, wall, "/".join(modes) or "-"


def forward_seconds(fns, n: int) -> float:
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((n, n)), rng.standard_normal((3, 3))
    args = (x.tolist(), w.tolist()) if fns is SEED else (x, w)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        fns["forward"](*args, 1, 1)
        best = min(best, time.perf_counter() - started)
    return best


def calls_text(calls: dict) -> str:
    short = {"forward": "fwd", "grad_input": "gin", "grad_filter": "gfl", "grad_bias": "gb"}
    return " ".join(f"{short.get(k, k)}={v}" for k, v in calls.items())


def growth(sizes, budget: float) -> None:
    print(_machine())
    print("growth: 3x3 filter, stride 1, pad 1, layout hw (calls per user function; seconds = RunResult.seconds)")
    print(f"{'impl':<8}{'size':>9}  {'mode':<18}{'verdict':<8}{'seconds':>9}  calls")
    for label, fns in (("lists", SEED), ("numpy", NUMPY)):
        for n in sizes:
            common = dict(layout="hw", stride=1, pad=1, input_size=f"{n}x{n}", filter_size="3x3")
            result, wall, mode = check(fns, **common)
            print(f"{label:<8}{f'{n}x{n}':>9}  {'auto:' + mode:<18}{result.verdict:<8}{result.seconds:>9.3f}  "
                  f"{calls_text(result.calls)}")
            estimate = 2 * (n * n + 9) * forward_seconds(fns, n)
            if estimate > budget:
                print(f"{label:<8}{f'{n}x{n}':>9}  {'exhaustive':<18}{'-':<8}{'~' + format(estimate, '.0f'):>9}  "
                      f"not run: ~{2 * (n * n + 9)} forward calls, over the {budget:g} s budget")
                continue
            result, wall, mode = check(fns, exhaustive=True, **common)
            print(f"{label:<8}{f'{n}x{n}':>9}  {'exhaustive':<18}{result.verdict:<8}{result.seconds:>9.3f}  "
                  f"{calls_text(result.calls)}")


def targets() -> None:
    print("\n" + _machine())
    t = SEED_TARGET
    fns, counts = attributed(SEED)
    result, wall, mode = check(fns, layout="hw", stride=t["stride"], pad=t["pad"],
                               input_size=f"{t['size']}x{t['size']}", filter_size=f"{t['filter']}x{t['filter']}")
    worst = max(result.calls.values())
    ok = result.passed and result.seconds < t["seconds"] and worst <= t["calls"]
    print(f"target: seed-style lists, {t['size']}x{t['size']} input, {t['filter']}x{t['filter']} filter, "
          f"stride {t['stride']}, pad {t['pad']}: pass < {t['seconds']:g} s, <= {t['calls']} calls per function")
    print(f"  verdict {result.verdict}, {result.seconds:.3f} s (wall {wall:.3f} s), fd mode {mode}, "
          f"calls {calls_text(result.calls)} -> {'HOLDS' if ok else 'MISSED'}")
    print_attribution(counts)
    t = CS231N_TARGET
    fns, counts = attributed(dict(forward=conv_forward_fast, grad_input=conv_backward_fast))
    result, wall, mode = check(fns, convention="cs231n",
                               batch=t["n"], channels=t["c"], filters=t["f"], input_size=f"{t['size']}x{t['size']}",
                               filter_size=f"{t['filter']}x{t['filter']}", stride=t["stride"], pad=t["pad"])
    ok = result.passed and result.seconds < t["seconds"]
    print(f"target: cs231n vectorized layer N={t['n']} C={t['c']} F={t['f']} {t['size']}x{t['size']} "
          f"{t['filter']}x{t['filter']} s={t['stride']} p={t['pad']}: pass < {t['seconds']:g} s")
    print(f"  verdict {result.verdict}, {result.seconds:.3f} s (wall {wall:.3f} s), fd mode {mode}, "
          f"calls {calls_text(result.calls)} -> {'HOLDS' if ok else 'MISSED'}")
    print_attribution(counts)
    print(f"    one call: forward {_seconds(conv_forward_fast, t):.3f} s, backward "
          f"{_seconds(conv_backward_fast, t):.3f} s (median of 5)")


def _machine() -> str:
    """Load and BLAS threads: on a busy 2-core machine two OpenBLAS threads make BLAS calls 3-25x slower."""
    blas = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default"
    return (f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores, "
            f"BLAS threads: {blas}")


def _seconds(fn, t) -> float:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((t["n"], t["c"], t["size"], t["size"]))
    w = rng.standard_normal((t["f"], t["c"], t["filter"], t["filter"]))
    b = rng.standard_normal(t["f"])
    out, cache = conv_forward_fast(x, w, b, {"stride": t["stride"], "pad": t["pad"]})
    args = (x, w, b, {"stride": t["stride"], "pad": t["pad"]}) if fn is conv_forward_fast else (out, cache)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - started)
    return sorted(times)[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="8,16,32,64,128", help="square input sizes, comma-separated")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds an exhaustive run may take")
    parser.add_argument("--skip-targets", action="store_true")
    parser.add_argument("--skip-growth", action="store_true")
    args = parser.parse_args()
    check(NUMPY, layout="hw", input_size="5x5", filter_size="3x3")       # warm-up: imports, first calls
    if not args.skip_growth:
        growth([int(s) for s in args.sizes.split(",")], args.budget)
    if not args.skip_targets:
        targets()


if __name__ == "__main__":
    main()
