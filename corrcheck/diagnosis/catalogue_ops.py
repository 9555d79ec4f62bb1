"""Catalogue of the usual mistakes in grouped, transposed and pooling layers, as exact mutants.

Each entry computes what a learner's code with that one mistake returns on the
same canonical draw the checks used (x (N,C,*S), w, b, dout; see
checks/window_suite.py), so a user's output that equals a mutant names the
mistake. Reads a learner's Python would not survive (an index past the end)
come back as NaN cells, which never match a finite answer. Entries are built
from reference_ops with one knob changed, the way catalogue.py builds the
dense ones from its Spec.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from .match import match as dense_match
from .. import reference_ops as R
from ..checks.draw import Draw
from ..geometry import ConfigError, Geometry
from ..result import Diagnosis
from ..vocab import POOL_OPS, Op


@dataclass(frozen=True)
class OpMistake:
    id: str
    op: str                  # grouped | transpose | maxpool | avgpool
    target: str              # forward | grad_input | grad_filter
    summary: str             # one sentence naming the code fix
    mutant: Callable         # (draw, geom) -> array or None (not applicable here)
    where: tuple[str, ...]   # regexes for the line that holds the mistake, most specific first
    partial: bool = False    # NaN cells of the mutant are windows the mistake adds, their values the
                             # user's padding fill: compared by shape only


def _crop_or_nan(y: np.ndarray, shape) -> np.ndarray:
    """y placed in an array of `shape`: extra entries dropped, missing ones NaN."""
    out = np.full(shape, np.nan)
    sl = tuple(slice(0, min(a, b)) for a, b in zip(y.shape, shape))
    out[sl] = y[sl]
    return out


# ---- grouped / depthwise ------------------------------------------------------------------------

def _channels_summed(d, g: Geometry):
    """Every filter reads all C channels (its C/G weights repeated per group): the group split forgotten."""
    if g.groups == 1:
        return None
    w = np.concatenate([d.w] * g.groups, axis=1)
    return R.conv_forward(d.x, w, d.b, geometry=replace(g, groups=1))


def _group_offset(d, g: Geometry):
    """Group k's channels taken from k * (filters per group) instead of k * (channels per group)."""
    n, c = d.x.shape[:2]
    f, cg = d.w.shape[:2]
    fg = f // g.groups
    if fg == cg or g.groups == 1:
        return None
    outs = []
    for fi in range(f):
        start = (fi // fg) * fg
        if start + cg > c:
            return None if fi == 0 else _nan_like(outs[0], f)
        outs.append(R.conv_forward(d.x[:, start:start + cg], d.w[fi:fi + 1], None,
                                   geometry=replace(g, groups=1)))
    y = np.concatenate(outs, axis=1)
    return y + (0 if d.b is None else d.b.reshape((1, f) + (1,) * (y.ndim - 2)))


def _group_offset_missing(d, g: Geometry):
    """Every filter reads the first group's channels (0 to C/G - 1): the group offset left out."""
    if g.groups == 1:
        return None
    cg = d.w.shape[1]
    y = R.conv_forward(d.x[:, :cg], d.w, None, geometry=replace(g, groups=1))
    return y + (0 if d.b is None else d.b.reshape((1, -1) + (1,) * (y.ndim - 2)))


def _nan_like(first, f):
    return np.full((first.shape[0], f) + first.shape[2:], np.nan)


def _multiplier_swapped(d, g: Geometry):
    """Depthwise with multiplier M: output channel m*C + c written where torch puts c*M + m."""
    c = d.x.shape[1]
    f = d.w.shape[0]
    if g.groups != c or f == c or f % c:
        return None
    m = f // c
    ref = R.conv_forward(d.x, d.w, d.b, geometry=g)
    perm = np.array([ci * m + mi for mi in range(m) for ci in range(c)])
    return ref[:, perm]


def _multiplier_swapped_channel(d, g: Geometry):
    """Depthwise with multiplier M, filters numbered f = m*C + c: filter f reads input channel f % C
    where torch's filter f reads channel f // M (each output keeps its own filter and bias)."""
    c = d.x.shape[1]
    f = d.w.shape[0]
    if g.groups != c or f == c or f % c:
        return None
    one = replace(g, groups=1)
    y = np.concatenate([R.conv_forward(d.x[:, [fi % c]], d.w[fi:fi + 1], None, geometry=one) for fi in range(f)],
                       axis=1)
    return y + (0 if d.b is None else d.b.reshape((1, f) + (1,) * (y.ndim - 2)))


# ---- transposed ---------------------------------------------------------------------------------

def _scatter_transpose(d, g: Geometry, *, out_mult, tap_mult, sign, flip):
    """y[n, co, i*out_mult + k*tap_mult + sign*p] += x[n, ci, i] * w[ci, co, k (or K-1-k)], guarded."""
    x, w = d.x, d.w
    if flip:
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)]
    shape = (x.shape[0], w.shape[1] * g.groups) + g.out_shape(x.shape[2:], w.shape[2:])
    # run the true scatter on a geometry with these multipliers and no crop, then shift by the offset
    wide = replace(g, stride=tuple(out_mult), dilation=tuple(tap_mult), pad=((0, 0),) * g.ndim, output_padding=())
    y = R.transpose_forward(x, w, d.b, geometry=wide)
    out = np.zeros(shape)
    src, dst = [slice(None), slice(None)], [slice(None), slice(None)]
    for axis, (pb, _) in enumerate(g.pad):
        shift = sign * pb                      # position in y = position in out - shift... out[j] = y[j - shift]
        lo = max(0, shift)
        hi = min(shape[2 + axis], y.shape[2 + axis] + shift)
        if hi <= lo:
            return out
        dst.append(slice(lo, hi))
        src.append(slice(lo - shift, hi - shift))
    out[tuple(dst)] = y[tuple(src)]
    if d.b is not None:
        # the bias is added everywhere, also where nothing was scattered
        b = d.b.reshape((1, -1) + (1,) * g.ndim)
        covered = np.zeros(shape, dtype=bool)
        covered[tuple(dst)] = True
        out = np.where(covered, out, b)
    return out


def _stride_wrong_side(d, g):
    if all(s == 1 for s in g.stride):
        return None
    return _scatter_transpose(d, g, out_mult=(1,) * g.ndim, tap_mult=tuple(s * dd for s, dd in zip(g.stride, g.dilation)),
                              sign=-1, flip=False)


def _pad_added(d, g):
    if all(p == (0, 0) for p in g.pad):
        return None
    return _scatter_transpose(d, g, out_mult=g.stride, tap_mult=g.dilation, sign=+1, flip=False)


def _pad_ignored(d, g):
    if all(p == (0, 0) for p in g.pad):
        return None
    return _scatter_transpose(d, g, out_mult=g.stride, tap_mult=g.dilation, sign=0, flip=False)


def _not_flipped(d, g):
    if all(k == 1 for k in d.w.shape[2:]):
        return None
    return _scatter_transpose(d, g, out_mult=g.stride, tap_mult=g.dilation, sign=-1, flip=True)


def _output_padding_off(d, g):
    if not any(g.output_padding):
        return None
    y = R.transpose_forward(d.x, d.w, d.b, geometry=g)
    return y[(slice(None), slice(None)) + tuple(slice(0, n - a) for n, a in zip(y.shape[2:], g.output_padding))]


# ---- pooling ------------------------------------------------------------------------------------

def _pool_geom(g: Geometry, **changes):
    try:
        return replace(g, **changes)
    except ConfigError:
        return None


def _argmax_taps(d, g):
    """Per output cell, the window tap holding the first maximum (the reference's rule)."""
    out_spatial = d.dout.shape[2:]
    xp = R._padded(d.x, g, out_spatial, d.window, fill=-np.inf)
    best = np.full(d.dout.shape, -np.inf)
    which = np.zeros(d.dout.shape, dtype=int)
    taps = R._taps(d.window)
    for t, tap in enumerate(taps):
        v = xp[(slice(None), slice(None)) + R._tap_slices(tap, out_spatial, g)]
        better = v > best
        best[better] = v[better]
        which[better] = t
    return which, taps


def _route(d, g, where):
    """dx with each dout sent to where(o, tap) (input coordinates); Python indexing: a negative
    index wraps once, one past the end raises (None: the learner's code would crash here)."""
    which, taps = _argmax_taps(d, g)
    dx = np.zeros_like(d.x)
    spatial = d.x.shape[2:]
    for idx in np.ndindex(*d.dout.shape):
        pos = where(idx[2:], taps[which[idx]])
        fixed = []
        for p_, n in zip(pos, spatial):
            if p_ >= n or p_ < -n:
                return None
            fixed.append(p_ % n)
        dx[idx[:2] + tuple(fixed)] += d.dout[idx]
    return dx


def _overlapping(d, g) -> bool:
    """Whether some input cell lies in two windows (a window wider than its stride on some axis)."""
    return any(dd * (k - 1) + 1 > s for k, s, dd in zip(d.window, g.stride, g.dilation))


def _max_overwritten(d, g):
    """dx[cell] = dout (not +=): where windows overlap, a cell that is the maximum of two windows keeps
    only the last one's gradient (outputs visited row-major, as nested loops do)."""
    if not _overlapping(d, g):
        return None
    which, taps = _argmax_taps(d, g)
    dx = np.zeros_like(d.x)
    for idx in np.ndindex(*d.dout.shape):
        cell = tuple(o * s + t * dd - pb for o, s, t, dd, (pb, _) in
                     zip(idx[2:], g.stride, taps[which[idx]], g.dilation, g.pad))
        if all(0 <= c < n for c, n in zip(cell, d.x.shape[2:])):
            dx[idx[:2] + cell] = d.dout[idx]
    return dx


def _max_window_overwritten(d, g):
    """dx[window] = mask * dout (not +=): each window's whole block, zeros and all, replaces what
    earlier windows wrote where they overlap (outputs visited row-major)."""
    if not _overlapping(d, g) or any(dd != 1 for dd in g.dilation):
        return None
    which, taps = _argmax_taps(d, g)
    k = tuple(d.window)
    dx = np.zeros_like(d.x)
    for o in np.ndindex(*d.dout.shape[2:]):
        at = (slice(None), slice(None)) + o
        block = ((np.arange(len(taps)) == which[at][..., None]) * d.dout[at][..., None]).reshape(which.shape[:2] + k)
        starts = [oi * s - pb for oi, s, (pb, _) in zip(o, g.stride, g.pad)]
        cells = tuple(slice(max(0, a), min(n, a + kk)) for a, kk, n in zip(starts, k, d.x.shape[2:]))
        part = tuple(slice(c.start - a, c.stop - a) for c, a in zip(cells, starts))
        dx[(slice(None), slice(None)) + cells] = block[(slice(None), slice(None)) + part]
    return dx


def _avg_overwritten(d, g):
    """dx[window] = dout / count (not +=): where windows overlap, the last window's share replaces the others'."""
    if not _overlapping(d, g):
        return None
    share = d.dout / R._divisor(d.x.shape[2:], d.dout.shape[2:], d.window, g)
    dx = np.zeros_like(d.x)
    for o in np.ndindex(*d.dout.shape[2:]):
        cells = tuple(slice(max(0, oi * s - pb), min(n, oi * s - pb + dd * (k - 1) + 1), dd) if dd == 1 else None
                      for oi, s, (pb, _), k, dd, n in zip(o, g.stride, g.pad, d.window, g.dilation, d.x.shape[2:]))
        if any(c is None for c in cells):
            return None                       # dilated average pooling: not a learner's loop
        dx[(slice(None), slice(None)) + cells] = share[(slice(None), slice(None)) + o][(...,) + (None,) * len(o)]
    return dx


def _max_wrong_cell_first(d, g):
    """Every dout sent to the window's first (top-left) cell instead of its maximum."""
    return _route(d, g, lambda o, tap: tuple(oi * s - pb for oi, s, (pb, _) in zip(o, g.stride, g.pad)))


def _max_wrong_cell_no_stride(d, g):
    """The maximum's offset inside the window added to the output index, not to o * stride."""
    if all(s == 1 for s in g.stride):
        return None
    return _route(d, g, lambda o, tap: tuple(oi + t * dd - pb for oi, t, dd, (pb, _)
                                             in zip(o, tap, g.dilation, g.pad)))


def _max_wrong_cell_unravel(d, g):
    """The window argmax unravelled with the window's sizes swapped (t // KH, t % KH instead of // KW)."""
    k = d.window
    if len(k) != 2 or k[0] == k[1]:
        return None

    def where(o, tap):
        t = tap[0] * k[1] + tap[1]
        r, c = divmod(t, k[0])
        return tuple(oi * s + x * dd - pb for oi, s, x, dd, (pb, _) in zip(o, g.stride, (r, c), g.dilation, g.pad))
    return _route(d, g, where)


def _max_wrong_cell_swapped(d, g):
    """The window argmax's row and column swapped (r = t % k, c = t // k): dx[o*s + c, o*s + r]."""
    if len(d.window) != 2:
        return None
    return _route(d, g, lambda o, tap: tuple(oi * s + t * dd - pb for oi, s, t, dd, (pb, _)
                                             in zip(o, g.stride, tap[::-1], g.dilation, g.pad)))


def _avg_divisor_flipped(d, g):
    if all(p == (0, 0) for p in g.pad) and not g.ceil_mode:
        return None
    return R.pool_forward(d.x, d.window, geometry=replace(g, count_include_pad=not g.count_include_pad))


def _avg_divisor_flipped_grad(d, g):
    if all(p == (0, 0) for p in g.pad) and not g.ceil_mode:
        return None
    return R.pool_grad_input(d.dout, d.x, d.window, geometry=replace(g, count_include_pad=not g.count_include_pad))


def _stride_as_window(d, g):
    if tuple(g.stride) == tuple(d.window):
        return None
    try:
        return R.pool_forward(d.x, g.stride, geometry=g)
    except ConfigError:
        return None


def _window_as_stride(d, g):
    if tuple(g.stride) == tuple(d.window):
        return None
    try:
        return R.pool_forward(d.x, d.window, geometry=replace(g, stride=tuple(d.window)))
    except ConfigError:
        return None


def _ceil_ignored(d, g):
    if not g.ceil_mode:
        return None
    floor = replace(g, ceil_mode=False)
    if floor.out_shape(d.x.shape[2:], d.window) == g.out_shape(d.x.shape[2:], d.window):
        return None
    return R.pool_forward(d.x, d.window, geometry=floor)


def _ceil_no_drop(d, g):
    """Ceil mode without torch's rule: a last window starting in the after-padding is kept. Its cells
    hold only padding (what the code fills it with), so they are NaN: not compared."""
    if not g.ceil_mode:
        return None
    want = g.out_shape(d.x.shape[2:], d.window)
    kept = tuple((n + pb + pa - (dd * (k - 1) + 1) + s - 1) // s + 1
                 for n, k, s, (pb, pa), dd in zip(d.x.shape[2:], d.window, g.stride, g.pad, g.dilation))
    if kept == want:
        return None
    out = np.full(d.x.shape[:2] + kept, np.nan)
    out[(slice(None), slice(None)) + tuple(slice(0, o) for o in want)] = R.pool_forward(d.x, d.window, geometry=g)
    return out


def _max_zero_padded(d, g):
    """Max pooling over a zero-padded input: a window whose input cells are all negative gives 0."""
    if g.op != Op.MAXPOOL or (all(p == (0, 0) for p in g.pad) and not g.ceil_mode):
        return None
    out_spatial = g.out_shape(d.x.shape[2:], d.window)
    xp = R._padded(d.x, g, out_spatial, d.window, fill=0.0)
    out = None
    for tap in R._taps(d.window):
        v = xp[(slice(None), slice(None)) + R._tap_slices(tap, out_spatial, g)]
        out = v.copy() if out is None else np.maximum(out, v)
    return out


CATALOGUE: tuple[OpMistake, ...] = (
    OpMistake("groups-channels-summed", "grouped", "forward",
              "each filter sums over all input channels; sum only over its own group's C/G channels "
              "(c from g*C/G to (g+1)*C/G - 1, with g = f // (F/G))", _channels_summed,
              (r"\[\s*[\w:]+\s*,\s*:\s*,",                    # a whole channel axis read: xp[n, :, ...]
               r"for\s+\w+\s+in\s+range\(\s*(C|channels|n_c|in_ch\w*|C_in)\s*\)", r"sum\(.*axis")),
    OpMistake("group-offset-wrong", "grouped", "forward",
              "the group's first input channel is g times the filters per group; it is g * (C / G), "
              "the channels per group", _group_offset, (r"\*\s*\(?\s*(f\w*|out\w*|n_?filt\w*)\b",)),
    OpMistake("group-offset-wrong", "grouped", "forward",
              "every filter reads the first group's channels; group g = f // (F/G) starts at channel g * (C / G)",
              _group_offset_missing, (r"\[[^\]]*,\s*:\s*\w+\s*,", r"\[[^\]]*,\s*0\s*:\s*\w+\s*,")),
    OpMistake("depth-multiplier-swapped", "grouped", "forward",
              "with a depth multiplier M the output channel of input channel c and multiplier m is c*M + m "
              "(torch's order), not m*C + c", _multiplier_swapped, (r"\*\s*(C|c|channels|in_ch\w*)\s*\+", r"\*\s*\w+\s*\+")),
    OpMistake("depth-multiplier-swapped", "grouped", "forward",
              "with a depth multiplier M filter f belongs to input channel f // M (f = c*M + m, torch's order), "
              "not f % C (f = m*C + c)", _multiplier_swapped_channel,
              (r"\*\s*(C|c|channels|in_ch\w*)\s*\+", r"%\s*(C|channels|in_ch\w*)\b", r"\*\s*\w+\s*\+")),
    OpMistake("transpose-stride-wrong-side", Op.TRANSPOSE, "forward",
              "the stride multiplies the input position (out[i*s + k]), not the filter tap (out[i + k*s])",
              _stride_wrong_side, (r"\+\s*\w+\s*\*\s*(s|stride)\b", r"\b(s|stride)\b")),
    OpMistake("transpose-padding-added", Op.TRANSPOSE, "forward",
              "a transposed convolution crops the padding from its output (position i*s + k - p); "
              "adding p shifts every value the other way", _pad_added, (r"\+\s*(p|pad|padding)\b", r"\b(p|pad|padding)\b")),
    OpMistake("transpose-padding-added", Op.TRANSPOSE, "forward",
              "the padding is never cropped: a transposed convolution's output position is i*s + k - p, "
              "not i*s + k", _pad_ignored,
              (r"\*\s*(s|stride\w*)\s*\+\s*\w+\s*(;|,|$|\)|\])", r"\b(p|pad|padding)\b")),
    OpMistake("transpose-filter-not-flipped", Op.TRANSPOSE, "forward",
              "written as zero insertion then a correlation, the filter must be flipped (w[K-1-k]) "
              "relative to the scatter form; read it reversed or scatter instead", _not_flipped,
              (r"\[\s*\w+\s*\]\s*\[\s*\w+\s*\]\s*\*|\*\s*\w+\[",
               r"(einsum|tensordot|dot|matmul)\(.*\b(w|W|weights?|kernel\w*|filt\w*)\s*\)", r"\+=",
               r"\.(transpose|swapaxes)\(")),
    OpMistake("transpose-output-padding-missing", Op.TRANSPOSE, "output",
              "the output size is (n-1)*s - 2p + d*(k-1) + output_padding + 1: the output_padding "
              "rows are missing", _output_padding_off, (r"-\s*2\s*\*\s*(p|pad|padding)\b", r"\*\s*(s|stride)\b")),
    OpMistake("pool-gradient-wrong-cell", Op.MAXPOOL, "grad_input",
              "each upstream gradient must go to the cell that held the window's maximum (first one on ties)",
              _max_wrong_cell_first, (r"\+=", r"=")),
    OpMistake("pool-gradient-wrong-cell", Op.MAXPOOL, "grad_input",
              "the maximum's offset inside the window is added to the output index; add it to the window's "
              "start, output index times the stride (dx[i*s + r, j*s + c])",
              _max_wrong_cell_no_stride, (r"\[[^\]]*\b\w+\s*\+\s*\w+[^\]]*\]\s*\+?=",
                                         r"\w\s*=\s*\w+\s*\+\s*\w+\s*(;|,|$|\})", r"\+=")),
    OpMistake("pool-gradient-wrong-cell", Op.MAXPOOL, "grad_input",
              "the window's argmax is unravelled with the window's sizes swapped: use divmod(t, window width)",
              _max_wrong_cell_unravel, (r"(//|%|divmod|unravel)", r"argmax")),
    OpMistake("pool-gradient-wrong-cell", Op.MAXPOOL, "grad_input",
              "the window argmax's row and column are swapped: row = t // window width, column = t % window width",
              _max_wrong_cell_swapped, (r"(%|//|divmod|unravel|Math\.floor)", r"argmax")),
    OpMistake("grad-input-overwrite-not-accumulate", Op.MAXPOOL, "grad_input",
              "the gradient is written with = where windows overlap: add it (+=), so a cell that is the maximum "
              "of two windows gets both", _max_overwritten, (r"\b(d\w*|grad\w*)\s*\[.*\]\s*=(?!=)", r"\w\s*\[.*\]\s*=(?!=)")),
    OpMistake("grad-input-overwrite-not-accumulate", Op.MAXPOOL, "grad_input",
              "each window's gradient block (the mask times dout, zeros included) is assigned with = where windows "
              "overlap, erasing what earlier windows wrote: add it (+=)", _max_window_overwritten,
              (r"\b(d\w*|grad\w*)\s*\[.*\]\s*=(?!=)", r"\w\s*\[.*\]\s*=(?!=)")),
    OpMistake("grad-input-overwrite-not-accumulate", Op.AVGPOOL, "grad_input",
              "the gradient is written with = where windows overlap: add it (+=), so a cell in two windows gets "
              "both shares", _avg_overwritten, (r"\b(d\w*|grad\w*)\s*\[.*\]\s*=(?!=)", r"\w\s*\[.*\]\s*=(?!=)")),
    OpMistake("avgpool-wrong-divisor", Op.AVGPOOL, "forward",
              "at the border the average divides by the wrong count: the cells inside the input "
              "(count_include_pad off) or the window clipped to the padded input (on)", _avg_divisor_flipped,
              (r"\b(count|divisor|denom\w*|n_?cells|cells|area)\s*=", r"(?<!/)/(?!/)\s*\(?\s*\w+")),
    OpMistake("avgpool-wrong-divisor", Op.AVGPOOL, "grad_input",
              "the gradient is spread with the wrong count at the border: divide by the same count as the "
              "forward", _avg_divisor_flipped_grad,
              (r"\b(count|divisor|denom\w*|n_?cells|cells|area)\s*=", r"(?<!/)/(?!/)\s*\(?\s*\w+")),
    OpMistake("pool-stride-as-window", "pool", "forward",
              "the stride is used as the window size: the window is kernel_size (pool_height x pool_width)",
              _stride_as_window, (r"\b(s|stride)\b",)),
    OpMistake("pool-stride-as-window", "pool", "forward",
              "the window size is used as the stride: windows move by the stride, not by their own size",
              _window_as_stride, (r"\*\s*(k|kh|kw|pool\w*|size|window)\b", r"\b(k|kernel_size|pool\w*)\b")),
    OpMistake("ceil-mode-window-outside", "pool", "forward",
              "with ceil_mode the last partial window counts (ceil), as long as it starts inside the input "
              "or its padding before", _ceil_ignored, (r"//", r"floor|int\(")),
    OpMistake("ceil-mode-window-outside", "pool", "forward",
              "with ceil_mode a last window that would start in the padding after the input is dropped "
              "(torch's rule): the count is at most (n + p - 1) // s + 1", _ceil_no_drop, (r"ceil\s*\(", r"//"), partial=True),
    OpMistake("ceil-mode-window-outside", Op.MAXPOOL, "forward",
              "max pooling must ignore cells outside the input (pad with -inf); zeros win windows "
              "whose input cells are all negative", _max_zero_padded,
              (r"\?[^:?]*:\s*0(\.0*)?\b|\belse\s+0(\.0*)?\b", r"np\.pad|pad\(", r"zeros")),
)


LINEAR = ("grouped", Op.TRANSPOSE, Op.AVGPOOL)


def _adjoint(mistake: OpMistake, target: str, d, geom: Geometry):
    """The gradient a backward written with the same mistake returns: the mutant forward's
    Jacobian transposed, applied to dout (the forward is linear in x and in w for these ops)."""
    if mistake.target != "forward" or mistake.op not in LINEAR + ("pool",) or geom.op == Op.MAXPOOL:
        return None
    arg = {"grad_input": "x", "grad_filter": "w"}.get(target)
    base = getattr(d, arg, None) if arg else None
    if base is None or base.size > 4096:
        return None
    grad = np.empty(base.size)
    for i in range(base.size):
        e = np.zeros(base.size)
        e[i] = 1.0
        moved = replace(d, **{arg: e.reshape(base.shape)}, b=None)
        y = mistake.mutant(moved, geom)
        if y is None or y.shape != d.dout.shape:
            return None
        grad[i] = float(np.sum(np.nan_to_num(y) * d.dout))
    return grad.reshape(base.shape)


def family(op: str, groups: int) -> tuple[str, ...]:
    if op in POOL_OPS:
        return (op, "pool")
    if op == Op.TRANSPOSE:
        return (Op.TRANSPOSE,)
    return ("grouped",) if groups > 1 else ()


def match(op: str, geom: Geometry, target: str, draw, user: np.ndarray, tol) -> OpMistake | None:
    """The first catalogued mistake whose mutant equals what the user returned on this draw."""
    fams = family(op, geom.groups)
    for m in CATALOGUE:
        if m.op not in fams:
            continue
        mirrored = m.target == "forward" and target in ("grad_input", "grad_filter")
        if not (m.target == target or (m.target == "output" and target == "forward") or mirrored):
            continue
        try:
            got = _adjoint(m, target, draw, geom) if mirrored else m.mutant(draw, geom)
        except (ConfigError, ValueError, IndexError):
            continue
        if got is None or got.shape != user.shape:
            continue
        compared = np.isfinite(got)
        if not (compared.all() or (m.partial and compared.any())):
            continue
        got, mine = got[compared], user[compared]
        scale = max(1.0, float(np.abs(got).max()) if got.size else 1.0)
        if np.allclose(mine, got, rtol=tol.rtol, atol=tol.atol * scale):
            return m
    return None


def dense_in_every_group(geom: Geometry, target: str, draw, user: np.ndarray, tol) -> Diagnosis | None:
    """A grouped layer is G dense layers side by side, so a dense mistake made in the loop body they
    share (the stride left out of the filter gradient, the padding ignored, ...) shows in every
    group: each group's slice of the user's answer is matched with the dense catalogue, and an id
    that every group's slice agrees on names the mistake. None when no id fits every group."""
    groups = geom.groups
    if groups == 1 or draw.w is None or target not in ("forward", "grad_input", "grad_filter"):
        return None
    cg, fg = draw.x.shape[1] // groups, draw.w.shape[0] // groups
    dense = replace(geom, groups=1)
    common, first = None, []
    for k in range(groups):
        cs, fs = slice(k * cg, (k + 1) * cg), slice(k * fg, (k + 1) * fg)
        part = Draw(draw.x[:, cs], draw.w[fs], None if draw.b is None else draw.b[fs], draw.dout[:, fs])
        mine = {"forward": user[:, fs], "grad_input": user[:, cs], "grad_filter": user[fs]}[target]
        try:
            found = dense_match(target, [part], [mine], dense, rtol=tol.rtol, atol=tol.atol,
                                has_bias=draw.b is not None)
        except (ConfigError, ValueError, IndexError):
            return None
        common = [d.bug for d in found] if common is None else [i for i in common if i in {d.bug for d in found}]
        if not common:
            return None
        first = first or found
    return next(d for d in first if d.bug == common[0])


def ids() -> list[str]:
    return sorted({m.id for m in CATALOGUE})


OP_WORDS = {"grouped": "Grouped convolution", Op.TRANSPOSE: "Transposed convolution", Op.MAXPOOL: "Max pooling",
            Op.AVGPOOL: "Average pooling", "pool": "Pooling"}

# id: (wrong, right) — one learner line each, as docs/mistakes.md shows them
SNIPPETS = {
    "groups-channels-summed": ("for c in range(C):  # every channel, whatever the group",
                               "for c in range(g * Cg, (g + 1) * Cg):  # g = f // Fg"),
    "group-offset-wrong": ("c0 = g * Fg", "c0 = g * Cg"),
    "depth-multiplier-swapped": ("f = m * C + c", "f = c * M + m"),
    "transpose-stride-wrong-side": ("r = i + ki * stride - pad", "r = i * stride + ki - pad"),
    "transpose-padding-added": ("r = i * stride + ki + pad", "r = i * stride + ki - pad"),
    "transpose-filter-not-flipped": ("out[i, j] += up[i + a, j + e] * w[a, e]",
                                     "out[i, j] += up[i + a, j + e] * w[K - 1 - a, K - 1 - e]"),
    "transpose-output-padding-missing": ("Ho = (H - 1) * stride - 2 * pad + KH",
                                         "Ho = (H - 1) * stride - 2 * pad + KH + output_padding"),
    "pool-gradient-wrong-cell": ("dx[n, c, i + r, j + s] += dout[n, c, i, j]",
                                 "dx[n, c, i * stride + r, j * stride + s] += dout[n, c, i, j]"),
    "avgpool-wrong-divisor": ("count = kh * kw", "count = (r1 - r0) * (c1 - c0)  # cells inside the input"),
    "pool-stride-as-window": ("window = x[:, :, i * s:i * s + s, j * s:j * s + s]",
                              "window = x[:, :, i * s:i * s + kh, j * s:j * s + kw]"),
    "ceil-mode-window-outside": ("Ho = (H + 2 * pad - kh) // stride + 1  # ceil_mode asked",
                                 "Ho = -(-(H + 2 * pad - kh) // stride) + 1  # and drop a window starting past H + pad"),
}


def page() -> tuple:
    """Rows for `corrcheck mistakes` / docs/mistakes.md, one per id, after the dense catalogue's."""
    from .catalogue import CATALOGUE as DENSE, PageEntry
    dense = {m.id for m in DENSE}
    rows, seen = [], {}
    for m in CATALOGUE:
        if m.id in dense:
            continue                        # the dense entry is the page's (the same slip, shown once)
        if m.id in seen:
            seen[m.id].append(m.summary)
            continue
        seen[m.id] = [m.summary]
        rows.append(m)
    return tuple(PageEntry(m.id, "grad_input" if m.target == "grad_input" else "forward",
                           f"{OP_WORDS[m.op]}: {m.summary}", tuple(seen[m.id]) if len(seen[m.id]) > 1 else (),
                           *SNIPPETS[m.id]) for m in rows)
