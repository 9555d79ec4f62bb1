"""The bug catalogue: one small entry per known mistake, each a mutant of one generic engine.

Every forward and gradient is written once, as a gather over (output position o,
filter tap k) pairs per axis:

    forward      out[n,f,o]  = sum_{c,k} X[n,c,pos(o,k)] * W[f,c,tap(o,k)]
    grad_filter  dW[f,c,tap] += sum_n dO[n,f,o] * X[n,c,pos(o,k)]
    grad_input   dX[n,c,pos] += sum_f dO[n,f,o] * W[f,c,tap(o,k)]

with pos = o*s + k*d - p and tap = k (reversed for convolution). A mistake is a
few changed knobs of that `Spec` (pos = o + k*s - p, tap = o, '=' instead of
'+=', ...), so mutants are exact, two mistakes compose by merging their knobs,
and adding a mistake is adding one entry. Reads a learner's code would not
survive (f[y][x] past the filter's edge: IndexError in Python, undefined in
JavaScript) give NaN cells.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Callable, NamedTuple

import numpy as np

from ..checks.draw import Draw
from ..geometry import Geometry, out_length
from ..vocab import Target

__all__ = ["Spec", "Variant", "Mistake", "CATALOGUE", "entries_for", "by_id", "mutant", "mutant_shape",
           "correct", "out_size", "NOTATION", "SNIPPETS", "PageEntry", "page", "axis_table", "READ"]

READ, ZERO, UNDEFINED = 0, 1, 2


@dataclass(frozen=True)
class Spec:
    """The knobs of one (possibly buggy) convolution; the defaults are the correct op."""

    out_mult: str = "stride"      # multiplies the output index: "stride" | "one"
    tap_mult: str = "dilation"    # multiplies the filter tap: "dilation" | "stride" (times dilation)
    offset: int = -1              # input position shift in units of the padding before: -1 | 0 | +1
    flip: bool = False            # filter read in the other direction than geom.op asks
    by_output: bool = False       # filter read at the output position, f[y][x]
    swap_x: bool = False          # input's last two axes swapped when read (or written)
    swap_w: bool = False          # filter's last two axes swapped when read (or written)
    oob: str = "zero"             # out-of-range input: "zero" | "wrap" (negative wraps once, >= n is 0)
    channels: str = "sum"         # forward: "sum" | "first" | "last"
    overwrite: str | None = None  # forward: "tap" | "tap_channel" | "inside"; grad_input: "sum_f" | "last_f"
    bias: bool = True             # forward adds the bias (when the draw has one)
    size: str = "floor"           # forward output-size formula, see out_size()
    batch: str = "sum"            # grad_filter over samples: "sum" | "first" | "last"
    crop: str = "exact"           # grad_input crop of the padded gradient: "exact" | "p:-p"
    undefined: str = "nan"        # reads past an array's edge: "nan" (JavaScript, or a crash) | "zero" (a guard)


def out_size(n: int, k: int, s: int, pad: tuple[int, int], d: int, formula: str) -> int:
    """The output length by the correct formula ("floor") or a learner's wrong one."""
    span, total = d * (k - 1) + 1, pad[0] + pad[1]
    return {
        "floor": out_length(n, k, s, pad, d),
        "no_plus_one": (n + total - span) // s,
        "ceil": -(-(n + total - span) // s) + 1,
        "no_pad": (n - span) // s + 1,
        "no_stride": n + total - span + 1,
        "no_dilation": (n + total - k) // s + 1,
    }[formula]


# ----------------------------------------------------------------------------- index tables

def _axis_table(o_len, k_len, n, axis, spec, geom):
    """(pos, x_state, tap) arrays of shape (O, K) for one spatial axis."""
    s, d, pb = geom.stride[axis], geom.dilation[axis], geom.pad[axis][0]
    o, k = np.arange(o_len)[:, None], np.arange(k_len)[None, :]
    pos = o * (s if spec.out_mult == "stride" else 1) + k * d * (s if spec.tap_mult == "stride" else 1)
    pos = pos + spec.offset * pb
    state = np.where((pos >= 0) & (pos < n), READ, ZERO)
    if spec.oob == "wrap":
        state = np.where(pos < -n, UNDEFINED, np.where(pos < 0, READ, state))
        pos = np.where(pos < 0, pos + n, pos)
    if spec.by_output:
        tap = np.broadcast_to(o, pos.shape)
    else:
        tap = np.broadcast_to(k, pos.shape)
        if (geom.op == "convolve") != spec.flip:
            tap = k_len - 1 - tap
    return pos, state, tap


axis_table = _axis_table      # the index rule of one axis, read by relations.py as well


def _place(arr, axis, ndim):
    """Put an (O, K) table of axis `axis` on the (O_0..O_D-1, K_0..K_D-1) grid."""
    shape = [1] * (2 * ndim)
    shape[axis], shape[ndim + axis] = arr.shape
    return arr.reshape(shape)


def _gather_index(tables, read_shape, ndim):
    """Clipped index arrays into an array of spatial shape `read_shape`, and a per-cell state."""
    idx, undefined, zero = [], False, False
    for axis, (pos, st) in enumerate(tables):
        pos, st = _place(pos, axis, ndim), _place(st, axis, ndim)
        limit = read_shape[axis]
        undefined = undefined | (st == UNDEFINED) | ((st == READ) & ((pos < 0) | (pos >= limit)))
        zero = zero | (st == ZERO)
        idx.append(np.clip(pos, 0, limit - 1))
    # a bounds check that skips a position on any axis wins over an undefined read on another
    return tuple(idx), np.where(zero, ZERO, np.where(undefined, UNDEFINED, READ))


def _swap(a, yes):
    return np.swapaxes(a, -1, -2) if yes else a


def _swapped(shape, yes):
    shape = tuple(shape)
    return shape[:-2] + shape[-2:][::-1] if yes else shape


class _Side(NamedTuple):
    """How one operand is read on the (*O, *K) grid: states, flat indices and ready-made masks."""

    state: np.ndarray         # READ / ZERO / UNDEFINED per grid cell
    flat: np.ndarray          # raveled index into the operand's spatial part
    keep: np.ndarray          # 1.0 where READ, else 0.0
    nan: np.ndarray | None    # NaN where the learner's code reads undefined memory, else 0.0


def _side(idx, state, read_shape, nan_where):
    grid = np.broadcast_shapes(*(i.shape for i in idx), state.shape)
    flat = np.ravel_multi_index(tuple(np.broadcast_to(i, grid) for i in idx), read_shape)
    keep = np.broadcast_to(state == READ, grid).astype(float)
    nan = np.where(np.broadcast_to(nan_where, grid), np.nan, 0.0) if np.any(nan_where) else None
    return _Side(np.broadcast_to(state, grid), flat, keep, nan)


@lru_cache(maxsize=512)
def _tables(spec, geom, in_spatial, k_spatial, out_spatial):
    """How x and w are read for every (output, tap) pair; shapes only, so all draws share them."""
    ndim = geom.ndim
    axes = [_axis_table(out_spatial[a], k_spatial[a], in_spatial[a], a, spec, geom) for a in range(ndim)]
    x_shape, w_shape = _swapped(in_spatial, spec.swap_x), _swapped(k_spatial, spec.swap_w)
    x_idx, x_state = _gather_index([(p, s) for p, s, _ in axes], x_shape, ndim)
    w_idx, w_state = _gather_index([(t, np.full(t.shape, READ)) for _, _, t in axes], w_shape, ndim)
    if spec.undefined == "zero":            # a helper like at(f, y, x) that returns 0 past the edge
        x_state, w_state = np.where(x_state == UNDEFINED, ZERO, x_state), np.where(w_state == UNDEFINED, ZERO, w_state)
    x = _side(x_idx, x_state, x_shape, x_state == UNDEFINED)
    # a bounds-checked loop never reads the filter where it skipped the input
    w = _side(w_idx, w_state, w_shape, (w_state == UNDEFINED) & (x_state != ZERO))
    return x, w


def _read(arr, side: _Side):
    """arr[:, :, idx...] on the (*O, *K) grid, 0 where skipped and NaN where undefined."""
    g = np.take(arr.reshape(arr.shape[:2] + (-1,)), side.flat, axis=2) * side.keep
    return g if side.nan is None else g + side.nan


# ----------------------------------------------------------------------------- the three targets

def _forward(spec: Spec, draw: Draw, geom: Geometry):
    x, w = draw.x, draw.w
    ndim, S, K = geom.ndim, x.shape[2:], w.shape[2:]
    O = tuple(out_size(S[a], K[a], geom.stride[a], geom.pad[a], geom.dilation[a], spec.size) for a in range(ndim))
    if min(O) < 1:
        return None
    xs, ws = _tables(spec, geom, S, K, O)
    xg = _read(_swap(x, spec.swap_x), xs)                        # (N, C, *O, *K)
    wg = _read(_swap(w, spec.swap_w), ws)                        # (F, C, *O, *K)
    if spec.channels != "sum":
        pick = slice(0, 1) if spec.channels == "first" else slice(-1, None)
        xg, wg = xg[:, pick], wg[:, pick]
    if spec.overwrite is None:
        n, f = xg.shape[0], wg.shape[0]
        out = np.einsum("ncg,fcg->nfg", xg.reshape(n, xg.shape[1], -1), wg.reshape(f, wg.shape[1], -1))
        out = out.reshape((n, f) + O + (-1,)).sum(axis=-1)
    else:
        out = _last_tap(xg[:, None] * wg[None], xs.state, spec.overwrite, ndim)
    if spec.bias and draw.b is not None:
        out = out + draw.b.reshape((1, -1) + (1,) * ndim)
    return out


def _last_tap(prod, x_state, mode, ndim):
    """'=' instead of '+=': the last write in loop order (c outer, taps inner) survives."""
    N, F, C = prod.shape[:3]
    O = prod.shape[3:3 + ndim]
    flat = prod.reshape(N, F, C, *O, -1)
    if mode == "tap":                       # out = sum over channels of one tap: last tap wins
        return flat[..., -1].sum(axis=2)
    if mode == "tap_channel":               # out = x[c,k] * w[c,k]: last channel's last tap wins
        return flat[:, :, -1, ..., -1]
    # "inside": loop with a bounds check, out = ... only for in-range taps: last in-range tap wins
    inside = (x_state != ZERO).reshape(*O, -1)
    last = inside.shape[-1] - 1 - np.argmax(inside[..., ::-1], axis=-1)
    picked = np.take_along_axis(flat[:, :, -1], last[None, None, ..., None], axis=-1)[..., 0]
    return np.where(inside.any(axis=-1), picked, 0.0)


def _scatter(contrib, flat, mask, shape):
    """Sum contrib[a, b, *grid] into an array of `shape` at raveled spatial index flat[grid], where mask."""
    lead = contrib.shape[:2]
    size = int(np.prod(shape[2:]))
    pick = np.flatnonzero(mask)
    out = np.zeros(lead + (size,))
    vals = contrib.reshape(lead + (-1,))[:, :, pick]
    np.add.at(out, (slice(None), slice(None), flat.reshape(-1)[pick]), vals)
    return out.reshape(shape)


def _grad_filter(spec: Spec, draw: Draw, geom: Geometry):
    x, dout, K = draw.x, draw.dout, draw.w.shape[2:]
    ndim, S, O = geom.ndim, x.shape[2:], dout.shape[2:]
    xs, ws = _tables(spec, geom, S, K, O)
    if np.any(ws.state == UNDEFINED):
        return None                          # the learner's write would raise
    xg = _read(_swap(x, spec.swap_x), xs)                        # (N, C, *O, *K)
    if spec.batch != "sum":
        sl = slice(0, 1) if spec.batch == "first" else slice(-1, None)
        xg, dout = xg[sl], dout[sl]
    o_sub, k_sub = "opq"[:ndim], "ijk"[:ndim]
    contrib = np.einsum(f"nf{o_sub},nc{o_sub}{k_sub}->fc{o_sub}{k_sub}", dout, xg)
    dw = _scatter(contrib, ws.flat, ws.state == READ, _swapped(draw.w.shape, spec.swap_w))
    return _swap(dw, spec.swap_w)


def _grad_input(spec: Spec, draw: Draw, geom: Geometry):
    w, dout, S = draw.w, draw.dout, draw.x.shape[2:]
    ndim, K, O = geom.ndim, w.shape[2:], dout.shape[2:]
    xs, ws = _tables(spec, geom, S, K, O)
    if np.any(xs.state == UNDEFINED):
        return None                          # the learner's write would raise
    wg = _read(_swap(w, spec.swap_w), ws)                        # (F, C, *O, *K)
    if spec.overwrite == "last_f":           # dx[window] = w[f] * dout[f]: the last filter wins
        wg, dout = wg[-1:], dout[:, -1:]
    o_sub, k_sub = "opq"[:ndim], "ijk"[:ndim]
    contrib = np.einsum(f"nf{o_sub},fc{o_sub}{k_sub}->nc{o_sub}{k_sub}", dout, wg)
    written = xs.state == READ
    if spec.overwrite is not None:           # only the last output position writing a cell survives
        written = written & _last_writer(xs.flat, written, O, ndim)
    dx = _swap(_scatter(contrib, xs.flat, written, _swapped(draw.x.shape, spec.swap_x)), spec.swap_x)
    if spec.crop == "p:-p":                  # dxp[p:-p] is dx itself when p > 0 and empty at p == 0
        if any(pb != pa for pb, pa in geom.pad):
            return None
        dx = dx[(slice(None), slice(None)) + tuple(slice(None) if pb else slice(0, 0) for pb, _ in geom.pad)]
    return dx


def _last_writer(flat, written, O, ndim):
    """True for the events written by the last output position (in loop order) touching their cell."""
    order = np.broadcast_to(np.arange(int(np.prod(O))).reshape(O + (1,) * ndim), flat.shape)
    best = np.full(int(flat.max()) + 1, -1)
    np.maximum.at(best, flat[written], order[written])
    return order == best[flat]


def _grad_bias(spec: Spec, draw: Draw, geom: Geometry):
    return draw.dout.sum(axis=(0,) + tuple(range(2, draw.dout.ndim)))


_ENGINES = {"forward": _forward, "grad_filter": _grad_filter, "grad_input": _grad_input,
            "grad_bias": _grad_bias}


def mutant(target: str, spec: Spec, draw: Draw, geom: Geometry) -> np.ndarray | None:
    """The output of `target` computed with the knobs of `spec` (None: undefined in this config)."""
    if geom.ndim < 2 and (spec.swap_x or spec.swap_w):
        return None                          # nothing to swap on one axis
    return _ENGINES[target](spec, draw, geom)


def mutant_shape(target: str, spec: Spec, draw: Draw, geom: Geometry) -> tuple[int, ...]:
    """The shape mutant() returns, without computing it (to skip mutants that cannot match)."""
    if target == Target.FORWARD:
        S, K = draw.x.shape[2:], draw.w.shape[2:]
        return draw.x.shape[:1] + draw.w.shape[:1] + tuple(
            out_size(S[a], K[a], geom.stride[a], geom.pad[a], geom.dilation[a], spec.size) for a in range(geom.ndim))
    if target == Target.GRAD_INPUT:
        if spec.crop == "p:-p":
            return draw.x.shape[:2] + tuple(n if pb else 0 for n, (pb, _) in zip(draw.x.shape[2:], geom.pad))
        return draw.x.shape
    if target == Target.GRAD_FILTER:
        return draw.w.shape
    return draw.w.shape[:1]


def correct(target: str, draw: Draw, geom: Geometry) -> np.ndarray:
    """The correct output by the same engine (the independent reference lives in reference.py)."""
    return mutant(target, Spec(), draw, geom)


# ----------------------------------------------------------------------------- the entries

@dataclass(frozen=True)
class Variant:
    """One common learner form of a mistake: engine knobs, or a custom compute when not bilinear."""

    form: str
    knobs: dict = field(default_factory=dict)
    custom: Callable[[Draw, Geometry], np.ndarray | None] | None = None


@dataclass(frozen=True)
class Mistake:
    """One catalogue entry: id, the sentence naming the fix and the mutant forms, so a new mistake is one new entry."""

    id: str
    target: str
    explanation: str                 # one sentence naming the fix in a learner's terms
    variants: tuple[Variant, ...]

    def compute_variant(self, variant: Variant, draw: Draw, geom: Geometry, base: Spec = Spec()):
        """This form of the mistake on a draw, on top of `base` (to compose with another mistake)."""
        if variant.custom is not None:
            return variant.custom(draw, geom)
        return mutant(self.target, replace(base, **variant.knobs), draw, geom)

    def compute(self, draw: Draw, geom: Geometry) -> np.ndarray | None:
        """The first (most common) form of the mistake on this draw."""
        return self.compute_variant(self.variants[0], draw, geom)


def _v(form, **knobs):
    return Variant(form, knobs)


CATALOGUE: tuple[Mistake, ...] = (
    # ---------------------------------------------------------------- forward
    Mistake("filter-indexed-by-output", "forward",
            "Read the filter at the tap, f[j][i], not at the output position f[y][x].",
            (_v("filter read at the output position", by_output=True),)),
    Mistake("stride-on-filter-index", "forward",
            "Multiply the stride onto the output index, y*s + j - p, not onto the filter tap, y + j*s - p.",
            (_v("stride multiplies the filter tap", out_mult="one", tap_mult="stride"),)),
    Mistake("filter-transposed", "forward",
            "Index the filter as f[j][i] (row tap, then column tap), not f[i][j].",
            (_v("filter axes swapped", swap_w=True),)),
    Mistake("input-transposed", "forward",
            "Read the input as a[row][col]; the code swaps the two axes when it reads it.",
            (_v("input axes swapped", swap_x=True),)),
    Mistake("filter-flipped", "forward",
            "Read the filter in the direction --op asks for: correlation uses f[j], convolution f[K-1-j].",
            (_v("filter read backwards", flip=True),)),
    Mistake("padding-ignored", "forward",
            "Shift every window by the padding, reading the input at y*s + j - p, not y*s + j.",
            (_v("windows not shifted by the padding", offset=0),)),
    Mistake("padding-wrong-sign", "forward",
            "Subtract the padding, reading the input at y*s + j - p, not y*s + j + p.",
            (_v("shifted by +p", offset=1),)),
    Mistake("negative-index-wraparound", "forward",
            "Check that the input index is >= 0 before reading: a negative index wraps to the far edge "
            "in Python instead of reading the zero padding.",
            (_v("negative indices wrap", oob="wrap"),)),
    Mistake("stride-ignored", "forward",
            "Place window y at y*s - p: multiply the output index by the stride.",
            (_v("stride treated as 1", out_mult="one"),)),
    Mistake("overwrite-not-accumulate", "forward",
            "Accumulate with sum += ..., not sum = ...: with = only the last tap survives.",
            (_v("last tap survives, channels summed", overwrite="tap"),
             _v("last tap of the last channel survives", overwrite="tap_channel"),
             _v("last in-range tap survives", overwrite="inside"))),
    Mistake("output-size", "forward",
            "Compute the output size as floor((n + 2p - k) / s) + 1.",
            (_v("missing +1", size="no_plus_one"), _v("ceil instead of floor", size="ceil"),
             _v("padding left out of the formula", size="no_pad"), _v("stride left out", size="no_stride"))),
    Mistake("channels-not-summed", "forward",
            "Sum the products over every input channel c, not only over the filter taps.",
            (_v("only channel 0", channels="first"), _v("only the last channel", channels="last"))),
    Mistake("bias-missing", "forward",
            "Add the bias b[f] to every output of filter f.",
            (_v("bias not added", bias=False),)),
    # ---------------------------------------------------------------- grad_filter
    Mistake("grad-filter-stride-ignored", "grad_filter",
            "In the filter gradient read the input at o*s + j - p: multiply the output index by the stride.",
            (_v("stride treated as 1", out_mult="one"),)),
    Mistake("grad-filter-padding-ignored", "grad_filter",
            "In the filter gradient read the input at o*s + j - p, shifted by the padding, not at o*s + j.",
            (_v("not shifted by the padding", offset=0),)),
    Mistake("grad-filter-transposed", "grad_filter",
            "Store the filter gradient as dF[j][i], in the filter's own axis order, not dF[i][j].",
            (_v("filter-gradient axes swapped", swap_w=True),)),
    Mistake("grad-filter-not-summed-over-batch", "grad_filter",
            "Sum the filter gradient over every sample of the batch: accumulate with dw += in the loop over n, not dw =.",
            (_v("only the last sample", batch="last"), _v("only the first sample", batch="first"))),
    Mistake("grad-filter-wraparound", "grad_filter",
            "In the filter gradient skip input indices < 0: a negative index wraps to the far edge "
            "instead of reading the zero padding.",
            (_v("negative indices wrap", oob="wrap"),)),
    # ---------------------------------------------------------------- grad_input
    Mistake("grad-input-filter-not-flipped", "grad_input",
            "Rotate the filter by 180 degrees (f[K-1-j]) when correlating the spread-out output gradient; "
            "equivalently add dO[o] * f[j] to input position o*s + j - p.",
            (_v("filter not rotated", flip=True),)),
    Mistake("grad-input-stride-ignored", "grad_input",
            "Send dO[o] * f[j] to input position o*s + j - p: multiply the output index by the stride.",
            (_v("stride treated as 1", out_mult="one"),)),
    Mistake("grad-input-padding-offset", "grad_input",
            "Send dO[o] * f[j] to input position o*s + j - p, that is crop the padded gradient with [p:p+H].",
            (_v("padding offset left out", offset=0), _v("shifted by +p", offset=1))),
    Mistake("grad-input-overwrite-not-accumulate", "grad_input",
            "Accumulate with dx[...] += ..., not =: windows overlap, so every output position adds its share.",
            (_v("last window wins", overwrite="sum_f"), _v("last window of the last filter wins", overwrite="last_f"))),
    Mistake("grad-input-wraparound", "grad_input",
            "Skip input positions < 0 instead of writing dx[-1], which Python wraps to the far edge.",
            (_v("negative indices wrap", oob="wrap"),)),
    Mistake("grad-input-unpad-empty-at-pad0", "grad_input",
            "Crop the padded gradient with [p:p+H], not [p:-p], which is empty when p is 0.",
            (_v("cropped with [p:-p]", crop="p:-p"),)),
    # ---------------------------------------------------------------- grad_bias
    Mistake("grad-bias-not-summed", "grad_bias",
            "Sum the bias gradient over the batch and every output position: db[f] = dO[:, f].sum().",
            (Variant("only the last sample", custom=lambda d, g: d.dout[-1].sum(axis=tuple(range(1, d.dout.ndim - 1)))),
             Variant("only the first sample", custom=lambda d, g: d.dout[0].sum(axis=tuple(range(1, d.dout.ndim - 1)))),
             Variant("not summed over positions", custom=lambda d, g: d.dout.sum(axis=tuple(range(2, d.dout.ndim)))),
             Variant("summed over the batch only", custom=lambda d, g: d.dout.sum(axis=0)))),
)


def entries_for(target: str) -> tuple[Mistake, ...]:
    """The mistakes of one target, in catalogue order."""
    return tuple(m for m in CATALOGUE if m.target == target)


def by_id(bug_id: str) -> Mistake:
    """The entry with this id; KeyError for an id the catalogue does not have."""
    for m in CATALOGUE:
        if m.id == bug_id:
            return m
    raise KeyError(bug_id)


# ----------------------------------------------------------------------------- the mistakes page

NOTATION = (
    "Snippets are Python inside the usual loops: output position (y, x), filter tap (j, i), stride s, "
    "padding p, a the input (H x W, read as 0 outside its bounds), f the filter (K x K), dout the output "
    "gradient, da and df the gradients, ap and dap the zero-padded input and its gradient. Batched snippets "
    "use NCHW arrays: w the filters (F, C, K, K), b the bias, win = ap[n, :, y*s:y*s+K, x*s:x*s+K]. "
    "The correct forward is out[y][x] = sum over j, i of a[y*s + j - p][x*s + i - p] * f[j][i]."
)

# One wrong and one right snippet per entry, in the NOTATION above: what `corrcheck mistakes`
# and docs/mistakes.md show beside the entry's sentence.
SNIPPETS: dict[str, tuple[str, str]] = {
    "filter-indexed-by-output": (
        "total += a[y*s + j - p][x*s + i - p] * f[y][x]",
        "total += a[y*s + j - p][x*s + i - p] * f[j][i]"),
    "stride-on-filter-index": (
        "total += a[y + j*s - p][x + i*s - p] * f[j][i]",
        "total += a[y*s + j - p][x*s + i - p] * f[j][i]"),
    "filter-transposed": (
        "total += a[y*s + j - p][x*s + i - p] * f[i][j]",
        "total += a[y*s + j - p][x*s + i - p] * f[j][i]"),
    "input-transposed": (
        "total += a[x*s + i - p][y*s + j - p] * f[j][i]",
        "total += a[y*s + j - p][x*s + i - p] * f[j][i]"),
    "filter-flipped": (
        "total += a[y*s + j - p][x*s + i - p] * f[K-1-j][K-1-i]   # asked: --op correlate",
        "total += a[y*s + j - p][x*s + i - p] * f[j][i]"),
    "padding-ignored": (
        "total += a[y*s + j][x*s + i] * f[j][i]",
        "total += a[y*s + j - p][x*s + i - p] * f[j][i]"),
    "padding-wrong-sign": (
        "total += a[y*s + j + p][x*s + i + p] * f[j][i]",
        "total += a[y*s + j - p][x*s + i - p] * f[j][i]"),
    "negative-index-wraparound": (
        "r, c = y*s + j - p, x*s + i - p\nif r < H and c < W:                  # a[-1] is the last row\n"
        "    total += a[r][c] * f[j][i]",
        "r, c = y*s + j - p, x*s + i - p\nif 0 <= r < H and 0 <= c < W:\n    total += a[r][c] * f[j][i]"),
    "stride-ignored": (
        "total += a[y + j - p][x + i - p] * f[j][i]",
        "total += a[y*s + j - p][x*s + i - p] * f[j][i]"),
    "overwrite-not-accumulate": (
        "total = a[y*s + j - p][x*s + i - p] * f[j][i]",
        "total += a[y*s + j - p][x*s + i - p] * f[j][i]"),
    "output-size": (
        "OH = (H + 2*p - K) // s",
        "OH = (H + 2*p - K) // s + 1"),
    "channels-not-summed": (
        "for c in range(C):\n    out[n, f, y, x] = np.sum(win[c] * w[f, c]) + b[f]",
        "out[n, f, y, x] = np.sum(win * w[f]) + b[f]             # over c, j and i"),
    "bias-missing": (
        "out[n, f, y, x] = np.sum(win * w[f])",
        "out[n, f, y, x] = np.sum(win * w[f]) + b[f]"),
    "grad-filter-stride-ignored": (
        "df[j][i] += dout[y][x] * a[y + j - p][x + i - p]",
        "df[j][i] += dout[y][x] * a[y*s + j - p][x*s + i - p]"),
    "grad-filter-padding-ignored": (
        "df[j][i] += dout[y][x] * a[y*s + j][x*s + i]",
        "df[j][i] += dout[y][x] * a[y*s + j - p][x*s + i - p]"),
    "grad-filter-transposed": (
        "df[i][j] += dout[y][x] * a[y*s + j - p][x*s + i - p]",
        "df[j][i] += dout[y][x] * a[y*s + j - p][x*s + i - p]"),
    "grad-filter-not-summed-over-batch": (
        "for n in range(N):\n    dw = np.zeros_like(w)                # reset for every sample\n"
        "    ...  dw[f] += dout[n, f, y, x] * win",
        "dw = np.zeros_like(w)                    # once, before the loop over the batch\n"
        "for n in range(N):\n    ...  dw[f] += dout[n, f, y, x] * win"),
    "grad-filter-wraparound": (
        "r, c = y*s + j - p, x*s + i - p\nif r < H and c < W:                  # a[-1] is the last row\n"
        "    df[j][i] += dout[y][x] * a[r][c]",
        "r, c = y*s + j - p, x*s + i - p\nif 0 <= r < H and 0 <= c < W:\n    df[j][i] += dout[y][x] * a[r][c]"),
    "grad-input-filter-not-flipped": (
        "dap = correlate_full(dilate(dout, s), f)                 # dilate: s-1 zeros between entries",
        "dap = correlate_full(dilate(dout, s), f[::-1, ::-1])     # f rotated by 180 degrees"),
    "grad-input-stride-ignored": (
        "da[y + j - p][x + i - p] += dout[y][x] * f[j][i]",
        "da[y*s + j - p][x*s + i - p] += dout[y][x] * f[j][i]"),
    "grad-input-padding-offset": (
        "da = dap[:H, :W]",
        "da = dap[p:p+H, p:p+W]"),
    "grad-input-overwrite-not-accumulate": (
        "da[y*s + j - p][x*s + i - p] = dout[y][x] * f[j][i]",
        "da[y*s + j - p][x*s + i - p] += dout[y][x] * f[j][i]"),
    "grad-input-wraparound": (
        "r, c = y*s + j - p, x*s + i - p\nif r < H and c < W:                  # da[-1] is the last row\n"
        "    da[r][c] += dout[y][x] * f[j][i]",
        "r, c = y*s + j - p, x*s + i - p\nif 0 <= r < H and 0 <= c < W:\n    da[r][c] += dout[y][x] * f[j][i]"),
    "grad-input-unpad-empty-at-pad0": (
        "da = dap[p:-p, p:-p]                     # empty when p is 0",
        "da = dap[p:p+H, p:p+W]"),
    "grad-bias-not-summed": (
        "db = dout.sum(axis=0)                    # still one value per output position",
        "db = dout.sum(axis=(0, 2, 3))            # one value per filter"),
}


class PageEntry(NamedTuple):
    """One row of the mistakes page: the entry's id, target and sentence, its forms and snippets."""

    id: str
    target: str
    line: str
    forms: tuple[str, ...]
    wrong: str
    right: str


def page() -> tuple[PageEntry, ...]:
    """Every entry in catalogue order with its snippets ('' where none is written yet)."""
    return tuple(PageEntry(m.id, m.target, m.explanation, tuple(v.form for v in m.variants),
                           *SNIPPETS.get(m.id, ("", ""))) for m in CATALOGUE)
