"""A transposed convolution written in the scatter form: every input entry spreads the filter."""
import numpy as np


def conv_transpose_forward(x, w, b, stride, pad, output_padding=0):
    N, Cin, H, W = x.shape
    _, Cout, KH, KW = w.shape
    Ho = (H - 1) * stride - 2 * pad + KH + output_padding
    Wo = (W - 1) * stride - 2 * pad + KW + output_padding
    out = np.zeros((N, Cout, Ho, Wo))
    for n in range(N):
        for ci in range(Cin):
            for i in range(H):
                for j in range(W):
                    for co in range(Cout):
                        for ki in range(KH):
                            for kj in range(KW):
                                r = i * stride + ki - pad
                                c = j * stride + kj - pad
                                if 0 <= r < Ho and 0 <= c < Wo:
                                    out[n, co, r, c] += x[n, ci, i, j] * w[ci, co, ki, kj]
    out += b.reshape(1, -1, 1, 1)
    return out


def conv_transpose_backward(dout, x, w, stride, pad):
    N, Cin, H, W = x.shape
    _, Cout, KH, KW = w.shape
    _, _, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    for n in range(N):
        for ci in range(Cin):
            for i in range(H):
                for j in range(W):
                    for co in range(Cout):
                        for ki in range(KH):
                            for kj in range(KW):
                                r = i * stride + ki - pad
                                c = j * stride + kj - pad
                                if 0 <= r < Ho and 0 <= c < Wo:
                                    dx[n, ci, i, j] += dout[n, co, r, c] * w[ci, co, ki, kj]
                                    dw[ci, co, ki, kj] += dout[n, co, r, c] * x[n, ci, i, j]
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db
