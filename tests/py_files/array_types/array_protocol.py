"""A small matrix class of the user's own that numpy can read through __array__."""
import numpy as np


class Grid:
    """Not a numpy subclass; only the array protocol makes it readable."""

    def __init__(self, values):
        self._rows = [list(r) for r in values.tolist()]

    def __array__(self, dtype=None, copy=None):
        return np.array(self._rows, dtype=dtype)

from conv_values import correlated, filter_gradient


def forward(x, w, s, p):
    return Grid(correlated(x, w, s, p))


def backward_filter(dout, x, s, p, filter_size):
    return Grid(filter_gradient(dout, x, s, p, filter_size))
