"""No false accusation: every generated CORRECT implementation must pass, zero-config (issue 14).

    python benchmarks/bench_no_false_accusation.py [--sweep] [--jobs 2] [--only py_hw,js_flat] [--keep DIR]

Writes the corpus of tests/correct_impls.py (over 200 correct files: loop orders, slicing,
einsum, im2col/col2im, sliding_window_view, lists, objects; functional, cs231n, holberton,
layer; hw, 1-D, NCHW, NHWC, flat; Python and JavaScript) and runs the real CLI on each,
`corrcheck run FILE --json` (with `--sweep`: strides 1-3, pads 0-2, square and non-square
sizes), then prints one row per family and every file that did not pass. Exit 1 on correct
code is a bug in binding/checks; exit 2 is corrcheck not understanding the code.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from correct_impls import generate, write  # noqa: E402


def run_one(path: Path, sweep: bool, timeout: float = 600) -> dict:
    env = dict(os.environ, NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1")
    argv = [sys.executable, "-m", "corrcheck", "run", str(path), "--json"] + (["--sweep", "--jobs", "1"] if sweep else [])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"file": path.name, "exit": "timeout", "seconds": timeout, "why": "no answer"}
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        doc = {}
    why = ""
    if proc.returncode != 0:
        why = (doc.get("error") or {}).get("message") or doc.get("conclusion") or proc.stderr[-300:]
        bad = [f"{c['target']}/{c['against']}: {c.get('message') or c.get('mismatches')}"
               for c in doc.get("checks", []) if c["status"] != "pass"]
        if bad:
            why = "; ".join(bad[:3]) + " | " + str(why)
        sw = doc.get("sweep") or {}
        if sw.get("failed"):
            why = f"sweep {sw.get('failed')}/{sw.get('configs')} fail: {sw.get('smallest_failing')} | " + why
    return {"file": path.name, "exit": proc.returncode, "seconds": time.perf_counter() - t0, "why": why,
            "layout": (doc.get("config") or {}).get("layout"), "convention": (doc.get("config") or {}).get("convention"),
            "sweep": (doc.get("sweep") or {}).get("configs")}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sweep", action="store_true", help="also run the sweep grid on every file")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated family prefixes")
    ap.add_argument("--keep", default=None, help="write the corpus here (default: a temporary directory)")
    args = ap.parse_args()
    items = generate()
    if args.only:
        prefixes = tuple(args.only.split(","))
        items = [it for it in items if it[0].startswith(prefixes)]
    tmp = None
    if args.keep:
        dest = Path(args.keep)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="corrcheck-nfa-")
        dest = Path(tmp.name)
    paths = write(dest, items)
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda p: run_one(p, args.sweep), paths))
    wall = time.perf_counter() - t0
    fam: dict = defaultdict(lambda: defaultdict(int))
    for r in rows:
        f = r["file"].rsplit("_", 1)[0]
        fam[f]["files"] += 1
        fam[f][f"exit {r['exit']}"] += 1
        fam[f]["seconds"] += r["seconds"]
        fam[f]["configs"] += r.get("sweep") or 1
    print(f"load average: {os.getloadavg()[0]:.2f}; {len(rows)} files; sweep: {args.sweep}; wall {wall:.0f} s")
    print(f"{'family':<16}{'files':>6}{'pass':>6}{'fail(1)':>8}{'error(2)':>9}{'other':>6}{'configs':>9}{'s/file':>8}")
    tot = defaultdict(int)
    for f, d in fam.items():
        other = d["files"] - d["exit 0"] - d["exit 1"] - d["exit 2"]
        print(f"{f:<16}{d['files']:>6}{d['exit 0']:>6}{d['exit 1']:>8}{d['exit 2']:>9}{other:>6}{d['configs']:>9}"
              f"{d['seconds'] / d['files']:>8.1f}")
        for k in ("files", "exit 0", "exit 1", "exit 2", "configs"):
            tot[k] += d[k]
    print(f"{'total':<16}{tot['files']:>6}{tot['exit 0']:>6}{tot['exit 1']:>8}{tot['exit 2']:>9}"
          f"{tot['files'] - tot['exit 0'] - tot['exit 1'] - tot['exit 2']:>6}{tot['configs']:>9}")
    for r in rows:
        if r["exit"] != 0:
            print(f"  NOT PASS {r['file']} (exit {r['exit']}): {str(r['why'])[:400]}")
    if tmp is not None:
        tmp.cleanup()
    return 0 if tot["exit 0"] == tot["files"] else 1


if __name__ == "__main__":
    sys.exit(main())
