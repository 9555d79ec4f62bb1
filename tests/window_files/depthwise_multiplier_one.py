import numpy as np


def depthwise_conv(x, w, stride, pad):
    """depthwise correlation, one filter per channel: x (N, C, H, W), w (C, 1, KH, KW)"""
    N, C, H, W = x.shape
    kh, kw = w.shape[2], w.shape[3]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (H + 2 * pad - kh) // stride + 1
    ow = (W + 2 * pad - kw) // stride + 1
    y = np.zeros((N, C, oh, ow))
    for c in range(C):
        for r in range(oh):
            for q in range(ow):
                y[:, c, r, q] = np.sum(xp[:, c, r * stride:r * stride + kh, q * stride:q * stride + kw] * w[c, 0], axis=(1, 2))
    return y
