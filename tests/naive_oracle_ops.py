"""Naive loops for grouped, transposed and pooling layers, written from their definitions.

Shares no code with corrcheck (no corrcheck import at all): output sizes are
counted by hand, every sum is an explicit loop, so a slip in the vectorized
reference_ops or in geometry's formulas cannot hide behind the same slip here.
Slow on purpose; small arrays only.
"""
from __future__ import annotations

import itertools

import numpy as np


def _axes(v, nd):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * nd


def _inside(pos, shape):
    return all(0 <= p < n for p, n in zip(pos, shape))


def grouped_correlation(x, w, b, stride, pad, dilation, groups):
    """out[n, f, o] = b[f] + sum over c in f's group, k of x[n, c, o*s + k*d - p] * w[f, c - group start, k]."""
    N, C = x.shape[:2]
    F, Cg = w.shape[:2]
    nd = x.ndim - 2
    s, p, d = _axes(stride, nd), _axes(pad, nd), _axes(dilation, nd)
    K = w.shape[2:]
    O = []
    for n, k, si, pi, di in zip(x.shape[2:], K, s, p, d):
        count = 0
        while count * si + di * (k - 1) <= n + 2 * pi - 1:
            count += 1
        O.append(count)
    out = np.zeros((N, F) + tuple(O))
    per_group_out = F // groups
    for ni in range(N):
        for f in range(F):
            grp = f // per_group_out
            for o in itertools.product(*map(range, O)):
                acc = 0.0 if b is None else b[f]
                for cl in range(Cg):
                    c = grp * Cg + cl
                    for k in itertools.product(*map(range, K)):
                        pos = tuple(oi * si + ki * di - pi for oi, ki, si, di, pi in zip(o, k, s, d, p))
                        if _inside(pos, x.shape[2:]):
                            acc += x[(ni, c) + pos] * w[(f, cl) + k]
                out[(ni, f) + o] = acc
    return out


def transposed(x, w, b, stride, pad, dilation, output_padding, groups):
    """Scatter form: y[n, co, i*s + k*d - p] += x[n, ci, i] * w[ci, co - group start, k], y sized by counting."""
    N, Cin = x.shape[:2]
    Cog = w.shape[1]
    Cout = Cog * groups
    nd = x.ndim - 2
    s, p, d, a = _axes(stride, nd), _axes(pad, nd), _axes(dilation, nd), _axes(output_padding, nd)
    K = w.shape[2:]
    # the largest position any input writes to, plus the output padding, minus the crop
    size = tuple((n - 1) * si + (k - 1) * di + 1 + ai - 2 * pi
                 for n, k, si, di, ai, pi in zip(x.shape[2:], K, s, d, a, p))
    y = np.zeros((N, Cout) + size)
    cin_g = Cin // groups
    for ni in range(N):
        for ci in range(Cin):
            grp = ci // cin_g
            for i in itertools.product(*(range(n) for n in x.shape[2:])):
                for col in range(Cog):
                    co = grp * Cog + col
                    for k in itertools.product(*map(range, K)):
                        pos = tuple(ii * si + ki * di - pi for ii, ki, si, di, pi in zip(i, k, s, d, p))
                        if _inside(pos, size):
                            y[(ni, co) + pos] += x[(ni, ci) + i] * w[(ci, col) + k]
    if b is not None:
        y += np.asarray(b).reshape((1, Cout) + (1,) * nd)
    return y


def _pool_windows(spatial, K, s, p, d, ceil_mode):
    """Window starts per axis, counted one by one: a window starts while it still reaches the
    input (floor: fits the padded input; ceil: may run past it but must start before the after-padding)."""
    starts = []
    for n, k, si, pi, di in zip(spatial, K, s, p, d):
        span = di * (k - 1) + 1
        axis = []
        o = 0
        while True:
            st = o * si - pi
            if ceil_mode:
                # one more window while the previous one left input uncovered, never one
                # that starts in the padding after the input
                prev_covers_all = o > 0 and (o - 1) * si + span >= n + 2 * pi
                ok = (o == 0 or not prev_covers_all) and st < n and o * si + 1 <= n + 2 * pi
            else:
                ok = o * si + span <= n + 2 * pi
            if not ok:
                break
            axis.append(st)
            o += 1
        starts.append(axis)
    return starts


def pool(x, K, stride, pad, dilation, op, ceil_mode=False, count_include_pad=False):
    """Max (first maximum in row-major window order) or average over each window, with its argmax."""
    N, C = x.shape[:2]
    nd = x.ndim - 2
    s, p, d = _axes(stride, nd), _axes(pad, nd), _axes(dilation, nd)
    starts = _pool_windows(x.shape[2:], K, s, p, d, ceil_mode)
    O = tuple(len(a) for a in starts)
    out = np.zeros((N, C) + O)
    arg = {}
    for ni in range(N):
        for c in range(C):
            for o in itertools.product(*map(range, O)):
                best, where, total, inside, incl = None, None, 0.0, 0, 1
                for axis, oi in enumerate(o):
                    st = starts[axis][oi]
                    end = min(st + K[axis], x.shape[2 + axis] + p[axis])   # padded zeros count, not past them
                    incl *= end - st
                for k in itertools.product(*map(range, K)):
                    pos = tuple(starts[a][oi] + ki * d[a] for a, (oi, ki) in enumerate(zip(o, k)))
                    if _inside(pos, x.shape[2:]):
                        v = x[(ni, c) + pos]
                        if best is None or v > best:
                            best, where = v, pos
                        total += v
                        inside += 1
                if op == "maxpool":
                    out[(ni, c) + o] = best
                    arg[(ni, c) + o] = where
                else:
                    out[(ni, c) + o] = total / (incl if count_include_pad else inside)
    return out, arg


def pool_grad_input(x, dout, K, stride, pad, dilation, op, ceil_mode=False, count_include_pad=False):
    """Route each dout entry back: to the window's argmax (max) or evenly over its counted cells (avg)."""
    nd = x.ndim - 2
    s, p, d = _axes(stride, nd), _axes(pad, nd), _axes(dilation, nd)
    out, arg = pool(x, K, stride, pad, dilation, op, ceil_mode, count_include_pad)
    starts = _pool_windows(x.shape[2:], K, s, p, d, ceil_mode)
    dx = np.zeros_like(x, dtype=float)
    for idx in itertools.product(*map(range, out.shape)):
        ni, c, o = idx[0], idx[1], idx[2:]
        if op == "maxpool":
            dx[(ni, c) + arg[idx]] += dout[idx]
            continue
        cells = []
        incl = 1
        for axis, oi in enumerate(o):
            st = starts[axis][oi]
            incl *= min(st + K[axis], x.shape[2 + axis] + p[axis]) - st
        for k in itertools.product(*map(range, K)):
            pos = tuple(starts[a][oi] + ki for a, (oi, ki) in enumerate(zip(o, k)))
            if _inside(pos, x.shape[2:]):
                cells.append(pos)
        share = dout[idx] / (incl if count_include_pad else len(cells))
        for pos in cells:
            dx[(ni, c) + pos] += share
    return dx


def grouped_correlation_grads(x, w, dout, stride, pad, dilation, groups):
    """(dx, dw) term by term: each product x*w in the forward sends dout*w to x and dout*x to w."""
    N, C = x.shape[:2]
    F, Cg = w.shape[:2]
    nd = x.ndim - 2
    s, p, d = _axes(stride, nd), _axes(pad, nd), _axes(dilation, nd)
    K = w.shape[2:]
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    per_group_out = F // groups
    for ni in range(N):
        for f in range(F):
            grp = f // per_group_out
            for o in itertools.product(*map(range, dout.shape[2:])):
                g = dout[(ni, f) + o]
                for cl in range(Cg):
                    c = grp * Cg + cl
                    for k in itertools.product(*map(range, K)):
                        pos = tuple(oi * si + ki * di - pi for oi, ki, si, di, pi in zip(o, k, s, d, p))
                        if _inside(pos, x.shape[2:]):
                            dx[(ni, c) + pos] += g * w[(f, cl) + k]
                            dw[(f, cl) + k] += g * x[(ni, c) + pos]
    return dx, dw


def transposed_grads(x, w, dy, stride, pad, dilation, groups):
    """(dx, dw) of the scatter form: each x*w written to y[pos] reads dy[pos] back."""
    N, Cin = x.shape[:2]
    Cog = w.shape[1]
    nd = x.ndim - 2
    s, p, d = _axes(stride, nd), _axes(pad, nd), _axes(dilation, nd)
    K = w.shape[2:]
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    cin_g = Cin // groups
    for ni in range(N):
        for ci in range(Cin):
            grp = ci // cin_g
            for i in itertools.product(*(range(n) for n in x.shape[2:])):
                for col in range(Cog):
                    co = grp * Cog + col
                    for k in itertools.product(*map(range, K)):
                        pos = tuple(ii * si + ki * di - pi for ii, ki, si, di, pi in zip(i, k, s, d, p))
                        if _inside(pos, dy.shape[2:]):
                            dx[(ni, ci) + i] += dy[(ni, co) + pos] * w[(ci, col) + k]
                            dw[(ci, col) + k] += dy[(ni, co) + pos] * x[(ni, ci) + i]
    return dx, dw
