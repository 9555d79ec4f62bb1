"""A cs231n-style transposed convolution: conv_param carries stride, pad and output_padding;
each input pixel adds w scaled into a full-size canvas, which is then cropped by the padding."""
import numpy as np


def conv_transpose_forward_naive(x, w, b, conv_param):
    s, p = conv_param['stride'], conv_param['pad']
    opad = conv_param.get('output_padding', 0)
    N, Ci, H, W = x.shape
    _, Co, KH, KW = w.shape
    Ho = (H - 1) * s - 2 * p + KH + opad
    Wo = (W - 1) * s - 2 * p + KW + opad
    full = np.zeros((N, Co, (H - 1) * s + KH + opad, (W - 1) * s + KW + opad))
    for i in range(H):
        for j in range(W):
            full[:, :, i * s:i * s + KH, j * s:j * s + KW] += np.einsum('nc,cokl->nokl', x[:, :, i, j], w)
    out = full[:, :, p:p + Ho, p:p + Wo] + b[None, :, None, None]
    return out, (x, w, b, conv_param)


def conv_transpose_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    s, p = conv_param['stride'], conv_param['pad']
    N, Ci, H, W = x.shape
    _, Co, KH, KW = w.shape
    full = np.zeros((N, Co, (H - 1) * s + KH + dout.shape[2], (W - 1) * s + KW + dout.shape[3]))
    full[:, :, p:p + dout.shape[2], p:p + dout.shape[3]] = dout
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i in range(H):
        for j in range(W):
            patch = full[:, :, i * s:i * s + KH, j * s:j * s + KW]
            dx[:, :, i, j] = np.einsum('nokl,cokl->nc', patch, w)
            dw += np.einsum('nc,nokl->cokl', x[:, :, i, j], patch)
    return dx, dw, dout.sum(axis=(0, 2, 3))
