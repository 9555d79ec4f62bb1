"""Elementwise comparison in the words of numpy.testing.assert_allclose, as plain data."""
from __future__ import annotations

import numpy as np

from ..result import CheckResult, Mismatch
from .tolerances import Tolerance
from ..vocab import Status

WORST = 20


def _abs_diff_and_mask(actual: np.ndarray, expected: np.ndarray, tol: Tolerance):
    """|actual - expected| and the wrong mask, in as few passes over the arrays as the rule allows.

    At large shapes these arrays are 50 MB each and a check compares several of
    them: one difference, one bound, one mask, and the NaN rule only when
    something is wrong at all.
    """
    abs_e = np.abs(expected)
    scale = 1.0
    if expected.size:
        top = float(np.max(abs_e))
        if not np.isfinite(top):  # NaN or Inf among the expected values: NaN ignored, Inf kept
            top = float(np.nanmax(abs_e)) if np.isfinite(expected).any() else 1.0
        scale = max(1.0, top)
    with np.errstate(invalid="ignore"):
        diff = np.subtract(actual, expected)
        np.abs(diff, out=diff)
        abs_e *= tol.rtol
        abs_e += tol.atol * scale
        bad = ~(diff <= abs_e)
    if bad.any():
        bad &= ~(np.isnan(actual) & np.isnan(expected))
    return diff, bad


def same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """np.array_equal(a, b, equal_nan=True), in one pass when there is no NaN to match.

    equal_nan builds NaN masks and indexes through them: 130 ms on a 50 MB array
    against 10 ms for the plain comparison, and the checks compare every argument
    after every call. Equal without the NaN rule is equal with it; only a False
    (a NaN, or a real difference) pays for numpy's full rule.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if np.array_equal(a, b):
        return True
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc"))


_CHUNK = 1 << 15  # entries per step of the quick pass: its few arrays stay in a core's L2 cache


def _max_if_close(actual: np.ndarray, expected: np.ndarray, tol: Tolerance) -> float | None:
    """The largest |actual - expected| when every entry is within tolerance, else None.

    The common case (a passing check) needs only that number: taken in cache-sized
    chunks it is one read of each array instead of eight passes over 50 MB ones.
    None (anything wrong, NaN or Inf anywhere) sends the caller to the full rule.
    """
    a, e = actual.reshape(-1), expected.reshape(-1)
    top = 0.0
    for i in range(0, e.size, _CHUNK):
        top = max(top, float(np.max(np.abs(e[i:i + _CHUNK]))))
    if not np.isfinite(top):
        return None
    floor = tol.atol * max(1.0, top)
    diff, bound = np.empty(min(_CHUNK, e.size)), np.empty(min(_CHUNK, e.size))
    worst = 0.0
    for i in range(0, e.size, _CHUNK):
        part = e[i:i + _CHUNK]
        d, b = diff[:part.size], bound[:part.size]
        np.subtract(a[i:i + _CHUNK], part, out=d)
        np.abs(d, out=d)
        np.abs(part, out=b)
        b *= tol.rtol
        b += floor
        if not np.all(d <= b):
            return None
        worst = max(worst, float(d.max()))
    return worst


def wrong_mask(actual: np.ndarray, expected: np.ndarray, tol: Tolerance) -> np.ndarray:
    """True where actual and expected disagree (NaN/Inf in either counts as wrong unless both match)."""
    return _abs_diff_and_mask(actual, expected, tol)[1]


def compare(target: str, against: str, actual: np.ndarray, expected: np.ndarray, tol: Tolerance, *,
            user_index=lambda i: i, mode: str | None = None, config_note: str | None = None) -> CheckResult:
    """One CheckResult with the worst mismatches first, indices in the user's layout."""
    if actual.shape == expected.shape and actual.size > _CHUNK and actual.dtype == expected.dtype == np.float64:
        # one copy into row-major order (a transposed result, NHWC memory) still beats the full rule
        quick = _max_if_close(np.ascontiguousarray(actual), np.ascontiguousarray(expected), tol)
        if quick is not None:
            return CheckResult(target=target, against=against, status=Status.PASS, max_abs_error=quick,
                               mismatches=0, total=int(actual.size), worst=(), error_map=None, mode=mode,
                               config_note=config_note)
    diff, bad = _abs_diff_and_mask(actual, expected, tol)
    n_bad = int(np.count_nonzero(bad))
    max_abs = float(np.max(diff)) if diff.size else 0.0
    if not np.isfinite(max_abs) or max_abs != max_abs:  # a NaN or Inf difference: it is the worst
        max_abs = float("inf")
    worst = ()
    if n_bad:
        finite = np.where(np.isfinite(diff), diff, np.inf)
        idx = np.argwhere(bad)
        order = np.argsort(-finite[bad], kind="stable")[:WORST]
        worst = tuple(
            Mismatch(tuple(int(v) for v in user_index(tuple(idx[i]))), _num(expected[tuple(idx[i])]),
                     _num(actual[tuple(idx[i])]))
            for i in order)
    return CheckResult(
        target=target, against=against, status=Status.FAIL if n_bad else Status.PASS,
        max_abs_error=None if not np.isfinite(max_abs) else max_abs,
        mismatches=n_bad, total=int(actual.size), worst=worst, error_map=bad if n_bad else None, mode=mode,
        config_note=config_note)


def _num(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None
