"""Threads for the reference's sample blocks: a worker pool and OpenBLAS's thread count.

Kept beside reference.py so that module holds only the mathematics. Nothing
happens at import: the core count, the environment, the OpenBLAS handle, the
pool and the fork hook are all looked up or made on first use.
"""
from __future__ import annotations

import ctypes
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from . import cpus

__all__ = ["WORKERS", "workers", "sample_blocks", "each_block", "blas_threads"]

WORKERS: int | None = None  # threads for sample blocks; None = usable cores (decided on first use);
#                             a sweep sets 1 in processes that already run side by side
_BLAS_LOCK = threading.Lock()
_fork_hook_registered = False


def _default_workers() -> int:
    """Usable cores, capped by OPENBLAS_NUM_THREADS / OMP_NUM_THREADS when the user set them."""
    cores = cpus.usable()
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            cores = min(cores, int(value))
    return cores


def workers() -> int:
    """The thread count for sample blocks: WORKERS when set, else the usable cores (read once)."""
    global WORKERS
    if WORKERS is None:
        WORKERS = _default_workers()
    return WORKERS


@lru_cache(maxsize=1)
def blas_threads():
    """(get, set) of OpenBLAS's thread count when NumPy links OpenBLAS on Linux, else None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"), ("openblas", "")):
            get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                put.argtypes = [ctypes.c_int]
                return get, put
    return None


def _after_fork_in_child():
    """A forked child (a parallel sweep) has none of the parent's threads: new pool, free lock."""
    global _BLAS_LOCK
    _BLAS_LOCK = threading.Lock()
    _pool.cache_clear()


@lru_cache(maxsize=2)
def _pool(count: int) -> ThreadPoolExecutor:
    global _fork_hook_registered
    if not _fork_hook_registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)  # once, when the first pool exists
        _fork_hook_registered = True
    return ThreadPoolExecutor(count, thread_name_prefix="corrcheck-reference")


def sample_blocks(n: int, per_sample: int, elements: int) -> list[tuple[int, int]]:
    """(lo, hi) runs of samples, each about `elements` entries of work (at least one sample)."""
    step = max(1, elements // max(per_sample, 1))
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]


def each_block(blocks: list, work, spread: bool = True) -> list:
    """work(chunk of blocks) over sample blocks split among workers() threads, as torch does it.

    Many small multi-threaded GEMMs pay a thread hand-off each (ruinous on a
    busy machine); one single-threaded GEMM per block on each core pays none.
    The lock keeps concurrent callers from leaving BLAS at one thread.
    spread=False (a small op): all blocks in this thread, BLAS keeps its own threads.
    """
    count = workers() if len(blocks) > 1 and spread else 1
    control = blas_threads() if count > 1 else None
    if control is None:
        return [work(blocks)]
    chunks = [blocks[i::count] for i in range(min(count, len(blocks)))]
    get, put = control
    with _BLAS_LOCK:
        before = get()
        put(1)
        try:
            return list(_pool(len(chunks)).map(work, chunks))
        finally:
            put(before)
