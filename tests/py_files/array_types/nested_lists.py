"""Plain nested Python lists of floats, the seed's style."""
def as_lists(a):
    return a.tolist()

from conv_values import correlated, filter_gradient


def forward(x, w, s, p):
    return as_lists(correlated(x, w, s, p))


def backward_filter(dout, x, s, p, filter_size):
    return as_lists(filter_gradient(dout, x, s, p, filter_size))
