"""A full `corrcheck run` on a vectorized NumPy layer: wall time, the user's share, corrcheck's own, memory.

    python benchmarks/bench_full_check.py [--shapes a,c,d] [--tracemalloc] [--profile d] [--force]

The layer is cs231n-style (conv_forward_fast / conv_backward_fast: padding,
sliding windows, tensordot), correct, with a 3x3 filter at stride 1, pad 1:

    a  N=2,  C=3,  F=4,  16x16     (a classroom exercise)
    c  N=8,  C=16, F=32, 32x32
    d  N=32, C=64, F=64, 56x56     (x and the output are about 50 MB each)

Each shape runs in its own fresh process through the Python API (the same
`runner.run` as the CLI), so peak RSS (ru_maxrss) is that check's alone. The
user's file times its own calls (perf_counter around the body) and counts
them, so "user s" is time inside the user's code and "own s" = wall - user s
is corrcheck's: loading, binding, the reference, comparisons, copies,
diagnosis. Goals (issue 16) at d: own <= 0.25 x user, peak RSS <= 1.0 GB.
--tracemalloc adds a second run per shape for Python's traced peak (slower,
so not timed). --profile SHAPE prints corrcheck's top cumulative functions.
Like every benchmark here, the figures move with the load average (printed).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOAD_PER_CORE = 0.3

USER = textwrap.dedent('''
    import sys
    import time
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    # the bench reads this back from its own process (the loader keeps the module out of sys.modules)
    SPENT = sys.__dict__.setdefault("corrcheck_bench_spent",
                                    {"seconds": 0.0, "conv_forward_fast": 0, "conv_backward_fast": 0})


    def _timed(fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                SPENT["seconds"] += time.perf_counter() - start
                SPENT[fn.__name__] += 1
        wrapper.__name__ = fn.__name__
        wrapper.__wrapped__ = fn
        return wrapper


    @_timed
    def conv_forward_fast(x, w, b, conv_param):
        s, p = conv_param["stride"], conv_param["pad"]
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::s, ::s]   # N C OH OW KH KW
        out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))                  # N OH OW F
        return out.transpose(0, 3, 1, 2) + b[None, :, None, None], (x, w, b, conv_param)


    @_timed
    def conv_backward_fast(dout, cache):
        x, w, b, conv_param = cache
        s, p = conv_param["stride"], conv_param["pad"]
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::s, ::s]
        dw = np.tensordot(dout, win, axes=([0, 2, 3], [0, 2, 3]))               # F C KH KW
        dxp = np.zeros_like(xp)
        KH, KW = w.shape[2:]
        OH, OW = dout.shape[2:]
        for i in range(KH):
            for j in range(KW):
                dxp[:, :, i:i + s * OH:s, j:j + s * OW:s] += np.tensordot(
                    dout, w[:, :, i, j], axes=([1], [0])).transpose(0, 3, 1, 2)
        return dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))
''')

SHAPES = {"a": (2, 3, 4, 16), "c": (8, 16, 32, 32), "d": (32, 64, 64, 56)}


def options(shape: str) -> dict:
    n, c, f, size = SHAPES[shape]
    return dict(convention="cs231n", batch=n, channels=c, filters=f, input_size=str(size), filter_size="3",
                stride="1", pad="1", timeout=120.0)


def child(shape: str, user: str, mode: str) -> None:
    """One check in this fresh process; print a JSON line of what it cost."""
    import resource
    import time

    import corrcheck
    if mode == "tracemalloc":
        import tracemalloc
        tracemalloc.start()
    profiler = None
    if mode == "profile":
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    result = corrcheck.check(user, **options(shape))
    wall = time.perf_counter() - started
    if profiler is not None:
        import io
        import pstats
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(45)
        print(text.getvalue(), file=sys.stderr)
    spent = sys.__dict__["corrcheck_bench_spent"]
    doc = {"verdict": result.verdict, "wall": wall, "user": spent["seconds"], "calls": dict(result.calls),
           "user_calls": {k: v for k, v in spent.items() if k != "seconds"},
           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if mode == "tracemalloc":
        import tracemalloc
        doc["traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    print(json.dumps(doc))


def run_child(shape: str, user: str, mode: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", shape, "--user", user, "--mode", mode],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"shape {shape} failed:\n{done.stderr[-3000:]}")
    if mode == "profile":
        print(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="a,c,d")
    parser.add_argument("--tracemalloc", action="store_true", help="also a traced run per shape for Python's peak")
    parser.add_argument("--profile", metavar="SHAPE", help="print cProfile's top functions of one shape's check")
    parser.add_argument("--force", action="store_true", help="time even on a busy machine")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--user", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="time", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.path.insert(0, str(ROOT))
        child(args.child, args.user, args.mode)
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {cores} cores (quiet means <= {LOAD_PER_CORE * cores:.2f})")
    if load > LOAD_PER_CORE * cores and not args.force:
        raise SystemExit("refusing to time on a busy machine (pass --force to time anyway)")
    with tempfile.TemporaryDirectory() as tmp:
        user = str(Path(tmp) / "fast_conv.py")
        Path(user).write_text(USER)
        if args.profile:
            run_child(args.profile, user, "profile")
            return
        print("| shape | verdict | wall s | user s | own s | own / user | peak RSS MB | traced MB "
              "| user calls fwd/bwd | load |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for shape in args.shapes.split(","):
            doc = run_child(shape, user, "time")
            traced = run_child(shape, user, "tracemalloc")["traced_mb"] if args.tracemalloc else None
            own = doc["wall"] - doc["user"]
            uc = doc["user_calls"]
            print(f"| {shape} | {doc['verdict']} | {doc['wall']:.2f} | {doc['user']:.2f} | {own:.2f} | "
                  f"{own / max(doc['user'], 1e-9):.2f} | {doc['rss_mb']:.0f} | "
                  f"{'-' if traced is None else f'{traced:.0f}'} | "
                  f"{uc['conv_forward_fast']}/{uc['conv_backward_fast']} | {os.getloadavg()[0]:.2f} |")


if __name__ == "__main__":
    main()
