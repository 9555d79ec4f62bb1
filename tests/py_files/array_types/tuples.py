"""Tuples of tuples: immutable rows are still a rectangular array."""
def as_tuples(a):
    return tuple(tuple(row) for row in a.tolist())

from conv_values import correlated, filter_gradient


def forward(x, w, s, p):
    return as_tuples(correlated(x, w, s, p))


def backward_filter(dout, x, s, p, filter_size):
    return as_tuples(filter_gradient(dout, x, s, p, filter_size))
