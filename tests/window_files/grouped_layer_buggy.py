"""A grouped convolution layer: filter (F, C/G, KH, KW), each group of filters reads its own channels."""
import numpy as np


class GroupedConv2d:
    def __init__(self, W, b, stride=1, pad=0, groups=1):
        self.W, self.b = W, b
        self.stride, self.pad, self.groups = stride, pad, groups

    def forward(self, x):
        self.x = x
        N, C, H, Wd = x.shape
        F, Cg, KH, KW = self.W.shape
        G, s, p = self.groups, self.stride, self.pad
        Fg = F // G
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        Ho = (H + 2 * p - KH) // s + 1
        Wo = (Wd + 2 * p - KW) // s + 1
        out = np.zeros((N, F, Ho, Wo))
        for f in range(F):
            g = f // Fg
            c0 = g * Fg
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[:, c0:c0 + Cg, i * s:i * s + KH, j * s:j * s + KW]
                    out[:, f, i, j] = np.sum(patch * self.W[f], axis=(1, 2, 3)) + self.b[f]
        return out
