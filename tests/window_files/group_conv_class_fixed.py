import numpy as np

class GroupConv2D:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, groups=1):
        self.cin, self.cout, self.k = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.groups = stride, padding, groups
        self.W = np.random.randn(out_channels, in_channels // groups, kernel_size, kernel_size) * 0.1
        self.b = np.zeros(out_channels)

    def forward(self, x):
        self.x = x
        N, C, H, W_ = x.shape
        k, s, p, G = self.k, self.stride, self.padding, self.groups
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        Ho = (H + 2 * p - k) // s + 1
        Wo = (W_ + 2 * p - k) // s + 1
        cg, fg = C // G, self.cout // G
        out = np.zeros((N, self.cout, Ho, Wo))
        for f in range(self.cout):
            g = f // fg
            for i in range(Ho):
                for j in range(Wo):
                    win = xp[:, g * cg:(g + 1) * cg, i * s:i * s + k, j * s:j * s + k]
                    out[:, f, i, j] = np.sum(win * self.W[f], axis=(1, 2, 3)) + self.b[f]
        return out

    def backward(self, dout):
        x = self.x
        N, C, H, W_ = x.shape
        k, s, p, G = self.k, self.stride, self.padding, self.groups
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        dxp = np.zeros_like(xp)
        self.dW = np.zeros_like(self.W)
        self.db = dout.sum(axis=(0, 2, 3))
        cg, fg = C // G, self.cout // G
        Ho, Wo = dout.shape[2:]
        for f in range(self.cout):
            g = f // fg
            for i in range(Ho):
                for j in range(Wo):
                    win = xp[:, g * cg:(g + 1) * cg, i * s:i * s + k, j * s:j * s + k]
                    self.dW[f] += np.tensordot(dout[:, f, i, j], win, axes=(0, 0))
                    dxp[:, g * cg:(g + 1) * cg, i * s:i * s + k, j * s:j * s + k] += dout[:, f, i, j][:, None, None, None] * self.W[f]
        return dxp[:, :, p:p + H, p:p + W_]
