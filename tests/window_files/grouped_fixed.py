"""Grouped convolution, functional: w is (F, C // groups, KH, KW); filter f belongs to group f // (F // groups)."""
import numpy as np


def grouped_conv_forward(x, w, b, stride, pad, groups):
    N, C, H, W = x.shape
    F, Cg, KH, KW = w.shape
    Fg = F // groups
    Ho = (H + 2 * pad - KH) // stride + 1
    Wo = (W + 2 * pad - KW) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            g = f // Fg
            for i in range(Ho):
                for j in range(Wo):
                    total = b[f]
                    for cc in range(Cg):
                        c = g * Cg + cc
                        for a in range(KH):
                            for e in range(KW):
                                r = i * stride + a - pad
                                q = j * stride + e - pad
                                if 0 <= r < H and 0 <= q < W:
                                    total += x[n, c, r, q] * w[f, cc, a, e]
                    out[n, f, i, j] = total
    return out
