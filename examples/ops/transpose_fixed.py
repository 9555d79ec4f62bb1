"""A decoder's upsampling layer, written by hand: a transposed convolution (stride 2 doubles the size).

Each input pixel spreads the filter over the output: input (i, j) with tap (ki, kj)
lands on output row i*stride + ki - pad, column j*stride + kj - pad.
"""
import numpy as np


def conv_transpose_forward(x, w, b, stride, pad):
    N, Cin, H, W = x.shape
    _, Cout, KH, KW = w.shape
    Ho = (H - 1) * stride - 2 * pad + KH
    Wo = (W - 1) * stride - 2 * pad + KW
    out = np.zeros((N, Cout, Ho, Wo))
    for i in range(H):
        for j in range(W):
            for ki in range(KH):
                for kj in range(KW):
                    r, c = i * stride + ki - pad, j * stride + kj - pad
                    if 0 <= r < Ho and 0 <= c < Wo:
                        out[:, :, r, c] += x[:, :, i, j] @ w[:, :, ki, kj]
    return out + b.reshape(1, -1, 1, 1)


def conv_transpose_backward(dout, x, w, stride, pad):
    N, Cin, H, W = x.shape
    _, Cout, KH, KW = w.shape
    _, _, Ho, Wo = dout.shape
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i in range(H):
        for j in range(W):
            for ki in range(KH):
                for kj in range(KW):
                    r, c = i * stride + ki - pad, j * stride + kj - pad
                    if 0 <= r < Ho and 0 <= c < Wo:
                        dx[:, :, i, j] += dout[:, :, r, c] @ w[:, :, ki, kj].T
                        dw[:, :, ki, kj] += x[:, :, i, j].T @ dout[:, :, r, c]
    return dx, dw, dout.sum(axis=(0, 2, 3))
