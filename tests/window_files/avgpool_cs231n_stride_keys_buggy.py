import numpy as np


def avg_pool_forward_naive(x, pool_param):
    HH = pool_param['stride']     # window size
    WW = pool_param['stride']
    S = pool_param['stride']
    N, C, H, W = x.shape
    H_out = (H - HH) // S + 1
    W_out = (W - WW) // S + 1
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * S:i * S + HH, j * S:j * S + WW].mean(axis=(2, 3))
    return out, (x, pool_param)


def avg_pool_backward_naive(dout, cache):
    x, pool_param = cache
    HH = pool_param['stride']
    WW = pool_param['stride']
    S = pool_param['stride']
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * S:i * S + HH, j * S:j * S + WW] += dout[:, :, i, j][:, :, None, None] / (HH * WW)
    return dx
