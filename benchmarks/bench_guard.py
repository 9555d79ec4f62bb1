"""What the guard around every user call costs (was a test that only printed timings).

Prints the load average, the overhead per call of guard.call_user over a bare call
(with a time limit, which arms the watchdog, and without), and how long swallowing a
chatty user function's output takes.

    python benchmarks/bench_guard.py [--calls N] [--prints N]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corrcheck.loader.guard import call_user  # noqa: E402


def identity(x):
    return x


def chatty(n):
    for i in range(n):
        print("step", i)
        print("err", i, file=sys.stderr)
    return n


def best_per_call_us(call, calls: int) -> float:
    """The best of 5 batches of the mean time per call, in microseconds (least disturbed by other load)."""
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        batches.append((time.perf_counter() - start) / calls * 1e6)
    return min(batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--prints", type=int, default=20000)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared: compare runs at similar load)")
    bare = best_per_call_us(lambda: identity(1), args.calls)
    print(f"bare call: {bare:.2f} µs")
    for timeout in (5.0, None):
        per = best_per_call_us(lambda: call_user(identity, (1,), timeout=timeout, what="identity"), args.calls)
        print(f"guard overhead per call (timeout={timeout}): {per - bare:.1f} µs")
    start = time.perf_counter()
    call_user(chatty, (args.prints,), timeout=60, what="chatty")
    print(f"{args.prints} prints to stdout and stderr swallowed in {(time.perf_counter() - start) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
