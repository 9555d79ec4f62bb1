"""int32 output (np.int32 pixels): truncated like int64, must fail with a note."""
import numpy as np


def as_i32(a):
    return a.astype(np.int32)

from conv_values import correlated, filter_gradient


def forward(x, w, s, p):
    return as_i32(correlated(x, w, s, p))


def backward_filter(dout, x, s, p, filter_size):
    return as_i32(filter_gradient(dout, x, s, p, filter_size))
