from .fast import fast_conv
from . import fast


def conv_relu_forward(x):
    return max(fast_conv(x), fast.fast_conv(0))
