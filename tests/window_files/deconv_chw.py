"""A transposed convolution on one sample, x (C_in, H, W), w (C_in, C_out, K, K) as torch stores it."""
import numpy as np


def deconv(x, w, stride, padding):
    c_in, h, wd = x.shape
    k = w.shape[2]
    full = np.zeros((w.shape[1], (h - 1) * stride + k, (wd - 1) * stride + k))
    for i in range(h):
        for j in range(wd):
            full[:, i * stride:i * stride + k, j * stride:j * stride + k] += np.einsum("c,cokl->okl", x[:, i, j], w)
    return full[:, padding:full.shape[1] - padding, padding:full.shape[2] - padding]


def deconv_backward(dy, x, w, stride, padding):
    c_in, h, wd = x.shape
    k = w.shape[2]
    full = np.pad(dy, ((0, 0), (padding, padding), (padding, padding)))
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i in range(h):
        for j in range(wd):
            patch = full[:, i * stride:i * stride + k, j * stride:j * stride + k]
            dx[:, i, j] = np.einsum("cokl,okl->c", w, patch)
            dw += np.einsum("c,okl->cokl", x[:, i, j], patch)
    return dx, dw
