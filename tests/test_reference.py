"""The vectorized reference against three outside oracles and its own algebra.

- the naive-loop oracle (tests/naive_oracle.py), on Hypothesis-generated
  configs: 1-3 spatial axes, odd/even/non-square sizes, strides 1-3,
  asymmetric pads, dilation 1-2, correlate and convolve, through both the
  gather path (tiny inputs) and the blocked im2col path;
- scipy.signal.correlate / convolve for one channel (strided by slicing);
- torch.nn.functional.conv{1,2,3}d and torch.nn.grad.* when torch is installed;
- the adjoint identity <dout, forward(x)> = <x, grad_input(dout)> = <w, grad_filter(dout)>;
and bad configurations raising ConfigError with one sentence.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corrcheck import reference, reference_threads
from corrcheck.geometry import ConfigError, make_geometry

DETERMINISTIC = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ATOL = 1e-10
PATHS = ("gather", "blocked", "blocked-gathered", "blocked-scattered")


@contextlib.contextmanager
def path(name: str):
    """Force one implementation path; 'blocked' also uses tiny blocks so samples split unevenly.

    At stride 1 the blocked path adds up the leading tap axes after the GEMM when there are
    few filters (reference._scattered_axes): '-gathered' never does, '-scattered' always does
    (every axis but the last), plain 'blocked' decides as it would for the user."""
    saved = reference.SMALL_ELEMENTS, reference.BLOCK_ELEMENTS, reference.GEMM_ROWS, reference.POOL_FLOPS
    if name == "gather":
        reference.SMALL_ELEMENTS = 10**12
    else:
        # tiny blocks, spread over the thread pool however small the op
        reference.SMALL_ELEMENTS, reference.BLOCK_ELEMENTS, reference.POOL_FLOPS = -1, 40, 0
        reference.GEMM_ROWS = {"blocked-gathered": 1, "blocked-scattered": 10**9}.get(name, reference.GEMM_ROWS)
    try:
        yield
    finally:
        reference.SMALL_ELEMENTS, reference.BLOCK_ELEMENTS, reference.GEMM_ROWS, reference.POOL_FLOPS = saved


@st.composite
def configs(draw, max_ndim=3, max_extra=4, max_batch=2, max_channels=3):
    """A valid geometry and shapes; 3-D configs stay small so the naive loops stay quick."""
    ndim = draw(st.integers(1, max_ndim))
    extra = max_extra if ndim < 3 else 2
    stride, pad, dilation, size, k = [], [], [], [], []
    for _ in range(ndim):
        ki = draw(st.integers(1, 3 if ndim < 3 else 2))
        di = draw(st.integers(1, 2))
        before, after = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        span = di * (ki - 1) + 1
        smallest = max(1, span - before - after)
        size.append(draw(st.integers(smallest, smallest + extra)))
        stride.append(draw(st.integers(1, 3)))
        pad.append((before, after))
        dilation.append(di)
        k.append(ki)
    n, c, f = (draw(st.integers(1, m)) for m in (max_batch, max_channels, max_channels))
    op = draw(st.sampled_from(["correlate", "convolve"]))
    return dict(stride=tuple(stride), pad=tuple(pad), dilation=tuple(dilation), op=op), (n, c, *size), (f, c, *k)


def arrays(seed, x_shape, w_shape, geom):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    out_spatial = make_geometry(**geom, ndim=len(x_shape) - 2).out_shape(x_shape[2:], w_shape[2:])
    dout = rng.standard_normal((x_shape[0], w_shape[0], *out_spatial))
    return x, w, b, dout


# --- the naive oracle ------------------------------------------------------------------------

@pytest.mark.parametrize("impl", PATHS)
@settings(max_examples=150, **DETERMINISTIC)
@given(cfg=configs(), seed=st.integers(0, 2**16))
def test_matches_naive_oracle(impl, cfg, seed, naive):
    geom, x_shape, w_shape = cfg
    x, w, b, dout = arrays(seed, x_shape, w_shape, geom)
    g = (geom["stride"], geom["pad"], geom["dilation"], geom["op"])
    with path(impl):
        out = reference.forward(x, w, b, **geom)
        dx = reference.grad_input(dout, w, x.shape, **geom)
        dw = reference.grad_filter(dout, x, w.shape, **geom)
    np.testing.assert_allclose(out, naive.forward(x, w, b, *g), rtol=0, atol=ATOL)
    np.testing.assert_allclose(dx, naive.grad_input(dout, w, x.shape, *g), rtol=0, atol=ATOL)
    np.testing.assert_allclose(dw, naive.grad_filter(dout, x, w.shape, *g), rtol=0, atol=ATOL)
    np.testing.assert_allclose(reference.grad_bias(dout), naive.grad_bias(dout), rtol=0, atol=ATOL)


def test_naive_oracle_knows_the_seed_example(naive):
    """Pin the oracle itself on a hand-computed case: 3x3 input, 2x2 filter, stride 2, pad 1."""
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    # windows start at -1 and 1 on each axis; out[0,0] only sees x[0,0] through w[1,1]
    expected = np.array([[[[4 * 1, 3 * 2 + 4 * 3], [2 * 4 + 4 * 7, 1 * 5 + 2 * 6 + 3 * 8 + 4 * 9]]]])
    np.testing.assert_array_equal(naive.forward(x, w, None, 2, 1), expected)
    np.testing.assert_array_equal(reference.forward(x, w, stride=2, pad=1), expected)


# --- scipy -------------------------------------------------------------------------------------

@settings(max_examples=60, **DETERMINISTIC)
@given(ndim=st.integers(1, 3), data=st.data())
def test_matches_scipy_single_channel(ndim, data):
    signal = pytest.importorskip("scipy.signal")
    k = tuple(data.draw(st.integers(1, 4)) for _ in range(ndim))
    size = tuple(ki + data.draw(st.integers(0, 6 if ndim < 3 else 3)) for ki in k)
    stride = data.draw(st.integers(1, 3))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x, w = rng.standard_normal(size), rng.standard_normal(k)
    every = (slice(None, None, stride),) * ndim
    for op, scipy_op in (("correlate", signal.correlate), ("convolve", signal.convolve)):
        ours = reference.forward(x[None, None], w[None, None], stride=stride, op=op)[0, 0]
        np.testing.assert_allclose(ours, scipy_op(x, w, mode="valid", method="direct")[every], atol=ATOL)
        # pad k-1 on every side is scipy's 'full' mode
        full = reference.forward(x[None, None], w[None, None], pad=tuple(ki - 1 for ki in k), op=op)[0, 0]
        np.testing.assert_allclose(full, scipy_op(x, w, mode="full", method="direct"), atol=ATOL)


# --- torch -------------------------------------------------------------------------------------

@settings(max_examples=120, **DETERMINISTIC)
@given(cfg=configs(max_extra=6, max_batch=3, max_channels=4), seed=st.integers(0, 2**16))
def test_matches_torch(cfg, seed):
    torch = pytest.importorskip("torch")
    geom, x_shape, w_shape = cfg
    x, w, b, dout = arrays(seed, x_shape, w_shape, geom)
    nd = len(x_shape) - 2
    conv = getattr(torch.nn.functional, f"conv{nd}d")
    conv_input = getattr(torch.nn.grad, f"conv{nd}d_input")
    conv_weight = getattr(torch.nn.grad, f"conv{nd}d_weight")
    spatial = tuple(range(2, 2 + nd))
    wt = torch.from_numpy(np.flip(w, spatial).copy() if geom["op"] == "convolve" else w)
    # torch pads symmetrically only: pad the input by hand (last axis first), crop dx back
    pairs = [v for before_after in reversed(geom["pad"]) for v in before_after]
    xp = torch.nn.functional.pad(torch.from_numpy(x), pairs)
    kw = dict(stride=geom["stride"], dilation=geom["dilation"])
    td = torch.from_numpy(dout)

    out = conv(xp, wt, torch.from_numpy(b), **kw).numpy()
    dxp = conv_input(xp.shape, wt, td, **kw).numpy()
    dx = dxp[(slice(None), slice(None)) + tuple(slice(b_, b_ + n) for (b_, _), n in zip(geom["pad"], x_shape[2:]))]
    dw = conv_weight(xp, wt.shape, td, **kw).numpy()
    if geom["op"] == "convolve":
        dw = np.flip(dw, spatial)

    np.testing.assert_allclose(reference.forward(x, w, b, **geom), out, rtol=0, atol=ATOL)
    np.testing.assert_allclose(reference.grad_input(dout, w, x.shape, **geom), dx, rtol=0, atol=ATOL)
    np.testing.assert_allclose(reference.grad_filter(dout, x, w.shape, **geom), dw, rtol=0, atol=ATOL)


@pytest.mark.parametrize("shape", [(8, 16, 32, (32, 32), 1, 1), (4, 8, 8, (15, 17), 2, 1), (2, 3, 5, (9, 8, 7), 2, 0)])
def test_matches_torch_on_benchmark_sized_inputs(shape):
    """The blocked path on realistic sizes (several blocks), where the benchmark measures speed."""
    torch = pytest.importorskip("torch")
    n, c, f, size, s, p = shape
    nd = len(size)
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((n, c, *size)), rng.standard_normal((f, c, *(3,) * nd))
    tx, tw = torch.from_numpy(x), torch.from_numpy(w)
    out = getattr(torch.nn.functional, f"conv{nd}d")(tx, tw, stride=s, padding=p)
    dout = rng.standard_normal(tuple(out.shape))
    td = torch.from_numpy(dout)
    dx = getattr(torch.nn.grad, f"conv{nd}d_input")(tx.shape, tw, td, stride=s, padding=p)
    dw = getattr(torch.nn.grad, f"conv{nd}d_weight")(tx, tw.shape, td, stride=s, padding=p)
    np.testing.assert_allclose(reference.forward(x, w, stride=s, pad=p), out.numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(reference.grad_input(dout, w, x.shape, stride=s, pad=p), dx.numpy(), rtol=0, atol=ATOL)
    np.testing.assert_allclose(reference.grad_filter(dout, x, w.shape, stride=s, pad=p), dw.numpy(), rtol=0, atol=ATOL)


# --- algebra -----------------------------------------------------------------------------------

@pytest.mark.parametrize("impl", PATHS)
@settings(max_examples=100, **DETERMINISTIC)
@given(cfg=configs(max_extra=8, max_batch=3, max_channels=4), seed=st.integers(0, 2**16))
def test_adjoint_identity(impl, cfg, seed):
    """forward is linear in x and in w, and the gradients are exactly its transposes."""
    geom, x_shape, w_shape = cfg
    x, w, _, dout = arrays(seed, x_shape, w_shape, geom)
    with path(impl):
        lhs = np.vdot(dout, reference.forward(x, w, **geom))
        via_x = np.vdot(x, reference.grad_input(dout, w, x.shape, **geom))
        via_w = np.vdot(w, reference.grad_filter(dout, x, w.shape, **geom))
    scale = np.abs(dout).sum() * np.abs(x).max() * np.abs(w).max() * math.prod(w_shape[1:])
    assert abs(lhs - via_x) <= 1e-12 * scale
    assert abs(lhs - via_w) <= 1e-12 * scale


@settings(max_examples=40, **DETERMINISTIC)
@given(cfg=configs(), seed=st.integers(0, 2**16))
def test_convolve_is_correlate_with_flipped_filter(cfg, seed):
    geom, x_shape, w_shape = cfg
    x, w, b, _ = arrays(seed, x_shape, w_shape, geom)
    flipped = np.flip(w, tuple(range(2, w.ndim)))
    conv = reference.forward(x, w, b, **{**geom, "op": "convolve"})
    corr = reference.forward(x, flipped, b, **{**geom, "op": "correlate"})
    np.testing.assert_allclose(conv, corr, rtol=0, atol=ATOL)


def test_paths_agree_on_every_block_split():
    """Blocks of 1..N samples (uneven last block) give the same numbers as the gather path."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((5, 3, 9, 8)), rng.standard_normal((4, 3, 3, 2))
    geom = dict(stride=(2, 1), pad=((1, 0), (2, 1)), dilation=(1, 2))
    dout = rng.standard_normal(reference.forward(x, w, **geom).shape)
    with path("gather"):
        expected = [reference.forward(x, w, **geom), reference.grad_input(dout, w, x.shape, **geom),
                    reference.grad_filter(dout, x, w.shape, **geom)]
    per_sample = 3 * 3 * 2 * dout[0, 0].size
    for samples in range(1, 6):
        with path("blocked"):
            reference.BLOCK_ELEMENTS = samples * per_sample
            got = [reference.forward(x, w, **geom), reference.grad_input(dout, w, x.shape, **geom),
                   reference.grad_filter(dout, x, w.shape, **geom)]
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=0, atol=ATOL)


# --- the API surface ---------------------------------------------------------------------------

def test_geometry_object_and_spatial_only_shapes():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    geom = make_geometry(stride=(2, 1), pad=((1, 0), (0, 2)), dilation=1, op="convolve", ndim=2)
    out = reference.forward(x, w, geometry=geom, stride=99)  # the geometry wins over keywords
    assert np.array_equal(out, reference.forward(x, w, stride=(2, 1), pad=((1, 0), (0, 2)), op="convolve"))
    dout = rng.standard_normal(out.shape)
    full = reference.grad_input(dout, w, x.shape, geometry=geom)
    assert np.array_equal(full, reference.grad_input(dout, w, x.shape[2:], geometry=geom))
    dw = reference.grad_filter(dout, x, w.shape, geometry=geom)
    assert np.array_equal(dw, reference.grad_filter(dout, x, w.shape[2:], geometry=geom))


def test_same_and_valid_pads():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 7, 8)), rng.standard_normal((3, 2, 4, 3))
    assert reference.forward(x, w, pad="same").shape == (1, 3, 7, 8)
    assert reference.forward(x, w, pad="same", stride=2).shape == (1, 3, 4, 4)
    assert np.array_equal(reference.forward(x, w, pad="valid"), reference.forward(x, w))


def test_dtypes_and_nested_lists():
    x = [[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]
    w = [[[[1, 0], [0, -1]]]]
    out = reference.forward(x, w)
    assert out.dtype == np.float64
    assert out.tolist() == [[[[-4.0, -4.0], [-4.0, -4.0]]]]
    x32, w32 = np.asarray(x, np.float32), np.asarray(w, np.float32)
    assert reference.forward(x32, w32).dtype == np.float32
    assert reference.forward(x32, np.asarray(w, np.float64)).dtype == np.float64
    assert reference.grad_bias(np.ones((2, 3, 4, 5))).tolist() == [40.0] * 3


def test_bias_broadcasts_per_filter():
    x, w = np.zeros((2, 1, 4)), np.ones((3, 1, 2))
    out = reference.forward(x, w, b=[1.0, 2.0, 3.0])
    assert np.array_equal(out, np.broadcast_to(np.array([1.0, 2.0, 3.0])[None, :, None], (2, 3, 3)))


X, W = np.zeros((1, 2, 5, 5)), np.zeros((3, 2, 3, 3))


@pytest.mark.parametrize("call, words", [
    (lambda: reference.forward(X, W, stride=0), "stride must be at least 1"),
    (lambda: reference.forward(X, W, dilation=0), "dilation must be at least 1"),
    (lambda: reference.forward(X, W, pad=-1), "pad must not be negative"),
    (lambda: reference.forward(X, W, pad=((0, 0), (-1, 2))), "pad must not be negative"),
    (lambda: reference.forward(X, np.zeros((3, 2, 7, 3)), pad=0), "the filter spans 7"),
    (lambda: reference.forward(X, W, dilation=3), "the filter spans 7"),
    (lambda: reference.forward(X, np.zeros((3, 4, 3, 3))), "channel count is 4"),
    (lambda: reference.forward(X, np.zeros((3, 2, 3))), "axes are needed"),
    (lambda: reference.forward(np.zeros((5, 5)), W), "1 to 3 spatial axes"),
    (lambda: reference.forward(X, W, stride=(1, 2, 3)), "stride has 3 values"),
    (lambda: reference.forward(X, W, b=[1.0, 2.0]), "bias length is 2"),
    (lambda: reference.forward(X, W, op="conv"), "op must be correlate or convolve"),
    (lambda: reference.forward([["a"]], W), "numeric array"),
    (lambda: reference.grad_input(np.zeros((1, 3, 2, 2)), W, X.shape), "does not match the output shape"),
    (lambda: reference.grad_input(np.zeros((1, 3, 3, 3)), W, (2, 2, 5, 5)), "batch size of input_shape is 2"),
    (lambda: reference.grad_input(np.zeros((1, 3, 3, 3)), W, (5, 5, 5)), "neither 4 axes nor 2"),
    (lambda: reference.grad_filter(np.zeros((1, 3, 3, 3)), X, (3, 1, 3, 3)), "channel count of filter_shape"),
    (lambda: reference.grad_filter(np.zeros((2, 3, 3, 3)), X, (3, 3)), "batch size is 2"),
    (lambda: reference.forward(X, W, geometry=make_geometry(ndim=1)), "1 spatial axes"),
    (lambda: reference.forward(X, W, geometry="stride 2"), "must be a corrcheck.geometry.Geometry"),
])
def test_bad_configs_raise_one_sentence(call, words):
    with pytest.raises(ConfigError) as caught:
        call()
    message = str(caught.value)
    assert words in message
    assert "\n" not in message


def test_threaded_blocks_agree_and_restore_blas_threads(monkeypatch):
    """Blocks spread over worker threads give the serial numbers and leave BLAS's thread count as it was."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((7, 3, 10, 9)), rng.standard_normal((5, 3, 3, 3))
    dout = rng.standard_normal(reference.forward(x, w, stride=2, pad=1).shape)
    control = reference_threads.blas_threads()
    before = control[0]() if control else None
    results = {}
    for workers in (1, 3):
        monkeypatch.setattr(reference_threads, "WORKERS", workers)
        with path("blocked"):
            reference.BLOCK_ELEMENTS = 300  # one or two samples per block: several blocks per worker
            results[workers] = [reference.forward(x, w, stride=2, pad=1),
                                reference.grad_input(dout, w, x.shape, stride=2, pad=1),
                                reference.grad_filter(dout, x, w.shape, stride=2, pad=1)]
    for serial, threaded in zip(results[1], results[3]):
        np.testing.assert_allclose(threaded, serial, rtol=0, atol=ATOL)
    if control:
        assert control[0]() == before


def test_forked_child_can_use_the_threaded_path():
    """A parallel sweep forks after the parent used the worker pool; the child must not hang."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    x, w = np.ones((6, 2, 9, 9)), np.ones((3, 2, 3, 3))
    with path("blocked"):
        expected = reference.forward(x, w, pad=1)  # starts the pool in this process
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(1) as pool:
            got = pool.apply_async(_forward_in_child, (x, w)).get(timeout=60)
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)


def _forward_in_child(x, w):
    reference.SMALL_ELEMENTS, reference.BLOCK_ELEMENTS = -1, 40
    return reference.forward(x, w, pad=1)


def test_stride_one_grad_input_as_a_full_correlation_matches_the_oracle(monkeypatch, naive):
    """The stride-1 grad_input path (a forward correlation of the padded output gradient with the
    flipped, channel-swapped filter) on the block path, including pads past d(k-1) (the fallback)."""
    from corrcheck import reference as R

    monkeypatch.setattr(R, "_small", lambda *a, **k: False)
    rng = np.random.default_rng(7)
    checked = 0
    for trial in range(40):
        nd = int(rng.integers(1, 4))
        S = tuple(int(v) for v in rng.integers(4, 8, nd))
        K = tuple(int(v) for v in rng.integers(1, 4, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        pads = tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(nd))
        op = ("correlate", "convolve")[trial % 2]
        x, w = rng.standard_normal((2, 3) + S), rng.standard_normal((4, 3) + K)
        try:
            out = naive.forward(x, w, stride=1, pad=pads, dilation=d, op=op)
        except (ValueError, IndexError):
            continue
        if 0 in out.shape:
            continue
        dout = rng.standard_normal(out.shape)
        got = R.grad_input(dout, w, x.shape, stride=1, pad=pads, dilation=d, op=op)
        np.testing.assert_allclose(got, naive.grad_input(dout, w, x.shape, stride=1, pad=pads,
                                                                dilation=d, op=op), atol=1e-10)
        checked += 1
    assert checked >= 20


def test_importing_the_reference_does_no_work():
    """Importing reference (and its thread module) registers no fork hook and reads no environment:
    the pool, the core count and the fork hook appear on first use only."""
    import subprocess
    import sys

    code = ("import os, sys\n"
            "calls = []\n"
            "def ours():\n"
            "    return 'corrcheck' in sys._getframe(2).f_code.co_filename\n"
            "real_fork, real_affinity = os.register_at_fork, os.sched_getaffinity\n"
            "os.register_at_fork = lambda **kw: (ours() and calls.append('fork')) or real_fork(**kw)\n"
            "os.sched_getaffinity = lambda pid: (ours() and calls.append('affinity')) or real_affinity(pid)\n"
            "import corrcheck.reference, corrcheck.reference_threads as t\n"
            "assert calls == [] and t.WORKERS is None, calls\n"
            "import numpy as np\n"
            "t.WORKERS = None\n"
            "corrcheck.reference.BLOCK_ELEMENTS, corrcheck.reference.SMALL_ELEMENTS = 40, -1\n"
            "corrcheck.reference.POOL_FLOPS = 0\n"
            "corrcheck.reference.forward(np.ones((4, 2, 9, 9)), np.ones((3, 2, 3, 3)))\n"
            "assert calls == ['affinity', 'fork'], calls\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_only_large_ops_spread_their_blocks_over_the_pool(monkeypatch):
    """Below POOL_FLOPS one thread runs every block (BLAS threads each GEMM); above, the pool."""
    seen = []
    original = reference_threads.each_block

    def spy(blocks, work, spread=True):
        seen.append((len(blocks), spread))
        return original(blocks, work, spread=spread)

    monkeypatch.setattr(reference_threads, "each_block", spy)
    monkeypatch.setattr(reference, "SMALL_ELEMENTS", -1)
    monkeypatch.setattr(reference, "BLOCK_ELEMENTS", 200)
    x, w = np.ones((4, 2, 9, 9)), np.ones((3, 2, 3, 3))
    flops = 2.0 * 4 * 3 * 2 * 9 * 81          # N F C taps positions at stride 1, pad 1
    for limit, spread in ((flops * 2, False), (flops / 2, True)):
        monkeypatch.setattr(reference, "POOL_FLOPS", limit)
        seen.clear()
        reference.forward(x, w, pad=1)
        assert seen and all(n > 1 and s == spread for n, s in seen), seen
