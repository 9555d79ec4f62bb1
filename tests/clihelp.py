"""Running the real CLI in a subprocess, on temporary copies of test files."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INTERNAL_MARKERS = ("Traceback (most recent call last)", 'File "' + str(ROOT / "corrcheck"), "internal error")


def run_cli(*args, cwd=None, env=None, timeout=120):
    """`python -m corrcheck ARGS` -> CompletedProcess (text)."""
    e = dict(os.environ, NO_COLOR="1", COLUMNS="100", PYTHONDONTWRITEBYTECODE="1")
    e.pop("CORRCHECK_DEBUG", None)
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", "corrcheck", *map(str, args)], cwd=cwd, env=e,
                          capture_output=True, text=True, timeout=timeout)


def run_json(*args, **kw):
    proc = run_cli(*args, "--json", **kw)
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"stdout is not one JSON document:\n{proc.stdout}\n--- stderr:\n{proc.stderr}") from exc
    return proc, doc


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def snapshot(tree: Path) -> dict:
    """Every file below tree with its size and mtime: to prove corrcheck wrote nothing there."""
    return {str(p.relative_to(tree)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in tree.rglob("*")}


def assert_no_internal_traceback(proc):
    for marker in INTERNAL_MARKERS[1:]:
        assert marker not in proc.stderr and marker not in proc.stdout, proc.stderr
