"""A deliberately naive correlation and its gradients: one Python loop per index.

Written straight from the definition, sharing no code with corrcheck (it must
not import corrcheck.reference or corrcheck.geometry), so a mistake in the
vectorized reference cannot hide behind the same mistake here:

    out[n, f, o] = b[f] + sum_{c, k} x[n, c, o*s + k*d - p_before] * w[f, c, k]

with x read as zero outside its bounds. The gradients are written from their
own definitions (which outputs read this input entry / this filter tap), not
by transposing the forward. Only for small arrays: it is slow on purpose.
"""
from __future__ import annotations

import itertools

import numpy as np


def _per_axis(value, ndim):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * ndim


def _pairs(pad, ndim):
    """int, per-axis ints, or per-axis (before, after) -> ((before, after), ...)."""
    items = _per_axis(pad, ndim)
    return tuple(p if isinstance(p, (tuple, list)) else (p, p) for p in items)


def out_size(n, k, s, before, after, d):
    """Count the window starts by hand instead of using the closed formula."""
    count = 0
    while count * s + d * (k - 1) <= n + before + after - 1:
        count += 1
    return count


def _setup(in_spatial, k_spatial, stride, pad, dilation):
    ndim = len(in_spatial)
    s, d, p = _per_axis(stride, ndim), _per_axis(dilation, ndim), _pairs(pad, ndim)
    o = tuple(out_size(n, k, si, pb, pa, di) for n, k, si, (pb, pa), di in zip(in_spatial, k_spatial, s, p, d))
    return s, p, d, o


def _source(o, k, s, p, d):
    """The input position that output o reads through tap k, per axis."""
    return tuple(oi * si + ki * di - pi[0] for oi, ki, si, pi, di in zip(o, k, s, p, d))


def _inside(pos, shape):
    return all(0 <= i < n for i, n in zip(pos, shape))


def _flip(w):
    return w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)]


def forward(x, w, b=None, stride=1, pad=0, dilation=1, op="correlate"):
    x, w = np.asarray(x, float), np.asarray(w, float)
    if op == "convolve":
        w = _flip(w)
    N, C, *S = x.shape
    F, _, *K = w.shape
    s, p, d, O = _setup(S, K, stride, pad, dilation)
    out = np.zeros((N, F, *O))
    for n, f in itertools.product(range(N), range(F)):
        for o in itertools.product(*map(range, O)):
            total = 0.0 if b is None else float(np.asarray(b).reshape(-1)[f])
            for c in range(C):
                for k in itertools.product(*map(range, K)):
                    pos = _source(o, k, s, p, d)
                    if _inside(pos, S):
                        total += x[(n, c) + pos] * w[(f, c) + k]
            out[(n, f) + o] = total
    return out


def grad_input(dout, w, input_shape, stride=1, pad=0, dilation=1, op="correlate"):
    """dx[n, c, i] = sum over (f, k) of dout[n, f, o] * w[f, c, k], for the o that reads i through k.

    Output o reads input i through tap k when o*s + k*d - p_before == i, so per
    axis o = (i + p_before - k*d) / s, which must be a whole number in range.
    """
    dout, w = np.asarray(dout, float), np.asarray(w, float)
    if op == "convolve":
        w = _flip(w)
    N, C, *S = input_shape
    F, _, *K = w.shape
    s, p, d, O = _setup(S, K, stride, pad, dilation)
    dx = np.zeros((N, C, *S))
    for n, c in itertools.product(range(N), range(C)):
        for i in itertools.product(*map(range, S)):
            total = 0.0
            for k in itertools.product(*map(range, K)):
                o = []
                for ii, ki, si, pi, di in zip(i, k, s, p, d):
                    num = ii + pi[0] - ki * di
                    if num % si == 0 and 0 <= num // si:
                        o.append(num // si)
                if len(o) != len(i) or not all(oi < Oi for oi, Oi in zip(o, O)):
                    continue
                for f in range(F):
                    total += dout[(n, f) + tuple(o)] * w[(f, c) + k]
            dx[(n, c) + i] = total
    return dx


def grad_filter(dout, x, filter_shape, stride=1, pad=0, dilation=1, op="correlate"):
    """dw[f, c, k] = sum over (n, o) of dout[n, f, o] * x[n, c, source(o, k)] (zero outside)."""
    dout, x = np.asarray(dout, float), np.asarray(x, float)
    F, C, *K = filter_shape
    N, _, *S = x.shape
    s, p, d, O = _setup(S, K, stride, pad, dilation)
    dw = np.zeros((F, C, *K))
    for f, c in itertools.product(range(F), range(C)):
        for k in itertools.product(*map(range, K)):
            total = 0.0
            for n in range(N):
                for o in itertools.product(*map(range, O)):
                    pos = _source(o, k, s, p, d)
                    if _inside(pos, S):
                        total += dout[(n, f) + o] * x[(n, c) + pos]
            dw[(f, c) + k] = total
    return _flip(dw).copy() if op == "convolve" else dw


def grad_bias(dout):
    dout = np.asarray(dout, float)
    db = np.zeros(dout.shape[1])
    for idx in itertools.product(*map(range, dout.shape)):
        db[idx[1]] += dout[idx]
    return db
