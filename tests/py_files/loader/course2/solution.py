from cs231n.fast_layers import conv_forward_fast


def my_forward(x):
    return conv_forward_fast(x) * 10
