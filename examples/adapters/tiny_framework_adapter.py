"""Adapter: the functional convention on top of tiny_framework.Conv2d.

    corrcheck run examples/adapters/tiny_framework_adapter.py --stride 2 --pad 1

Ten lines of glue: build the layer, put corrcheck's arrays in, run, read the grads out.
"""
from tiny_framework import Conv2d, Tensor


def _layer(w, b, stride, pad):
    layer = Conv2d(w.shape[1], w.shape[0], w.shape[2:], stride=stride, padding=pad)
    layer.weight.data[...], layer.bias.data[...] = w, b
    return layer


def conv_forward(x, w, b, stride, pad):
    return _layer(w, b, stride, pad)(Tensor(x)).data


def conv_backward(dout, x, w, b, stride, pad):
    layer, xt = _layer(w, b, stride, pad), Tensor(x, requires_grad=True)
    layer.zero_grad()
    layer(xt).backward(dout)
    return xt.grad, layer.weight.grad, layer.bias.grad
