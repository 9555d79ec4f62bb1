"""A strided, padded Conv2d as an nn.Module whose forward is written by hand (unfold + einsum).

Autograd differentiates the forward, so forward and backward always agree and
torch.autograd.gradcheck passes whatever the forward computes.  This one pads
only the far side of each axis (2*padding after, none before): the output has
the right size, but every window is shifted by `padding`.

    python examples/torch_module.py            # what torch.autograd.gradcheck says
    corrcheck run examples/torch_module.py     # what corrcheck says
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class PatchConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.stride, self.padding, self.kernel_size = stride, padding, kernel_size
        bound = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x):
        p, s, k = self.padding, self.stride, self.kernel_size
        x = F.pad(x, (0, 2 * p, 0, 2 * p))
        windows = x.unfold(2, k, s).unfold(3, k, s)              # (N, C, OH, OW, K, K)
        out = torch.einsum("ncijuv,fcuv->nfij", windows, self.weight)
        return out + self.bias.view(1, -1, 1, 1)


if __name__ == "__main__":
    torch.manual_seed(0)
    layer = PatchConv2d(3, 4, 3, stride=2, padding=1).double()
    x = torch.randn(2, 3, 8, 7, dtype=torch.float64, requires_grad=True)
    print("gradcheck:", torch.autograd.gradcheck(layer, (x,)))
