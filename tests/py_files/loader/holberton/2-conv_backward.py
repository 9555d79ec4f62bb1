#!/usr/bin/env python3
"""Backward in another file; uses numpy imported by the first file too."""
conv_forward = __import__('0-conv_forward').conv_forward


def conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1)):
    return np.asarray(dZ) + 0, conv_forward(A_prev, W, b, None)


def pad_it(a):
    return np.asarray(a)
