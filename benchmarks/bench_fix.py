"""How much --fix costs: candidates tried and seconds per file (the check itself, then the search).

    python benchmarks/bench_fix.py            # the seed port, the learner files of the tests, the corpus
    python benchmarks/bench_fix.py --seed     # the seed port only

Each file is checked once (`run`), then `search_fix` re-runs the checks on
patched copies; the table shows both times, the candidates tried and whether a
verified fix was found.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from corrcheck.config import RunConfig  # noqa: E402
from corrcheck.locate.fix import search_fix  # noqa: E402
from corrcheck.runner import run  # noqa: E402

INT_FLAGS = {"batch", "channels", "filters", "seed"}


def config(files, flags) -> RunConfig:
    """The CLI flags of a manifest entry as RunConfig fields (the few the corpus uses)."""
    kw = {}
    for flag, value in zip(flags[::2], flags[1::2]):
        key = flag.lstrip("-").replace("-", "_")
        kw[key] = int(value) if key in INT_FLAGS or value.isdigit() else value
    return RunConfig(files=tuple(files), **kw)


def cases():
    yield "seed port", [str(ROOT / "examples" / "seed_buggy.py")], ["--stride", "2", "--pad", "1"]
    if "--seed" in sys.argv:
        return
    from test_locate import LEARNER
    tmp = Path(tempfile.mkdtemp(prefix="bench-fix-"))
    for case in LEARNER:
        (tmp / case.name).write_text(case.source)
        yield case.name, [str(tmp / case.name)], list(case.flags)
    fixtures = ROOT / "tests" / "fixtures"
    for e in json.loads((fixtures / "manifest.json").read_text()):
        if e.get("bug") and all(f.endswith(".py") for f in e["files"]):
            yield e["files"][0], [str(fixtures / f) for f in e["files"]], e["flags"]


def main() -> None:
    rows = []
    print(f"{'file':48s} {'check s':>8s} {'fix s':>7s} {'tried':>5s}  verified")
    for name, files, flags in cases():
        cfg = config(files, flags)
        t0 = time.perf_counter()
        try:
            result = run(cfg)
        except Exception as exc:                       # a broken loader must not stop the table
            print(f"{name:48s} could not run: {type(exc).__name__}: {exc}")
            continue
        t1 = time.perf_counter()
        if result.verdict != "fail":
            print(f"{name:48s} {t1 - t0:8.2f} {'-':>7s} {'-':>5s}  ({result.verdict})")
            continue
        fix = search_fix(cfg, result, rerun=run)
        t2 = time.perf_counter()
        rows.append((t2 - t1, fix.candidates_tried, fix.verified))
        print(f"{name:48s} {t1 - t0:8.2f} {t2 - t1:7.2f} {fix.candidates_tried:5d}  {fix.verified}")
    if rows:
        secs = sorted(r[0] for r in rows)
        print(f"\n{len(rows)} failing files: {sum(r[2] for r in rows)} verified fixes, "
              f"{sum(r[1] for r in rows)} candidates tried, fix seconds median {secs[len(secs) // 2]:.2f}, "
              f"max {secs[-1]:.2f}")


if __name__ == "__main__":
    main()
