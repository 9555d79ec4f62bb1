import numpy as np

class DepthwiseConv2D:
    """Depthwise 3x3 conv, NCHW, params kept in a dict like a hobby framework."""
    def __init__(self, channels, kernel_size=3, stride=1, padding=1):
        self.stride, self.padding = stride, padding
        self.params = {"W": np.random.randn(channels, 1, kernel_size, kernel_size) * 0.1,
                       "b": np.zeros(channels)}
        self.grads = {}

    def forward(self, x):
        self.x = x
        W, b = self.params["W"], self.params["b"]
        s, p = self.stride, self.padding
        N, C, H, Wd = x.shape
        k = W.shape[2]
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        self.xp = xp
        OH = (H + 2 * p - k) // s + 1
        OW = (Wd + 2 * p - k) // s + 1
        out = np.zeros((N, C, OH, OW))
        for i in range(OH):
            for j in range(OW):
                win = xp[:, :, i * s:i * s + k, j * s:j * s + k]
                out[:, :, i, j] = (win * W[:, 0][None]).sum(axis=(2, 3)) + b
        return out

    def backward(self, dout):
        W = self.params["W"]
        s, p = self.stride, self.padding
        k = W.shape[2]
        xp = self.xp
        dxp = np.zeros_like(xp)
        dW = np.zeros_like(W)
        N, C, OH, OW = dout.shape
        for i in range(OH):
            for j in range(OW):
                win = xp[:, :, i * s:i * s + k, j * s:j * s + k]
                g = dout[:, :, i, j][:, :, None, None]
                dW[:, 0] += (win * g).sum(axis=0)
                dxp[:, :, i * s:i * s + k, j * s:j * s + k] += g * W[:, 0][None]
        self.grads["W"] = dW
        self.grads["b"] = dout.sum(axis=(0, 2, 3))
        H, Wd = self.x.shape[2:]
        return dxp[:, :, p:p + H, p:p + Wd]
