"""Depthwise convolution with one K x K filter per channel, stored w (C, K, K) (no multiplier axis)."""
import numpy as np


def depthwise_forward(x, w, stride, pad):
    n, c, h, wd = x.shape
    k0, k1 = w.shape[1:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - k0) // stride + 1, (wd + 2 * pad - k1) // stride + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = np.einsum("ncab,cab->nc", xp[:, :, i * stride:i * stride + k0, j * stride:j * stride + k1], w)
    return out


def depthwise_backward(dout, x, w, stride, pad):
    n, c, h, wd = x.shape
    k0, k1 = w.shape[1:]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = (slice(None), slice(None), slice(i * stride, i * stride + k0), slice(j * stride, j * stride + k1))
            dw += np.einsum("nc,ncab->cab", dout[:, :, i, j], xp[win])
            dxp[win] += np.einsum("nc,cab->ncab", dout[:, :, i, j], w)
    return dxp[:, :, pad:pad + h, pad:pad + wd], dw
