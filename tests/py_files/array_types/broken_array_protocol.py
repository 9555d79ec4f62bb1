"""An object whose __array__ raises: the user's output is unusable, and that is one sentence."""
from conv_values import correlated, filter_gradient


class LazyGrid:
    def __init__(self, values):
        self.values = values

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("grid was never materialised")


def forward(x, w, s, p):
    return LazyGrid(correlated(x, w, s, p))


def backward_filter(dout, x, s, p, filter_size):
    return filter_gradient(dout, x, s, p, filter_size)
