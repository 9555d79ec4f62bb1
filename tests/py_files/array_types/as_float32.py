"""float32 results, as on a GPU: tolerances must loosen, and the report must say so."""
import numpy as np


def as_f32(a):
    return a.astype(np.float32)

from conv_values import correlated, filter_gradient


def forward(x, w, s, p):
    return as_f32(correlated(x, w, s, p))


def backward_filter(dout, x, s, p, filter_size):
    return as_f32(filter_gradient(dout, x, s, p, filter_size))
