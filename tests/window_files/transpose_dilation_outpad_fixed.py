import numpy as np

def conv_transpose_forward(x, w, b, stride=1, padding=0, output_padding=0, dilation=1):
    """x (N, Cin, H, W), w (Cin, Cout, K, K)."""
    N, Cin, H, W = x.shape
    _, Cout, K, _ = w.shape
    s, p, op, d = stride, padding, output_padding, dilation
    Hf = (H - 1) * s + d * (K - 1) + 1 + op
    Wf = (W - 1) * s + d * (K - 1) + 1 + op
    full = np.zeros((N, Cout, Hf, Wf))
    for i in range(H):
        for j in range(W):
            for a in range(K):
                for c in range(K):
                    full[:, :, i * s + a * d, j * s + c * d] += x[:, :, i, j] @ w[:, :, a, c]
    out = full[:, :, p:Hf - p, p:Wf - p]
    return out + b[None, :, None, None]

def conv_transpose_backward(dout, x, w, b, stride=1, padding=0, output_padding=0, dilation=1):
    N, Cin, H, W = x.shape
    _, Cout, K, _ = w.shape
    s, p, op, d = stride, padding, output_padding, dilation
    Hf = (H - 1) * s + d * (K - 1) + 1 + op
    Wf = (W - 1) * s + d * (K - 1) + 1 + op
    full = np.zeros((N, Cout, Hf, Wf))
    full[:, :, p:Hf - p, p:Wf - p] = dout
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    for i in range(H):
        for j in range(W):
            for a in range(K):
                for c in range(K):
                    g = full[:, :, i * s + a * d, j * s + c * d]
                    dx[:, :, i, j] += g @ w[:, :, a, c].T
                    dw[:, :, a, c] += x[:, :, i, j].T @ g
    return dx, dw, dout.sum(axis=(0, 2, 3))
