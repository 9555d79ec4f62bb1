"""cs231n-style grouped convolution: conv_param carries the groups."""
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride, pad, G = conv_param['stride'], conv_param['pad'], conv_param['groups']
    N, C, H, W = x.shape
    F, Cg, HH, WW = w.shape
    Fg = F // G
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = 1 + (H + 2 * pad - HH) // stride
    Wo = 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo))
    for f in range(F):
        g = f // Fg
        for i in range(Ho):
            for j in range(Wo):
                patch = xp[:, g * Cg:(g + 1) * Cg, i * stride:i * stride + HH, j * stride:j * stride + WW]
                out[:, f, i, j] = np.sum(patch * w[f], axis=(1, 2, 3)) + b[f]
    cache = (x, w, b, conv_param)
    return out, cache
