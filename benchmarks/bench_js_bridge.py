"""What one call of a user's JavaScript function costs, per engine.

Loads examples/seed_fixed.js, calls corre(a, f, 2, 1) on a 5x5 input with a
3x3 filter (the seed's size) many times, and prints the load time and the
per-call cost in microseconds for mini-racer and node, next to a bare
`corre` that returns at once (the bridge's own floor). Also prints the
install size of the mini-racer package.

    python benchmarks/bench_js_bridge.py [--calls N]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corrcheck.loader.javascript import load_javascript  # noqa: E402

SEED = ROOT / "examples" / "seed_fixed.js"
EMPTY = "function corre(a, f, s, p) { return 0 }\n"


def per_call_us(fn, args, calls: int) -> float:
    """The best of 5 batches of the mean time per call, in microseconds (least disturbed by other load)."""
    fn.call(*args)
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            fn.call(*args)
        batches.append((time.perf_counter() - start) / calls * 1e6)
    return min(batches)


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=400)
    opts = parser.parse_args()

    a = [[(3 * r + 5 * c) % 7 / 7 for c in range(5)] for r in range(5)]
    f = [[0.5, -1.0, 0.25], [1.0, 0.0, -0.5], [0.125, 2.0, -1.5]]
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.js"
        empty.write_text(EMPTY)
        engines = ["mini-racer"] if importlib.util.find_spec("py_mini_racer") else []
        engines += ["node"] if shutil.which("node") else []
        print(f"{'engine':<11} {'load ms':>8} {'seed 5x5 call µs':>17} {'empty call µs':>14}")
        for engine in engines:
            start = time.perf_counter()
            fns = load_javascript([str(SEED)], 5.0, engine=engine)
            load_ms = (time.perf_counter() - start) * 1e3
            seed = per_call_us(fns["corre"], (a, f, 2, 1), opts.calls)
            floor = per_call_us(load_javascript([str(empty)], 5.0, engine=engine)["corre"], (a, f, 2, 1), opts.calls)
            print(f"{engine:<11} {load_ms:>8.1f} {seed:>17.0f} {floor:>14.0f}")
            fns["corre"].extra["runtime"].close()

    spec = importlib.util.find_spec("py_mini_racer")
    if spec and spec.origin:
        pkg = Path(spec.origin).parent
        print(f"mini-racer package: {du(pkg) / 2**20:.1f} MiB in {pkg}")
    else:
        print("mini-racer is not installed")
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
