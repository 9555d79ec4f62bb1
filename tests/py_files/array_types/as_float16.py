"""float16 results (mixed-precision code): accepted with half-precision tolerances."""
import numpy as np


def as_f16(a):
    return a.astype(np.float16)

from conv_values import correlated, filter_gradient


def forward(x, w, s, p):
    return as_f16(correlated(x, w, s, p))


def backward_filter(dout, x, s, p, filter_size):
    return as_f16(filter_gradient(dout, x, s, p, filter_size))
