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
