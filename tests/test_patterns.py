"""describe(): one sentence naming the shape of a mismatch no catalogue entry explains."""
import numpy as np
import pytest

from corrcheck.diagnosis.catalogue import Spec, correct, mutant
from corrcheck.checks.draw import random_draw
from corrcheck.geometry import make_geometry
from corrcheck.diagnosis.patterns import describe

GEOM = make_geometry(2, 1, 1, "correlate", 2, (7, 6), (3, 2))


@pytest.fixture
def expected():
    return np.random.default_rng(0).standard_normal((2, 4, 6, 6))


def say(expected, actual, geom=GEOM, names=None):
    return describe(~np.isclose(actual, expected), geom, expected, actual, names)


def test_border_only_names_the_padding(expected):
    a = expected.copy()
    for sl in ((..., 0, slice(None)), (..., -1, slice(None)), (..., slice(None), 0), (..., slice(None), -1)):
        a[sl] += 1
    text = say(expected, a)
    assert "border 1 wide" in text and "padding" in text


def test_every_second_row_names_the_stride(expected):
    a = expected.copy()
    a[..., ::2, 1] += 1
    text = say(expected, a)
    assert "every 2nd row (0, 2, 4)" in text and "stride is 2" in text and "column 1" in text


def test_whole_rows_point_at_the_row_index(expected):
    a = expected.copy()
    a[..., 1::2, :] -= 2
    text = say(expected, a)
    assert text.startswith("Whole rows 1, 3, 5 are affected") and "row index" in text


def test_constant_factor(expected):
    assert "3 times the expected value" in say(expected, 3 * expected)


def test_constant_and_per_filter_offsets(expected):
    assert "same amount, +0.5" in say(expected, expected + 0.5)
    bias = np.arange(4.0).reshape(1, 4, 1, 1) + 1
    assert "depends only on the channel" in say(expected, expected + bias)


def test_transposition_and_shift(expected):
    assert "transposed" in say(expected, np.swapaxes(expected, -1, -2))
    a = np.zeros_like(expected)
    a[..., :, 1:] = expected[..., :, :-1]
    assert "shifted by -1 column" in say(expected, a)


def test_corner_and_one_side_and_interior(expected):
    a = expected.copy()
    a[..., 4:, 4:] += 1
    assert "bottom-right corner" in say(expected, a)
    a = expected.copy()
    a[..., -1, :] += 1
    assert say(expected, a) == "Only the last row is affected."
    a = expected.copy()
    a[..., 1:5, 1:5] *= -1
    assert "only the interior" in say(expected, a).lower()


def test_leading_axes_are_named(expected):
    a = expected.copy()
    a[1, 2, 3, 3] += 1
    a[1, 2, 3, 4] += 1
    text = say(expected, a, names=("n", "f", "y", "x"))
    assert "n 1" in text and "f 2" in text


def test_nan_cells_say_out_of_range_reads(expected):
    a = expected.copy()
    a[..., 3:, :] = np.nan
    text = say(expected, a)
    assert "NaN" in text and "outside an array" in text and "rows 3, 4, 5" in text


def test_shape_mismatch_and_no_mismatch(expected):
    assert "shape (2, 4, 3, 6)" in describe(None, GEOM, expected, expected[..., :3, :])
    assert describe(None, GEOM, expected, expected) == "No entry differs."


def test_padding_ignored_mutant_reads_as_a_shift():
    # windows not shifted by the padding: the output is the correct one moved by one position
    geom = make_geometry(1, 1, 1, "correlate", 2, (7, 6), (3, 2))
    d = random_draw(np.random.default_rng(1), geom, batch=1, channels=1, filters=1,
                    in_spatial=(7, 6), k_spatial=(3, 2), bias=False)
    text = say(correct("forward", d, geom), mutant("forward", Spec(offset=0), d, geom), geom)
    assert "holds expected [i+1, j+1]" in text, text


def test_one_dimensional_and_bias_shapes():
    geom = make_geometry(2, 1, 1, "correlate", 1, (9,), (3,))
    e = np.random.default_rng(2).standard_normal((1, 1, 5))
    a = e.copy()
    a[..., 0] += 1
    a[..., -1] += 1
    assert "border 1 wide" in describe(None, geom, e, a)
    assert "2 times" in describe(None, geom, e[0, 0, :3], 2 * e[0, 0, :3])
