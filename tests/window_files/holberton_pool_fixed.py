#!/usr/bin/env python3
"""Pooling forward/backward, NHWC (Holberton style)"""
import numpy as np


def pool_forward(A_prev, kernel_shape, stride=(1, 1), mode='max'):
    m, h_prev, w_prev, c_prev = A_prev.shape
    kh, kw = kernel_shape
    sh, sw = stride
    h_new = (h_prev - kh) // sh + 1
    w_new = (w_prev - kw) // sw + 1
    A = np.zeros((m, h_new, w_new, c_prev))
    for i in range(h_new):
        for j in range(w_new):
            win = A_prev[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
            if mode == 'max':
                A[:, i, j, :] = np.max(win, axis=(1, 2))
            else:
                A[:, i, j, :] = np.mean(win, axis=(1, 2))
    return A


def pool_backward(dA, A_prev, kernel_shape, stride=(1, 1), mode='max'):
    m, h_new, w_new, c_new = dA.shape
    kh, kw = kernel_shape
    sh, sw = stride
    dA_prev = np.zeros_like(A_prev)
    for n in range(m):
        for i in range(h_new):
            for j in range(w_new):
                for c in range(c_new):
                    win = A_prev[n, i * sh:i * sh + kh, j * sw:j * sw + kw, c]
                    if mode == 'max':
                        mask = (win == np.max(win))
                        dA_prev[n, i * sh:i * sh + kh, j * sw:j * sw + kw, c] += mask * dA[n, i, j, c]
                    else:
                        dA_prev[n, i * sh:i * sh + kh, j * sw:j * sw + kw, c] += dA[n, i, j, c] / (kh * kw)
    return dA_prev
