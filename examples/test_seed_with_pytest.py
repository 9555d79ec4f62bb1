"""corrcheck inside pytest: a failing check fails the test with the full report as its message.

    python -m pytest examples/test_seed_with_pytest.py
"""
from pathlib import Path

import pytest

from corrcheck.testing import assert_conv_correct

HERE = Path(__file__).parent


def test_fixed_port_is_correct():
    assert_conv_correct(HERE / "seed_fixed.py", stride=2, pad=1)


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1), (3, 2)])
def test_fixed_port_at_other_strides(stride, pad):
    assert_conv_correct(HERE / "seed_fixed.py", stride=stride, pad=pad)


def test_buggy_port_fails_with_the_diagnosis():
    with pytest.raises(AssertionError) as info:
        assert_conv_correct(HERE / "seed_buggy.py", stride=2, pad=1)
    assert "filter-indexed-by-output" in str(info.value)


def test_a_notebook_function_can_be_checked_directly():
    import numpy as np

    def corr(x, w, s, p):                     # vectorised, correct
        from numpy.lib.stride_tricks import sliding_window_view
        xp = np.pad(np.asarray(x, float), p)
        return np.einsum("ijkl,kl->ij", sliding_window_view(xp, np.shape(w))[::s, ::s], w)

    assert_conv_correct(forward=corr, stride=2, pad=1, layout="hw")
