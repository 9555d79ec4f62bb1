"""Max pooling with padding, written by hand: forward keeps each window's maximum, backward routes
each upstream gradient to the cell that held it."""
import numpy as np


def max_pool_forward(x, pool_size, stride, pad):
    N, C, H, W = x.shape
    ph, pw = pool_size
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    Ho = (H + 2 * pad - ph) // stride + 1
    Wo = (W + 2 * pad - pw) // stride + 1
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = xp[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out


def max_pool_backward(dout, x, pool_size, stride, pad):
    N, C, H, W = x.shape
    ph, pw = pool_size
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    dxp = np.zeros_like(xp)
    _, _, Ho, Wo = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    dxp[n, c, i + r, j + s] += dout[n, c, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W]
