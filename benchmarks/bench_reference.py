"""Benchmark corrcheck.reference against torch's CPU convolution (a script, not a test).

    python benchmarks/bench_reference.py [--rounds 7] [--shapes tiny,c,d] [--no-float32]

Prints, per op x shape x dtype, the median time of the reference and of torch,
their ratio (reference / torch; the target is <= 1.5 on c and d, <= 3 on
tiny) and the reference's GFLOP/s, after one baseline line: this machine's
float64 matmul GFLOP/s. NumPy and torch are timed in separate groups with a
pause in between, because their thread pools spin and fight over 2 cores;
the groups alternate round by round so a busy machine slows both alike.
Torch is optional (pip install torch==2.13.0); without it only NumPy is timed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from corrcheck import reference  # noqa: E402

try:
    import torch
except ImportError:  # torch is a bench extra
    torch = None

PAUSE_SECONDS = 0.5  # lets the other library's spinning threads go to sleep
ROUND_SECONDS = 0.3  # each round repeats the call until about this long


@dataclass(frozen=True)
class Shape:
    name: str
    n: int
    c: int
    f: int
    size: tuple[int, ...]
    k: tuple[int, ...]
    stride: int
    pad: int


SHAPES = {
    "tiny": Shape("tiny", 1, 1, 1, (5, 5), (3, 3), 1, 0),
    "c": Shape("c", 8, 16, 32, (32, 32), (3, 3), 1, 1),
    "d": Shape("d", 32, 64, 64, (56, 56), (3, 3), 2, 1),
}
OPS = ("forward", "grad_input", "grad_filter")


def make_arrays(shape: Shape, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((shape.n, shape.c) + shape.size).astype(dtype)
    w = rng.standard_normal((shape.f, shape.c) + shape.k).astype(dtype)
    out = reference.forward(x, w, stride=shape.stride, pad=shape.pad)
    dout = rng.standard_normal(out.shape).astype(dtype)
    return x, w, dout


def numpy_calls(shape: Shape, x, w, dout):
    kw = dict(stride=shape.stride, pad=shape.pad)
    return {
        "forward": lambda: reference.forward(x, w, **kw),
        "grad_input": lambda: reference.grad_input(dout, w, x.shape, **kw),
        "grad_filter": lambda: reference.grad_filter(dout, x, w.shape, **kw),
    }


def torch_calls(shape: Shape, x, w, dout):
    nd = len(shape.size)
    conv = getattr(torch.nn.functional, f"conv{nd}d")
    g_in = getattr(torch.nn.grad, f"conv{nd}d_input")
    g_w = getattr(torch.nn.grad, f"conv{nd}d_weight")
    tx, tw, td = (torch.from_numpy(a) for a in (x, w, dout))
    kw = dict(stride=shape.stride, padding=shape.pad)
    return {
        "forward": lambda: conv(tx, tw, **kw),
        "grad_input": lambda: g_in(tx.shape, tw, td, **kw),
        "grad_filter": lambda: g_w(tx, tw.shape, td, **kw),
    }


def calls_per_round(call) -> int:
    """How many calls make one round of about ROUND_SECONDS (after a warm-up call)."""
    call()  # warm caches and thread pools
    start = time.perf_counter()
    call()
    return max(1, int(ROUND_SECONDS / max(time.perf_counter() - start, 1e-7)))


def one_round(call, number: int) -> float:
    """Mean time per call over one round."""
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number


def median_time(call, rounds: int) -> float:
    number = calls_per_round(call)
    return statistics.median(one_round(call, number) for _ in range(rounds))


def time_groups(groups: dict, rounds: int) -> dict:
    """{library: {op: call}} -> {library: {op: median seconds}}.

    Each round times every library as its own group, with a pause before each
    group; alternating rounds means both libraries see the same machine load
    when other work shares the cores, so the ratio of medians stays fair.
    """
    numbers = {}
    for lib, calls in groups.items():
        time.sleep(PAUSE_SECONDS)
        numbers[lib] = {op: calls_per_round(call) for op, call in calls.items()}
    samples = {lib: {op: [] for op in calls} for lib, calls in groups.items()}
    for _ in range(rounds):
        for lib, calls in groups.items():
            time.sleep(PAUSE_SECONDS)
            for op, call in calls.items():
                samples[lib][op].append(one_round(call, numbers[lib][op]))
    return {lib: {op: statistics.median(ts) for op, ts in ops.items()} for lib, ops in samples.items()}


def flops(shape: Shape, dout) -> float:
    """Multiply-adds of one op, counted as 2 flops: the same for all three ops."""
    return 2.0 * shape.n * shape.f * shape.c * np.prod(shape.k) * np.prod(dout.shape[2:])


def matmul_gflops(dtype=np.float64, n: int = 1024, rounds: int = 5) -> float:
    a = np.random.default_rng(1).standard_normal((n, n)).astype(dtype)
    return 2.0 * n**3 / median_time(lambda: a @ a, rounds) / 1e9


def run(shapes, dtypes, rounds: int):
    print(f"baseline: float64 matmul 1024x1024 {matmul_gflops():.1f} GFLOP/s on this machine")
    if torch is None:
        print("note: torch is not installed; timing NumPy only (pip install torch==2.13.0)")
    else:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    threads = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ}
    print(f"threads: {threads or 'library defaults'} (single-thread runs: set both to 1)")
    header = f"{'op':<12}{'shape':<6}{'dtype':<9}{'numpy ms':>11}{'torch ms':>11}{'ratio':>8}{'GFLOP/s':>9}"
    print(header)
    print("-" * len(header))
    for shape in shapes:
        for dtype in dtypes:
            arrays = make_arrays(shape, dtype)
            groups = {"numpy": numpy_calls(shape, *arrays)}
            if torch is not None:
                groups["torch"] = torch_calls(shape, *arrays)
            medians = time_groups(groups, rounds)
            ours, theirs = medians["numpy"], medians.get("torch", {})
            work = flops(shape, arrays[2])
            for op in OPS:
                t_ref = ours[op]
                t_torch = theirs.get(op)
                torch_ms = f"{t_torch * 1e3:11.4f}" if t_torch else f"{'-':>11}"
                ratio = f"{t_ref / t_torch:8.2f}" if t_torch else f"{'-':>8}"
                print(f"{op:<12}{shape.name:<6}{np.dtype(dtype).name:<9}{t_ref * 1e3:11.4f}{torch_ms}"
                      f"{ratio}{work / t_ref / 1e9:9.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--shapes", default="tiny,c,d", help="comma-separated subset of " + ",".join(SHAPES))
    parser.add_argument("--no-float32", action="store_true", help="time float64 only")
    args = parser.parse_args(argv)
    unknown = [s for s in args.shapes.split(",") if s not in SHAPES]
    if unknown:
        parser.error(f"unknown shape {unknown[0]!r}; choose from {', '.join(SHAPES)}")
    dtypes = [np.float64] if args.no_float32 else [np.float64, np.float32]
    run([SHAPES[s] for s in args.shapes.split(",")], dtypes, args.rounds)


if __name__ == "__main__":
    main()
