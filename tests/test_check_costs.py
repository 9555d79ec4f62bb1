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
    """A remade draw is the eager one again; a deferred draw leaves the stream as if it were not
    there, is made on use, and is the same draw every time (same seed, same arrays)."""
    eager_rng, lazy_rng = np.random.default_rng(7), np.random.default_rng(7)
    eager = [random_draw(eager_rng, GEOM, **SIZES) for _ in range(2)]
    first, recipe = remade_draw(lazy_rng, GEOM, **SIZES)
    deferred = deferred_draw(lazy_rng, GEOM, **SIZES)
    draws = Draws([(first, recipe), deferred, random_draw(lazy_rng, GEOM, **SIZES)])
    assert eager_rng.random() == lazy_rng.random()          # what comes after is drawn alike
    assert _equal(draws[0], eager[0]) and _equal(draws[2], eager[1])
    made = draws[1]                                         # made on use, from its own generator
    assert not _equal(made, eager[0]) and not _equal(made, eager[1])
    again = deferred_draw(np.random.default_rng(7), GEOM, **SIZES)
    assert _equal(again.make(), made)                       # the same seed gives the same draw
    draws.release()                                         # arrays go; recipes make them again
    assert _equal(draws[0], eager[0]) and _equal(draws[1], made) and _equal(draws[2], eager[1])
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


def test_the_quick_pass_agrees_with_the_full_rule_on_large_arrays():
    """Above one chunk a passing comparison takes the chunked pass; any wrong, NaN or Inf entry,
    in any chunk, must still reach the full rule and be counted there."""
    from corrcheck.checks import compare as module
    tol = Tolerance(rtol=1e-6, atol=1e-8, fd_step=1e-3)
    rng = np.random.default_rng(3)
    expected = rng.standard_normal((3, 2, 150, 160)) * 5            # 144000 entries: several chunks
    actual = expected + 1e-9 * rng.standard_normal(expected.shape)
    assert expected.size > 4 * module._CHUNK
    ok = compare("forward", "reference", actual, expected, tol)
    full_diff, full_bad = module._abs_diff_and_mask(actual, expected, tol)
    assert ok.status == "pass" and ok.mismatches == 0 and not full_bad.any()
    assert ok.max_abs_error == float(full_diff.max())               # the same number, not an estimate
    last = expected.size - 1                                          # the last chunk is a short one
    for flat, value in ((0, 1.0), (module._CHUNK * 2 + 5, np.nan), (last, np.inf)):
        broken = actual.copy().reshape(-1)
        broken[flat] = broken[flat] + value if np.isfinite(value) else value
        res = compare("forward", "reference", broken.reshape(actual.shape), expected, tol)
        assert res.status == "fail" and res.mismatches == 1
        assert res.error_map.reshape(-1)[flat]
    tight = compare("forward", "reference", actual, expected, Tolerance(rtol=0.0, atol=0.0, fd_step=1e-3))
    assert tight.status == "fail" and tight.mismatches == int(np.count_nonzero(actual != expected))


def test_same_values_is_array_equal_with_nan():
    """The bitwise shortcut must never change numpy's answer (equal_nan=True)."""
    from corrcheck.checks.compare import same_values
    rng = np.random.default_rng(4)
    a = rng.standard_normal((4, 5, 6))
    cases = [a.copy(), a + 0.0 * a, np.where(a > 1, np.nan, a), np.where(a > 1, -0.0, a), a[::-1].copy(),
             a.astype(np.float32), a.reshape(4, 30), a.transpose(2, 1, 0)]
    for left in cases:
        for right in cases:
            if left.shape == right.shape:
                assert same_values(left, right) == np.array_equal(left, right, equal_nan=True)
            else:
                assert not same_values(left, right)
    zeros = np.zeros(8)
    assert same_values(zeros, -zeros) and np.array_equal(zeros, -zeros)  # -0.0 == 0.0 by value


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
    # random directions measure no per-entry error: none is reported (it used to say 0)
    directional = [c for c in result.checks if c.mode == "directional"]
    assert directional and all(c.max_abs_error is None for c in directional)


def _writer(where: str, calls):
    """The _layer pair, writing into one of its arguments the way learner code does by accident."""
    fwd, bwd = _layer(calls)

    def conv_forward(x, w, b, conv_param):
        if where == "x":
            x -= x.mean()                          # "normalise" the input in place
        return fwd(x, w, b, conv_param)

    def conv_backward(dout, cache):
        if where == "dout":
            dout *= 1.0                            # a write that changes nothing is still a write
        return bwd(dout, cache)

    return conv_forward, conv_backward


def test_arguments_are_lent_read_only_and_a_write_is_still_named():
    """NumPy code gets corrcheck's arrays as read-only views, not copies; code that writes into
    an argument is called again on copies, so the in-place-write check still names it, and code
    that only looks at its arguments is not affected."""
    seen = []
    calls = {"forward": 0, "backward": 0}
    fwd, bwd = _layer(calls)

    def looking(x, w, b, conv_param):
        seen.append(x.flags.writeable)
        return fwd(x, w, b, conv_param)

    sizes = dict(convention="cs231n", batch=2, channels=3, filters=4, input_size="9", filter_size="3",
                 stride="1", pad="1")
    assert corrcheck.check(forward=looking, grad_input=bwd, grad_filter=bwd, grad_bias=bwd, **sizes).passed
    assert seen and not any(seen)                  # never a writable copy
    for where, moves in (("x", True), ("dout", False)):
        fwd_w, bwd_w = _writer(where, {"forward": 0, "backward": 0})
        result = corrcheck.check(forward=fwd_w, grad_input=bwd_w, grad_filter=bwd_w, grad_bias=bwd_w, **sizes)
        messages = [c.message or "" for c in result.checks]
        name = "conv_forward" if where == "x" else "conv_backward"
        if moves:                                  # values changed: named, and the run fails
            assert result.verdict == "fail"
            assert any(f"{name} changes its argument `{where}` in place" in m for m in messages), messages
        else:                                      # the same values written back: nothing to name
            assert result.passed, messages
