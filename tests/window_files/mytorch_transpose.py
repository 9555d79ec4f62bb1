"""mytorch style: a transposed convolution as zero insertion followed by a stride-1 correlation."""
import numpy as np


class Upsample2d:
    def __init__(self, upsampling_factor):
        self.upsampling_factor = upsampling_factor

    def forward(self, A):
        k = self.upsampling_factor
        N, C, H, W = A.shape
        Z = np.zeros((N, C, k * (H - 1) + 1, k * (W - 1) + 1))
        Z[:, :, ::k, ::k] = A
        return Z

    def backward(self, dLdZ):
        k = self.upsampling_factor
        return dLdZ[:, :, ::k, ::k]


class Conv2d_stride1:
    def __init__(self, in_channels, out_channels, kernel_size):
        self.W = np.random.normal(0, 1.0, (out_channels, in_channels, kernel_size, kernel_size))
        self.b = np.zeros(out_channels)

    def forward(self, A):
        self.A = A
        N, C, H, W = A.shape
        F, _, K, _ = self.W.shape
        Ho, Wo = H - K + 1, W - K + 1
        Z = np.zeros((N, F, Ho, Wo))
        for i in range(Ho):
            for j in range(Wo):
                Z[:, :, i, j] = np.tensordot(A[:, :, i:i + K, j:j + K], self.W, axes=([1, 2, 3], [1, 2, 3]))
        return Z + self.b.reshape(1, -1, 1, 1)

    def backward(self, dLdZ):
        N, F, Ho, Wo = dLdZ.shape
        K = self.W.shape[2]
        self.dLdW = np.zeros_like(self.W)
        dLdA = np.zeros_like(self.A)
        for i in range(Ho):
            for j in range(Wo):
                self.dLdW += np.tensordot(dLdZ[:, :, i, j], self.A[:, :, i:i + K, j:j + K], axes=([0], [0]))
                dLdA[:, :, i:i + K, j:j + K] += np.tensordot(dLdZ[:, :, i, j], self.W, axes=([1], [0]))
        self.dLdb = dLdZ.sum(axis=(0, 2, 3))
        return dLdA


class ConvTranspose2d:
    def __init__(self, in_channels, out_channels, kernel_size, upsampling_factor):
        self.upsample2d = Upsample2d(upsampling_factor)
        self.conv2d_stride1 = Conv2d_stride1(in_channels, out_channels, kernel_size)

    def forward(self, A):
        A_upsampled = self.upsample2d.forward(A)
        return self.conv2d_stride1.forward(A_upsampled)

    def backward(self, dLdZ):
        delta_out = self.conv2d_stride1.backward(dLdZ)
        return self.upsample2d.backward(delta_out)
