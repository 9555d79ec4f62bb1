"""The vectorized NumPy reference for the other strided-window ops: grouped, transposed, pooling.

Kept beside reference.py (the dense correlation) rather than inside it, and
built from three moves on one layout, the input split by stride phase (_layout),
in which every kernel tap's reads are one contiguous run whatever the stride:

    windows   one plain copy per tap into the columns (pooling: one view per tap)
    contract  a batched matmul over groups: (G, Fg, Cg*K) @ (G, Cg*K, N*L)
    scatter   the adjoint of `windows`: add each tap's run back into the phase split

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
import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from corrcheck import reference, reference_threads
from corrcheck.geometry import ConfigError, Geometry, Op, window_geometry

__all__ = ["conv_forward", "conv_grad_input", "conv_grad_filter",
           "transpose_forward", "transpose_grad_input", "transpose_grad_filter",
           "pool_forward", "pool_grad_input", "grad_bias", "geometry_for"]

BLOCK_ELEMENTS = 1 << 18   # entries of work (columns, or input for pooling) per block of samples: 2 MiB
SPREAD_ELEMENTS = 1 << 19  # below this much work in all, one thread runs every block
ONE_GEMM_ELEMENTS = 1 << 20  # a GEMM op with at most this many column entries in all is one block


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


# ---- the flat phase layout ------------------------------------------------------------------------
#
# A strided window's tap k reads padded row o*s + k*d. Split the padded input by stride phase
# (row q*s + a goes to phase a, row q) and that read becomes row o + (k*d)//s of phase (k*d)%s:
# unit stride. Flatten each phase's spatial axes and a tap's reads for a whole output map are
# one contiguous run, on a grid as wide as the phase rows (O1, Q2, ..., Qd), whose columns past
# O2, ..., Od are spare and cropped. So gathering columns is one plain copy per tap, scattering
# them back one plain add, whatever the stride; pooling reads the same split through views.

@dataclass(frozen=True)
class _Layout:
    """Where each tap's run lies in the phase split of one (input size, output size, kernel, geometry)."""

    rows: tuple[int, ...]                    # Q per axis: rows of each phase (see _layout)
    grid: tuple[int, ...]                    # (O1, Q2, ..., Qd): the positions one run covers
    runs: tuple[tuple[int, int], ...]        # per tap, row-major: (phase, first flat index)
    phases: tuple[tuple[int, ...], ...]      # the stride phases, in split order

    @property
    def length(self) -> int:
        return math.prod(self.grid)

    def crop(self, out_spatial) -> tuple[slice, ...]:
        """The real positions of a grid: all of axis 1, the first O_i of the others."""
        return (slice(None),) + tuple(slice(0, o) for o in out_spatial[1:])


@lru_cache(maxsize=64)
def _layout(in_spatial, out_spatial, k_spatial, g: Geometry) -> _Layout:
    """The phase rows hold the padded input (grown after when a ceil-mode or output_padding window
    reaches further); the first axis gets one spare row so a run past the last real column
    of its last row stays inside the array."""
    reach = [[k * d for k in range(kk)] for kk, d in zip(k_spatial, g.dilation)]
    rows = [-(-max(pb + n + pa, (o - 1) * s + r[-1] + 1) // s)
            for n, (pb, pa), o, s, r in zip(in_spatial, g.pad, out_spatial, g.stride, reach)]
    if len(rows) > 1:
        rows[0] = max(rows[0], max(r // g.stride[0] for r in reach[0]) + out_spatial[0] + 1)
    steps = [math.prod(rows[i + 1:]) for i in range(len(rows))]
    phases = tuple(itertools.product(*(range(s) for s in g.stride)))
    runs = tuple((_phase_of(tap, g.stride), sum(r // s * st for r, s, st in zip(tap, g.stride, steps)))
                 for tap in itertools.product(*reach))
    return _Layout(tuple(rows), (out_spatial[0],) + tuple(rows[1:]), runs, phases)


def _phase_of(reach, stride) -> int:
    """The split index of the phase that reach (k*d per axis) falls in: row-major over the strides,
    the order of _Layout.phases."""
    phase = 0
    for r, s in zip(reach, stride):
        phase = phase * s + r % s
    return phase


def _phase_cuts(in_spatial, g: Geometry, lay: _Layout):
    """Per phase: its index, and per axis (first phase row holding input, input rows it holds)."""
    for p, phase in enumerate(lay.phases):
        cuts = []
        for a, n, (pb, _), s in zip(phase, in_spatial, g.pad, g.stride):
            first = (a - pb) % s                       # first input row in this phase
            cuts.append(((first + pb) // s, range(first, n, s)))
        yield p, cuts


def _phases(x, g: Geometry, lay: _Layout, fill) -> np.ndarray:
    """x padded (with `fill`) and split by stride phase, channels first: (phases, C, N, *rows).

    Channels before samples, so that a block of samples' runs for one tap, (C, m, L), is the
    column layout's (Cg, m*L) rows per group without a transpose.
    """
    x = x.swapaxes(0, 1)
    split = np.empty((len(lay.phases),) + x.shape[:2] + lay.rows)
    for p, cuts in _phase_cuts(x.shape[2:], g, lay):
        block = split[p]
        for axis, (q0, held) in enumerate(cuts):
            lead = (slice(None),) * (2 + axis)
            block[lead + (slice(0, q0),)] = fill
            block[lead + (slice(q0 + len(held), None),)] = fill
        np.copyto(block[(slice(None), slice(None)) + tuple(slice(q0, q0 + len(h)) for q0, h in cuts)],
                  x[(slice(None), slice(None)) + tuple(slice(h.start, h.stop, h.step) for _, h in cuts)])
    return split


def _unphased(split, g: Geometry, lay: _Layout, in_spatial, out: np.ndarray) -> None:
    """The adjoint of _phases: the input cells of a phase split written to `out` (padding dropped)."""
    out = out.swapaxes(0, 1)
    for p, cuts in _phase_cuts(in_spatial, g, lay):
        np.copyto(out[(slice(None), slice(None)) + tuple(slice(h.start, h.stop, h.step) for _, h in cuts)],
                  split[p][(slice(None), slice(None)) + tuple(slice(q0, q0 + len(h)) for q0, h in cuts)])


def _phase_tap(split, tap, g: Geometry, out_spatial):
    """What tap `tap` reads for every output position, as a (C, N, *O) view of _phases' array."""
    reach = [k * d for k, d in zip(tap, g.dilation)]
    return split[(_phase_of(reach, g.stride), slice(None), slice(None))
                 + tuple(slice(r // s, r // s + o) for r, s, o in zip(reach, g.stride, out_spatial))]


def _groups(c: int, f: int, g: int, cname="channels", fname="filters"):
    if c % g or f % g:
        raise ConfigError(f"groups {g} must divide the {cname} ({c}) and the {fname} ({f})")
    return c // g, f // g


def _by_samples(n: int, per_sample: int, work, flops_per_sample: float = 0.0) -> list:
    """work(lo, hi) over runs of samples, spread over the reference's threads when the op is big.

    Blocks keep each run's columns in cache: memory traffic, not arithmetic, bounds most of
    these ops. A GEMM op whose columns all fit in ONE_GEMM_ELEMENTS runs as one block: one
    larger GEMM, which OpenBLAS threads well, beats a few small ones. The thread pool pays once
    the op moves SPREAD_ELEMENTS (the column copies are as much of a grouped GEMM's time as its
    few flops, and only the pool shares them) or does reference.POOL_FLOPS of arithmetic;
    below both, one thread runs every block and BLAS threads its GEMMs.
    """
    whole = flops_per_sample and n * per_sample <= ONE_GEMM_ELEMENTS
    blocks = reference_threads.sample_blocks(n, per_sample, n * per_sample if whole else BLOCK_ELEMENTS)
    spread = n * per_sample >= SPREAD_ELEMENTS or n * flops_per_sample >= reference.POOL_FLOPS
    parts = reference_threads.each_block(blocks, lambda chunk: [work(lo, hi) for lo, hi in chunk], spread=spread)
    return [result for part in parts for result in part]


# ---- grouped correlation ------------------------------------------------------------------------

def _columns(split, lay: _Layout, groups: int) -> np.ndarray:
    """(G, Cg*K, m*L): each group's input windows, one column per (sample, grid position).

    Tap-major inside each channel (index c*K + tap, as w.reshape(G, Fg, Cg*K) reads), so every
    tap's copy writes whole runs and the product is one plain batched matmul.
    """
    c, m = split.shape[1:3]
    flat = split.reshape(split.shape[:3] + (-1,))
    col = np.empty((groups, c // groups, len(lay.runs), m, lay.length))
    for t, (phase, start) in enumerate(lay.runs):
        run = flat[phase, :, :, start:start + lay.length]                          # (C, m, L)
        np.copyto(col[:, :, t], run.reshape(groups, c // groups, m, -1))
    return col.reshape(groups, -1, m * lay.length)


def _gridded(dout, groups: int, lay: _Layout, grid=None) -> np.ndarray:
    """(G, Fg, m*L): dout on the layout's grid, zero in the spare columns (so they add nothing);
    written into `grid`, an (F, m, *lay.grid) array of zeros, when given."""
    m, f = dout.shape[:2]
    out_spatial = dout.shape[2:]
    if grid is None:
        grid = np.zeros((f, m) + lay.grid) if lay.grid != out_spatial else np.empty((f, m) + lay.grid)
    np.copyto(grid[(slice(None), slice(None)) + lay.crop(out_spatial)], np.moveaxis(dout, 0, 1))
    return grid.reshape(groups, f // groups, -1)


def _conv_setup(w, g: Geometry, groups, c, f):
    k_spatial = tuple(w.shape[2:])
    if g.op == "convolve":
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * len(k_spatial)]
    return w, k_spatial, _groups(c, f, groups)


def conv_forward(x, w, b=None, *, geometry: Geometry, out_spatial=None):
    """Grouped correlation (or convolution: the filter flipped); w is (F, C/G, *K)."""
    x, w = _f64(x), _f64(w)
    g = geometry
    groups = g.groups
    n, c = x.shape[:2]
    f = w.shape[0]
    if w.shape[1] * groups != c:
        raise ConfigError(f"the filter has {w.shape[1]} channels per group but the input has {c} channels "
                          f"in {groups} groups")
    w, k_spatial, (cg, fg) = _conv_setup(w, g, groups, c, f)
    out_spatial = tuple(out_spatial) if out_spatial is not None else \
        replace(g, op="correlate").out_shape(x.shape[2:], k_spatial)
    lay = _layout(tuple(x.shape[2:]), out_spatial, k_spatial, g)
    wr = w.reshape(groups, fg, -1)
    out = np.empty((n, f) + out_spatial)

    def work(lo, hi):
        col = _columns(_phases(x[lo:hi], g, lay, 0.0), lay, groups)              # (G, Cg*K, m*L)
        res = np.matmul(wr, col).reshape((f, hi - lo) + lay.grid)
        np.copyto(out[lo:hi], np.moveaxis(res, 0, 1)[(slice(None), slice(None)) + lay.crop(out_spatial)])

    per_sample = c * len(lay.runs) * lay.length
    _by_samples(n, per_sample, work, flops_per_sample=2.0 * per_sample * fg)
    if b is not None:
        out += _f64(b).reshape((1, f) + (1,) * len(out_spatial))
    return out


def conv_grad_input(dout, w, input_shape, *, geometry: Geometry):
    """d(loss)/dx of the grouped correlation: each tap's contribution added back where it read.

    Two forms of one sum, the cheaper chosen (_gathers): scatter (a GEMM per tap's columns, then
    each run added into the phase split) or gather (dout copied once per distinct run start, then
    one GEMM that writes the phase split itself).
    """
    dout, w = _f64(dout), _f64(w)
    g = geometry
    groups = g.groups
    n, f = dout.shape[:2]
    out_spatial = tuple(dout.shape[2:])
    in_spatial = tuple(int(v) for v in input_shape[2:])
    c = int(input_shape[1])
    w, k_spatial, (cg, fg) = _conv_setup(w, g, groups, c, f)
    lay = _layout(in_spatial, out_spatial, k_spatial, g)
    dx = np.empty((n, c) + in_spatial)
    starts = sorted({start for _, start in lay.runs})
    if _gathers(len(starts), fg, len(lay.runs), cg):
        work, per_sample, flops = _gather_grad_input(dout, w, lay, starts, groups, (c, cg, fg), dx, g, in_spatial)
    else:
        wt = w.reshape(groups, fg, -1).transpose(0, 2, 1)                             # (G, Cg*K, Fg)

        def work(lo, hi):
            m = hi - lo
            dcol = np.matmul(wt, _gridded(dout[lo:hi], groups, lay))                 # (G, Cg*K, m*L)
            dcol = dcol.reshape(c, len(lay.runs), m, lay.length)
            split = np.zeros((len(lay.phases), c, m) + lay.rows)
            flat = split.reshape(split.shape[:3] + (-1,))
            for t, (phase, start) in enumerate(lay.runs):
                flat[phase, :, :, start:start + lay.length] += dcol[:, t]
            _unphased(split, g, lay, in_spatial, dx[lo:hi])

        per_sample = c * len(lay.runs) * lay.length
        flops = 2.0 * per_sample * fg
    _by_samples(n, per_sample, work, flops_per_sample=flops)
    return dx


def _gathers(starts: int, fg: int, taps: int, cg: int) -> bool:
    """Gather when its copies of dout (one per distinct start, Fg rows each) are no more than the
    scatter's GEMM rows, each added back once (Cg per tap): a transposed layer that halves the
    channels while it doubles the size gathers; a grad_input of a layer that widens scatters."""
    return starts * fg <= taps * cg


def _gather_grad_input(dout, w, lay: _Layout, starts, groups, channels, dx, g: Geometry, in_spatial):
    """conv_grad_input's gather form: (work, column entries per sample, flops per sample).

    Phase p's flat cell q sums w_t . dout[q - start_t] over the taps t of phase p. Stack dout
    shifted by every distinct start (S of them: one per tap at stride 1, ceil(k/s) per axis at
    stride s) and that sum is one GEMM (P*Cg, S*Fg) @ (S*Fg, m*Q) whose weight holds w_t at
    (phase_t, start_t) and zeros where a phase has no tap at that start.
    """
    c, cg, fg = channels
    f = fg * groups
    phases, cells, reach = len(lay.phases), math.prod(lay.rows), starts[-1]
    weight = np.zeros((groups, phases, cg, len(starts), fg))
    taps = w.reshape(groups, fg, cg, -1)
    for t, (phase, start) in enumerate(lay.runs):
        weight[:, phase, :, starts.index(start)] = taps[..., t].transpose(0, 2, 1)
    weight = weight.reshape(groups, phases * cg, -1)

    def work(lo, hi):
        m = hi - lo
        padded = np.zeros((f, m, reach + cells))          # dout on the grid at offset `reach`, zeros around
        _gridded(dout[lo:hi], groups, lay, padded[:, :, reach:reach + lay.length].reshape((f, m) + lay.grid))
        stack = np.empty((groups, len(starts), fg, m, cells))
        for i, start in enumerate(starts):
            np.copyto(stack[:, i], padded[:, :, reach - start:reach - start + cells].reshape(groups, fg, m, -1))
        split = np.matmul(weight, stack.reshape(groups, len(starts) * fg, -1))   # (G, P*Cg, m*Q)
        split = np.moveaxis(split.reshape((groups, phases, cg, m) + lay.rows), 1, 0)
        _unphased(split.reshape((phases, c, m) + lay.rows), g, lay, in_spatial, dx[lo:hi])

    columns = len(starts) * f * cells
    return work, columns, 2.0 * columns * phases * cg


def conv_grad_filter(dout, x, filter_shape, *, geometry: Geometry):
    """d(loss)/dw of the grouped correlation, (F, C/G, *K)."""
    dout, x = _f64(dout), _f64(x)
    g = geometry
    groups = g.groups
    n, f = dout.shape[:2]
    out_spatial = tuple(dout.shape[2:])
    k_spatial = tuple(int(v) for v in filter_shape[2:])
    c = x.shape[1]
    cg, fg = _groups(c, f, groups)
    lay = _layout(tuple(x.shape[2:]), out_spatial, k_spatial, g)

    def work(lo, hi):
        col = _columns(_phases(x[lo:hi], g, lay, 0.0), lay, groups)              # (G, Cg*K, m*L)
        return np.matmul(_gridded(dout[lo:hi], groups, lay), col.transpose(0, 2, 1))   # (G, Fg, Cg*K)

    per_sample = c * len(lay.runs) * lay.length
    dw = sum(_by_samples(n, per_sample, work, flops_per_sample=2.0 * per_sample * fg),
             np.zeros((groups, fg, cg * len(lay.runs))))                        # no samples: zeros
    dw = dw.reshape((f, cg) + k_spatial)
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
    """Sum or max over one axis's windows (axis counted among the spatial axes), taps clipped.

    The result starts as the sum (max) of two taps that read for every output, when there are
    such, instead of zeros (-inf) plus both: two passes over it fewer.
    """
    shape = list(a.shape)
    n = shape[2 + axis]
    shape[2 + axis] = o
    lead = (slice(None),) * (2 + axis)
    cuts = [cut for cut in (_clipped((t,), (n,), (o,), g1) for t in range(k)) if cut is not None]
    full = [cut for cut in cuts if cut[0][0] == slice(0, o)]
    combine = np.maximum if maximum else np.add
    if len(full) >= 2:
        out = combine(a[lead + full[0][1]], a[lead + full[1][1]])
        cuts = [cut for cut in cuts if cut is not full[0] and cut is not full[1]]
    else:
        out = np.full(shape, -np.inf) if maximum else np.zeros(shape)
    for (os_,), (is_,) in cuts:
        dst = out[lead + (os_,)]
        combine(dst, a[lead + (is_,)], out=dst)
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


def _pool_block(x, k_spatial, out_spatial, g: Geometry) -> np.ndarray:
    a = x
    for axis, (k, o) in enumerate(zip(k_spatial, out_spatial)):
        a = _reduce_axis(a, axis, k, o, _axis_geometry(g, axis), g.op == Op.MAXPOOL)
    return a


def pool_forward(x, k_spatial, *, geometry: Geometry):
    """Max or average over each window, one axis at a time (both are separable); cells outside the
    input are skipped (max) or count as zeros (average)."""
    x = _f64(x)
    g = geometry
    k_spatial = tuple(int(k) for k in k_spatial)
    out_spatial = g.out_shape(x.shape[2:], k_spatial)
    out = np.empty(x.shape[:2] + tuple(out_spatial))

    def work(lo, hi):
        out[lo:hi] = _pool_block(x[lo:hi], k_spatial, out_spatial, g)

    _by_samples(x.shape[0], math.prod(x.shape[1:]), work)
    if g.op == Op.AVGPOOL:
        out /= _divisor(x.shape[2:], out_spatial, k_spatial, g)
    return out


def pool_grad_input(dout, x, k_spatial, *, geometry: Geometry):
    """dx of pooling: max sends each dout to its window's first maximum, average spreads it evenly."""
    dout, x = _f64(dout), _f64(x)
    g = geometry
    k_spatial = tuple(int(k) for k in k_spatial)
    out_spatial = tuple(dout.shape[2:])
    dx = np.empty_like(x)
    if g.op == Op.AVGPOOL:
        scaled = dout / _divisor(x.shape[2:], out_spatial, k_spatial, g)

        def work(lo, hi):
            a = scaled[lo:hi]
            for axis in reversed(range(len(k_spatial))):
                a = _spread_axis(a, axis, k_spatial[axis], x.shape[2 + axis], _axis_geometry(g, axis))
            dx[lo:hi] = a
    else:
        def work(lo, hi):
            dx[lo:hi] = _max_routed(dout[lo:hi], x[lo:hi], k_spatial, g)

    _by_samples(x.shape[0], math.prod(x.shape[1:]), work)
    return dx


def _max_routed(dout, x, k_spatial, g: Geometry) -> np.ndarray:
    """Max pooling's dx for a block: each dout added at its window's first maximum.

    Fast path: the stride phases of the padded input (_phases) make every tap a contiguous
    slice; one pass finds each window's maximum, a second sets bit t where tap t reaches it,
    the lowest bit is the first maximum in window order, and one bincount adds dout there.
    Windows the fast path cannot rank (a NaN, or a window with no cell above -inf, where a
    padding cell would tie) take the tap-by-tap path, which reads input cells only.
    """
    out_spatial = tuple(dout.shape[2:])
    taps = _taps(k_spatial)
    if len(taps) > 64:
        return _max_routed_by_taps(dout, x, k_spatial, g)
    phases = _phases(x, g, _layout(tuple(x.shape[2:]), out_spatial, k_spatial, g), -np.inf)
    views = [_phase_tap(phases, tap, g, out_spatial) for tap in taps]
    best = views[0].copy()
    for view in views[1:]:
        np.maximum(best, view, out=best)
    kind = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(t).bits >= len(taps))
    bits, hit, bit = np.zeros(best.shape, kind), np.empty(best.shape, bool), np.empty(best.shape, kind)
    for t, view in enumerate(views):
        np.equal(view, best, out=hit)
        np.multiply(hit, kind(1 << t), out=bit)
        bits |= bit
    if not bits.all() or np.isneginf(best).any():
        return _max_routed_by_taps(dout, x, k_spatial, g)
    first = _first_bit(bits, len(taps))                                  # tap index per window
    steps = [math.prod(x.shape[3 + axis:]) for axis in range(len(k_spatial))]
    tap_offset = np.array([sum(k * d * st for k, d, st in zip(tap, g.dilation, steps)) for tap in taps])
    where = np.zeros((), dtype=np.intp)                                  # flat index of each window's corner
    for o, s, (pb, _), st in zip(out_spatial, g.stride, g.pad, steps):
        where = np.add.outer(where, (np.arange(o) * s - pb) * st)
    plane = math.prod(x.shape[2:])                                      # the views are (C, m, *O):
    where = where + (np.arange(x.shape[1] * x.shape[0]) * plane).reshape(best.shape[:2] + (1,) * len(out_spatial))
    where += tap_offset[first]
    dx = np.bincount(where.ravel(), weights=dout.swapaxes(0, 1).ravel(), minlength=x.size)
    return dx.reshape((x.shape[1], x.shape[0]) + x.shape[2:]).swapaxes(0, 1)


def _first_bit(bits: np.ndarray, width: int) -> np.ndarray:
    """Index of the lowest set bit of each entry (every entry has one)."""
    if width <= 16:
        return _lowest_bit_table(width)[bits]
    low = bits & (~bits + bits.dtype.type(1))                           # the lowest bit alone
    return np.log2(low.astype(np.float64)).astype(np.intp)             # exact: a power of two


@lru_cache(maxsize=8)
def _lowest_bit_table(width: int) -> np.ndarray:
    values = np.arange(1 << width)
    table = np.zeros(1 << width, dtype=np.intp)
    table[1:] = np.log2(values[1:] & -values[1:]).astype(np.intp)
    return table


def _max_routed_by_taps(dout, x, k_spatial, g: Geometry) -> np.ndarray:
    """Max pooling's dx tap by tap over input cells only: exact for any input (NaN, -inf)."""
    out_spatial = tuple(dout.shape[2:])
    best = _pool_block(x, k_spatial, out_spatial, g)
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
