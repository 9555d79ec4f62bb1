"""What a check keeps and recomputes: deferred draws, released outcomes, the backward memo, compare.

At large shapes every array is ~50 MB, so these pin that the savings keep the
exact behaviour: the same random stream, the same comparison rule, the same calls.
"""
from __future__ import annotations

import numpy as np

import corrcheck
from corrcheck.binding.bound import _same_inputs
from corrcheck.checks.compare import compare
from corrcheck.checks.draw import Draws, deferred_draw, random_draw, remade_draw
from corrcheck.checks.tolerances import Tolerance
from corrcheck.geometry import make_geometry

GEOM = make_geometry(2, 1, 1, "correlate", 2, (9, 8), (3, 3))
SIZES = dict(batch=2, channels=3, filters=4, in_spatial=(9, 8), k_spatial=(3, 3), bias=True)


def _equal(a, b) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("x", "w", "b", "dout"))


def test_deferred_and_remade_draws_give_the_eager_stream():
    eager_rng, lazy_rng = np.random.default_rng(7), np.random.default_rng(7)
    eager = [random_draw(eager_rng, GEOM, **SIZES) for _ in range(3)]
    first, recipe = remade_draw(lazy_rng, GEOM, **SIZES)
    draws = Draws([(first, recipe), deferred_draw(lazy_rng, GEOM, **SIZES), random_draw(lazy_rng, GEOM, **SIZES)])
    assert eager_rng.random() == lazy_rng.random()          # what comes after is drawn alike
    assert all(_equal(e, d) for e, d in zip(eager, draws))  # the deferred one is made on use
    draws.release()                                         # arrays go; recipes make them again
    assert _equal(draws[0], eager[0]) and _equal(draws[1], eager[1]) and _equal(draws[2], eager[2])
    assert draws[0] is not first


def test_memo_matches_the_same_or_equal_inputs_only():
    x, w = np.ones((2, 3, 4, 4)), np.ones((4, 3, 3, 3))
    key = (x, x, w, None, GEOM)
    assert _same_inputs(key, key)
    assert _same_inputs(key, (x.copy(), x, w.copy(), None, GEOM))
    changed = x.copy()
    changed[1, 2, 3, 3] = 2.0
    assert not _same_inputs(key, (changed, x, w, None, GEOM))
    assert not _same_inputs(key, (x, x, w, np.zeros(4), GEOM))
    assert not _same_inputs(key, (x, x, w, None, make_geometry(1, 1, 1, "correlate", 2, (4, 4), (3, 3))))


def test_compare_keeps_the_nan_and_inf_rule():
    tol = Tolerance(rtol=1e-6, atol=1e-8, fd_step=1e-3)
    expected = np.array([1.0, np.nan, 2.0, 3.0])
    actual = np.array([1.0, np.nan, 2.0 + 1e-3, np.nan])
    res = compare("forward", "reference", actual, expected, tol)
    # both NaN agree; 1e-3 off is wrong; NaN where 3.0 was is wrong and makes the max error unknown
    assert res.error_map.tolist() == [False, False, True, True]
    assert res.mismatches == 2 and res.status == "fail" and res.max_abs_error is None
    assert [m.index for m in res.worst] == [(3,), (2,)]               # the unknown error first
    finite = compare("forward", "reference", np.array([1.0, 2.5]), np.array([1.0, 2.0]), tol)
    assert finite.max_abs_error == 0.5 and [m.index for m in finite.worst] == [(1,)]


def _layer(calls):
    from numpy.lib.stride_tricks import sliding_window_view

    def conv_forward(x, w, b, conv_param):
        calls["forward"] += 1
        p = conv_param["pad"]
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))
        return np.einsum("nchwij,fcij->nfhw", win, w) + b[None, :, None, None], (x, w, b, conv_param)

    def conv_backward(dout, cache):
        calls["backward"] += 1
        x, w, b, conv_param = cache
        p = conv_param["pad"]
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))
        dw = np.einsum("nfhw,nchwij->fcij", dout, win)
        dxp = np.zeros_like(xp)
        kh, kw = w.shape[2:]
        for i in range(kh):
            for j in range(kw):
                dxp[:, :, i:i + dout.shape[2], j:j + dout.shape[3]] += np.einsum("nfhw,fc->nchw", dout, w[:, :, i, j])
        return dxp[:, :, p:dxp.shape[2] - p, p:dxp.shape[3] - p], dw, dout.sum(axis=(0, 2, 3))

    return conv_forward, conv_backward


def test_one_backward_call_serves_all_three_gradients():
    """Per draw the backward runs once for dx, dw and db (the memo), plus the repeatability call."""
    calls = {"forward": 0, "backward": 0}
    fwd, bwd = _layer(calls)
    result = corrcheck.check(forward=fwd, grad_input=bwd, grad_filter=bwd, grad_bias=bwd, convention="cs231n",
                             batch=2, channels=3, filters=4, input_size="12", filter_size="3", stride="1", pad="1")
    assert result.passed, result.to_dict()
    # main draw 1, repeatability 1, second draw 1, pad-0 check 1: no gradient target pays its own call
    assert calls["backward"] == 4
