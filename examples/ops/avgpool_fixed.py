"""Average pooling with padding: each window divided by the number of input cells it covers."""
import numpy as np


def avg_pool_forward(x, kernel_size, stride, pad):
    N, C, H, W = x.shape
    kh, kw = kernel_size
    Ho = (H + 2 * pad - kh) // stride + 1
    Wo = (W + 2 * pad - kw) // stride + 1
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            r0, c0 = i * stride - pad, j * stride - pad
            r1, c1 = min(r0 + kh, H), min(c0 + kw, W)
            r0, c0 = max(r0, 0), max(c0, 0)
            count = (r1 - r0) * (c1 - c0)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].sum(axis=(2, 3)) / count
    return out


def avg_pool_backward(dout, x, kernel_size, stride, pad):
    N, C, H, W = x.shape
    kh, kw = kernel_size
    _, _, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for i in range(Ho):
        for j in range(Wo):
            r0, c0 = i * stride - pad, j * stride - pad
            r1, c1 = min(r0 + kh, H), min(c0 + kw, W)
            r0, c0 = max(r0, 0), max(c0, 0)
            count = (r1 - r0) * (c1 - c0)
            dx[:, :, r0:r1, c0:c1] += dout[:, :, i, j][:, :, None, None] / count
    return dx
