"""A correct single-channel strided, zero-padded correlation and its filter gradient.

The other files in this folder return these same values as a different array type,
so any verdict other than "pass" (or a truncation failure for integers) is corrcheck's
fault in reading the type, never a conv bug.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def correlated(x, w, s, p):
    w = np.asarray(w, dtype=float)
    windows = sliding_window_view(np.pad(np.asarray(x, dtype=float), p), w.shape)[::s, ::s]
    return np.einsum("ijkl,kl->ij", windows, w)


def filter_gradient(dout, x, s, p, filter_size):
    dout = np.asarray(dout, dtype=float)
    kh, kw = (filter_size, filter_size) if np.isscalar(filter_size) else filter_size[-2:]
    windows = sliding_window_view(np.pad(np.asarray(x, dtype=float), p), (kh, kw))[::s, ::s]
    return np.einsum("ijkl,ij->kl", windows[:dout.shape[0], :dout.shape[1]], dout)
