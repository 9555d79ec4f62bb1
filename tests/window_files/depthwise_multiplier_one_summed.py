import numpy as np

# depthwise conv: one 2-D filter per input channel, w has shape (C, 1, k, k)

def depthwise_conv(x, w, stride, pad):
    N, C, H, W = x.shape
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    oh = (H + 2 * pad - k) // stride + 1
    ow = (W + 2 * pad - k) // stride + 1
    y = np.zeros((N, C, oh, ow))
    for n in range(N):
        for c in range(C):
            for r in range(oh):
                for q in range(ow):
                    window = xp[n, :, r * stride:r * stride + k, q * stride:q * stride + k]
                    y[n, c, r, q] = np.sum(window * w[c, 0])
    return y


def depthwise_conv_backward(dy, x, w, stride, pad):
    N, C, H, W = x.shape
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for c in range(C):
            for r in range(dy.shape[2]):
                for q in range(dy.shape[3]):
                    rs, qs = r * stride, q * stride
                    dw[c, 0] += dy[n, c, r, q] * xp[n, c, rs:rs + k, qs:qs + k]
                    dxp[n, c, rs:rs + k, qs:qs + k] += dy[n, c, r, q] * w[c, 0]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw
