"""A framework-style layer, the kind corrcheck cannot call directly: tensors are objects
with .data and .grad, parameters live in a registry, and backward() accumulates into
.grad of whatever produced the output. tiny_framework_adapter.py wraps it in plain functions."""
import numpy as np


class Tensor:
    def __init__(self, data, requires_grad=False):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data) if requires_grad else None
        self._backward = None

    def backward(self, grad):
        if self._backward is not None:
            self._backward(np.asarray(grad, dtype=np.float64))


class Module:
    def parameters(self):
        return [v for v in vars(self).values() if isinstance(v, Tensor) and v.grad is not None]

    def zero_grad(self):
        for p in self.parameters():
            p.grad[...] = 0.0

    def __call__(self, *args):
        return self.forward(*args)


class Conv2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        rng = np.random.default_rng(0)
        self.weight = Tensor(rng.standard_normal((out_channels, in_channels, kh, kw)) * 0.1, requires_grad=True)
        self.bias = Tensor(np.zeros(out_channels), requires_grad=True)
        self.stride, self.padding = stride, padding

    def forward(self, x: Tensor) -> Tensor:
        s, p = self.stride, self.padding
        w = self.weight.data
        F, C, KH, KW = w.shape
        xp = np.pad(x.data, ((0, 0), (0, 0), (p, p), (p, p)))
        N, _, HP, WP = xp.shape
        OH, OW = (HP - KH) // s + 1, (WP - KW) // s + 1
        out = np.empty((N, F, OH, OW))
        for i in range(OH):
            for j in range(OW):
                patch = xp[:, :, i * s:i * s + KH, j * s:j * s + KW]
                out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + self.bias.data
        y = Tensor(out)

        def backward(g):
            gxp = np.zeros_like(xp)
            for i in range(OH):
                for j in range(OW):
                    patch = xp[:, :, i * s:i * s + KH, j * s:j * s + KW]
                    self.weight.grad += np.tensordot(g[:, :, i, j], patch, axes=([0], [0]))
                    gxp[:, :, i * s:i * s + KH, j * s:j * s + KW] += np.tensordot(g[:, :, i, j], w, axes=([1], [0]))
            self.bias.grad += g.sum(axis=(0, 2, 3))
            if x.grad is not None:
                x.grad += gxp[:, :, p:p + x.data.shape[2], p:p + x.data.shape[3]]
        y._backward = backward
        return y
