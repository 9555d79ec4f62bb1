import numpy as np

def maxpool_forward(x, kernel_size=2, stride=2, padding=0, ceil_mode=False):
    N, C, H, W = x.shape
    k, s, p = kernel_size, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    Ho = (H + 2 * p - k) // s + 1
    Wo = (W + 2 * p - k) // s + 1
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = xp[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return out

def maxpool_backward(dout, x, kernel_size=2, stride=2, padding=0, ceil_mode=False):
    N, C, H, W = x.shape
    k, s, p = kernel_size, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    dxp = np.zeros_like(xp)
    Ho, Wo = dout.shape[2:]
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    win = xp[n, c, i * s:i * s + k, j * s:j * s + k]
                    a, b = np.unravel_index(np.argmax(win), win.shape)
                    dxp[n, c, i * s + a, j * s + b] += dout[n, c, i, j]
    return dxp[:, :, p:p + H, p:p + W]
