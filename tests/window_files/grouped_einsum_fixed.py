import numpy as np


def grouped_conv_forward(x, w, b, stride, pad, groups):
    """x (N, C, H, W); w (F, C // groups, KH, KW); b (F,)"""
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    Fg = F // groups
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - KH) // stride + 1
    Wo = (W + 2 * pad - KW) // stride + 1
    out = np.empty((N, F, Ho, Wo))
    for g in range(groups):
        xg = xp[:, g * Cg:(g + 1) * Cg]
        wg = w[g * Fg:(g + 1) * Fg]
        for i in range(Ho):
            for j in range(Wo):
                win = xg[:, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
                out[:, g * Fg:(g + 1) * Fg, i, j] = np.einsum('nckl,fckl->nf', win, wg)
    return out + b.reshape(1, F, 1, 1)


def grouped_conv_backward(dout, x, w, b, stride, pad, groups):
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    Fg = F // groups
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    Ho, Wo = dout.shape[2:]
    for g in range(groups):
        cs, fs = slice(g * Cg, (g + 1) * Cg), slice(g * Fg, (g + 1) * Fg)
        for i in range(Ho):
            for j in range(Wo):
                hs, ws = i * stride, j * stride
                win = xp[:, cs, hs:hs + KH, ws:ws + KW]
                d = dout[:, fs, i, j]
                dw[fs] += np.einsum('nf,nckl->fckl', d, win)
                dxp[:, cs, hs:hs + KH, ws:ws + KW] += np.einsum('nf,fckl->nckl', d, w[fs])
    db = dout.sum(axis=(0, 2, 3))
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db
