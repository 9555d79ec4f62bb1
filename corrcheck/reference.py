"""The vectorized NumPy reference: strided, padded, dilated correlation and its gradients.

Every check compares the user's code with this module, so it must be right
first and fast second. All three operations are one im2col matrix product,
written side by side so each can be read against the others:

    forward      out  = W @ col(x)             (F, C*K) @ (C*K, N*P)
    grad_input   dx   = col^T(W^T @ dout)      scatter-add, one strided view per kernel tap
    grad_filter  dW   = dout @ col(x)^T        (F, N*P) @ (N*P, C*K)

col(x) holds, for every kernel tap, the strided view of the input that tap
reads; taps are clipped to the input instead of padding it, so padding costs
nothing and zeros are written once. Samples go through in blocks small
enough to stay in cache (no Python loop over output positions, only over
blocks and taps). Tiny inputs, where NumPy's per-call overhead dominates,
use one cached gather index instead; large ones spread their blocks over
all cores with single-threaded BLAS, as torch does (reference_threads.py). op="convolve" is
correlation with the filter flipped on every spatial axis. Output sizes and
resolved paddings come from geometry.py, the one owner of that arithmetic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from numpy.lib.stride_tricks import as_strided

from corrcheck import reference_threads
from corrcheck.geometry import ConfigError, Geometry, make_geometry

__all__ = ["forward", "grad_input", "grad_filter", "grad_bias"]

_ALL = slice(None)
BLOCK_ELEMENTS = 1 << 17  # column-buffer entries per block of samples (1 MiB in float64: one L2 cache)
SMALL_ELEMENTS = 1 << 14  # at most this many column entries: take the gather path (per-call overhead wins)
GEMM_ROWS = 32  # OpenBLAS's double kernels reach full speed from about this many rows of the left matrix
POOL_FLOPS = 5e8  # an op needs about this much work before the sample-block thread pool beats BLAS threads


@dataclass(frozen=True)
class _Plan:
    """Everything derived from (geometry, input size, filter size), computed once and cached."""

    geometry: Geometry
    in_shape: tuple[int, ...]
    k_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    taps: tuple[tuple[int, tuple[slice, ...], tuple[slice, ...]], ...]  # (tap, output part, input view)
    n_taps: int
    positions: int  # output positions per map
    reads_padding: bool  # some tap reads outside the input

    @cached_property
    def gather(self) -> np.ndarray:
        """(taps, P) index into the flattened input + one trailing zero: what each tap reads per output."""
        return self._index(reading_input=True)

    @cached_property
    def scatter(self) -> np.ndarray:
        """(taps, S) index into the flattened dout + one trailing zero: the output each input feeds per tap."""
        return self._index(reading_input=False)

    @cached_property
    def flat(self) -> "_Flat | None":
        """The stride-1 layout on the padded, flattened input, or None when some stride is not 1."""
        g = self.geometry
        if any(s != 1 for s in g.stride):
            return None
        padded = tuple(n + b + a for n, (b, a) in zip(self.in_shape, g.pad))
        steps = tuple(math.prod(padded[i + 1:]) for i in range(len(padded)))
        inner = (_ALL, _ALL) + tuple(slice(b, b + n) for n, (b, _) in zip(self.in_shape, g.pad))
        length = sum((o - 1) * st for o, st in zip(self.out_shape, steps)) + 1
        return _Flat(padded, steps, inner, length, any(b or a for b, a in g.pad))

    def _index(self, reading_input: bool) -> np.ndarray:
        g = self.geometry
        taps = np.indices(self.k_shape).reshape(len(self.k_shape), -1, 1)
        grid = np.indices(self.out_shape if reading_input else self.in_shape).reshape(len(self.k_shape), 1, -1)
        flat = np.zeros((taps.shape[1], grid.shape[2]), dtype=np.intp)
        valid = np.ones(flat.shape, dtype=bool)
        target = self.in_shape if reading_input else self.out_shape
        for k, pos, s, (before, _), d, size in zip(taps, grid, g.stride, g.pad, g.dilation, target):
            if reading_input:  # input read by output o through tap k
                q = pos * s + k * d - before
            else:  # output o with o*s + k*d - before == i, when the division is exact
                num = pos + before - k * d
                q = num // s
                valid &= num % s == 0
            valid &= (q >= 0) & (q < size)
            flat = flat * size + q
        return np.where(valid, flat, math.prod(target))


@dataclass(frozen=True)
class _Flat:
    """Stride 1 seen on the padded input flattened per channel.

    Output o then sits at q = sum(o_i * steps_i) and tap k reads q + sum(k_i * d_i * steps_i):
    every tap's column is one contiguous run of the flat input (a fast copy, not
    one short row per output line), at the price of computing `length - P`
    outputs that fall in the padding columns and are dropped.
    """

    padded: tuple[int, ...]
    steps: tuple[int, ...]  # flat stride of each padded axis, in elements
    inner: tuple[slice, ...]  # where the input sits inside the padded block (N, C, *padded)
    length: int  # flat positions from the first output to the last
    padding: bool  # some pad is not zero: the input must be copied into a zero border

    def offsets(self, axes: slice, k_shape: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
        """Flat offset of every tap over the given spatial axes, in np.ndindex order."""
        k_shape, dilation, steps = k_shape[axes], dilation[axes], self.steps[axes]
        return tuple(sum(k * d * st for k, d, st in zip(tap, dilation, steps)) for tap in np.ndindex(*k_shape))

    def unflatten(self, ext: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray:
        """(A, B, length) with unit last stride -> the (A, B, *out) view of the real outputs."""
        return as_strided(ext, ext.shape[:2] + out_shape,
                          ext.strides[:2] + tuple(st * ext.itemsize for st in self.steps), writeable=False)


def _clip(o: int, n: int, k: int, s: int, before: int, d: int):
    """Outputs [lo, hi) whose tap-k read o*s + k*d - before lands inside [0, n), and that input view."""
    offset = k * d - before
    lo = -(offset // s) if offset < 0 else 0  # ceil(-offset / s)
    hi = min(o, (n - 1 - offset) // s + 1) if n - 1 - offset >= 0 else 0
    if hi <= lo:
        return None
    start = lo * s + offset
    return slice(lo, hi), slice(start, start + (hi - lo - 1) * s + 1, s)


@lru_cache(maxsize=512)
def _plan(geom: Geometry, in_shape: tuple[int, ...], k_shape: tuple[int, ...]) -> _Plan:
    out = geom.out_shape(in_shape, k_shape)  # raises ConfigError when the filter does not fit
    taps = []
    for t, tap in enumerate(np.ndindex(*k_shape)):
        parts = [_clip(o, n, k, s, b, d)
                 for o, n, k, s, (b, _), d in zip(out, in_shape, tap, geom.stride, geom.pad, geom.dilation)]
        if all(parts):  # a tap that only ever reads padding contributes nothing
            taps.append((t, tuple(p[0] for p in parts), tuple(p[1] for p in parts)))
    n_taps, positions = math.prod(k_shape), math.prod(out)
    reads_padding = len(taps) < n_taps or any(
        (o.stop - o.start) != size for _, part, _ in taps for o, size in zip(part, out))
    return _Plan(geom, in_shape, k_shape, out, tuple(taps), n_taps, positions, reads_padding)


def _freeze(value):
    """Lists (also nested, also arrays) -> tuples, so user-facing options can key a cache."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


@lru_cache(maxsize=512)
def _cached_geometry(*args) -> Geometry:
    return make_geometry(*args)


def _prepare(geometry, stride, pad, dilation, op, in_shape, k_shape) -> _Plan:
    """Resolve the options (or take the given Geometry) and return the cached plan."""
    in_shape, k_shape = tuple(in_shape), tuple(k_shape)
    if geometry is None:
        try:
            geometry = _cached_geometry(stride, pad, dilation, op, len(in_shape), in_shape, k_shape)
        except TypeError:  # lists: freeze them, or let make_geometry name what cannot be used
            args = (_freeze(stride), _freeze(pad), _freeze(dilation), op, len(in_shape), in_shape, k_shape)
            try:
                hash(args)
            except TypeError:
                geometry = make_geometry(stride, pad, dilation, op, *args[4:])
            else:
                geometry = _cached_geometry(*args)
    elif not isinstance(geometry, Geometry):
        raise ConfigError(f"geometry must be a corrcheck.geometry.Geometry, not {type(geometry).__name__}")
    elif geometry.ndim != len(in_shape):
        raise ConfigError(f"the geometry has {geometry.ndim} spatial axes but the arrays have {len(in_shape)}")
    return _plan(geometry, in_shape, k_shape)


def _dtype(*arrays):
    """float32 when every given array is float32 (keeps benchmarks honest), float64 otherwise."""
    for a in arrays:
        if a is not None and getattr(getattr(a, "dtype", None), "char", None) != "f":
            return np.float64
    return np.float32


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


def _spatial(shape, ndim: int, name: str):
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


def _check_out(dout: np.ndarray, plan: _Plan):
    if dout.shape[2:] != plan.out_shape:
        raise ConfigError(f"the output gradient's spatial shape {dout.shape[2:]} does not match the output "
                          f"shape {plan.out_shape} of this geometry ({plan.geometry.describe()})")


def _oriented(w: np.ndarray, op: str) -> np.ndarray:
    """The filter as correlation sees it: flipped on every spatial axis for a true convolution."""
    if op == "convolve":
        return w[(_ALL, _ALL) + (slice(None, None, -1),) * (w.ndim - 2)]
    return w


def _small(plan: _Plan, n: int, c: int, size: int) -> bool:
    return n * c * plan.n_taps * max(plan.positions, size) <= SMALL_ELEMENTS


def _with_zero(a: np.ndarray, needed: bool = True) -> np.ndarray:
    """(N, C, *spatial) -> (N, C, prod(spatial) [+ 1]): the extra last entry is the zero that padding reads."""
    flat = a.reshape(a.shape[:2] + (-1,))
    if not needed:
        return flat
    return np.concatenate((flat, np.zeros(a.shape[:2] + (1,), dtype=a.dtype)), axis=2)


def _each_block(n: int, per_sample: int, rows: int, work) -> list:
    """work(blocks) over the sample blocks of an op whose GEMMs are (rows, ...) @ (..., per_sample).

    Spread over threads by reference_threads only when the op is large: below POOL_FLOPS the
    blocks are too short for the pool to pay, and one thread that lets OpenBLAS thread each
    GEMM is faster (on 2 cores, 1.4x at N=8 C=16 F=32 32x32; the pool wins 1.4x at 32x64x56x56).
    """
    spread = 2.0 * n * per_sample * rows >= POOL_FLOPS
    return reference_threads.each_block(reference_threads.sample_blocks(n, per_sample, BLOCK_ELEMENTS),
                                        work, spread=spread)


def _columns(x: np.ndarray, plan: _Plan, col: np.ndarray | None = None) -> np.ndarray:
    """im2col of a block of samples in (C, taps, m, *O) layout; reuses `col` (zeros stay zero) when it fits."""
    m, c = x.shape[:2]
    if col is None or col.shape[2] != m:
        col = np.zeros((c, plan.n_taps, m) + plan.out_shape, dtype=x.dtype)
    src = x.swapaxes(0, 1)
    for t, out_part, view in plan.taps:
        col[(_ALL, t, _ALL) + out_part] = src[(_ALL, _ALL) + view]
    return col


def _scattered_axes(f: int, k_shape: tuple[int, ...]) -> int:
    """How many leading tap axes to add up after the GEMM instead of gathering them before it.

    Gathering every tap makes the GEMM (F, C*taps) @ (C*taps, P); with few
    output channels (grad_input of a layer that widens) that left matrix has
    too few rows for BLAS to run at full speed. Moving a tap axis out of the
    columns and into the rows, (F*k0, C*taps/k0), costs one shifted add per
    tap of that axis but keeps the GEMM fast.
    """
    axes = 0
    while axes < len(k_shape) - 1 and f * math.prod(k_shape[:axes]) < GEMM_ROWS:
        axes += 1
    return axes


def _flat_forward(x: np.ndarray, w: np.ndarray, plan: _Plan, out: np.ndarray, split: int) -> None:
    """forward's block path at stride 1 (see _Flat): one GEMM per sample block, then adds shifted
    over the `split` leading tap axes (_scattered_axes)."""
    flat, k_shape, dilation = plan.flat, plan.k_shape, plan.geometry.dilation
    (n, c), f = x.shape[:2], w.shape[0]
    gather = flat.offsets(slice(split, None), k_shape, dilation)
    scatter = flat.offsets(slice(None, split), k_shape, dilation)
    length = flat.length
    width = length + scatter[-1]  # each gathered column also covers the scattered shifts
    wr = w.reshape(f, c, len(scatter), len(gather)).transpose(2, 0, 1, 3).reshape(len(scatter) * f, -1)

    def work(blocks):
        xp = col = y = None
        for lo, hi in blocks:
            m = hi - lo
            if col is None or col.shape[2] != m:
                if flat.padding:
                    xp = np.zeros((m, c) + flat.padded, dtype=x.dtype)  # the border stays zero
                col = np.empty((c, len(gather), m, width), dtype=x.dtype)
                y = np.empty((len(scatter), f, m, width), dtype=x.dtype)
            if flat.padding:
                xp[flat.inner] = x[lo:hi]
                src = xp.reshape(m, c, -1).swapaxes(0, 1)
            else:
                src = x[lo:hi].reshape(m, c, -1).swapaxes(0, 1)
            for t, offset in enumerate(gather):
                col[:, t] = src[..., offset:offset + width]
            np.matmul(wr, col.reshape(c * len(gather), -1), out=y.reshape(wr.shape[0], -1))
            ext = y[0, ..., :length]
            if len(scatter) > 1:  # one shifted add per scattered tap (the first one is the copy)
                ext = ext + y[1, ..., scatter[1]:scatter[1] + length]
                for t in range(2, len(scatter)):
                    ext += y[t, ..., scatter[t]:scatter[t] + length]
            out[lo:hi] = flat.unflatten(ext, plan.out_shape).swapaxes(0, 1)

    _each_block(n, c * len(gather) * width, wr.shape[0], work)


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
    (n, c), f, p = x.shape[:2], w.shape[0], plan.positions
    w2 = _oriented(w, plan.geometry.op).reshape(f, -1)
    if _small(plan, n, c, x[0, 0].size):
        col = _with_zero(x, plan.reads_padding)[..., plan.gather]  # (N, C, taps, P)
        out = np.matmul(w2, col.reshape(n, -1, p))
    elif plan.flat is not None and (split := _scattered_axes(f, plan.k_shape)):
        out = np.empty((n, f) + plan.out_shape, dtype=dtype)
        _flat_forward(x, _oriented(w, plan.geometry.op), plan, out, split)
    else:
        out = np.empty((n, f, p), dtype=dtype)

        def work(blocks):
            col = buf = None
            for lo, hi in blocks:
                col = _columns(x[lo:hi], plan, col)
                if hi - lo == 1:  # one sample: the GEMM writes its output in place
                    np.matmul(w2, col.reshape(w2.shape[1], -1), out=out[lo])
                    continue
                if buf is None or buf.shape[1] != (hi - lo) * p:
                    buf = np.empty((f, (hi - lo) * p), dtype=dtype)  # reused: fresh pages cost faults
                np.matmul(w2, col.reshape(w2.shape[1], -1), out=buf)
                out[lo:hi] = buf.reshape(f, hi - lo, p).swapaxes(0, 1)

        _each_block(n, c * plan.n_taps * p, f, work)
    out = out.reshape((n, f) + plan.out_shape)
    if b is not None:
        b = np.asarray(b, dtype=dtype).reshape(-1)
        _same("the bias length", b.size, f, "the filter")
        out += b.reshape((f,) + (1,) * (x.ndim - 2))
    return out


def _full_correlation(g: Geometry, k_spatial) -> Geometry | None:
    """The geometry of grad_input as a correlation, when stride is 1 and no pad exceeds d(k-1)."""
    if any(s != 1 for s in g.stride):
        return None
    pads = tuple((d * (k - 1) - b, d * (k - 1) - a) for (b, a), d, k in zip(g.pad, g.dilation, k_spatial))
    if any(b < 0 or a < 0 for b, a in pads):
        return None
    return Geometry(g.stride, pads, g.dilation, "correlate")


def grad_input(dout, w, input_shape, *, stride=1, pad=0, dilation=1, op="correlate",
               geometry: Geometry | None = None):
    """dx[n, c, i] = sum over (f, k, o) with o*s + k*d - p_before == i of dout[n, f, o] * w[f, c, k].

    Shapes: dout (N, F, *O), w (F, C, *K), input_shape (N, C, *S) or S -> (N, C, *S).
    """
    dtype = _dtype(dout, w)
    w = _array(w, "the filter", dtype)
    dout = _array(dout, "the output gradient", dtype, w.ndim)
    spatial, lead = _spatial(input_shape, w.ndim, "input_shape")
    n, (f, c) = dout.shape[0], w.shape[:2]
    _same("the output gradient's channel count", dout.shape[1], f, "the filter")
    if lead is not None:
        _same("the batch size of input_shape", lead[0], n, "the output gradient")
        _same("the channel count of input_shape", lead[1], c, "the filter")
    plan = _prepare(geometry, stride, pad, dilation, op, spatial, w.shape[2:])
    _check_out(dout, plan)
    wk = _oriented(w, plan.geometry.op)
    if _small(plan, n, c, math.prod(spatial)):  # gather, per input entry and tap, the output it fed
        g = _with_zero(dout)[..., plan.scatter]  # (N, F, taps, S); a zero where no output read it
        wt = wk.reshape(f, c, -1).swapaxes(0, 1).reshape(c, -1)
        return np.matmul(wt, g.reshape(n, -1, math.prod(spatial))).reshape((n, c) + spatial)
    full = _full_correlation(plan.geometry, w.shape[2:])
    if full is not None:
        # stride 1: the input gradient IS a forward correlation of the output gradient, padded by
        # d(k-1) - p, with the filter flipped and its two channel axes swapped; the fast forward
        # path (one GEMM per sample block) beats scattering tap by tap
        flipped = wk[(_ALL, _ALL) + (slice(None, None, -1),) * len(spatial)].swapaxes(0, 1)
        return forward(dout, np.ascontiguousarray(flipped), geometry=full)
    dx = np.zeros((n, c) + spatial, dtype=dtype)
    wt = wk.reshape(f, -1).T

    def work(blocks):
        buf = None
        for lo, hi in blocks:
            d2 = dout[lo:hi].reshape(hi - lo, f, -1).swapaxes(0, 1).reshape(f, -1)
            if buf is None or buf.shape[1] != d2.shape[1]:
                buf = np.empty((wt.shape[0], d2.shape[1]), dtype=dtype)
            dcol = np.matmul(wt, d2, out=buf).reshape((c, plan.n_taps, hi - lo) + plan.out_shape).swapaxes(0, 2)
            target = dx[lo:hi]
            for t, out_part, view in plan.taps:  # one tap's windows never overlap: += is exact
                target[(_ALL, _ALL) + view] += dcol[(_ALL, t, _ALL) + out_part]

    _each_block(n, c * plan.n_taps * plan.positions, f, work)
    return dx


def grad_filter(dout, x, filter_shape, *, stride=1, pad=0, dilation=1, op="correlate",
                geometry: Geometry | None = None):
    """dw[f, c, k] = sum_{n, o} dout[n, f, o] * x[n, c, o*s + k*d - p_before], zero outside.

    Shapes: dout (N, F, *O), x (N, C, *S), filter_shape (F, C, *K) or K -> (F, C, *K).
    """
    dtype = _dtype(dout, x)
    x = _array(x, "the input", dtype)
    dout = _array(dout, "the output gradient", dtype, x.ndim)
    k_shape, lead = _spatial(filter_shape, x.ndim, "filter_shape")
    (n, c), f = x.shape[:2], dout.shape[1]
    _same("the output gradient's batch size", dout.shape[0], n, "the input")
    if lead is not None:
        _same("the filter count of filter_shape", lead[0], f, "the output gradient")
        _same("the channel count of filter_shape", lead[1], c, "the input")
    plan = _prepare(geometry, stride, pad, dilation, op, x.shape[2:], k_shape)
    _check_out(dout, plan)
    p = plan.positions
    if _small(plan, n, c, x[0, 0].size):
        col = _with_zero(x, plan.reads_padding)[..., plan.gather]  # (N, C, taps, P)
        col = col.reshape(n, -1, p).swapaxes(0, 1).reshape(-1, n * p)
        dw = dout.reshape(n, f, p).swapaxes(0, 1).reshape(f, -1) @ col.T
    else:
        def work(blocks):
            part, col = np.zeros((f, c * plan.n_taps), dtype=dtype), None
            for lo, hi in blocks:
                col = _columns(x[lo:hi], plan, col)
                d2 = dout[lo:hi].reshape(hi - lo, f, p).swapaxes(0, 1).reshape(f, -1)
                part += d2 @ col.reshape(part.shape[1], -1).T
            return part

        dw = sum(_each_block(n, c * plan.n_taps * p, f, work))
    dw = dw.reshape((f, c) + k_shape)
    return np.ascontiguousarray(_oriented(dw, "convolve")) if plan.geometry.op == "convolve" else dw


def grad_bias(dout):
    """d(sum dout*out)/db: dout summed over the batch and every spatial axis -> (F,)."""
    dout = _array(dout, "the output gradient", _dtype(dout))
    return dout.sum(axis=(0,) + tuple(range(2, dout.ndim)))
