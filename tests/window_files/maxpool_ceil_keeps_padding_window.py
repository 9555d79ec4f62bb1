import numpy as np


def max_pool(x, k, stride, padding, ceil_mode=False):
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    if ceil_mode:
        Ho = int(np.ceil((H + 2 * padding - k) / stride)) + 1
        Wo = int(np.ceil((W + 2 * padding - k) / stride)) + 1
    else:
        Ho = (H + 2 * padding - k) // stride + 1
        Wo = (W + 2 * padding - k) // stride + 1
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k].max(axis=(2, 3))
    return out


def max_pool_backward(dout, x, k, stride, padding, ceil_mode=False):
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    dxp = np.zeros_like(xp)
    for n in range(N):
        for c in range(C):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = xp[n, c, i * stride:i * stride + k, j * stride:j * stride + k]
                    a, b = np.unravel_index(np.argmax(win), win.shape)
                    dxp[n, c, i * stride + a, j * stride + b] += dout[n, c, i, j]
    return dxp[:, :, padding:padding + H, padding:padding + W]
