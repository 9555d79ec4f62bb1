"""Finite differences of the user's own forward: exact per entry, and cheap along random directions."""
import numpy as np
import pytest

from corrcheck import reference
from corrcheck.checks.draw import random_draw
from corrcheck.checks.finite_diff import Objective, directional, exhaustive
from corrcheck.geometry import make_geometry
from corrcheck.checks.tolerances import tolerance_for


class CountingForward:
    """Stands in for a BoundOp: the reference forward, counting calls."""

    def __init__(self):
        self.calls = 0

    def forward(self, x, w, b, geom, scratch_x=False):
        self.calls += 1
        return reference.forward(x, w, b, geometry=geom)


def _setup(shape=(64, 64), k=(3, 3), stride=2, pad=1, seed=0):
    geom = make_geometry(stride, pad, ndim=2, in_spatial=shape, k_spatial=k)
    rng = np.random.default_rng(seed)
    d = random_draw(rng, geom, batch=1, channels=1, filters=1, in_spatial=shape, k_spatial=k)
    return geom, d, rng


def test_exhaustive_equals_reference_gradient():
    geom, d, _ = _setup((7, 6), (3, 2))
    op = CountingForward()
    tol = tolerance_for(None)
    g = exhaustive(Objective(op, d, geom, "grad_input", tol))
    np.testing.assert_allclose(g, reference.grad_input(d.dout, d.w, d.x.shape, geometry=geom), atol=1e-8)
    assert op.calls == 2 * d.x.size + 0  # central differences, two calls per entry


def test_directional_pass_costs_a_constant_number_of_calls():
    geom, d, rng = _setup((64, 64))
    op = CountingForward()
    tol = tolerance_for(None)
    base = reference.forward(d.x, d.w, d.b, geometry=geom)
    g = reference.grad_input(d.dout, d.w, d.x.shape, geometry=geom)
    passed, wrong, complete = directional(Objective(op, d, geom, "grad_input", tol, base=base), g, rng)
    assert passed and not wrong and complete
    assert op.calls <= 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_three_wrong_entries_of_4096_are_localised_exactly_with_few_calls(seed):
    geom, d, rng = _setup((64, 64), seed=seed)
    op = CountingForward()
    tol = tolerance_for(None)
    true = reference.grad_input(d.dout, d.w, d.x.shape, geometry=geom)
    g = true.copy().reshape(-1)
    bad = np.random.default_rng(seed + 10).choice(g.size, 3, replace=False)
    g[bad] += np.array([1.0, -0.5, 2.0])
    base = reference.forward(d.x, d.w, d.b, geometry=geom)
    passed, wrong, complete = directional(Objective(op, d, geom, "grad_input", tol, base=base),
                                          g.reshape(true.shape), rng)
    assert not passed and complete
    assert sorted(wrong) == sorted(int(i) for i in bad)
    for i in bad:                                   # the true derivative is recovered at each wrong entry
        assert wrong[int(i)] == pytest.approx(true.reshape(-1)[i], abs=1e-6)
    assert op.calls < 100


def test_a_wrong_forward_scale_is_caught_by_one_direction():
    """Directional checks compare with the USER's forward: a gradient of a different function fails."""
    geom, d, rng = _setup((16, 16))

    class Doubled(CountingForward):
        def forward(self, x, w, b, geom, scratch_x=False):
            return 2 * super().forward(x, w, b, geom)

    op = Doubled()
    g = reference.grad_filter(d.dout, d.x, d.w.shape, geometry=geom)
    passed, wrong, _ = directional(Objective(op, d, geom, "grad_filter", tolerance_for(None)), g, rng)
    assert not passed
    assert len(wrong) == g.size                     # every entry is off by a factor of two
