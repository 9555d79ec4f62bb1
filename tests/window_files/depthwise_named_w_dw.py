import numpy as np

def depthwise_conv_forward(x, w_dw, stride=1, pad=0):
    """x (N, C, H, W), w_dw (C, K, K): one filter per channel."""
    N, C, H, W = x.shape
    _, K, _ = w_dw.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Ho = (H + 2 * pad - K) // stride + 1
    Wo = (W + 2 * pad - K) // stride + 1
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + K, j * stride:j * stride + K]
            out[:, :, i, j] = np.sum(win * w_dw[None], axis=(2, 3))
    return out

def depthwise_conv_backward(dout, x, w_dw, stride=1, pad=0):
    N, C, H, W = x.shape
    _, K, _ = w_dw.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w_dw)
    Ho, Wo = dout.shape[2:]
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:, :, i * stride:i * stride + K, j * stride:j * stride + K]
            d = dout[:, :, i, j][:, :, None, None]
            dw += np.sum(win * d, axis=0)
            dxp[:, :, i * stride:i * stride + K, j * stride:j * stride + K] += d * w_dw[None]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw
