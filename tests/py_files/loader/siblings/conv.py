from layers_utils import im2col
import numpy as np

SCALE = 2


def conv1d(x, w, stride=1, pad=0):
    """Correlate x with w."""
    cols = im2col(list(x), len(w))[::stride]
    return [SCALE * sum(a * b for a, b in zip(c, w)) for c in cols]


class ConvLayer:
    """A layer with weights."""

    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x):
        return conv1d(x, self.W, self.stride, self.pad)

    def backward(self, dout):
        return dout

    @staticmethod
    def out_size(n, k, s=1, p=0):
        return (n + 2 * p - k) // s + 1

    @classmethod
    def build(cls, k):
        return cls([1] * k, 0)


class Conv2(ConvLayer):
    def extra(self, q, *, flag=True):
        return q


lib = __import__("types").SimpleNamespace(conv=conv1d, nested=__import__("types").SimpleNamespace(fwd=conv1d))
layer = ConvLayer([1, 1], 0)
for i in range(5000):
    print("import-time noise", i)


class mylib:
    """Functions grouped in classes used as namespaces."""

    class conv:
        @staticmethod
        def backward(dout, x):
            return dout

    Self = None


mylib.Self = mylib
