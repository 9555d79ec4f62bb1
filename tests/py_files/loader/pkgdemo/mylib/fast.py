def fast_conv(x):
    return x * 3
