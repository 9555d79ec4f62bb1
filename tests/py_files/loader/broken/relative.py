from .layers import conv
