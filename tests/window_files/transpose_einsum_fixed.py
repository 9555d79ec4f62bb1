"""Transposed convolution as zero insertion, padding K-1-p, then a correlation written with einsum;
w is (C_in, C_out, K, K) as torch stores it, so the correlation reads it reversed."""
import numpy as np


def upconv(x, w, stride, pad):
    n, cin, h, wd = x.shape
    kh, kw = w.shape[2:]
    grid = np.zeros((n, cin, (h - 1) * stride + 1, (wd - 1) * stride + 1))
    grid[:, :, ::stride, ::stride] = x
    grid = np.pad(grid, ((0, 0), (0, 0), (kh - 1 - pad,) * 2, (kw - 1 - pad,) * 2))
    oh, ow = grid.shape[2] - kh + 1, grid.shape[3] - kw + 1
    out = np.empty((n, w.shape[1], oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = np.einsum("ncab,coab->no", grid[:, :, i:i + kh, j:j + kw], w[..., ::-1, ::-1])
    return out
