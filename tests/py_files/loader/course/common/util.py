def im2col(x):
    return x
