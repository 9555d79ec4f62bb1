import numpy as np


class MaxPool2D:
    def __init__(self, kernel_size, stride):
        self.kernel_size = kernel_size
        self.stride = stride

    def forward(self, X):
        self.X = X
        n, c, h, w = X.shape
        k, s = self.kernel_size, self.stride
        oh, ow = (h - k) // s + 1, (w - k) // s + 1
        Y = np.zeros((n, c, oh, ow))
        self.argmax = np.zeros((n, c, oh, ow), dtype=int)
        for y in range(oh):
            for x in range(ow):
                patch = X[:, :, y * s:y * s + k, x * s:x * s + k].reshape(n, c, -1)
                self.argmax[:, :, y, x] = patch.argmax(axis=2)
                Y[:, :, y, x] = patch.max(axis=2)
        return Y

    def backward(self, dY):
        n, c, oh, ow = dY.shape
        k = self.kernel_size
        dX = np.zeros_like(self.X)
        for b in range(n):
            for ch in range(c):
                for y in range(oh):
                    for x in range(ow):
                        idx = self.argmax[b, ch, y, x]
                        dX[b, ch, y + idx // k, x + idx % k] += dY[b, ch, y, x]
        return dX
