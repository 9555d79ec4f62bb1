"""float16 results of a convolution where a correlation was asked: loose half-precision
tolerances must still catch a real indexing mistake."""
import numpy as np

from conv_values import correlated, filter_gradient


def forward(x, w, s, p):
    return correlated(x, np.asarray(w)[::-1, ::-1], s, p).astype(np.float16)


def backward_filter(dout, x, s, p, filter_size):
    return filter_gradient(dout, x, s, p, filter_size)[::-1, ::-1].astype(np.float16)
