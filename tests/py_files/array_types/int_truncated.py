"""The output array was created with dtype=int, so every value is truncated: must fail with a note."""
import numpy as np


def as_int(a):
    out = np.zeros(a.shape, dtype=int)
    out[...] = a                       # assignment into an int array truncates silently
    return out

from conv_values import correlated, filter_gradient


def forward(x, w, s, p):
    return as_int(correlated(x, w, s, p))


def backward_filter(dout, x, s, p, filter_size):
    return as_int(filter_gradient(dout, x, s, p, filter_size))
