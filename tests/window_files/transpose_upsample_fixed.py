"""Transposed convolution as zero insertion + a stride-1 correlation, keeping torch's (in, out, k, k)
filter: the correlation must read the filter flipped, with padding k - 1 - pad."""
import numpy as np


def upconv_forward(x, w, b, stride, pad):
    N, Cin, H, W = x.shape
    _, Cout, K, _ = w.shape
    up = np.zeros((N, Cin, (H - 1) * stride + 1, (W - 1) * stride + 1))
    up[:, :, ::stride, ::stride] = x
    q = K - 1 - pad
    up = np.pad(up, ((0, 0), (0, 0), (q, q), (q, q)))
    Ho, Wo = up.shape[2] - K + 1, up.shape[3] - K + 1
    out = np.zeros((N, Cout, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            for a in range(K):
                for e in range(K):
                    out[:, :, i, j] += up[:, :, i + a, j + e] @ w[:, :, K - 1 - a, K - 1 - e]
    return out + b.reshape(1, -1, 1, 1)
