"""The vectorized NumPy reference: strided, padded, dilated correlation and its gradients.

Every check compares the user's code with this module, so it must be right
first and fast second. All three operations are the same im2col product,
written side by side so each can be read against the others:

    forward      out[n]  = W @ col(x)[n]                 (F, C*K) @ (C*K, P)
    grad_input   dx      = col2im(W^T @ dout[n])         scatter-add per kernel tap
    grad_filter  dW      = dout @ col(x)^T               (F, N*P) @ (N*P, C*K)

col(x) stacks, for every kernel tap, the strided view of the padded input
that tap reads (one NumPy copy per tap, no Python loop over output
positions). op="convolve" is correlation with the filter flipped on every
spatial axis. Output sizes and resolved paddings come from geometry.py, the
one owner of that arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from corrcheck.geometry import ConfigError, Geometry, make_geometry

__all__ = ["forward", "grad_input", "grad_filter", "grad_bias"]

_ALL = slice(None)


@dataclass(frozen=True)
class _Plan:
    """Everything derived from (geometry, input size, filter size), computed once and cached."""

    geometry: Geometry
    out_shape: tuple[int, ...]
    padded: tuple[int, ...]
    inner: tuple[slice, ...]  # where the unpadded input sits inside the padded one
    taps: tuple[tuple[slice, ...], ...]  # per kernel tap: the strided window it reads

    @property
    def positions(self) -> int:
        return int(np.prod(self.out_shape, dtype=np.int64))


@lru_cache(maxsize=512)
def _plan(geom: Geometry, in_spatial: tuple[int, ...], k_spatial: tuple[int, ...]) -> _Plan:
    out = geom.out_shape(in_spatial, k_spatial)  # raises ConfigError when the filter does not fit
    padded = tuple(n + b + a for n, (b, a) in zip(in_spatial, geom.pad))
    inner = tuple(slice(b, b + n) for n, (b, _) in zip(in_spatial, geom.pad))
    taps = tuple(
        tuple(slice(k * d, k * d + (o - 1) * s + 1, s) for k, d, s, o in zip(tap, geom.dilation, geom.stride, out))
        for tap in np.ndindex(*k_spatial)
    )
    return _Plan(geom, out, padded, inner, taps)


def _freeze(value):
    """Lists (also nested) -> tuples, so user-facing options can key a cache."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.ndarray):
        return _freeze(value.tolist())
    return value


@lru_cache(maxsize=512)
def _cached_geometry(stride, pad, dilation, op, ndim, in_spatial, k_spatial) -> Geometry:
    return make_geometry(stride, pad, dilation, op, ndim, in_spatial, k_spatial)


def _prepare(geometry, stride, pad, dilation, op, in_spatial, k_spatial) -> _Plan:
    """Resolve the options (or take the given Geometry) and return the cached plan."""
    in_spatial, k_spatial = tuple(in_spatial), tuple(k_spatial)
    if geometry is None:
        args = (_freeze(stride), _freeze(pad), _freeze(dilation), op, len(in_spatial), in_spatial, k_spatial)
        try:
            hash(args)
        except TypeError:  # something unhashable: let make_geometry name the problem
            args = (stride, pad, dilation, op) + args[4:]
            geometry = make_geometry(*args)
        else:
            geometry = _cached_geometry(*args)
    elif not isinstance(geometry, Geometry):
        raise ConfigError(f"geometry must be a corrcheck.geometry.Geometry, not {type(geometry).__name__}")
    elif geometry.ndim != len(in_spatial):
        raise ConfigError(
            f"the geometry has {geometry.ndim} spatial axes but the arrays have {len(in_spatial)}"
        )
    return _plan(geometry, in_spatial, k_spatial)


def _dtype(*arrays):
    """float32 when every given array is float32 (keeps benchmarks honest), float64 otherwise."""
    given = [a for a in arrays if a is not None]
    return np.float32 if all(getattr(a, "dtype", None) == np.float32 for a in given) else np.float64


def _array(value, name: str, dtype, ndim: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a numeric array") from None
    if ndim is None and not 3 <= arr.ndim <= 5:
        raise ConfigError(f"{name} must have shape (N, C, *spatial) with 1 to 3 spatial axes, got {arr.shape}")
    if ndim is not None and arr.ndim != ndim:
        raise ConfigError(f"{name} has shape {arr.shape} but {ndim} axes are needed to match the other arrays")
    return arr


def _spatial(shape, ndim: int, name: str) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    """A full (A, B, *spatial) shape or just the spatial part -> (spatial, (A, B) or None)."""
    try:
        shape = tuple(int(v) for v in shape)
    except TypeError:
        raise ConfigError(f"{name} must be a sequence of sizes, not {shape!r}") from None
    if len(shape) == ndim:
        return shape[2:], shape[:2]
    if len(shape) == ndim - 2:
        return shape, None
    raise ConfigError(f"{name} {shape} has neither {ndim} axes nor {ndim - 2} spatial ones")


def _same(what: str, got: int, expected: int, of: str):
    if got != expected:
        raise ConfigError(f"{what} is {got} but {of} has {expected}")


def _oriented(w: np.ndarray, op: str) -> np.ndarray:
    """The filter as correlation sees it: flipped on every spatial axis for a true convolution."""
    if op == "convolve":
        return w[(_ALL, _ALL) + (slice(None, None, -1),) * (w.ndim - 2)]
    return w


def _padded(x: np.ndarray, plan: _Plan) -> np.ndarray:
    """Zero-padded copy of x (x itself when there is no padding)."""
    if plan.padded == x.shape[2:]:
        return x
    xp = np.zeros(x.shape[:2] + plan.padded, dtype=x.dtype)
    xp[(_ALL, _ALL) + plan.inner] = x
    return xp


def _columns(xp: np.ndarray, plan: _Plan, batch_last: bool) -> np.ndarray:
    """im2col: (N, C, taps, *O) for the forward, (C, taps, N, *O) for the filter gradient."""
    n, c = xp.shape[:2]
    taps = len(plan.taps)
    if batch_last:
        col = np.empty((c, taps, n) + plan.out_shape, dtype=xp.dtype)
        src = xp.swapaxes(0, 1)
        for t, window in enumerate(plan.taps):
            col[:, t] = src[(_ALL, _ALL) + window]
    else:
        col = np.empty((n, c, taps) + plan.out_shape, dtype=xp.dtype)
        for t, window in enumerate(plan.taps):
            col[:, :, t] = xp[(_ALL, _ALL) + window]
    return col


def forward(x, w, b=None, *, stride=1, pad=0, dilation=1, op="correlate", geometry: Geometry | None = None):
    """out[n, f, o] = b[f] + sum_{c, k} x[n, c, o*s + k*d - p_before] * w[f, c, k], zero outside.

    Shapes: x (N, C, *S), w (F, C, *K), b (F,) or None -> (N, F, *O). A given
    `geometry` replaces stride/pad/dilation/op (internal callers resolve once).
    """
    dtype = _dtype(x, w, b)
    x = _array(x, "the input", dtype)
    w = _array(w, "the filter", dtype, x.ndim)
    _same("the filter's channel count", w.shape[1], x.shape[1], "the input")
    plan = _prepare(geometry, stride, pad, dilation, op, x.shape[2:], w.shape[2:])
    n, f = x.shape[0], w.shape[0]
    col = _columns(_padded(x, plan), plan, batch_last=False)
    wk = _oriented(w, plan.geometry.op).reshape(f, -1)
    out = np.matmul(wk, col.reshape(n, -1, plan.positions)).reshape((n, f) + plan.out_shape)
    if b is not None:
        b = np.asarray(b, dtype=dtype).reshape(-1)
        _same("the bias length", b.size, f, "the filter")
        out += b.reshape((f,) + (1,) * (x.ndim - 2))
    return out


def grad_input(dout, w, input_shape, *, stride=1, pad=0, dilation=1, op="correlate",
               geometry: Geometry | None = None):
    """d(sum dout*out)/dx: each output's gradient spread back over the window it read.

    Shapes: dout (N, F, *O), w (F, C, *K), input_shape (N, C, *S) or S -> (N, C, *S).
    """
    dtype = _dtype(dout, w)
    w = _array(w, "the filter", dtype)
    dout = _array(dout, "the output gradient", dtype, w.ndim)
    spatial, lead = _spatial(input_shape, w.ndim, "input_shape")
    n, f, c = dout.shape[0], w.shape[0], w.shape[1]
    _same("the output gradient's channel count", dout.shape[1], f, "the filter")
    if lead is not None:
        _same("the batch size of input_shape", lead[0], n, "the output gradient")
        _same("the channel count of input_shape", lead[1], c, "the filter")
    plan = _prepare(geometry, stride, pad, dilation, op, spatial, w.shape[2:])
    _check_out(dout, plan)
    wk = _oriented(w, plan.geometry.op).reshape(f, -1)
    dcol = np.matmul(wk.T, dout.reshape(n, f, plan.positions))
    dcol = dcol.reshape((n, c, len(plan.taps)) + plan.out_shape)
    dxp = np.zeros((n, c) + plan.padded, dtype=dtype)
    for t, window in enumerate(plan.taps):  # one tap's windows never overlap: += is exact
        dxp[(_ALL, _ALL) + window] += dcol[:, :, t]
    if plan.padded == spatial:
        return dxp
    return np.ascontiguousarray(dxp[(_ALL, _ALL) + plan.inner])


def grad_filter(dout, x, filter_shape, *, stride=1, pad=0, dilation=1, op="correlate",
                geometry: Geometry | None = None):
    """d(sum dout*out)/dw: dW[f, c, k] = sum_{n, o} dout[n, f, o] * x[n, c, o*s + k*d - p_before].

    Shapes: dout (N, F, *O), x (N, C, *S), filter_shape (F, C, *K) or K -> (F, C, *K).
    """
    dtype = _dtype(dout, x)
    x = _array(x, "the input", dtype)
    dout = _array(dout, "the output gradient", dtype, x.ndim)
    k_spatial, lead = _spatial(filter_shape, x.ndim, "filter_shape")
    n, c, f = x.shape[0], x.shape[1], dout.shape[1]
    _same("the output gradient's batch size", dout.shape[0], n, "the input")
    if lead is not None:
        _same("the filter count of filter_shape", lead[0], f, "the output gradient")
        _same("the channel count of filter_shape", lead[1], c, "the input")
    plan = _prepare(geometry, stride, pad, dilation, op, x.shape[2:], k_spatial)
    _check_out(dout, plan)
    col = _columns(_padded(x, plan), plan, batch_last=True).reshape(c * len(plan.taps), -1)
    d2 = dout.reshape(n, f, -1).swapaxes(0, 1).reshape(f, -1)
    dw = np.matmul(d2, col.T).reshape((f, c) + k_spatial)
    if plan.geometry.op == "convolve":
        return np.ascontiguousarray(_oriented(dw, "convolve"))
    return dw


def grad_bias(dout):
    """d(sum dout*out)/db: dout summed over the batch and every spatial axis -> (F,)."""
    dout = _array(dout, "the output gradient", _dtype(dout))
    return dout.sum(axis=(0,) + tuple(range(2, dout.ndim)))


def _check_out(dout: np.ndarray, plan: _Plan):
    if dout.shape[2:] != plan.out_shape:
        raise ConfigError(
            f"the output gradient's spatial shape {dout.shape[2:]} does not match the output "
            f"shape {plan.out_shape} of this geometry ({plan.geometry.describe()})"
        )
