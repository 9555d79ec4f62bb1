"""Benchmark corrcheck.reference_ops against torch for grouped, depthwise, transposed and pooling layers.

    python benchmarks/bench_ops.py [--rounds 5] [--only grouped,maxpool] [--threads 1] [--tiny]

Prints, per op x target, the median time of the reference and of torch (float64,
CPU), their ratio (reference / torch; the goal is <= 1.5), the largest difference
between the two results, and the load average before and after, since the machine
is shared. `--threads 1` runs torch, OpenBLAS and the reference's sample blocks on one
thread each (the default is whatever each library picks). `--tiny` runs small shapes once, in a second or two: a smoke test of the
script, not a measurement. NumPy and torch are timed in
alternating groups with a pause between, so their spinning thread pools do not
fight and a busy machine slows both alike. A script, not a test.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from corrcheck import reference_ops as R  # noqa: E402
from corrcheck import reference_threads  # noqa: E402
from corrcheck.geometry import window_geometry  # noqa: E402

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # a bench extra
    torch = None

PAUSE_SECONDS = 0.3
ROUND_SECONDS = 0.3

# name: (op, N, C, F, size, kernel, stride, pad, extra geometry options)
CASES = {
    "grouped": ("correlate", 8, 32, 64, (32, 32), (3, 3), 1, 1, {"groups": 4}),
    "depthwise": ("correlate", 8, 32, 64, (32, 32), (3, 3), 1, 1, {"groups": 32}),
    "transpose": ("transpose", 8, 32, 16, (16, 16), (4, 4), 2, 1, {}),
    "maxpool": ("maxpool", 8, 32, 32, (64, 64), (3, 3), 2, 1, {}),
    "avgpool": ("avgpool", 8, 32, 32, (64, 64), (3, 3), 2, 1, {"count_include_pad": False}),
}


# --tiny: (N, C, F, size) per case, same kernels, strides and groups
TINY = {"grouped": (1, 8, 8, (8, 8)), "depthwise": (1, 4, 8, (8, 8)), "transpose": (1, 4, 4, (6, 6)),
        "maxpool": (1, 2, 2, (8, 8)), "avgpool": (1, 2, 2, (8, 8))}


def _time(fn) -> float:
    fn()
    reps, started = 0, time.perf_counter()
    while time.perf_counter() - started < ROUND_SECONDS:
        fn()
        reps += 1
    return (time.perf_counter() - started) / max(reps, 1)


def _calls(name, tiny=False):
    op, n, c, f, size, k, s, p, extra = CASES[name]
    if tiny:
        n, c, f, size = TINY[name]
        if extra.get("groups", 1) > c:          # depthwise stays depthwise: groups = channels
            extra = dict(extra, groups=c)
    nd = len(size)
    g = window_geometry(s, p, 1, op, nd, size, k, **extra)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c) + size)
    groups = extra.get("groups", 1)
    if op == "transpose":
        w = rng.standard_normal((c, f // groups) + k)
    elif op == "correlate":
        w = rng.standard_normal((f, c // groups) + k)
    else:
        w = None
    out = g.out_shape(size, k)
    dout = rng.standard_normal((n, f if w is not None else c) + out)
    ours, theirs = {}, {}
    if op == "correlate":
        ours["forward"] = lambda: R.conv_forward(x, w, geometry=g)
        ours["grad_input"] = lambda: R.conv_grad_input(dout, w, x.shape, geometry=g)
        ours["grad_filter"] = lambda: R.conv_grad_filter(dout, x, w.shape, geometry=g)
    elif op == "transpose":
        ours["forward"] = lambda: R.transpose_forward(x, w, geometry=g)
        ours["grad_input"] = lambda: R.transpose_grad_input(dout, w, x.shape, geometry=g)
        ours["grad_filter"] = lambda: R.transpose_grad_filter(dout, x, w.shape, geometry=g)
    else:
        ours["forward"] = lambda: R.pool_forward(x, k, geometry=g)
        ours["grad_input"] = lambda: R.pool_grad_input(dout, x, k, geometry=g)
    if torch is not None:
        tx, tdout = torch.tensor(x), torch.tensor(dout)
        tw = torch.tensor(w) if w is not None else None
        if op == "correlate":
            fwd = (lambda a, b: TF.conv2d(a, b, None, s, p, 1, groups))
        elif op == "transpose":
            fwd = (lambda a, b: TF.conv_transpose2d(a, b, None, s, p, 0, groups, 1))
        elif op == "maxpool":
            fwd = (lambda a, b: TF.max_pool2d(a, k, s, p))
        else:
            fwd = (lambda a, b: TF.avg_pool2d(a, k, s, p, count_include_pad=False))
        theirs["forward"] = lambda: fwd(tx, tw)

        def grad(which):
            a = tx.clone().requires_grad_(which == "grad_input")
            b = tw.clone().requires_grad_(which == "grad_filter") if tw is not None else None
            y = fwd(a, b)
            return torch.autograd.grad(y, a if which == "grad_input" else b, tdout)
        theirs["grad_input"] = lambda: grad("grad_input")
        if w is not None:
            theirs["grad_filter"] = lambda: grad("grad_filter")
    return ours, theirs


def _difference(ours, theirs) -> float:
    """Largest absolute difference between the reference's result and torch's (a tuple from autograd)."""
    t = theirs[0] if isinstance(theirs, tuple) else theirs
    return float(np.max(np.abs(np.asarray(ours) - t.detach().numpy())))


def _limit_threads(setting: str) -> str:
    """Apply --threads in this process; say what each library now runs on."""
    control = reference_threads.blas_threads()
    if setting == "1":
        reference_threads.WORKERS = 1
        if control is None:
            raise SystemExit("--threads 1 needs NumPy linked to OpenBLAS (its thread count is set directly)")
        control[1](1)
        if torch is not None:
            torch.set_num_threads(1)
    blas = f"OpenBLAS x{control[0]()}" if control else "BLAS threads unknown"
    return (f"{blas}, reference blocks x{reference_threads.workers()}"
            + ("" if torch is None else f", torch x{torch.get_num_threads()}"))


def main() -> None:
    global ROUND_SECONDS, PAUSE_SECONDS
    ap = argparse.ArgumentParser(description="corrcheck.reference_ops against torch, per op and target.")
    ap.add_argument("--rounds", type=int, default=5, help="timing rounds per target (median); default 5")
    ap.add_argument("--only", default=",".join(CASES), help=f"comma-separated cases of {', '.join(CASES)}")
    ap.add_argument("--threads", choices=["default", "1"], default="default",
                    help="library-default threads, or one thread for torch, OpenBLAS and the reference")
    ap.add_argument("--tiny", action="store_true", help="small shapes, one short round: checks the script runs")
    args = ap.parse_args()
    threads = _limit_threads(args.threads)
    unknown = set(args.only.split(",")) - set(CASES)
    if unknown:
        ap.error(f"unknown case {', '.join(sorted(unknown))}; cases: {', '.join(CASES)}")
    if args.tiny:
        args.rounds, ROUND_SECONDS, PAUSE_SECONDS = 1, 0.01, 0.0
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
          f"cores {os.cpu_count()}; torch {'absent' if torch is None else torch.__version__}; float64; "
          f"threads: {threads}")
    print(f"{'case':10} {'target':12} {'reference ms':>13} {'torch ms':>9} {'ratio':>6} {'max |diff|':>10}")
    for name in args.only.split(","):
        ours, theirs = _calls(name, args.tiny)
        for target, fn in ours.items():
            a, b = [], []
            for _ in range(args.rounds):
                a.append(_time(fn))
                time.sleep(PAUSE_SECONDS)
                if target in theirs:
                    b.append(_time(theirs[target]))
                    time.sleep(PAUSE_SECONDS)
            ma = statistics.median(a) * 1e3
            mb = statistics.median(b) * 1e3 if b else float("nan")
            diff = _difference(fn(), theirs[target]()) if target in theirs else float("nan")
            print(f"{name:10} {target:12} {ma:13.2f} {mb:9.2f} {ma / mb:6.2f} {diff:10.1e}", flush=True)
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")


if __name__ == "__main__":
    main()
