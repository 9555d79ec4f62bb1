"""A CUDA tensor, simulated: this machine has no GPU, so a stand-in refuses numpy exactly as a
real CUDA tensor does (`.numpy()` and `__array__` raise until `.cpu()`), and `.cpu()` gives a real
CPU tensor.  Only the calls corrcheck may make are modelled; the rest of torch is the real one."""
import torch

from conv_values import correlated, filter_gradient


class CudaTensor:
    device = torch.device("cuda", 0)       # a device object needs no GPU
    is_cuda = True

    def __init__(self, cpu_tensor):
        self._cpu = cpu_tensor
        self.dtype, self.shape = cpu_tensor.dtype, cpu_tensor.shape

    def detach(self):
        return CudaTensor(self._cpu.detach())

    def cpu(self):
        return self._cpu

    def numpy(self):
        raise TypeError("can't convert cuda:0 device type tensor to numpy. "
                        "Use Tensor.cpu() to copy the tensor to host memory first.")

    def __array__(self, dtype=None, copy=None):
        return self.numpy()


CudaTensor.__module__ = "torch"             # where the real class lives: corrcheck dispatches on it


def on_gpu(a):
    return CudaTensor(torch.tensor(a, requires_grad=True) * 1.0)


def forward(x, w, s, p):
    return on_gpu(correlated(x, w, s, p))


def backward_filter(dout, x, s, p, filter_size):
    return on_gpu(filter_gradient(dout, x, s, p, filter_size))
