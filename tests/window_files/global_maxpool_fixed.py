import numpy as np

def global_max_pool_forward(x):
    return x.max(axis=(2, 3))

def global_max_pool_backward(dout, x):
    N, C, H, W = x.shape
    flat = x.reshape(N, C, -1)
    dx = np.zeros_like(flat)
    idx = flat.argmax(axis=2)
    for n in range(N):
        for c in range(C):
            dx[n, c, idx[n, c]] = dout[n, c]
    return dx.reshape(x.shape)
