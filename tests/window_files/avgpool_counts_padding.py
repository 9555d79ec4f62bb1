import numpy as np


def avg_pool2d(x, kernel_size, stride, padding):
    """like torch.nn.functional.avg_pool2d with its defaults"""
    N, C, H, W = x.shape
    k, s, p = kernel_size, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho = (H + 2 * p - k) // s + 1
    Wo = (W + 2 * p - k) // s + 1
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = xp[:, :, i*s:i*s+k, j*s:j*s+k].mean(axis=(2, 3))
    return out


def avg_pool2d_backward(dout, x, kernel_size, stride, padding):
    N, C, H, W = x.shape
    k, s, p = kernel_size, stride, padding
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p))
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dxp[:, :, i*s:i*s+k, j*s:j*s+k] += dout[:, :, i, j, None, None] / (k * k)
    return dxp[:, :, p:p + H, p:p + W]
