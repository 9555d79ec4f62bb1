"""Layouts: every user layout round-trips to the canonical one, and indices map consistently."""
import numpy as np
import pytest

from corrcheck.binding.layouts import LAYOUTS


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_round_trip_and_index_map(name):
    L = LAYOUTS[name]
    rng = np.random.default_rng(0)
    n = 2 if L.batch else 1
    c, f = (3, 4) if L.channels else (1, 1)
    S = (5, 4, 3)[:L.spatial]
    K = (3, 2, 2)[:L.spatial]
    x = rng.standard_normal((n, c) + S)
    w = rng.standard_normal((f, c) + K)
    ux, uw = L.x_to_user(x), L.w_to_user(w)
    assert ux.shape == L.x_shape(n, c, S) and uw.shape == L.w_shape(f, c, K)
    np.testing.assert_array_equal(L.x_from_user(ux), x)
    np.testing.assert_array_equal(L.w_from_user(uw), w)
    for idx in [(n - 1, c - 1) + tuple(s - 1 for s in S), (0, 0) + (0,) * L.spatial]:
        assert ux[L.act_index(idx)] == x[idx]
    for idx in [(f - 1, c - 1) + tuple(k - 1 for k in K)]:
        assert uw[L.w_index(idx)] == w[idx]


def test_nhwc_filter_is_kh_kw_c_f():
    L = LAYOUTS["nhwc"]
    assert L.w_shape(4, 3, (3, 2)) == (3, 2, 3, 4)
    assert L.x_shape(2, 3, (7, 6)) == (2, 7, 6, 3)
