"""`corrcheck grade` on 100 learner-size submissions: wall time, cache, and parallel speed-up.

The class is tests/grade_class.py's generated one (cs231n `layers.py` and Holberton
`0-conv_forward.py` + `2-conv_backward.py`, a third correct, the rest with one or two
catalogue mistakes) without its hostile submissions, checked at run's default sizes.
Printed: the load average (other work on the machine moves every number), the grade's
wall time, a second grade (everything from the cache), and the sum of 100 single
`corrcheck run --json` subprocesses one after the other: their ratio is the speed-up
a class gets from `grade` (parallel children, forked with corrcheck already imported).

    python benchmarks/bench_grade.py [--per-convention 52] [--jobs N] [--skip-singles]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from grade_class import make_class  # noqa: E402

FLAGS = ["--stride", "2", "--pad", "1"]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(cmd, cwd=None) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"))
    return time.perf_counter() - t0, proc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-convention", type=int, default=52)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--skip-singles", action="store_true")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    try:
        generated = make_class(base / "class", per_convention=args.per_convention)
        for folder, (verdict, bugs) in list(generated.expected.items()):
            if verdict == "error" or (verdict == "fail" and not bugs):      # the hostile ones
                shutil.rmtree(generated.root / folder)
                del generated.expected[folder]
        n = len(generated.expected)
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        grade = [sys.executable, "-m", "corrcheck", "grade", str(generated.root), "--files", "*/*.py", *FLAGS, *jobs, "--json"]
        print(f"{n} submissions, flags {' '.join(FLAGS)} (default sizes), {os.cpu_count()} cores")
        print(f"load before: {load()}")
        wall, proc = timed(grade)
        doc = json.loads(proc.stdout)
        s = doc["summary"]
        run_seconds = sum(sub.get("seconds", 0) for sub in doc["submissions"])
        print(f"grade, nothing cached: {wall:.1f} s wall ({s['passed']} pass, {s['failed']} fail, "
              f"{s['could_not_check']} not checked; the checks' own seconds add up to {run_seconds:.1f} s); load {load()}")
        wall2, proc2 = timed(grade)
        print(f"grade again, all cached: {wall2:.2f} s wall ({json.loads(proc2.stdout)['summary']['cached']} from the cache)")
        if args.skip_singles:
            return
        singles = 0.0
        for folder in sorted(generated.expected):
            files = sorted(p.name for p in (generated.root / folder).glob("*.py"))
            seconds, _ = timed([sys.executable, "-m", "corrcheck", "run", *files, *FLAGS, "--json"],
                               cwd=generated.root / folder)
            singles += seconds
        print(f"{n} single `corrcheck run` subprocesses one after another: {singles:.1f} s; load {load()}")
        print(f"speed-up of grade over the singles: {singles / wall:.2f}x")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
