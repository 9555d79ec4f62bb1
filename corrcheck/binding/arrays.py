"""Turning whatever the user's code returned into a float64 array, or one sentence saying why not."""
from __future__ import annotations

import sys

import numpy as np

from ..errors import UnreadableOutput, UnusableOutput


def _describe(value) -> str:
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def _from_foreign(value, what: str, precisions: set):
    """torch / jax / cupy / __array__ objects -> numpy, without importing those libraries.

    Whatever the object does while converting is the user's output, not corrcheck:
    a failure becomes one sentence.  A precision numpy lacks (bfloat16) is converted
    to float32 and recorded in `precisions` so tolerances match what was returned.
    """
    mod = type(value).__module__.split(".")[0]
    try:
        if mod == "torch" and "torch" in sys.modules:
            return _from_torch(value, what, precisions)
        if mod == "cupy" and hasattr(value, "get"):
            return value.get()          # cupy refuses implicit __array__ on purpose
        if hasattr(value, "__array__") and not isinstance(value, np.ndarray):
            arr = np.asarray(value)
            if arr.dtype.name == "bfloat16":        # jax via ml_dtypes
                precisions.add("bfloat16")
                arr = arr.astype(np.float32)
            return arr
    except UnusableOutput:
        raise
    except Exception as exc:            # noqa: BLE001 - raised by the user's object
        raise UnusableOutput(f"{what} returned a {_describe(value)} that could not be read as numbers "
                             f"({type(exc).__name__}: {exc})") from None
    return value


def _from_torch(t, what: str, precisions: set):
    """detach (requires_grad), copy to the CPU (cuda, mps), widen bfloat16 (numpy has none)."""
    torch = sys.modules["torch"]
    t = t.detach()
    device = getattr(t.device, "type", str(t.device))
    if device == "meta":
        raise UnusableOutput(f"{what} returned a tensor on the 'meta' device, which has a shape but no values")
    if device != "cpu":
        t = t.cpu()
    if t.dtype == torch.bfloat16:
        precisions.add("bfloat16")
        t = t.float()
    return t.numpy()


def _unwrap(value, what: str, precisions: set):
    """Convert foreign arrays anywhere inside nested lists (rows of tensors, grids of 0-d tensors)."""
    if isinstance(value, (list, tuple)):
        items = [_unwrap(v, what, precisions) for v in value]
        return items if any(a is not b for a, b in zip(items, value)) else value
    if value is None or isinstance(value, (int, float, complex, str, bytes, dict, np.ndarray, np.generic)):
        return value
    return _from_foreign(value, what, precisions)


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
        raise UnusableOutput(f"{what} returned None where an array belongs (a `return` missing, or a "
                             f"placeholder such as `out = None` left in?)")
    if isinstance(value, (str, bytes)):
        raise UnusableOutput(f"{what} returned a string ({str(value)[:40]!r}), not an array")
    value = _carried(value)
    if isinstance(value, dict):
        raise UnreadableOutput(f"{what} returned an object with fields {', '.join(sorted(map(str, value))[:6])}, "
                               f"which corrcheck cannot read as an array: wrap the code in a small adapter file "
                               f"(README: \"Your code has another shape?\")")
    precisions: set = set()
    value = _unwrap(value, what, precisions)
    if not isinstance(value, (list, tuple, np.ndarray, np.generic, int, float, complex)):
        raise UnreadableOutput(f"{what} returned a {_describe(value)} object, which corrcheck cannot read as an "
                               f"array: wrap the code in a small adapter file (README: \"Your code has another shape?\")")
    if isinstance(value, (list, tuple)) and _is_ragged(value):
        raise UnusableOutput(f"{what} returned a ragged nested list (rows of different lengths)")
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
    elif precisions:
        note = sorted(precisions)[0]
    elif arr.dtype.kind == "f" and arr.dtype.itemsize < 8:
        note = str(arr.dtype)
    elif arr.dtype.kind == "c":
        raise UnusableOutput(f"{what} returned complex numbers ({arr.dtype})")
    elif arr.dtype.kind not in "f":
        raise UnusableOutput(f"{what} returned an array of {arr.dtype}, not numbers")
    return arr.astype(np.float64), note


def _carried(value):
    """The numbers inside the common array-carrying records: {data, shape} (a flat data array and
    its shape), and objects whose `.data` holds the array (tensor-like wrappers without __array__)."""
    if isinstance(value, dict) and "data" in value and "shape" in value:
        try:
            shape = tuple(int(v) for v in value["shape"])
            data = np.asarray(value["data"], dtype=np.float64)
            if data.size == int(np.prod(shape)):
                return data.reshape(shape)
        except (TypeError, ValueError):
            pass
        return value
    if isinstance(value, dict) and set(value) <= {"data", "grad", "requires_grad", "name", "dtype"} and "data" in value:
        return value["data"]
    if value is None or isinstance(value, (list, tuple, int, float, complex, str, bytes, dict, np.ndarray, np.generic)):
        return value
    if hasattr(value, "__array__") or type(value).__module__.split(".")[0] in ("torch", "cupy", "jax", "jaxlib"):
        return value
    data = getattr(value, "data", None)
    if isinstance(data, (list, tuple, np.ndarray)):
        return data
    return value


def _typed_int_items(value) -> bool:
    """A list whose rows are numpy integer arrays (np.zeros(..., dtype=int) built row by row)."""
    if isinstance(value, (list, tuple)) and value:
        first = value[0]
        return isinstance(first, np.ndarray) and first.dtype.kind in "iub" or _typed_int_items(first) \
            if isinstance(first, (list, tuple, np.ndarray)) else isinstance(first, np.integer)
    return False
