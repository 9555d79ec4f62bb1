"""Geometry: the one owner of output sizes and padding modes."""
import pytest

from corrcheck.geometry import ConfigError, make_geometry, parse_pad, per_axis


@pytest.mark.parametrize("n,k,s,p,d,out", [
    (5, 3, 2, 1, 1, 3), (7, 3, 1, 0, 1, 5), (8, 3, 3, 1, 1, 3), (6, 2, 2, 0, 1, 3), (10, 3, 1, 0, 2, 6),
    (4, 4, 1, 0, 1, 1), (9, 3, 3, 2, 1, 4),
])
def test_output_size_formula(n, k, s, p, d, out):
    g = make_geometry(s, p, d, ndim=1)
    assert g.out_shape((n,), (k,)) == (out,)
    assert out == (n + 2 * p - d * (k - 1) - 1) // s + 1


def test_per_axis_and_asymmetric_pads():
    g = make_geometry("2x1", "1,0x0,2", ndim=2)
    assert g.stride == (2, 1) and g.pad == ((1, 0), (0, 2))
    assert g.out_shape((7, 6), (3, 2)) == ((7 + 1 - 3) // 2 + 1, (6 + 2 - 2) // 1 + 1)
    assert parse_pad("1x2", 2) == ((1, 1), (2, 2))
    assert per_axis("3", 3, "stride", 1) == (3, 3, 3)


def test_same_and_valid():
    g = make_geometry(1, "same", ndim=2, in_spatial=(7, 6), k_spatial=(3, 2))
    assert g.out_shape((7, 6), (3, 2)) == (7, 6) and g.mode == "same"
    g2 = make_geometry(2, "same", ndim=1, in_spatial=(7,), k_spatial=(3,))
    assert g2.out_shape((7,), (3,)) == (4,)          # ceil(7 / 2)
    assert make_geometry(1, "valid", ndim=2).pad == ((0, 0), (0, 0))
    hb = make_geometry(1, "same", ndim=2, in_spatial=(7, 7), k_spatial=(3, 3), same_rule="holberton")
    assert hb.pad == ((1, 1), (1, 1))


@pytest.mark.parametrize("kwargs,words", [
    (dict(stride=0), "stride must be at least 1"),
    (dict(pad=-1), "must not be negative"),
    (dict(stride="2x"), None),
    (dict(pad=0, in_spatial=(2, 2), k_spatial=(3, 3)), "the filter spans 3"),
    (dict(stride="1x2x3"), "3 values"),
    (dict(pad="abc"), "pad must be"),
])
def test_bad_configs_are_one_sentence(kwargs, words):
    try:
        make_geometry(ndim=2, **kwargs)
    except ConfigError as exc:
        msg = str(exc)
        assert "\n" not in msg
        if words:
            assert words in msg
    else:
        assert words is None


def test_a_config_error_is_one_of_corrcheck_errors_and_still_a_value_error():
    from corrcheck.errors import CorrcheckError
    with pytest.raises(CorrcheckError) as info:
        make_geometry(stride=0, ndim=2)
    assert isinstance(info.value, ValueError) and info.value.kind == "usage"


@pytest.mark.parametrize("stride,pad,dilation", [(1, 0, 1), (2, 1, 1), (3, (1, 0), 2), ((2, 1), ((0, 2), (1, 1)), (1, 2))])
def test_the_inverse_formulas_agree_with_out_shape(stride, pad, dilation):
    g = make_geometry(stride, pad, dilation, ndim=2)
    k = (3, 2)
    for out in ((1, 1), (2, 3), (4, 4)):
        n = g.in_shape_for(out, k)
        if min((nn + pb + pa) - (d * (kk - 1) + 1) for nn, kk, (pb, pa), d in zip(n, k, g.pad, g.dilation)) >= 0:
            assert g.out_shape(n, k) == out
            if min(n) > 1:                                    # not clamped at 1: the smallest such input
                assert all(v == 0 for v in g.leftover(n, k))
    assert g.leftover((7, 6), k) == tuple((n + pb + pa - d * (kk - 1) - 1) % s for n, kk, s, (pb, pa), d in
                                          zip((7, 6), k, g.stride, g.pad, g.dilation))


def test_options_are_parsed_once_into_numbers_and_resolved_per_layout():
    from corrcheck.config import RunConfig
    cfg = RunConfig(stride="2x1", pad="1,0", dilation="1", input_size="9x7", filter_size=3).validate()
    opts = cfg.geometry_options
    assert (opts.stride, opts.pad, opts.dilation, opts.input_size, opts.filter_size) == \
        ((2, 1), ((1, 0),), (1,), (9, 7), (3,))
    assert cfg.geometry_options is opts                           # parsed once per config
    g = make_geometry(opts.stride, opts.pad, opts.dilation, ndim=2)
    assert g.pad == ((1, 0), (1, 0)) and g.stride == (2, 1)
    with pytest.raises(ConfigError, match="stride must be a whole number"):
        RunConfig(stride="two").validate()
