"""Start-up and end-to-end times of the `corrcheck` command (a script, not a test).

    python benchmarks/bench_cli.py [--rounds 7] [--top 12]

Each command runs as a fresh subprocess (`python -m corrcheck ...` from the
repository root, so the checkout under test is what runs), `--rounds` times;
the median wall time is compared with its target. Then
`python -X importtime -c "import corrcheck.cli"` lists the slowest imports
(cumulative microseconds), and `-X importtime` on `--help` and `--version`
shows whether they pull in a heavy optional module (scipy, mini_racer, torch,
hypothesis): they must not.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "mini_racer", "py_mini_racer", "torch", "hypothesis", "jsonschema")
MUST_NOT = ("scipy", "mini_racer", "py_mini_racer", "torch", "hypothesis")

COMMANDS = [
    # (label, argv after `corrcheck`, target seconds or None, exit codes that mean "ran as intended")
    ("(baseline: python -c pass)", None, None, {0}),
    ("--help", ["--help"], None, {0}),
    ("--version", ["--version"], None, {0}),
    ("run seed_buggy.py --stride 2 --pad 1", ["run", "examples/seed_buggy.py", "--stride", "2", "--pad", "1"],
     1.0, {1}),
    ("demo --stride 2 --pad 1", ["demo", "--stride", "2", "--pad", "1"], 1.5, {0, 1}),
    ("run seed_buggy.py --stride 2 --pad 1 --sweep",
     ["run", "examples/seed_buggy.py", "--stride", "2", "--pad", "1", "--sweep"], 10.0, {1}),
    ("run seed_fixed.py --sweep", ["run", "examples/seed_fixed.py", "--sweep"], 10.0, {0}),
    ("run seed_buggy.js --stride 2 --pad 1", ["run", "examples/seed_buggy.js", "--stride", "2", "--pad", "1"],
     None, {1}),
    ("run seed_buggy.js --stride 2 --pad 1 --sweep",
     ["run", "examples/seed_buggy.js", "--stride", "2", "--pad", "1", "--sweep"], None, {1}),
]


def _env() -> dict:
    env = dict(os.environ, COLUMNS="100", NO_COLOR="1")
    env.pop("PYTHONPATH", None)
    return env


def run_once(argv: list[str], *, python_flags=()) -> tuple[float, subprocess.CompletedProcess]:
    command = [sys.executable, "-c", "pass"] if argv is None else [sys.executable, *python_flags, "-m", "corrcheck",
                                                                   *argv]
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True)
    return time.perf_counter() - started, proc


def timings(rounds: int) -> None:
    print(f"end to end: median of {rounds} subprocess runs (python -m corrcheck, cwd {ROOT}); "
          f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    print(f"{'command':<48}{'median s':>9}{'min s':>8}{'target':>8}  result")
    for label, argv, target, ok_codes in COMMANDS:
        times, proc = [], None
        for _ in range(rounds):
            t, proc = run_once(argv)
            times.append(t)
        median = statistics.median(times)
        if proc.returncode not in ok_codes:
            last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or [""]
            verdict = f"exit {proc.returncode} (expected {'/'.join(map(str, sorted(ok_codes)))}): {last[0][:90]}"
        elif target is None:
            verdict = "-"
        else:
            verdict = "OK" if median < target else "MISSED"
        print(f"{label:<48}{median:>9.3f}{min(times):>8.3f}{'<' + format(target, 'g') if target else '':>8}  {verdict}")


def import_times(argv_or_code, *, code: bool = False) -> list[tuple[int, int, str]]:
    """(self us, cumulative us, module) for every import -X importtime reports."""
    if code:
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", argv_or_code], cwd=ROOT, env=_env(),
                              capture_output=True, text=True)
    else:
        _, proc = run_once(argv_or_code, python_flags=("-X", "importtime"))
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(1)), int(m.group(2)), m.group(4)))
    return rows


def importtime_report(top: int) -> None:
    rows = import_times('import corrcheck.cli', code=True)
    total = sum(r[0] for r in rows)
    print(f"\nimport corrcheck.cli: {len(rows)} modules, {total / 1000:.0f} ms of import time in all "
          f"(self times summed); top {top} by cumulative time:")
    print(f"{'cumulative ms':>14}{'self ms':>9}  module")
    for self_us, cum_us, name in sorted(rows, key=lambda r: -r[1])[:top]:
        print(f"{cum_us / 1000:>14.1f}{self_us / 1000:>9.1f}  {name}")
    print(f"top {top} by self time:")
    for self_us, cum_us, name in sorted(rows, key=lambda r: -r[0])[:top]:
        print(f"{cum_us / 1000:>14.1f}{self_us / 1000:>9.1f}  {name}")


def heavy_report() -> bool:
    print("\nheavy optional modules imported (-X importtime, top-level names):")
    fine = True
    for label, argv in (("--help", ["--help"]), ("--version", ["--version"]),
                        ("run seed_buggy.py", ["run", "examples/seed_buggy.py", "--stride", "2", "--pad", "1"]),
                        ("run seed_buggy.js", ["run", "examples/seed_buggy.js", "--stride", "2", "--pad", "1"]),
                        ("demo", ["demo", "--stride", "2", "--pad", "1"])):
        names = {r[2].split(".")[0] for r in import_times(argv)}
        heavy = [h for h in HEAVY if h in names]
        bad = [h for h in heavy if h in MUST_NOT] if label.startswith("--") else []
        fine &= not bad
        note = ("MUST NOT: " + ", ".join(bad)) if bad else ("OK" if label.startswith("--") else "(information)")
        print(f"  {label:<20} {', '.join(heavy) or 'none':<40} {note}")
    return fine


PHASES_SCRIPT = r"""
import io, sys, time
marks = []
def mark(name, t0=[START]):
    now = time.perf_counter(); marks.append((name, now - t0[0])); t0[0] = now
import corrcheck.cli; mark("import corrcheck.cli (typer, click)")
try:
    import typer._adapters; mark("typer argument coercion (typer._adapters: pydantic)")
except ImportError:
    mark("typer argument coercion (no pydantic in this typer)")
import numpy; mark("import numpy")
import corrcheck.runner; mark("import corrcheck.runner and the check modules")
import corrcheck.report.sections; mark("import corrcheck.report.sections (rich)")
from corrcheck.config import RunConfig
from corrcheck.report.sections import make_console, render, render_sections
if sys.argv[1] == "demo":
    from corrcheck import demo
    sections = demo.run_demo(RunConfig(stride=2, pad=1)); mark("demo.run_demo (two runs, loss curves)")
    render_sections(sections, make_console(file=io.StringIO())); mark("render")
else:
    result = corrcheck.runner.run(RunConfig(files=("examples/seed_buggy.py",), stride=2, pad=1))
    mark("runner.run (load, bind, checks, diagnosis, explain, locate)")
    render(result, make_console(file=io.StringIO())); mark("render")
for name, seconds in marks:
    print(f"{seconds * 1000:.0f}\t{name}")
"""


def phases(rounds: int) -> None:
    """Where the time of `run` and `demo` goes, in a fresh interpreter each round (median per phase)."""
    for what in ("run", "demo"):
        per: dict[str, list[float]] = {}
        for _ in range(rounds):
            code = "import time; START = time.perf_counter()\n" + PHASES_SCRIPT
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", code, what], cwd=ROOT, env=_env(), capture_output=True,
                                  text=True)
            wall = time.perf_counter() - started
            if proc.returncode:
                print(f"\n{what}: phases script failed: {proc.stderr.strip().splitlines()[-1:]}")
                break
            for line in proc.stdout.splitlines():
                ms, name = line.split("\t", 1)
                per.setdefault(name, []).append(float(ms))
            per.setdefault("(process start and exit, outside the script)", []).append(
                wall * 1000 - sum(float(line.split("\t")[0]) for line in proc.stdout.splitlines()))
        else:
            label = "demo --stride 2 --pad 1" if what == "demo" else "run examples/seed_buggy.py --stride 2 --pad 1"
            print(f"\n{label}: phases in a fresh interpreter (median ms of {rounds}):")
            for name, values in per.items():
                print(f"{statistics.median(values):>8.0f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--skip-timings", action="store_true")
    args = parser.parse_args()
    if not args.skip_timings:
        timings(args.rounds)
        phases(args.rounds)
    importtime_report(args.top)
    heavy_report()


if __name__ == "__main__":
    main()
