"""The catalogue: its ids follow the contract, its engine is exact, its mutants are visible where they should be."""
import itertools

import numpy as np
import pytest

from corrcheck.diagnosis.catalogue import CATALOGUE, Spec, by_id, correct, entries_for, mutant, mutant_shape, out_size
from corrcheck.checks.draw import random_draw
from corrcheck.geometry import make_geometry

CONTRACT_IDS = {
    "forward": {"filter-indexed-by-output", "stride-on-filter-index", "filter-transposed", "input-transposed",
                "filter-flipped", "padding-ignored", "padding-wrong-sign", "negative-index-wraparound",
                "stride-ignored", "overwrite-not-accumulate", "output-size", "channels-not-summed", "bias-missing"},
    "grad_filter": {"grad-filter-stride-ignored", "grad-filter-padding-ignored", "grad-filter-transposed",
                    "grad-filter-not-summed-over-batch", "grad-filter-wraparound"},
    "grad_input": {"grad-input-filter-not-flipped", "grad-input-stride-ignored", "grad-input-padding-offset",
                   "grad-input-overwrite-not-accumulate", "grad-input-wraparound", "grad-input-unpad-empty-at-pad0"},
    "grad_bias": {"grad-bias-not-summed"},
}


def setup(stride=2, pad=1, in_spatial=(7, 6), k_spatial=(3, 2), op="correlate", dilation=1, seed=0, bias=True):
    geom = make_geometry(stride, pad, dilation, op, len(in_spatial), in_spatial, k_spatial)
    draw = random_draw(np.random.default_rng(seed), geom, batch=2, channels=3, filters=4,
                       in_spatial=in_spatial, k_spatial=k_spatial, bias=bias)
    return geom, draw


def test_ids_follow_the_contract_once_each():
    ids = [m.id for m in CATALOGUE]
    assert len(ids) == len(set(ids))
    for target, expected in CONTRACT_IDS.items():
        assert {m.id for m in entries_for(target)} == expected


def test_every_entry_has_one_sentence_and_variants():
    for m in CATALOGUE:
        assert m.explanation.endswith(".") and m.explanation.replace("...", "").count(". ") == 0, m.id
        assert m.variants and all(v.form for v in m.variants)
        assert by_id(m.id) is m


CONFIGS = [(nd, s, p, d, op) for nd in (1, 2, 3) for s, p, d, op in
           itertools.product((1, 2, 3), (0, 1, (1, 0)), (1, 2), ("correlate", "convolve"))]


@pytest.mark.parametrize("nd,s,p,d,op", CONFIGS)
def test_engine_without_mistakes_equals_the_naive_oracle(nd, s, p, d, op, naive):
    in_spatial, k_spatial = (7, 6, 5)[:nd], (3, 2, 2)[:nd]
    pad = [p] * nd if isinstance(p, tuple) else p
    geom = make_geometry(s, pad, d, op, nd, in_spatial, k_spatial)
    draw = random_draw(np.random.default_rng(nd * 100 + s), geom, batch=2, channels=2, filters=3,
                       in_spatial=in_spatial, k_spatial=k_spatial)
    kw = dict(stride=s, pad=pad, dilation=d, op=op)
    np.testing.assert_allclose(correct("forward", draw, geom), naive.forward(draw.x, draw.w, draw.b, **kw), atol=1e-10)
    np.testing.assert_allclose(correct("grad_input", draw, geom),
                               naive.grad_input(draw.dout, draw.w, draw.x.shape, **kw), atol=1e-10)
    np.testing.assert_allclose(correct("grad_filter", draw, geom),
                               naive.grad_filter(draw.dout, draw.x, draw.w.shape, **kw), atol=1e-10)
    np.testing.assert_allclose(correct("grad_bias", draw, geom), naive.grad_bias(draw.dout), atol=1e-10)


INDEX_KNOBS = [dict(offset=0), dict(offset=1), dict(out_mult="one"), dict(out_mult="one", tap_mult="stride"),
               dict(flip=True), dict(oob="wrap"), dict(offset=0, flip=True)]


@pytest.mark.parametrize("knobs", INDEX_KNOBS, ids=str)
def test_mutant_gradients_are_adjoint_to_the_mutant_forward(knobs):
    """For pure index slips the three targets stay one bilinear map: <fwd(x, w), dO> = <x, gi(dO, w)> = <w, gf(dO, x)>."""
    geom, draw = setup(bias=False)
    spec = Spec(**knobs)
    out = mutant("forward", spec, draw, geom)
    if out.shape != draw.dout.shape:
        pytest.skip("output shape changed")
    inner = float(np.vdot(out, draw.dout))
    assert np.isclose(inner, np.vdot(draw.x, mutant("grad_input", spec, draw, geom)))
    assert np.isclose(inner, np.vdot(draw.w, mutant("grad_filter", spec, draw, geom)))


def test_every_mistake_is_visible_at_its_config():
    """The first form at stride 2 pad 1 (pad 0 for [p:-p], square for swaps); every form at stride 2, 3 or 4."""
    for m in CATALOGUE:
        square = m.id in ("filter-transposed", "input-transposed", "grad-filter-transposed")
        pad = 0 if m.id == "grad-input-unpad-empty-at-pad0" else 1
        sizes = dict(in_spatial=(7, 7), k_spatial=(3, 3)) if square else dict(in_spatial=(7, 6), k_spatial=(3, 2))
        for i, v in enumerate(m.variants):
            seen = []
            for stride in ((2,) if i == 0 else (2, 3, 4)):
                geom, draw = setup(stride=stride, pad=pad, **sizes)
                got, good = m.compute_variant(v, draw, geom), correct(m.target, draw, geom)
                seen.append(got is not None and (got.shape != good.shape or not np.allclose(got, good, equal_nan=True)))
            assert any(seen), (m.id, v.form)


def test_indistinguishable_mistakes_equal_the_correct_output():
    geom, draw = setup(stride=1, pad=0)
    for bug in ("stride-ignored", "stride-on-filter-index", "padding-ignored", "padding-wrong-sign",
                "negative-index-wraparound", "grad-filter-wraparound", "grad-input-wraparound",
                "grad-input-padding-offset", "grad-filter-padding-ignored", "grad-input-stride-ignored"):
        m = by_id(bug)
        np.testing.assert_allclose(m.compute(draw, geom), correct(m.target, draw, geom), err_msg=bug)
    geom, draw = setup(pad=1)
    m = by_id("grad-input-unpad-empty-at-pad0")
    np.testing.assert_allclose(m.compute(draw, geom), correct("grad_input", draw, geom))
    geom, draw = setup(bias=False)
    np.testing.assert_allclose(by_id("bias-missing").compute(draw, geom), correct("forward", draw, geom))


def test_unpad_empty_has_the_shape_of_p_colon_minus_p():
    geom, draw = setup(pad=0)
    got = by_id("grad-input-unpad-empty-at-pad0").compute(draw, geom)
    assert got.shape == np.zeros((2, 3, 7, 6))[:, :, 0:-0, 0:-0].shape


def test_filter_read_past_its_edge_is_nan_exactly_there():
    geom, draw = setup()                        # output 4x4, filter 3x2
    out = by_id("filter-indexed-by-output").compute(draw, geom)
    y, x = np.indices(out.shape[2:])
    undefined = (y >= 3) | (x >= 2)
    assert np.isnan(out[..., undefined]).all() and not np.isnan(out[..., ~undefined]).any()


def test_filter_by_output_reads_the_filter_at_the_output_position():
    geom, draw = setup(stride=2, pad=0, in_spatial=(7, 7), k_spatial=(3, 3), bias=False)  # output 3x3
    out = by_id("filter-indexed-by-output").compute(draw, geom)
    windows = np.lib.stride_tricks.sliding_window_view(draw.x, (3, 3), axis=(2, 3))[:, :, ::2, ::2]
    want = np.einsum("ncyxji,fcyx->nfyx", windows, draw.w)
    np.testing.assert_allclose(out, want)


def test_overwrite_keeps_the_last_tap():
    geom, draw = setup(stride=1, pad=0, bias=False)
    out = mutant("forward", Spec(overwrite="tap"), draw, geom)
    want = np.einsum("ncyx,fc->nfyx", draw.x[:, :, 2:, 1:], draw.w[:, :, 2, 1])
    np.testing.assert_allclose(out, want)


def test_output_size_formulas():
    assert out_size(9, 3, 3, (1, 1), 1, "floor") == 3
    assert out_size(9, 3, 3, (1, 1), 1, "ceil") == 4
    assert out_size(9, 3, 3, (1, 1), 1, "no_plus_one") == 2
    assert out_size(9, 3, 3, (1, 1), 1, "no_pad") == 3
    assert out_size(9, 3, 3, (1, 1), 1, "no_stride") == 9


def test_swaps_are_undefined_in_one_dimension_and_work_in_three():
    geom, draw = setup(in_spatial=(9,), k_spatial=(3,))
    assert by_id("filter-transposed").compute(draw, geom) is None
    geom, draw = setup(in_spatial=(5, 5, 5), k_spatial=(2, 3, 3))
    for m in CATALOGUE:
        for v in m.variants:
            got = m.compute_variant(v, draw, geom)
            assert got is None or np.isfinite(got).any(), m.id


def test_mutant_shape_predicts_every_mutant():
    for stride, pad in ((2, 1), (3, 0), (4, 2)):
        geom, draw = setup(stride=stride, pad=pad)
        for m in CATALOGUE:
            for v in m.variants:
                if v.custom is None:
                    got = m.compute_variant(v, draw, geom)
                    spec = Spec(**v.knobs)
                    assert got is None or got.shape == mutant_shape(m.target, spec, draw, geom), (m.id, v.form)
