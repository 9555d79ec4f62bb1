"""Shared set-up for the tests, as fixtures: the real CLI in a subprocess, the naive oracle,
and private copies of test trees.

Test modules take these as fixtures instead of importing tests/clihelp.py or tests/naive_oracle.py
by bare name in every file (which worked only while pytest happened to put tests/ on sys.path,
hence the old `except ImportError` fall-backs). This conftest is the one place that imports them;
pytest puts a rootdir conftest's own folder on sys.path.
"""
from __future__ import annotations

from pathlib import Path

import pytest

import clihelp
import naive_oracle


@pytest.fixture(scope="session")
def cli():
    """`python -m corrcheck` in a subprocess: run_cli, run_json, assert_no_internal_traceback, snapshot."""
    return clihelp


@pytest.fixture(scope="session")
def naive():
    """The naive-loop oracle, written from the definition and sharing no code with corrcheck."""
    return naive_oracle


@pytest.fixture(scope="session")
def tree_copy(tmp_path_factory):
    """tree_copy(src) -> a private copy of a folder of test files (without __pycache__) in a fresh
    temporary directory, so a test may run corrcheck there and prove it wrote nothing."""
    def copy(src: Path, name: str | None = None) -> Path:
        src = Path(src)
        return clihelp.copy_tree(src, tmp_path_factory.mktemp(name or src.name) / (name or src.name))
    return copy
