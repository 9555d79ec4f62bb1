import numpy as np


class MaxPool2D:
    def __init__(self, pool_size=2, stride=2):
        self.pool_size = pool_size
        self.stride = stride
        self.mask = None
        self.x_shape = None

    def forward(self, x):
        N, C, H, W = x.shape
        k, s = self.pool_size, self.stride
        Ho = (H - k) // s + 1
        Wo = (W - k) // s + 1
        out = np.zeros((N, C, Ho, Wo))
        self.mask = np.zeros((N, C, Ho, Wo, k, k), dtype=bool)
        for i in range(Ho):
            for j in range(Wo):
                win = x[:, :, i * s:i * s + k, j * s:j * s + k]
                m = win.max(axis=(2, 3))
                out[:, :, i, j] = m
                self.mask[:, :, i, j] = win == m[:, :, None, None]
        self.x_shape = x.shape
        return out

    def backward(self, dout):
        N, C, Ho, Wo = dout.shape
        k, s = self.pool_size, self.stride
        dx = np.zeros(self.x_shape)
        for i in range(Ho):
            for j in range(Wo):
                dx[:, :, i * s:i * s + k, j * s:j * s + k] += self.mask[:, :, i, j] * dout[:, :, i, j, None, None]
        return dx
