"""reference_ops (grouped, transposed, pooling) against the naive loops and against torch.

Hypothesis draws hundreds of small configurations (1-3 spatial axes,
stride, padding, dilation, groups, output padding, ceil mode, count_include_pad)
derandomized, so a run is repeatable. The torch half skips when torch is absent.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corrcheck import reference, reference_ops as R
from corrcheck.geometry import ConfigError, make_geometry, window_geometry

import naive_oracle_ops as oracle

SETTINGS = settings(max_examples=120, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
try:
    import torch
    import torch.nn.functional as TF
except ImportError:   # CI has torch; a bare install still runs the oracle half
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


@st.composite
def conv_cases(draw, transposed=False):
    nd = draw(st.integers(1, 3))
    small = nd == 3
    groups = draw(st.sampled_from([1, 2, 3]))
    cg = draw(st.integers(1, 2))
    fg = draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 2 if small else 3)) for _ in range(nd))
    s = draw(st.integers(1, 3))
    d = draw(st.integers(1, 2))
    n = tuple(draw(st.integers(1, 3 if small else 6)) for _ in range(nd))
    a = draw(st.integers(0, max(s, d) - 1)) if transposed else 0
    # transposed: the crop 2p must leave at least one output row on every axis
    reach = min((m - 1) * s + d * (kk - 1) + a for m, kk in zip(n, k)) if transposed else 4
    p = draw(st.integers(0, min(2, reach // 2)))
    batch = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**16))
    return dict(nd=nd, groups=groups, cg=cg, fg=fg, k=k, s=s, d=d, p=p, n=n, a=a, batch=batch, seed=seed)


@given(conv_cases())
@SETTINGS
def test_grouped_correlation_matches_loops(c):
    rng = np.random.default_rng(c["seed"])
    G = c["groups"]
    x = rng.standard_normal((c["batch"], G * c["cg"]) + c["n"])
    w = rng.standard_normal((G * c["fg"], c["cg"]) + c["k"])
    b = rng.standard_normal(G * c["fg"])
    try:
        g = window_geometry(c["s"], c["p"], c["d"], "correlate", c["nd"], c["n"], c["k"], groups=G)
    except ConfigError:
        return   # the filter does not fit; geometry says so (tested in test_geometry_ops)
    out = R.conv_forward(x, w, b, geometry=g)
    np.testing.assert_allclose(out, oracle.grouped_correlation(x, w, b, c["s"], c["p"], c["d"], G), atol=1e-10)
    dout = rng.standard_normal(out.shape)
    dx, dw = oracle.grouped_correlation_grads(x, w, dout, c["s"], c["p"], c["d"], G)
    np.testing.assert_allclose(R.conv_grad_input(dout, w, x.shape, geometry=g), dx, atol=1e-10)
    np.testing.assert_allclose(R.conv_grad_filter(dout, x, w.shape, geometry=g), dw, atol=1e-10)


@given(conv_cases(transposed=True))
@SETTINGS
def test_transposed_matches_loops(c):
    rng = np.random.default_rng(c["seed"])
    G = c["groups"]
    x = rng.standard_normal((c["batch"], G * c["cg"]) + c["n"])
    w = rng.standard_normal((G * c["cg"], c["fg"]) + c["k"])
    b = rng.standard_normal(G * c["fg"])
    try:
        g = window_geometry(c["s"], c["p"], c["d"], "transpose", c["nd"], c["n"], c["k"], groups=G,
                          output_padding=c["a"])
    except ConfigError:
        return
    y = R.transpose_forward(x, w, b, geometry=g)
    np.testing.assert_allclose(y, oracle.transposed(x, w, b, c["s"], c["p"], c["d"], c["a"], G), atol=1e-10)
    dy = rng.standard_normal(y.shape)
    dx, dw = oracle.transposed_grads(x, w, dy, c["s"], c["p"], c["d"], G)
    np.testing.assert_allclose(R.transpose_grad_input(dy, w, x.shape, geometry=g), dx, atol=1e-10)
    np.testing.assert_allclose(R.transpose_grad_filter(dy, x, w.shape, geometry=g), dw, atol=1e-10)


@st.composite
def pool_cases(draw):
    nd = draw(st.integers(1, 3))
    op = draw(st.sampled_from(["maxpool", "avgpool"]))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = draw(st.integers(1, 3))
    p = draw(st.integers(0, min(k) // 2))
    d = draw(st.integers(1, 2)) if op == "maxpool" else 1
    n = tuple(draw(st.integers(1, 4 if nd == 3 else 7)) for _ in range(nd))
    return dict(nd=nd, op=op, k=k, s=s, p=p, d=d, n=n, ceil=draw(st.booleans()), incl=draw(st.booleans()),
                batch=draw(st.integers(1, 2)), c=draw(st.integers(1, 2)), seed=draw(st.integers(0, 2**16)))


def _pool_geometry(c):
    return window_geometry(c["s"], c["p"], c["d"], c["op"], c["nd"], c["n"], c["k"], ceil_mode=c["ceil"],
                         count_include_pad=c["incl"] and c["op"] == "avgpool")


@given(pool_cases())
@SETTINGS
def test_pooling_matches_loops(c):
    rng = np.random.default_rng(c["seed"])
    x = rng.standard_normal((c["batch"], c["c"]) + c["n"])
    try:
        g = _pool_geometry(c)
    except ConfigError:
        return
    incl = g.count_include_pad
    out = R.pool_forward(x, c["k"], geometry=g)
    want, _ = oracle.pool(x, c["k"], c["s"], c["p"], c["d"], c["op"], c["ceil"], incl)
    np.testing.assert_allclose(out, want, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(R.pool_grad_input(dout, x, c["k"], geometry=g),
                               oracle.pool_grad_input(x, dout, c["k"], c["s"], c["p"], c["d"], c["op"], c["ceil"],
                                                      incl), atol=1e-12)


def test_max_pool_tie_goes_to_the_first_maximum_in_window_order():
    """The stated tie rule: constant windows send the whole gradient to their first cell."""
    g = window_geometry(2, 0, 1, "maxpool", 2)
    x = np.ones((1, 1, 4, 4))
    dx = R.pool_grad_input(np.ones((1, 1, 2, 2)), x, (2, 2), geometry=g)
    assert dx[0, 0].tolist() == [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]


@pytest.mark.parametrize("kernel, stride, pad", [((2, 2), 2, 0), ((3, 3), 2, 1), ((5, 5), 3, 2), ((9, 9), 1, 4)])
def test_max_pool_routes_ties_as_the_loops_do_for_every_kernel_size(kernel, stride, pad):
    """Inputs of three values tie everywhere; the first maximum in window order gets dout.
    4 and 9 taps rank by table lookup, 25 by the lowest bit of a uint32, 81 tap by tap."""
    rng = np.random.default_rng(sum(kernel))
    x = rng.integers(0, 3, (2, 3, 11, 10)).astype(float)
    g = window_geometry(stride, pad, 1, "maxpool", 2, x.shape[2:], kernel)
    dout = rng.standard_normal(R.pool_forward(x, kernel, geometry=g).shape)
    np.testing.assert_allclose(R.pool_grad_input(dout, x, kernel, geometry=g),
                               oracle.pool_grad_input(x, dout, kernel, stride, pad, 1, "maxpool"), atol=1e-12)


def test_max_pool_windows_of_minus_infinity_never_route_to_padding():
    """A window whose input cells are all -inf ties with its padding; the gradient still goes to an
    input cell (the first), never off the input, and the other windows are unaffected."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 6, 6))
    x[0, 0, :2, :2] = -np.inf
    g = window_geometry(2, 1, 1, "maxpool", 2, x.shape[2:], (3, 3))
    dout = rng.standard_normal(R.pool_forward(x, (3, 3), geometry=g).shape)
    np.testing.assert_allclose(R.pool_grad_input(dout, x, (3, 3), geometry=g),
                               oracle.pool_grad_input(x, dout, (3, 3), 2, 1, 1, "maxpool"), atol=1e-12)


def test_sample_blocks_on_threads_give_the_one_block_results(monkeypatch):
    """Every op split into one-sample blocks on three threads equals the same op in one block."""
    from corrcheck import reference_threads

    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 4, 9, 8))
    calls = {
        "grouped": lambda: _every_target("correlate", x, rng, groups=2),
        "transpose": lambda: _every_target("transpose", x, rng, groups=2),
        "pool": lambda: _every_target("maxpool", x, rng) + _every_target("avgpool", x, rng),
    }
    results = {}
    for mode in ("one block", "threads"):
        rng = np.random.default_rng(8)
        if mode == "threads":
            monkeypatch.setattr(R, "BLOCK_ELEMENTS", 1)
            monkeypatch.setattr(R, "ONE_GEMM_ELEMENTS", 0)
            monkeypatch.setattr(R, "SPREAD_ELEMENTS", 0)
            monkeypatch.setattr(reference, "POOL_FLOPS", 0)
            monkeypatch.setattr(reference_threads, "WORKERS", 3)
        else:
            monkeypatch.setattr(R, "BLOCK_ELEMENTS", 1 << 40)
        results[mode] = [a for call in calls.values() for a in call()]
    for one, threaded in zip(results["one block"], results["threads"]):
        np.testing.assert_allclose(threaded, one, rtol=0, atol=1e-12)


@pytest.mark.parametrize("form", [True, False], ids=["gather", "scatter"])
def test_both_grad_input_forms_match_the_loops(form, monkeypatch):
    """conv_grad_input picks gather or scatter by size; each form alone, forced, matches the loops
    over strides, dilations, groups, 1-3 axes, and transposed layers (whose forward it is)."""
    monkeypatch.setattr(R, "_gathers", lambda *sizes: form)
    rng = np.random.default_rng(5)
    checked = 0
    for _ in range(60):
        nd, G = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        k = tuple(int(v) for v in rng.integers(1, 4 if nd < 3 else 3, nd))
        n = tuple(int(v) for v in rng.integers(3, 8 if nd < 3 else 5, nd))
        s, d, p = int(rng.integers(1, 4)), int(rng.integers(1, 3)), int(rng.integers(0, 2))
        cg, fg = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        x = rng.standard_normal((2, G * cg) + n)
        w = rng.standard_normal((G * fg, cg) + k)
        try:
            g = window_geometry(s, p, d, "correlate", nd, n, k, groups=G)
        except ConfigError:
            continue
        dout = rng.standard_normal(R.conv_forward(x, w, geometry=g).shape)
        dx, _ = oracle.grouped_correlation_grads(x, w, dout, s, p, d, G)
        np.testing.assert_allclose(R.conv_grad_input(dout, w, x.shape, geometry=g), dx, atol=1e-10)
        wt = rng.standard_normal((G * cg, fg) + k)
        a = int(rng.integers(0, max(s, d)))
        try:
            gt = window_geometry(s, p, d, "transpose", nd, n, k, groups=G, output_padding=a)
        except ConfigError:
            continue
        y = R.transpose_forward(x, wt, geometry=gt)
        np.testing.assert_allclose(y, oracle.transposed(x, wt, None, s, p, d, a, G), atol=1e-10)
        checked += 1
    assert checked >= 25


def test_a_batch_of_no_samples_gives_empty_outputs_and_a_zero_filter_gradient():
    """N=0 through every op (the block helpers must not index a first sample)."""
    g = window_geometry(2, 1, 1, "correlate", 2, (5, 5), (3, 3), groups=2)
    x, w = np.zeros((0, 4, 5, 5)), np.ones((6, 2, 3, 3))
    y = R.conv_forward(x, w, geometry=g)
    assert y.shape == (0, 6, 3, 3)
    assert R.conv_grad_input(y, w, x.shape, geometry=g).shape == x.shape
    assert np.array_equal(R.conv_grad_filter(y, x, w.shape, geometry=g), np.zeros(w.shape))
    for op in ("maxpool", "avgpool"):
        gp = window_geometry(2, 1, 1, op, 2, (5, 5), (3, 3))
        pooled = R.pool_forward(x, (3, 3), geometry=gp)
        assert pooled.shape == (0, 4, 3, 3)
        assert R.pool_grad_input(pooled, x, (3, 3), geometry=gp).shape == x.shape


def test_small_gemm_ops_run_as_one_block_and_large_ones_in_several(monkeypatch):
    """Splitting costs a GEMM call and a pass of copies per block: only ops too big for one pay it."""
    from corrcheck import reference_threads

    seen = []
    original = reference_threads.each_block
    monkeypatch.setattr(reference_threads, "each_block",
                        lambda blocks, work, spread=True: seen.append(len(blocks)) or original(blocks, work, spread))
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((6, 4, 9, 9)), rng.standard_normal((4, 2, 3, 3))
    g = window_geometry(1, 1, 1, "correlate", 2, x.shape[2:], (3, 3), groups=2)
    columns = 6 * 4 * 9 * R._layout((9, 9), (9, 9), (3, 3), g).length
    for limit, blocks in ((columns, 1), (columns - 1, 6)):
        monkeypatch.setattr(R, "ONE_GEMM_ELEMENTS", limit)
        monkeypatch.setattr(R, "BLOCK_ELEMENTS", 1)
        seen.clear()
        R.conv_forward(x, w, geometry=g)
        assert seen == [blocks]


def _every_target(op, x, rng, groups=1):
    """Every target of one op on x (4 channels), 3x3 windows at stride 2, pad 1."""
    g = window_geometry(2, 1, 1, op, 2, x.shape[2:], (3, 3), groups=groups)
    if op in ("maxpool", "avgpool"):
        y = R.pool_forward(x, (3, 3), geometry=g)
        return [y, R.pool_grad_input(rng.standard_normal(y.shape), x, (3, 3), geometry=g)]
    if op == "correlate":
        w, ops = rng.standard_normal((6, 4 // groups, 3, 3)), (R.conv_forward, R.conv_grad_input, R.conv_grad_filter)
    else:
        w, ops = rng.standard_normal((4, 6 // groups, 3, 3)), (R.transpose_forward, R.transpose_grad_input,
                                                               R.transpose_grad_filter)
    y = ops[0](x, w, geometry=g)
    dout = rng.standard_normal(y.shape)
    return [y, ops[1](dout, w, x.shape, geometry=g), ops[2](dout, x, w.shape, geometry=g)]


# ---- torch -------------------------------------------------------------------------------------

def _torch_grads(fn, *arrays):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    dout = torch.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)))
    (y * dout).sum().backward()
    return y.detach().numpy(), dout.numpy(), [t.grad.numpy() for t in ts]


@needs_torch
@given(conv_cases())
@SETTINGS
def test_grouped_matches_torch(c):
    rng = np.random.default_rng(c["seed"])
    G, nd = c["groups"], c["nd"]
    x = rng.standard_normal((c["batch"], G * c["cg"]) + c["n"])
    w = rng.standard_normal((G * c["fg"], c["cg"]) + c["k"])
    try:
        g = window_geometry(c["s"], c["p"], c["d"], "correlate", nd, c["n"], c["k"], groups=G)
    except ConfigError:
        return
    conv = getattr(TF, f"conv{nd}d")
    y, dout, (dx, dw) = _torch_grads(lambda a, b: conv(a, b, None, c["s"], c["p"], c["d"], G), x, w)
    np.testing.assert_allclose(R.conv_forward(x, w, geometry=g), y, atol=1e-10)
    np.testing.assert_allclose(R.conv_grad_input(dout, w, x.shape, geometry=g), dx, atol=1e-10)
    np.testing.assert_allclose(R.conv_grad_filter(dout, x, w.shape, geometry=g), dw, atol=1e-10)


@needs_torch
@given(conv_cases(transposed=True))
@SETTINGS
def test_transposed_matches_torch(c):
    rng = np.random.default_rng(c["seed"])
    G, nd = c["groups"], c["nd"]
    x = rng.standard_normal((c["batch"], G * c["cg"]) + c["n"])
    w = rng.standard_normal((G * c["cg"], c["fg"]) + c["k"])
    try:
        g = window_geometry(c["s"], c["p"], c["d"], "transpose", nd, c["n"], c["k"], groups=G, output_padding=c["a"])
    except ConfigError:
        return
    convt = getattr(TF, f"conv_transpose{nd}d")
    y, dy, (dx, dw) = _torch_grads(lambda a, b: convt(a, b, None, c["s"], c["p"], c["a"], G, c["d"]), x, w)
    np.testing.assert_allclose(R.transpose_forward(x, w, geometry=g), y, atol=1e-10)
    np.testing.assert_allclose(R.transpose_grad_input(dy, w, x.shape, geometry=g), dx, atol=1e-10)
    np.testing.assert_allclose(R.transpose_grad_filter(dy, x, w.shape, geometry=g), dw, atol=1e-10)


@needs_torch
@given(pool_cases())
@SETTINGS
def test_pooling_matches_torch(c):
    rng = np.random.default_rng(c["seed"])
    nd = c["nd"]
    x = rng.standard_normal((c["batch"], c["c"]) + c["n"])
    try:
        g = _pool_geometry(c)
    except ConfigError:
        return
    if c["op"] == "maxpool":
        fn = getattr(TF, f"max_pool{nd}d")
        call = (lambda a: fn(a, c["k"], c["s"], c["p"], c["d"], ceil_mode=c["ceil"]))
    else:
        fn = getattr(TF, f"avg_pool{nd}d")
        call = (lambda a: fn(a, c["k"], c["s"], c["p"], ceil_mode=c["ceil"], count_include_pad=g.count_include_pad))
    y, dout, (dx,) = _torch_grads(call, x)
    np.testing.assert_allclose(R.pool_forward(x, c["k"], geometry=g), y, atol=1e-12)
    np.testing.assert_allclose(R.pool_grad_input(dout, x, c["k"], geometry=g), dx, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("n,k,s,p,d,a", [(5, 3, 2, 1, 1, 1), (4, 2, 3, 0, 2, 2), (7, 3, 1, 2, 2, 1)])
def test_transposed_output_size_formula_matches_torch(n, k, s, p, d, a):
    g = window_geometry(s, p, d, "transpose", 1, output_padding=a)
    y = TF.conv_transpose1d(torch.zeros(1, 1, n, dtype=torch.float64), torch.zeros(1, 1, k, dtype=torch.float64),
                            None, s, p, a, 1, d)
    assert g.out_shape((n,), (k,)) == (y.shape[-1],) == ((n - 1) * s - 2 * p + d * (k - 1) + a + 1,)


@pytest.mark.parametrize("op", ["transpose", "maxpool", "avgpool"])
def test_dense_geometry_and_reference_refuse_the_window_ops(op):
    """The dense reference must not silently compute a correlation when asked for another op."""
    from corrcheck import reference
    with pytest.raises(ConfigError, match="op must be correlate or convolve"):
        make_geometry(1, 0, 1, op, 2)
    with pytest.raises(ConfigError):
        reference.forward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), op=op)


@pytest.mark.parametrize("kwargs,words", [
    (dict(op="transpose", output_padding=2, stride=2), "output padding 2"),
    (dict(op="maxpool", pad=2), "at most half the window"),
    (dict(op="avgpool", dilation=2), "no dilation"),
    (dict(op="maxpool", groups=2), "no groups"),
    (dict(op="correlate", ceil_mode=True), "ceil mode belongs"),
])
def test_window_geometry_refuses_impossible_settings_in_one_sentence(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        window_geometry(ndim=2, in_spatial=(5, 5), k_spatial=(3, 3), **kwargs)
