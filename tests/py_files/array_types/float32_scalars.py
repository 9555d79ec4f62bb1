"""Lists of np.float32 scalars: still float32 precision, so tolerances must loosen."""
import numpy as np


def as_f32_scalar_lists(a):
    return [[np.float32(v) for v in row] for row in a]

from conv_values import correlated, filter_gradient


def forward(x, w, s, p):
    return as_f32_scalar_lists(correlated(x, w, s, p))


def backward_filter(dout, x, s, p, filter_size):
    return as_f32_scalar_lists(filter_gradient(dout, x, s, p, filter_size))
