"""Turning whatever the user's code returned into a float64 array, or one sentence saying why not."""
from __future__ import annotations

import sys

import numpy as np

from .errors import UnusableOutput


def _describe(value) -> str:
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def _from_foreign(value):
    """torch / jax / cupy / __array__ objects -> numpy, without importing those libraries."""
    mod = type(value).__module__.split(".")[0]
    if mod == "torch" and "torch" in sys.modules:
        t = value.detach()
        if getattr(t, "is_cuda", False) or str(getattr(t, "device", "cpu")) != "cpu":
            t = t.cpu()
        return t.numpy()
    if mod == "cupy" and hasattr(value, "get"):
        return value.get()
    if hasattr(value, "__array__") and not isinstance(value, np.ndarray):
        return np.asarray(value)
    return value


def _is_ragged(value) -> bool:
    if isinstance(value, (list, tuple)):
        lengths = {len(v) if isinstance(v, (list, tuple)) else -1 for v in value}
        if len(lengths) > 1:
            return True
        return any(_is_ragged(v) for v in value)
    return False


def to_float_array(value, what: str) -> tuple[np.ndarray, str | None]:
    """Coerce a user return value; returns (array, dtype note) or raises UnusableOutput.

    The note says when the result was float32/float16 or an integer type, so the
    caller can adapt tolerances or report truncation.
    """
    if value is None:
        raise UnusableOutput(f"{what} returned None (is a `return` missing?)")
    if isinstance(value, (str, bytes)):
        raise UnusableOutput(f"{what} returned a string ({str(value)[:40]!r}), not an array")
    if isinstance(value, dict):
        raise UnusableOutput(f"{what} returned a dict with keys {sorted(map(str, value))[:6]}, not an array")
    value = _from_foreign(value)
    if isinstance(value, (list, tuple)):
        if _is_ragged(value):
            raise UnusableOutput(f"{what} returned a ragged nested list (rows of different lengths)")
        value = [_from_foreign(v) for v in value] if value and not isinstance(value[0], (list, tuple, float, int)) else value
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise UnusableOutput(f"{what} returned something that is not a rectangular array ({exc})") from None
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise UnusableOutput(
                f"{what} returned a {_describe(value)} holding non-numbers or rows of different lengths"
            ) from None
    note = None
    if arr.dtype.kind in "iub":
        # Only a typed integer array truncates: JSON numbers and Python ints that happen
        # to be whole (a zero gradient) are just numbers.
        if isinstance(value, np.ndarray) or _typed_int_items(value):
            note = f"integer ({arr.dtype})"
    elif arr.dtype.kind == "f" and arr.dtype.itemsize < 8:
        note = str(arr.dtype)
    elif arr.dtype.kind == "c":
        raise UnusableOutput(f"{what} returned complex numbers ({arr.dtype})")
    elif arr.dtype.kind not in "f":
        raise UnusableOutput(f"{what} returned an array of {arr.dtype}, not numbers")
    return arr.astype(np.float64), note


def to_user_lists(a: np.ndarray):
    """Canonical float64 -> nested Python lists of floats (for list-based code)."""
    return a.tolist()


def _typed_int_items(value) -> bool:
    """A list whose rows are numpy integer arrays (np.zeros(..., dtype=int) built row by row)."""
    if isinstance(value, (list, tuple)) and value:
        first = value[0]
        return isinstance(first, np.ndarray) and first.dtype.kind in "iub" or _typed_int_items(first) \
            if isinstance(first, (list, tuple, np.ndarray)) else isinstance(first, np.integer)
    return False
