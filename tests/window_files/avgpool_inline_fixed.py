"""Average pooling, padding not counted: the divisor written inline where each window is spread back."""
import numpy as np


def avg_pool_forward(x, k, stride, pad):
    N, C, H, W = x.shape
    Ho, Wo = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            top, left = max(i * stride - pad, 0), max(j * stride - pad, 0)
            bottom, right = min(i * stride - pad + k, H), min(j * stride - pad + k, W)
            out[:, :, i, j] = x[:, :, top:bottom, left:right].mean(axis=(2, 3))
    return out


def avg_pool_backward(dout, x, k, stride, pad):
    N, C, H, W = x.shape
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            top, left = max(i * stride - pad, 0), max(j * stride - pad, 0)
            bottom, right = min(i * stride - pad + k, H), min(j * stride - pad + k, W)
            dx[:, :, top:bottom, left:right] += dout[:, :, i, j][:, :, None, None] / ((bottom - top) * (right - left))
    return dx
