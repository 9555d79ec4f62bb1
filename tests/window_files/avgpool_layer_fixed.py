"""Average pooling layer (padding counted out): divides each window by the input cells it covers."""
import numpy as np


class AvgPool2d:
    def __init__(self, kernel_size, stride, padding=0):
        self.k, self.s, self.p = kernel_size, stride, padding

    def _bounds(self, i, j, H, W):
        r0, c0 = i * self.s - self.p, j * self.s - self.p
        r1, c1 = min(r0 + self.k, H), min(c0 + self.k, W)
        r0, c0 = max(r0, 0), max(c0, 0)
        return r0, r1, c0, c1

    def forward(self, x):
        self.shape = x.shape
        N, C, H, W = x.shape
        Ho = (H + 2 * self.p - self.k) // self.s + 1
        Wo = (W + 2 * self.p - self.k) // self.s + 1
        out = np.zeros((N, C, Ho, Wo))
        for i in range(Ho):
            for j in range(Wo):
                r0, r1, c0, c1 = self._bounds(i, j, H, W)
                cells = (r1 - r0) * (c1 - c0)
                out[:, :, i, j] = x[:, :, r0:r1, c0:c1].sum(axis=(2, 3)) / cells
        return out

    def backward(self, dout):
        N, C, H, W = self.shape
        dx = np.zeros(self.shape)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                r0, r1, c0, c1 = self._bounds(i, j, H, W)
                cells = (r1 - r0) * (c1 - c0)
                dx[:, :, r0:r1, c0:c1] += dout[:, :, i, j][:, :, None, None] / cells
        return dx
