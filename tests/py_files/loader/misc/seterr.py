import numpy as np

np.seterr(all="raise")


def divide(a):
    return np.asarray(a, dtype=float) / 0.0
