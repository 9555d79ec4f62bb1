"""A 1-D transposed convolution (an audio decoder): x (N, Cin, L), w (Cin, Cout, K), no bias."""
import numpy as np
def deconv1d(x, w, stride, pad):
    N, Ci, L = x.shape
    _, Co, K = w.shape
    out = np.zeros((N, Co, (L - 1) * stride - 2 * pad + K))
    for i in range(L):
        for k in range(K):
            o = i * stride + k - pad
            if 0 <= o < out.shape[2]:
                out[:, :, o] += x[:, :, i] @ w[:, :, k]
    return out
