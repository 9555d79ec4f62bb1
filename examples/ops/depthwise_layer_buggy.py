"""A MobileNet block's depthwise layer that makes its own weights: W is (C * M, 1, K, K).

Each output channel f reads one input channel, c = f // M (torch's conv2d with groups = C);
nothing in the names says "grouped": the weight's shape does.
"""
import numpy as np


class ChannelConv2d:
    def __init__(self, channels, kernel_size, stride=1, padding=0, multiplier=2):
        rng = np.random.default_rng(0)
        self.W = rng.standard_normal((channels * multiplier, 1, kernel_size, kernel_size)) * 0.1
        self.b = np.zeros(channels * multiplier)
        self.stride, self.padding, self.M = stride, padding, multiplier

    def forward(self, x):
        self.x = x
        N, C, H, Wd = x.shape
        F, _, K, _ = self.W.shape
        s, p = self.stride, self.padding
        self.xp = xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        Ho, Wo = (H + 2 * p - K) // s + 1, (Wd + 2 * p - K) // s + 1
        out = np.zeros((N, F, Ho, Wo))
        for n in range(N):
            for f in range(F):
                c = f // self.M
                for i in range(Ho):
                    for j in range(Wo):
                        window = xp[n, :, i * s:i * s + K, j * s:j * s + K]
                        out[n, f, i, j] = np.sum(window * self.W[f, 0]) + self.b[f]
        return out

    def backward(self, dout):
        N, C, H, Wd = self.x.shape
        F, _, K, _ = self.W.shape
        s, p = self.stride, self.padding
        dxp = np.zeros_like(self.xp)
        self.dW, self.db = np.zeros_like(self.W), dout.sum(axis=(0, 2, 3))
        for n in range(N):
            for f in range(F):
                c = f // self.M
                for i in range(dout.shape[2]):
                    for j in range(dout.shape[3]):
                        window = self.xp[n, c, i * s:i * s + K, j * s:j * s + K]
                        self.dW[f, 0] += window * dout[n, f, i, j]
                        dxp[n, c, i * s:i * s + K, j * s:j * s + K] += self.W[f, 0] * dout[n, f, i, j]
        return dxp[:, :, p:dxp.shape[2] - p, p:dxp.shape[3] - p]
