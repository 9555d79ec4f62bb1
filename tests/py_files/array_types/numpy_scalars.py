"""Lists filled with numpy scalars (sum() of a numpy slice inside list-based loops)."""
import numpy as np


def as_scalar_lists(a):
    return [[np.float64(v) for v in row] for row in a]

from conv_values import correlated, filter_gradient


def forward(x, w, s, p):
    return as_scalar_lists(correlated(x, w, s, p))


def backward_filter(dout, x, s, p, filter_size):
    return as_scalar_lists(filter_gradient(dout, x, s, p, filter_size))
