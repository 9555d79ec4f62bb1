"""Benchmark corrcheck.reference against torch's CPU convolution (a script, not a test).

    python benchmarks/bench_reference.py [--shapes tiny,c,d] [--rounds 3] [--float32] [--force]

Prints two tables, library-default threads and one thread, with per op x
shape x dtype the median time of the reference and of torch, their ratio
(reference / torch; the goal is <= 1.0 on c and d) and the reference's
GFLOP/s. Fair by construction:

- each library runs in its own subprocess, one after the other, so torch's
  spinning OpenMP threads and OpenBLAS's never share the cores; the
  subprocesses alternate (numpy, torch, numpy, torch, ...) and the medians
  pool all their samples, so a load that comes and goes hits both alike;
- one thread means torch.set_num_threads(1), OpenBLAS at 1 thread
  (threadpoolctl, checked after setting) and the reference's own block
  threads at 1; default means whatever each library picks;
- a 1-minute load average above LOAD_PER_CORE x cores means other work holds
  the cores: the script refuses to time unless --force, and then marks every
  table as taken under load. The load is printed with every table.

Extras: torch (pip install torch==2.13.0) and threadpoolctl; without torch
only NumPy is timed. If OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set (some
machines set them for old OpenBLAS builds), numbers are for that kernel: the
header prints the kernel threadpoolctl reports.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOAD_PER_CORE = 0.3   # 1-minute load above this x cores: the machine is not quiet
ROUND_SECONDS = 0.25  # each sample repeats the call until about this long
SAMPLES = 5           # samples per op in one subprocess (after a warm-up)
OPS = ("forward", "grad_input", "grad_filter")


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


# ------------------------------------------------------------------ child: one library, one setting

def _limit_threads(lib: str, threads: str) -> dict:
    """Apply the thread setting in this process; return what each library now reports."""
    import numpy as np  # noqa: F401  (loads OpenBLAS so threadpoolctl can see it)

    info = {}
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        threadpool_info = threadpool_limits = None
    if threads == "1":
        from corrcheck import reference_threads
        reference_threads.WORKERS = 1
        if threadpool_limits is None:
            raise SystemExit("threadpoolctl is needed for the one-thread table: pip install threadpoolctl")
        threadpool_limits(1)
    if threadpool_info is not None:
        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        info["blas"] = [f"{p.get('internal_api')} {p.get('architecture', '?')} x{p.get('num_threads')}" for p in blas]
    if lib == "torch":
        import torch
        if threads == "1":
            torch.set_num_threads(1)
        info["torch_threads"] = torch.get_num_threads()
    return info


def _arrays(shape: Shape, dtype_name: str):
    import numpy as np

    from corrcheck import reference
    dtype = np.dtype(dtype_name)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((shape.n, shape.c) + shape.size).astype(dtype)
    w = rng.standard_normal((shape.f, shape.c) + shape.k).astype(dtype)
    out_shape = reference.forward(x[:1], w, stride=shape.stride, pad=shape.pad).shape
    dout = rng.standard_normal((shape.n,) + out_shape[1:]).astype(dtype)
    return x, w, dout


def _calls(lib: str, shape: Shape, x, w, dout) -> dict:
    if lib == "numpy":
        from corrcheck import reference
        kw = dict(stride=shape.stride, pad=shape.pad)
        return {"forward": lambda: reference.forward(x, w, **kw),
                "grad_input": lambda: reference.grad_input(dout, w, x.shape, **kw),
                "grad_filter": lambda: reference.grad_filter(dout, x, w.shape, **kw)}
    import torch
    nd = len(shape.size)
    conv = getattr(torch.nn.functional, f"conv{nd}d")
    g_in, g_w = getattr(torch.nn.grad, f"conv{nd}d_input"), getattr(torch.nn.grad, f"conv{nd}d_weight")
    tx, tw, td = (torch.from_numpy(a) for a in (x, w, dout))
    kw = dict(stride=shape.stride, padding=shape.pad)
    return {"forward": lambda: conv(tx, tw, **kw),
            "grad_input": lambda: g_in(tx.shape, tw, td, **kw),
            "grad_filter": lambda: g_w(tx, tw.shape, td, **kw)}


def _sample(call, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number


def child(lib: str, threads: str, shape_names: list[str], dtypes: list[str]) -> None:
    """Time one library at one thread setting; print {key: [seconds per call, ...]} as JSON."""
    info = _limit_threads(lib, threads)
    samples = {}
    for name in shape_names:
        for dtype in dtypes:
            shape = SHAPES[name]
            calls = _calls(lib, shape, *_arrays(shape, dtype))
            for op, call in calls.items():
                call()  # warm caches, plans and thread pools
                number = max(1, int(ROUND_SECONDS / max(_sample(call, 1), 1e-7)))
                samples[f"{op}|{name}|{dtype}"] = [_sample(call, number) for _ in range(SAMPLES)]
    print(json.dumps({"info": info, "samples": samples}))


# ------------------------------------------------------------------ parent: alternate the children

def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _run_child(lib: str, threads: str, shapes: list[str], dtypes: list[str]) -> dict:
    env = dict(os.environ)
    if threads == "1":  # also before import, so no library starts a pool it would then idle
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, __file__, "--child", lib, "--threads", threads,
           "--shapes", ",".join(shapes), "--dtypes", ",".join(dtypes)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{lib} child failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _flops(shape: Shape) -> float:
    """Multiply-adds of one op, counted as 2 flops: the same for all three ops."""
    import math

    from corrcheck.geometry import make_geometry
    geom = make_geometry(shape.stride, shape.pad, 1, "correlate", len(shape.size), shape.size, shape.k)
    out = geom.out_shape(shape.size, shape.k)
    return 2.0 * shape.n * shape.f * shape.c * math.prod(shape.k) * math.prod(out)


def table(threads: str, shapes: list[str], dtypes: list[str], rounds: int, libs: list[str], loaded: bool) -> None:
    load_before = _load()
    pooled: dict[str, dict[str, list[float]]] = {lib: {} for lib in libs}
    infos = {}
    for _ in range(rounds):
        for lib in libs:
            got = _run_child(lib, threads, shapes, dtypes)
            infos[lib] = got["info"]
            for key, values in got["samples"].items():
                pooled[lib].setdefault(key, []).extend(values)
    load_after = _load()
    title = "library-default threads" if threads == "default" else "1 thread (torch, OpenBLAS, reference blocks)"
    flag = "   ** TAKEN UNDER LOAD: numbers are not fair **" if loaded else ""
    print(f"\n### {title}: load average {load_before:.2f} before, {load_after:.2f} after{flag}")
    print(f"numpy: {', '.join(infos['numpy'].get('blas', ['?']))}"
          + (f"; torch threads {infos['torch'].get('torch_threads')}" if "torch" in infos else ""))
    header = f"| {'op':<11} | {'shape':<5} | {'dtype':<7} | {'numpy ms':>9} | {'torch ms':>9} | {'ratio':>5} | {'GFLOP/s':>7} |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for name in shapes:
        for dtype in dtypes:
            for op in OPS:
                key = f"{op}|{name}|{dtype}"
                t_ref = statistics.median(pooled["numpy"][key])
                t_torch = statistics.median(pooled["torch"][key]) if "torch" in pooled else None
                torch_ms = f"{t_torch * 1e3:9.3f}" if t_torch else f"{'-':>9}"
                ratio = f"{t_ref / t_torch:5.2f}" if t_torch else f"{'-':>5}"
                print(f"| {op:<11} | {name:<5} | {dtype:<7} | {t_ref * 1e3:9.3f} | {torch_ms} | {ratio} | "
                      f"{_flops(SHAPES[name]) / t_ref / 1e9:7.2f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="tiny,c,d", help="comma-separated subset of " + ",".join(SHAPES))
    parser.add_argument("--rounds", type=int, default=3, help="alternating subprocess pairs per table")
    parser.add_argument("--float32", action="store_true", help="also time float32")
    parser.add_argument("--threads", default="default,1", help="tables to make: default, 1 or both")
    parser.add_argument("--force", action="store_true", help="time even when the load average says the machine is busy")
    parser.add_argument("--child", choices=("numpy", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--dtypes", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    shapes = args.shapes.split(",")
    unknown = [s for s in shapes if s not in SHAPES]
    if unknown:
        parser.error(f"unknown shape {unknown[0]!r}; choose from {', '.join(SHAPES)}")
    dtypes = args.dtypes.split(",") if args.dtypes else (["float64", "float32"] if args.float32 else ["float64"])
    if args.child:
        child(args.child, args.threads, shapes, dtypes)
        return
    load, cores = _load(), _cores()
    limit = LOAD_PER_CORE * cores
    print(f"load average {load:.2f} on {cores} cores (quiet means <= {limit:.2f}); "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '-')}")
    loaded = load > limit
    if loaded and not args.force:
        raise SystemExit(f"refusing to time: the 1-minute load {load:.2f} is above {limit:.2f}, so other work "
                         f"holds the cores and the ratios would not be fair (wait, or pass --force)")
    if loaded:
        print(f"WARNING: load {load:.2f} > {limit:.2f}; timing anyway (--force). Treat every figure as rough.")
    try:
        import torch  # noqa: F401
        libs = ["numpy", "torch"]
    except ImportError:
        libs = ["numpy"]
        print("note: torch is not installed; timing NumPy only (pip install torch==2.13.0)")
    for threads in args.threads.split(","):
        table(threads, shapes, dtypes, args.rounds, libs, loaded)


if __name__ == "__main__":
    main()
