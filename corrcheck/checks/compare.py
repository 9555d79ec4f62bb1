"""Elementwise comparison in the words of numpy.testing.assert_allclose, as plain data."""
from __future__ import annotations

import numpy as np

from ..result import CheckResult, Mismatch
from .tolerances import Tolerance
from ..vocab import Status

WORST = 20


def wrong_mask(actual: np.ndarray, expected: np.ndarray, tol: Tolerance) -> np.ndarray:
    """True where actual and expected disagree (NaN/Inf in either counts as wrong unless both match)."""
    scale = max(1.0, float(np.nanmax(np.abs(expected))) if expected.size and np.isfinite(expected).any() else 1.0)
    with np.errstate(invalid="ignore"):
        diff = np.abs(actual - expected)
        bad = ~(diff <= tol.atol * scale + tol.rtol * np.abs(expected))
    both_nan = np.isnan(actual) & np.isnan(expected)
    return bad & ~both_nan


def compare(target: str, against: str, actual: np.ndarray, expected: np.ndarray, tol: Tolerance, *,
            user_index=lambda i: i, mode: str | None = None, config_note: str | None = None) -> CheckResult:
    """One CheckResult with the worst mismatches first, indices in the user's layout."""
    bad = wrong_mask(actual, expected, tol)
    n_bad = int(bad.sum())
    with np.errstate(invalid="ignore"):
        diff = np.abs(actual - expected)
    finite = np.where(np.isfinite(diff), diff, np.inf)
    max_abs = float(np.max(finite)) if finite.size else 0.0
    worst = ()
    if n_bad:
        idx = np.argwhere(bad)
        order = np.argsort(-finite[bad], kind="stable")[:WORST]
        worst = tuple(
            Mismatch(tuple(int(v) for v in user_index(tuple(idx[i]))), _num(expected[tuple(idx[i])]),
                     _num(actual[tuple(idx[i])]))
            for i in order)
    return CheckResult(
        target=target, against=against, status=Status.FAIL if n_bad else Status.PASS,
        max_abs_error=None if not np.isfinite(max_abs) else max_abs,
        mismatches=n_bad, total=int(actual.size), worst=worst, error_map=bad, mode=mode,
        config_note=config_note)


def _num(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None
