"""The vectorized NumPy reference for the other strided-window ops: grouped, transposed, pooling.

Kept beside reference.py (the dense correlation) rather than inside it, and
built from the same three moves, each with NumPy's own tools:

    windows   one strided view per kernel tap (or sliding_window_view for a whole window)
    contract  a batched matmul over groups: (G, N*P, Cg*K) @ (G, Cg*K, Fg)
    scatter   the adjoint of `windows`: add each tap's slice back into a padded buffer

so a grouped correlation is the dense one with the channels split into a
group axis, a transposed convolution is the gradient of a correlation w.r.t.
its input (and its input gradient is that correlation), and pooling replaces
the contraction by a max or a mean over the window.

Layouts follow torch: correlation x (N, C, *S), w (F, C/G, *K); transposed
x (N, Cin, *S), w (Cin, Cout/G, *K); pooling x (N, C, *S), no filter.
Max pooling ties: the first maximum of the window in row-major window order
takes the gradient (torch's CPU kernel uses a strict `>` in the same order).
Output sizes come from geometry.py, the one owner of that arithmetic.
"""
from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from corrcheck.geometry import ConfigError, Geometry, Op, window_geometry

__all__ = ["conv_forward", "conv_grad_input", "conv_grad_filter",
           "transpose_forward", "transpose_grad_input", "transpose_grad_filter",
           "pool_forward", "pool_grad_input", "grad_bias", "geometry_for"]


def geometry_for(op: str, ndim: int, *, stride=1, pad=0, dilation=1, groups=1, output_padding=0,
                 ceil_mode=False, count_include_pad=False) -> Geometry:
    """A Geometry for the Python API users of this module (checks pass their own)."""
    return window_geometry(stride, pad, dilation, op, ndim, groups=groups, output_padding=output_padding,
                         ceil_mode=ceil_mode, count_include_pad=count_include_pad)


def _f64(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64)


def _taps(k_spatial):
    return list(itertools.product(*(range(k) for k in k_spatial)))


def _tap_slices(tap, out_spatial, g: Geometry):
    """The slice of the padded input that kernel tap `tap` reads for every output position."""
    return tuple(slice(k * d, k * d + s * (o - 1) + 1, s)
                 for k, o, s, d in zip(tap, out_spatial, g.stride, g.dilation))


def _padded(x: np.ndarray, g: Geometry, out_spatial, k_spatial, fill=0.0) -> np.ndarray:
    """x padded by the geometry, grown after when the last window reaches further (ceil mode)."""
    widths = [(0, 0), (0, 0)]
    for n, (pb, pa), o, k, s, d in zip(x.shape[2:], g.pad, out_spatial, k_spatial, g.stride, g.dilation):
        need = (o - 1) * s + d * (k - 1) + 1
        widths.append((pb, max(pa, need - n - pb)))
    if all(w == (0, 0) for w in widths):
        return x
    out = np.full(tuple(n + a + b for n, (a, b) in zip(x.shape, widths)), fill)
    out[tuple(slice(a, a + n) for n, (a, _) in zip(x.shape, widths))] = x
    return out


def _groups(c: int, f: int, g: int, cname="channels", fname="filters"):
    if c % g or f % g:
        raise ConfigError(f"groups {g} must divide the {cname} ({c}) and the {fname} ({f})")
    return c // g, f // g


# ---- grouped correlation ------------------------------------------------------------------------

def _columns(x, g: Geometry, k_spatial, out_spatial, groups):
    """(G, Cg*K, N*P): each group's input windows, one column per (sample, output position).

    Laid out tap-major inside each channel (index c*K + tap, as w.reshape(G, Fg, Cg*K) reads)
    with the positions contiguous, so every tap's copy writes whole rows and the product is
    one plain batched matmul.
    """
    n, c = x.shape[:2]
    xp = _padded(x, g, out_spatial, k_spatial)
    cg = c // groups
    taps = _taps(k_spatial)
    col = np.empty((groups, cg, len(taps), n) + tuple(out_spatial))
    for t, tap in enumerate(taps):
        view = xp[(slice(None), slice(None)) + _tap_slices(tap, out_spatial, g)]   # (N, C, *O)
        col[:, :, t] = np.moveaxis(view.reshape((n, groups, cg) + tuple(out_spatial)), 0, 2)
    return col.reshape(groups, cg * len(taps), -1)


def conv_forward(x, w, b=None, *, geometry: Geometry, out_spatial=None):
    """Grouped correlation (or convolution: the filter flipped); w is (F, C/G, *K)."""
    x, w = _f64(x), _f64(w)
    g = geometry
    groups = g.groups
    n, c = x.shape[:2]
    f = w.shape[0]
    k_spatial = w.shape[2:]
    if w.shape[1] * groups != c:
        raise ConfigError(f"the filter has {w.shape[1]} channels per group but the input has {c} channels "
                          f"in {groups} groups")
    _, fg = _groups(c, f, groups)
    if g.op == "convolve":
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * len(k_spatial)]
    out_spatial = tuple(out_spatial) if out_spatial is not None else \
        replace(g, op="correlate").out_shape(x.shape[2:], k_spatial)
    col = _columns(x, g, k_spatial, out_spatial, groups)                     # (G, Cg*K, N*P)
    out = np.matmul(w.reshape(groups, fg, -1), col)                          # (G, Fg, N*P)
    out = np.moveaxis(out.reshape(f, n, -1), 1, 0).reshape((n, f) + out_spatial)
    if b is not None:
        out = out + _f64(b).reshape((1, f) + (1,) * len(out_spatial))
    return np.ascontiguousarray(out)


def conv_grad_input(dout, w, input_shape, *, geometry: Geometry):
    """d(loss)/dx of the grouped correlation: each tap's contribution added back where it read."""
    dout, w = _f64(dout), _f64(w)
    g = geometry
    groups = g.groups
    n, f = dout.shape[:2]
    out_spatial = tuple(dout.shape[2:])
    k_spatial = w.shape[2:]
    c = int(input_shape[1])
    cg, fg = _groups(c, f, groups)
    if g.op == "convolve":
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * len(k_spatial)]
    taps = _taps(k_spatial)
    dm = np.moveaxis(dout.reshape((n, groups, fg, -1)), 0, 2).reshape(groups, fg, -1)   # (G, Fg, N*P)
    wt = w.reshape(groups, fg, cg * len(taps)).transpose(0, 2, 1)                       # (G, Cg*K, Fg)
    dcol = np.matmul(wt, dm).reshape((groups, cg, len(taps), n) + out_spatial)
    buf = _scatter_buffer((n, c) + tuple(input_shape[2:]), out_spatial, k_spatial, g)
    for t, tap in enumerate(taps):
        part = np.moveaxis(dcol[:, :, t], 2, 0).reshape((n, c) + out_spatial)
        buf[(slice(None), slice(None)) + _tap_slices(tap, out_spatial, g)] += part
    return _crop(buf, tuple(input_shape), g)


def _scatter_buffer(input_shape, out_spatial, k_spatial, g: Geometry) -> np.ndarray:
    """Zeros the size of the padded input (grown after when the last window reaches further)."""
    padded = [pb + s_ + max(pa, (o - 1) * st + d * (k - 1) + 1 - s_ - pb)
              for s_, (pb, pa), o, k, st, d in zip(input_shape[2:], g.pad, out_spatial, k_spatial,
                                                   g.stride, g.dilation)]
    return np.zeros(tuple(input_shape[:2]) + tuple(padded))


def _crop(buf, input_shape, g: Geometry) -> np.ndarray:
    crop = tuple(slice(pb, pb + s_) for s_, (pb, _) in zip(input_shape[2:], g.pad))
    return np.ascontiguousarray(buf[(slice(None), slice(None)) + crop])


def conv_grad_filter(dout, x, filter_shape, *, geometry: Geometry):
    """d(loss)/dw of the grouped correlation, (F, C/G, *K)."""
    dout, x = _f64(dout), _f64(x)
    g = geometry
    groups = g.groups
    n, f = dout.shape[:2]
    out_spatial = dout.shape[2:]
    k_spatial = tuple(filter_shape[2:])
    cg, fg = _groups(x.shape[1], f, groups)
    col = _columns(x, g, k_spatial, out_spatial, groups)                     # (G, Cg*K, N*P)
    dm = np.moveaxis(dout.reshape((n, groups, fg, -1)), 0, 2).reshape(groups, fg, -1)   # (G, Fg, N*P)
    dw = np.matmul(dm, col.transpose(0, 2, 1)).reshape((f, cg) + k_spatial)
    if g.op == "convolve":
        dw = dw[(slice(None), slice(None)) + (slice(None, None, -1),) * len(k_spatial)]
    return np.ascontiguousarray(dw)


def grad_bias(dout):
    dout = _f64(dout)
    return dout.sum(axis=(0,) + tuple(range(2, dout.ndim)))


# ---- transposed convolution ---------------------------------------------------------------------

def _as_conv(g: Geometry) -> Geometry:
    """The transposed layer's filter (Cin, Cout/G, *K) read as a correlation filter (F=Cin, C/G=Cout/G)."""
    return replace(g, op="correlate", output_padding=())


def transpose_forward(x, w, b=None, *, geometry: Geometry):
    """y = grad_input of the correlation with filter w: each input entry spreads w over the output."""
    x, w = _f64(x), _f64(w)
    g = geometry
    n, cin = x.shape[:2]
    if w.shape[0] != cin:
        raise ConfigError(f"a transposed filter is (in, out/groups, *K): its first axis is {w.shape[0]} "
                          f"but the input has {cin} channels")
    out_spatial = g.out_shape(x.shape[2:], w.shape[2:])
    cout = w.shape[1] * g.groups
    y = conv_grad_input(x, w, (n, cout) + out_spatial, geometry=_as_conv(g))
    if b is not None:
        y = y + _f64(b).reshape((1, cout) + (1,) * len(out_spatial))
    return y


def transpose_grad_input(dout, w, input_shape, *, geometry: Geometry):
    """dx of the transposed convolution: the forward correlation of dout with the same filter."""
    return conv_forward(dout, w, geometry=_as_conv(geometry), out_spatial=tuple(input_shape[2:]))


def transpose_grad_filter(dout, x, filter_shape, *, geometry: Geometry):
    """dw of the transposed convolution: the correlation's filter gradient with x and dout exchanged."""
    x = _f64(x)
    dw = conv_grad_filter(x, dout, filter_shape, geometry=_as_conv(geometry))
    return dw


# ---- pooling ------------------------------------------------------------------------------------

def _divisor(in_spatial, out_spatial, k_spatial, g: Geometry) -> np.ndarray:
    """Average pooling's count per output position, one factor per axis (torch's rule)."""
    total = np.ones(())
    for axis, (n, o, k, s, (pb, pa)) in enumerate(zip(in_spatial, out_spatial, k_spatial, g.stride, g.pad)):
        start = np.arange(o) * s - pb
        end = np.minimum(start + k, n + pa)
        if g.count_include_pad:
            count = end - start
        else:
            count = np.minimum(end, n) - np.maximum(start, 0)
        total = np.multiply.outer(total, count.astype(np.float64))
    return total


def _clipped(tap, in_spatial, out_spatial, g: Geometry):
    """(output slices, input slices) of the positions where this tap reads inside the input, or None.

    Taps are clipped to the input instead of padding it: padding, and the part of a ceil-mode
    window that runs past the input, are simply never read."""
    outs, ins = [], []
    for k, n, o, s, d, (pb, _) in zip(tap, in_spatial, out_spatial, g.stride, g.dilation, g.pad):
        off = k * d - pb                              # input position of output 0
        lo = (-off + s - 1) // s if off < 0 else 0      # first output whose read is >= 0
        hi = min(o, (n - 1 - off) // s + 1) if n - 1 - off >= 0 else 0
        if hi <= lo:
            return None
        outs.append(slice(lo, hi))
        start = lo * s + off
        ins.append(slice(start, start + s * (hi - lo - 1) + 1, s))
    return tuple(outs), tuple(ins)


def _axis_geometry(g: Geometry, axis: int) -> Geometry:
    return Geometry((g.stride[axis],), (g.pad[axis],), (g.dilation[axis],), g.op)


def _reduce_axis(a, axis, k, o, g1: Geometry, maximum: bool):
    """Sum or max over one axis's windows (axis counted among the spatial axes), taps clipped."""
    shape = list(a.shape)
    n = shape[2 + axis]
    shape[2 + axis] = o
    out = np.full(shape, -np.inf) if maximum else np.zeros(shape)
    for t in range(k):
        cut = _clipped((t,), (n,), (o,), g1)
        if cut is None:
            continue
        (os_,), (is_,) = cut
        dst = (slice(None),) * (2 + axis) + (os_,)
        src = (slice(None),) * (2 + axis) + (is_,)
        if maximum:
            np.maximum(out[dst], a[src], out=out[dst])
        else:
            out[dst] += a[src]
    return out


def _spread_axis(a, axis, k, n, g1: Geometry):
    """Adjoint of a summing _reduce_axis: each window's value added back to every cell it covers."""
    shape = list(a.shape)
    o = shape[2 + axis]
    shape[2 + axis] = n
    out = np.zeros(shape)
    for t in range(k):
        cut = _clipped((t,), (n,), (o,), g1)
        if cut is None:
            continue
        (os_,), (is_,) = cut
        out[(slice(None),) * (2 + axis) + (is_,)] += a[(slice(None),) * (2 + axis) + (os_,)]
    return out


def pool_forward(x, k_spatial, *, geometry: Geometry):
    """Max or average over each window, one axis at a time (both are separable); cells outside the
    input are skipped (max) or count as zeros (average)."""
    x = _f64(x)
    g = geometry
    k_spatial = tuple(int(k) for k in k_spatial)
    out_spatial = g.out_shape(x.shape[2:], k_spatial)
    a = x
    for axis, (k, o) in enumerate(zip(k_spatial, out_spatial)):
        a = _reduce_axis(a, axis, k, o, _axis_geometry(g, axis), g.op == Op.MAXPOOL)
    if g.op == Op.MAXPOOL:
        return a
    return a / _divisor(x.shape[2:], out_spatial, k_spatial, g)


def pool_grad_input(dout, x, k_spatial, *, geometry: Geometry):
    """dx of pooling: max sends each dout to its window's first maximum, average spreads it evenly."""
    dout, x = _f64(dout), _f64(x)
    g = geometry
    k_spatial = tuple(int(k) for k in k_spatial)
    out_spatial = tuple(dout.shape[2:])
    if g.op == Op.AVGPOOL:
        a = dout / _divisor(x.shape[2:], out_spatial, k_spatial, g)
        for axis in reversed(range(len(k_spatial))):
            a = _spread_axis(a, axis, k_spatial[axis], x.shape[2 + axis], _axis_geometry(g, axis))
        return a
    best = pool_forward(x, k_spatial, geometry=g)
    dx = np.zeros_like(x)
    open_ = np.ones(best.shape, dtype=bool)      # windows whose maximum is not placed yet
    for tap in _taps(k_spatial):
        cut = _clipped(tap, x.shape[2:], out_spatial, g)
        if cut is None:
            continue
        outs, ins = cut
        o_sl = (slice(None), slice(None)) + outs
        hit = x[(slice(None), slice(None)) + ins] == best[o_sl]
        hit &= open_[o_sl]                         # the first maximum in window order takes it
        open_[o_sl] &= ~hit
        dx[(slice(None), slice(None)) + ins] += np.where(hit, dout[o_sl], 0.0)
    return dx
