"""match() names each catalogued mistake from a learner-style buggy implementation.

Every buggy function below is written the way a student writes it (loops,
np.pad and slices, JavaScript-like reads that give NaN past an edge), never
by calling the catalogue, so a mutant that drifts from the real mistake fails
here. Canonical layout: x (N,C,H,W), w (F,C,KH,KW), dout (N,F,OH,OW).
"""
import math
import time

import numpy as np
import pytest

from corrcheck.diagnosis.catalogue import CATALOGUE
from corrcheck.diagnosis.match import diagnose_shape, match
from corrcheck.checks.draw import random_draw
from corrcheck.geometry import make_geometry

NONSQUARE = dict(in_spatial=(7, 6), k_spatial=(3, 2))
SQUARE = dict(in_spatial=(7, 7), k_spatial=(3, 3))


def js(a, *idx):
    """a[i][j] the JavaScript way: undefined (NaN in arithmetic) outside the array."""
    for i in idx:
        if i < 0 or i >= len(a):
            return math.nan
        a = a[i]
    return a


def osize(n, k, s, p):
    return (n + 2 * p - k) // s + 1


# ----------------------------------------------------------------------------- forward learners

def fwd_correct(x, w, b, s, p):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    out = np.zeros((N, F, osize(H, KH, s, p), osize(W, KW, s, p)))
    for n in range(N):
        for f in range(F):
            for y in range(out.shape[2]):
                for xx in range(out.shape[3]):
                    acc = b[f]
                    for c in range(C):
                        for j in range(KH):
                            for i in range(KW):
                                r, q = y * s + j - p, xx * s + i - p
                                if 0 <= r < H and 0 <= q < W:
                                    acc += x[n, c, r, q] * w[f, c, j, i]
                    out[n, f, y, xx] = acc
    return out


def fwd_cs231n(x, w, b, s, p, *, slip=None):
    """np.pad and a window slice, cs231n style; `slip` picks one classic mistake."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH, OW = osize(H, KH, s, p), osize(W, KW, s, p)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((N, F, OH, OW))
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    if slip == "stride-ignored":
                        win = xp[n, :, i:i + KH, j:j + KW]
                    elif slip == "stride-on-filter":
                        win = xp[n, :, i:i + s * (KH - 1) + 1:s, j:j + s * (KW - 1) + 1:s]
                    else:
                        win = xp[n, :, i * s:i * s + KH, j * s:j * s + KW]
                    if slip == "flip":
                        out[n, f, i, j] = np.sum(win * w[f, :, ::-1, ::-1]) + b[f]
                    elif slip == "channel0":
                        out[n, f, i, j] = np.sum(win[0] * w[f, 0]) + b[f]
                    elif slip == "no-bias":
                        out[n, f, i, j] = np.sum(win * w[f])
                    else:
                        out[n, f, i, j] = np.sum(win * w[f]) + b[f]
    return out


def fwd_by_output(x, w, b, s, p):
    """The seed's slip in JavaScript-like reads: f[y][x] instead of f[j][i]."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    out = np.zeros((N, F, osize(H, KH, s, p), osize(W, KW, s, p)))
    for n in range(N):
        for f in range(F):
            for y in range(out.shape[2]):
                for xx in range(out.shape[3]):
                    acc = b[f]
                    for c in range(C):
                        for j in range(KH):
                            for i in range(KW):
                                r, q = y * s + j - p, xx * s + i - p
                                if 0 <= r < H and 0 <= q < W:
                                    acc += x[n, c, r, q] * js(w[f, c], y, xx)
                    out[n, f, y, xx] = acc
    return out


def fwd_seed_double(x, w, b, s, p):
    """The seed exactly: a[y + j*s - p][x + i*s - p] * f[y][x] (both slips)."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    out = np.zeros((N, F, osize(H, KH, s, p), osize(W, KW, s, p)))
    for n in range(N):
        for f in range(F):
            for y in range(out.shape[2]):
                for xx in range(out.shape[3]):
                    acc = b[f]
                    for c in range(C):
                        for j in range(KH):
                            for i in range(KW):
                                r, q = y + j * s - p, xx + i * s - p
                                if 0 <= r < H and 0 <= q < W:
                                    acc += x[n, c, r, q] * js(w[f, c], y, xx)
                    out[n, f, y, xx] = acc
    return out


def fwd_indexed(x, w, b, s, p, *, pos, read_w, read_x=None, wrap=False):
    """Bounds-checked loops where the student's index expressions are the slip."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    out = np.zeros((N, F, osize(H, KH, s, p), osize(W, KW, s, p)))
    for n in range(N):
        for f in range(F):
            for y in range(out.shape[2]):
                for xx in range(out.shape[3]):
                    acc = b[f]
                    for c in range(C):
                        for j in range(KH):
                            for i in range(KW):
                                r, q = pos(y, xx, j, i)
                                if (r < H and q < W) if wrap else (0 <= r < H and 0 <= q < W):
                                    v = read_x(x[n, c], r, q) if read_x else x[n, c, r, q]
                                    acc += v * read_w(w[f, c], j, i)
                    out[n, f, y, xx] = acc
    return out


def fwd_overwrite(x, w, b, s, p):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH, OW = osize(H, KH, s, p), osize(W, KW, s, p)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((N, F, OH, OW))
    for n in range(N):
        for f in range(F):
            for kh in range(KH):
                for kw in range(KW):
                    out[n, f] = np.einsum("chw,c->hw", xp[n, :, kh:kh + s * OH:s, kw:kw + s * OW:s], w[f, :, kh, kw])
            out[n, f] += b[f]
    return out


def fwd_no_plus_one(x, w, b, s, p):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH, OW = (H + 2 * p - KH) // s, (W + 2 * p - KW) // s
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((N, F, OH, OW))
    for i in range(OH):
        for j in range(OW):
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", xp[:, :, i * s:i * s + KH, j * s:j * s + KW], w) + b
    return out


def fwd_ceil(x, w, b, s, p):
    """Ceil instead of floor; windows past the edge read zero (bounds check)."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    OH, OW = math.ceil((H + 2 * p - KH) / s) + 1, math.ceil((W + 2 * p - KW) / s) + 1
    xp = np.pad(x, ((0, 0), (0, 0), (p, p + s), (p, p + s)))
    out = np.zeros((N, F, OH, OW))
    for i in range(OH):
        for j in range(OW):
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", xp[:, :, i * s:i * s + KH, j * s:j * s + KW], w) + b
    return out


FORWARD = {
    "filter-indexed-by-output": (fwd_by_output, NONSQUARE),
    "stride-on-filter-index": (lambda x, w, b, s, p: fwd_cs231n(x, w, b, s, p, slip="stride-on-filter"), NONSQUARE),
    "filter-transposed": (lambda x, w, b, s, p: fwd_indexed(
        x, w, b, s, p, pos=lambda y, xx, j, i: (y * s + j - p, xx * s + i - p),
        read_w=lambda f, j, i: f[i, j]), SQUARE),
    "input-transposed": (lambda x, w, b, s, p: fwd_indexed(
        x, w, b, s, p, pos=lambda y, xx, j, i: (y * s + j - p, xx * s + i - p),
        read_w=lambda f, j, i: f[j, i], read_x=lambda a, r, q: a[q, r]), SQUARE),
    "filter-flipped": (lambda x, w, b, s, p: fwd_cs231n(x, w, b, s, p, slip="flip"), NONSQUARE),
    "padding-ignored": (lambda x, w, b, s, p: fwd_indexed(
        x, w, b, s, p, pos=lambda y, xx, j, i: (y * s + j, xx * s + i), read_w=lambda f, j, i: f[j, i]), NONSQUARE),
    "padding-wrong-sign": (lambda x, w, b, s, p: fwd_indexed(
        x, w, b, s, p, pos=lambda y, xx, j, i: (y * s + j + p, xx * s + i + p), read_w=lambda f, j, i: f[j, i]),
        NONSQUARE),
    "negative-index-wraparound": (lambda x, w, b, s, p: fwd_indexed(
        x, w, b, s, p, pos=lambda y, xx, j, i: (y * s + j - p, xx * s + i - p), read_w=lambda f, j, i: f[j, i],
        wrap=True), NONSQUARE),
    "stride-ignored": (lambda x, w, b, s, p: fwd_cs231n(x, w, b, s, p, slip="stride-ignored"), NONSQUARE),
    "overwrite-not-accumulate": (fwd_overwrite, NONSQUARE),
    "output-size": (fwd_no_plus_one, NONSQUARE),
    "channels-not-summed": (lambda x, w, b, s, p: fwd_cs231n(x, w, b, s, p, slip="channel0"), NONSQUARE),
    "bias-missing": (lambda x, w, b, s, p: fwd_cs231n(x, w, b, s, p, slip="no-bias"), NONSQUARE),
}


# ----------------------------------------------------------------------------- gradient learners

def gw_loops(dout, x, w_shape, s, p, *, pos=None, wrap=False, transposed=False, last_sample=False):
    N, C, H, W = x.shape
    F, _, KH, KW = w_shape
    pos = pos or (lambda y, xx, j, i: (y * s + j - p, xx * s + i - p))
    dw = np.zeros(w_shape)
    for n in range(N):
        if last_sample:
            dw = np.zeros(w_shape)
        for f in range(F):
            for c in range(C):
                for j in range(KH):
                    for i in range(KW):
                        for y in range(dout.shape[2]):
                            for xx in range(dout.shape[3]):
                                r, q = pos(y, xx, j, i)
                                if (r < H and q < W) if wrap else (0 <= r < H and 0 <= q < W):
                                    if transposed:
                                        dw[f, c, i, j] += dout[n, f, y, xx] * x[n, c, r, q]
                                    else:
                                        dw[f, c, j, i] += dout[n, f, y, xx] * x[n, c, r, q]
    return dw


def gx_scatter(dout, w, x_shape, s, p, *, pos=None, wrap=False, flip=False, overwrite=False, crop="exact"):
    """Scatter each dout[o]*w into the padded gradient, then crop (cs231n style)."""
    N, C, H, W = x_shape
    F, _, KH, KW = w.shape
    pos = pos or (lambda y, xx: (y * s, xx * s))
    if wrap:   # no padded array: write straight into dx with Python indices
        dx = np.zeros(x_shape)
        for n in range(N):
            for f in range(F):
                for y in range(dout.shape[2]):
                    for xx in range(dout.shape[3]):
                        for j in range(KH):
                            for i in range(KW):
                                r, q = y * s + j - p, xx * s + i - p
                                if r < H and q < W:
                                    dx[n, :, r, q] += dout[n, f, y, xx] * w[f, :, j, i]
        return dx
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    ww = w[:, :, ::-1, ::-1] if flip else w
    for n in range(N):
        for y in range(dout.shape[2]):
            for xx in range(dout.shape[3]):
                r, q = pos(y, xx)
                share = np.einsum("f,fchw->chw", dout[n, :, y, xx], ww)
                if overwrite:
                    dxp[n, :, r:r + KH, q:q + KW] = share
                else:
                    dxp[n, :, r:r + KH, q:q + KW] += share
    if crop == "p:-p":
        return dxp[:, :, p:-p, p:-p]
    if crop == "from0":
        return dxp[:, :, :H, :W]
    return dxp[:, :, p:p + H, p:p + W]


def gb_last_sample(dout):
    for n in range(dout.shape[0]):
        db = dout[n].sum(axis=(1, 2))
    return db


GRAD_FILTER = {
    "grad-filter-stride-ignored": (lambda d, x, ws, s, p: gw_loops(
        d, x, ws, s, p, pos=lambda y, xx, j, i: (y + j - p, xx + i - p)), NONSQUARE),
    "grad-filter-padding-ignored": (lambda d, x, ws, s, p: gw_loops(
        d, x, ws, s, p, pos=lambda y, xx, j, i: (y * s + j, xx * s + i)), NONSQUARE),
    "grad-filter-transposed": (lambda d, x, ws, s, p: gw_loops(d, x, ws, s, p, transposed=True), SQUARE),
    "grad-filter-not-summed-over-batch": (lambda d, x, ws, s, p: gw_loops(d, x, ws, s, p, last_sample=True),
                                          NONSQUARE),
    "grad-filter-wraparound": (lambda d, x, ws, s, p: gw_loops(d, x, ws, s, p, wrap=True), NONSQUARE),
}

GRAD_INPUT = {
    "grad-input-filter-not-flipped": (lambda d, w, xs, s, p: _gx_gather_unflipped(d, w, xs, s, p), NONSQUARE),
    "grad-input-stride-ignored": (lambda d, w, xs, s, p: gx_scatter(d, w, xs, s, p, pos=lambda y, xx: (y, xx)),
                                  NONSQUARE),
    "grad-input-padding-offset": (lambda d, w, xs, s, p: gx_scatter(d, w, xs, s, p, crop="from0"), NONSQUARE),
    "grad-input-overwrite-not-accumulate": (lambda d, w, xs, s, p: gx_scatter(d, w, xs, s, p, overwrite=True),
                                            NONSQUARE),
    "grad-input-wraparound": (lambda d, w, xs, s, p: gx_scatter(d, w, xs, s, p, wrap=True), NONSQUARE),
}


def _gx_gather_unflipped(dout, w, x_shape, s, p):
    """The 'full correlation of the spread-out dout' recipe without rotating the filter."""
    N, C, H, W = x_shape
    F, _, KH, KW = w.shape
    OH, OW = dout.shape[2:]
    spread = np.zeros((N, F, (OH - 1) * s + 1, (OW - 1) * s + 1))
    spread[:, :, ::s, ::s] = dout
    bh, bw = KH - 1 - p, KW - 1 - p
    full = np.pad(spread, ((0, 0), (0, 0), (bh, bh + KH), (bw, bw + KW)))
    dx = np.zeros(x_shape)
    for r in range(H):
        for q in range(W):
            dx[:, :, r, q] = np.einsum("nfhw,fchw->nc", full[:, :, r:r + KH, q:q + KW], w)
    return dx


# ----------------------------------------------------------------------------- helpers

def draws_for(sizes, stride=2, pad=1, seed=0, count=2):
    geom = make_geometry(stride, pad, 1, "correlate", 2, sizes["in_spatial"], sizes["k_spatial"])
    rng = np.random.default_rng(seed)
    return geom, [random_draw(rng, geom, batch=2, channels=3, filters=4, **sizes) for _ in range(count)]


def run(target, fn, sizes, stride=2, pad=1):
    geom, draws = draws_for(sizes, stride, pad)
    s, p = stride, pad
    if target == "forward":
        outs = [fn(d.x, d.w, d.b, s, p) for d in draws]
    elif target == "grad_filter":
        outs = [fn(d.dout, d.x, d.w.shape, s, p) for d in draws]
    elif target == "grad_input":
        outs = [fn(d.dout, d.w, d.x.shape, s, p) for d in draws]
    else:
        outs = [fn(d.dout) for d in draws]
    return match(target, draws, outs, geom, rtol=1e-9, atol=1e-9, has_bias=True)


CASES = ([("forward", k, *v) for k, v in FORWARD.items()]
         + [("grad_filter", k, *v) for k, v in GRAD_FILTER.items()]
         + [("grad_input", k, *v) for k, v in GRAD_INPUT.items()]
         + [("grad_bias", "grad-bias-not-summed", gb_last_sample, NONSQUARE)])


# ----------------------------------------------------------------------------- tests

@pytest.mark.parametrize("target,bug,fn,sizes", CASES, ids=[c[1] for c in CASES])
def test_learner_mistake_is_top_diagnosis(target, bug, fn, sizes):
    found = run(target, fn, sizes)
    assert found, f"{bug}: nothing matched"
    assert found[0].bug == bug
    assert found[0].confidence >= 0.9
    assert found[0].location is None and found[0].explanation.endswith(".")


def test_every_catalogue_id_has_a_learner_here():
    tested = {c[1] for c in CASES} | {"grad-input-unpad-empty-at-pad0"}
    assert tested == {m.id for m in CATALOGUE}


def test_unpad_with_p_minus_p_is_named_at_pad_0_and_invisible_at_pad_1():
    fn = lambda d, w, xs, s, p: gx_scatter(d, w, xs, s, p, crop="p:-p")  # noqa: E731
    found = run("grad_input", fn, NONSQUARE, pad=0)
    assert found[0].bug == "grad-input-unpad-empty-at-pad0"
    assert run("grad_input", fn, NONSQUARE, pad=1) == []


def test_correct_implementations_match_nothing():
    assert run("forward", fwd_correct, NONSQUARE) == []
    assert run("forward", fwd_cs231n, NONSQUARE) == []
    assert run("grad_filter", gw_loops, NONSQUARE) == []
    assert run("grad_input", gx_scatter, NONSQUARE) == []
    assert run("grad_bias", lambda d: d.sum(axis=(0, 2, 3)), NONSQUARE) == []


def test_seed_double_slip_gets_both_ids():
    found = run("forward", fwd_seed_double, NONSQUARE)
    assert {d.bug for d in found[:2]} == {"filter-indexed-by-output", "stride-on-filter-index"}
    assert all("together with" in d.explanation for d in found[:2])


def test_ceil_output_size_is_named_where_visible():
    # n + 2p - k = 8 is not a multiple of 3, so ceil and floor differ
    found = run("forward", fwd_ceil, dict(in_spatial=(9, 9), k_spatial=(3, 3)), stride=3, pad=1)
    assert found[0].bug == "output-size" and "ceil" in found[0].explanation


def test_an_unknown_mistake_matches_nothing():
    def doubled(x, w, b, s, p):
        return 2 * fwd_cs231n(x, w, b, s, p)
    assert run("forward", doubled, NONSQUARE) == []


def test_one_draw_gives_lower_confidence_than_two():
    geom, draws = draws_for(NONSQUARE, count=3)
    outs = [fwd_cs231n(d.x, d.w, d.b, 2, 1, slip="flip") for d in draws]
    one = match("forward", draws[:1], outs[:1], geom)[0].confidence
    three = match("forward", draws, outs, geom)[0].confidence
    assert one < three


def test_match_is_fast_for_singles_and_pairs():
    geom, draws = draws_for(NONSQUARE)
    single = [fwd_cs231n(d.x, d.w, d.b, 2, 1, slip="flip") for d in draws]
    double = [fwd_seed_double(d.x, d.w, d.b, 2, 1) for d in draws]
    match("forward", draws, single, geom)
    t0 = time.perf_counter()
    match("forward", draws, single, geom)
    t1 = time.perf_counter()
    match("forward", draws, double, geom)
    t2 = time.perf_counter()
    assert t1 - t0 < 0.05 and t2 - t1 < 0.5


# ----------------------------------------------------------------------------- shapes

def test_shape_missing_plus_one():
    geom = make_geometry(2, 1, 1, "correlate", 2, (7, 6), (3, 2))
    d = diagnose_shape("forward", (2, 4, 3, 3), (2, 4, 4, 4), (7, 6), (3, 2), geom)
    assert d.bug == "output-size" and "missing +1" in d.explanation


def test_shape_ceil_and_no_stride():
    geom = make_geometry(3, 1, 1, "correlate", 1, (9,), (3,))
    assert "ceil instead of floor" in diagnose_shape("forward", (1, 1, 4), (1, 1, 3), (9,), (3,), geom).explanation
    assert "stride left out" in diagnose_shape("forward", (1, 1, 9), (1, 1, 3), (9,), (3,), geom).explanation


def test_shape_dilation_left_out_gets_the_dilated_formula():
    geom = make_geometry(1, 1, 2, "correlate", 2, (9, 8), (3, 3))     # expected 5x4; undilated 9x8
    d = diagnose_shape("forward", (1, 1, 9, 8), (1, 1, 5, 4), (9, 8), (3, 3), geom)
    assert d.bug == "output-size" and "dilation left out" in d.explanation
    assert "d*(k - 1)" in d.explanation
    plain = make_geometry(1, 1, 1, "correlate", 2, (9, 8), (3, 3))
    assert "d*(k - 1)" not in diagnose_shape("forward", (1, 1, 8, 7), (1, 1, 9, 8), (9, 8), (3, 3), plain).explanation


def test_shape_unknown_forward_size_is_still_output_size():
    geom = make_geometry(2, 1, 1, "correlate", 2, (7, 6), (3, 2))
    d = diagnose_shape("forward", (2, 4, 9, 9), (2, 4, 4, 4), (7, 6), (3, 2), geom)
    assert d.bug == "output-size" and d.confidence < 0.9


def test_shape_empty_input_gradient_at_pad_0():
    geom = make_geometry(1, 0, 1, "correlate", 2, (7, 6), (3, 2))
    d = diagnose_shape("grad_input", (2, 3, 0, 0), (2, 3, 7, 6), (7, 6), (3, 2), geom)
    assert d.bug == "grad-input-unpad-empty-at-pad0"


def test_shape_bias_and_transposed_filter_gradient():
    geom = make_geometry(2, 1, 1, "correlate", 2, (7, 6), (3, 2))
    assert diagnose_shape("grad_bias", (2, 4), (4,), (7, 6), (3, 2), geom).bug == "grad-bias-not-summed"
    assert diagnose_shape("grad_filter", (4, 3, 2, 3), (4, 3, 3, 2), (7, 6), (3, 2), geom).bug == \
        "grad-filter-transposed"
    assert diagnose_shape("grad_input", (2, 3, 7, 6), (2, 3, 7, 6), (7, 6), (3, 2), geom) is None


# ----------------------------------------------------------------------------- other learner forms

def fwd_js_overwrite(x, w, b, s, p):
    """Seed-style loop with a bounds check and `sum = ...`: the last in-range tap of the last channel wins."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    out = np.zeros((N, F, osize(H, KH, s, p), osize(W, KW, s, p)))
    for n in range(N):
        for f in range(F):
            for y in range(out.shape[2]):
                for xx in range(out.shape[3]):
                    acc = 0.0
                    for c in range(C):
                        for j in range(KH):
                            for i in range(KW):
                                r, q = y * s + j - p, xx * s + i - p
                                if 0 <= r < H and 0 <= q < W:
                                    acc = x[n, c, r, q] * w[f, c, j, i]
                    out[n, f, y, xx] = acc + b[f]
    return out


def gx_overwrite_per_filter(dout, w, x_shape, s, p):
    N, C, H, W = x_shape
    F, _, KH, KW = w.shape
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for n in range(N):
        for f in range(F):
            for y in range(dout.shape[2]):
                for xx in range(dout.shape[3]):
                    dxp[n, :, y * s:y * s + KH, xx * s:xx * s + KW] = w[f] * dout[n, f, y, xx]
    return dxp[:, :, p:p + H, p:p + W]


def gx_loops_plus_p(dout, w, x_shape, s, p):
    """Scatter loops with the padding added instead of subtracted."""
    N, C, H, W = x_shape
    F, _, KH, KW = w.shape
    dx = np.zeros(x_shape)
    for n in range(N):
        for f in range(F):
            for y in range(dout.shape[2]):
                for xx in range(dout.shape[3]):
                    for j in range(KH):
                        for i in range(KW):
                            r, q = y * s + j + p, xx * s + i + p
                            if 0 <= r < H and 0 <= q < W:
                                dx[n, :, r, q] += dout[n, f, y, xx] * w[f, :, j, i]
    return dx


def gw_first_sample(dout, x, w_shape, s, p):
    return gw_loops(dout[:1], x[:1], w_shape, s, p)


OTHER_FORMS = [
    ("forward", "overwrite-not-accumulate", fwd_js_overwrite, "last in-range tap"),
    ("forward", "channels-not-summed", lambda x, w, b, s, p: fwd_cs231n(x[:, -1:], w[:, -1:], b, s, p),
     "only the last channel"),
    ("grad_input", "grad-input-overwrite-not-accumulate", gx_overwrite_per_filter, "last filter"),
    ("grad_input", "grad-input-padding-offset", lambda d, w, xs, s, p: gx_loops_plus_p(d, w, xs, s, p),
     "shifted by +p"),
    ("grad_filter", "grad-filter-not-summed-over-batch", gw_first_sample, "first sample"),
    ("grad_bias", "grad-bias-not-summed", lambda d: d.sum(axis=(2, 3)), "not summed over positions"),
    ("grad_bias", "grad-bias-not-summed", lambda d: d[0].sum(axis=(1, 2)), "first sample"),
]


@pytest.mark.parametrize("target,bug,fn,form", OTHER_FORMS, ids=[f[3] for f in OTHER_FORMS])
def test_other_learner_forms_name_the_same_id_and_their_form(target, bug, fn, form):
    found = run(target, fn, NONSQUARE)
    assert found and found[0].bug == bug and form in found[0].explanation


def test_double_slip_in_the_input_gradient_gets_both_ids():
    def unflipped_and_unshifted(d, w, xs, s, p):
        return gx_scatter(d, w, xs, s, p, flip=True, crop="from0")
    found = run("grad_input", unflipped_and_unshifted, NONSQUARE)
    assert {x.bug for x in found[:2]} == {"grad-input-filter-not-flipped", "grad-input-padding-offset"}


def test_convolution_asked_but_correlation_given():
    geom = make_geometry(2, 1, 1, "convolve", 2, (7, 6), (3, 2))
    rng = np.random.default_rng(3)
    draws = [random_draw(rng, geom, batch=2, channels=3, filters=4, **NONSQUARE) for _ in range(2)]
    outs = [fwd_correct(d.x, d.w, d.b, 2, 1) for d in draws]
    assert match("forward", draws, outs, geom)[0].bug == "filter-flipped"


def test_user_without_bias_and_failed_draws():
    geom, draws = draws_for(NONSQUARE)
    outs = [fwd_cs231n(d.x, d.w, np.zeros(4), 2, 1, slip="flip") for d in draws]
    assert match("forward", draws, outs, geom, has_bias=False)[0].bug == "filter-flipped"
    assert match("forward", draws, [outs[0], None], geom) == []


def test_unusable_user_outputs_match_nothing():
    geom, draws = draws_for(NONSQUARE)
    ragged = [[1.0, 2.0], [3.0]]
    assert match("forward", draws, [ragged, ragged], geom) == []
    assert match("forward", draws, ["text", "text"], geom) == []
    assert diagnose_shape("forward", None, (2, 4, 4, 4), (7, 6), (3, 2), geom) is None


def fwd_by_output_zero_helper(x, w, b, s, p):
    """f[y][x] through a helper that returns 0 past the edge (the demo's at(f, y, x))."""
    def at(m, i, j):
        return m[i, j] if 0 <= i < m.shape[0] and 0 <= j < m.shape[1] else 0.0
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    out = np.zeros((N, F, osize(H, KH, s, p), osize(W, KW, s, p)))
    for n in range(N):
        for f in range(F):
            for y in range(out.shape[2]):
                for xx in range(out.shape[3]):
                    acc = b[f]
                    for c in range(C):
                        for j in range(KH):
                            for i in range(KW):
                                r, q = y * s + j - p, xx * s + i - p
                                if 0 <= r < H and 0 <= q < W:
                                    acc += x[n, c, r, q] * at(w[f, c], y, xx)
                    out[n, f, y, xx] = acc
    return out


def test_reads_past_the_filter_edge_as_zero_keep_full_confidence():
    found = run("forward", fwd_by_output_zero_helper, NONSQUARE)
    assert found[0].bug == "filter-indexed-by-output" and found[0].confidence >= 0.98
