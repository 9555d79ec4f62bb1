"""Depthwise convolution with a channel multiplier M: filter (C*M, 1, KH, KW), output channel c*M + m."""
import numpy as np


def depthwise_conv_forward(x, w, b, stride, pad):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    M = F // C
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - KH) // stride + 1
    Wo = (W + 2 * pad - KW) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for m in range(M):
                f = m * C + c
                for i in range(Ho):
                    for j in range(Wo):
                        patch = xp[n, c, i * stride:i * stride + KH, j * stride:j * stride + KW]
                        out[n, f, i, j] = np.sum(patch * w[c * M + m, 0]) + b[c * M + m]
    return out
