import numpy as np


def grouped_conv2d(x, w, b, stride, pad, groups):
    """x: (N, C, H, W), w: (F, C//groups, KH, KW), b: (F,)"""
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    Fg = F // groups
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - KH) // stride + 1
    Wo = (W + 2 * pad - KW) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            g = f // Fg
            c0 = g * Fg  # start channel of this group
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[n, c0:c0 + Cg, i * stride:i * stride + KH, j * stride:j * stride + KW]
                    out[n, f, i, j] = np.sum(patch * w[f]) + b[f]
    return out


def grouped_conv2d_backward(dout, x, w, b, stride, pad, groups):
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    Fg = F // groups
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    _, _, Ho, Wo = dout.shape
    for n in range(N):
        for f in range(F):
            c0 = (f // Fg) * Fg
            for i in range(Ho):
                for j in range(Wo):
                    hs, ws = i * stride, j * stride
                    dw[f] += dout[n, f, i, j] * xp[n, c0:c0 + Cg, hs:hs + KH, ws:ws + KW]
                    dxp[n, c0:c0 + Cg, hs:hs + KH, ws:ws + KW] += dout[n, f, i, j] * w[f]
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
