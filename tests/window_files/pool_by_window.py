"""Non-overlapping max pooling: the window is also the step (no stride parameter), as in many
course notebooks, written with reshape-free loops."""
import numpy as np


def max_pool_forward(x, size):
    N, C, H, W = x.shape
    OH, OW = H // size, W // size
    out = np.zeros((N, C, OH, OW))
    for i in range(OH):
        for j in range(OW):
            out[:, :, i, j] = x[:, :, i * size:(i + 1) * size, j * size:(j + 1) * size].max(axis=(2, 3))
    return out


def max_pool_backward(dout, x, size):
    N, C, OH, OW = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    win = x[n, c, i * size:(i + 1) * size, j * size:(j + 1) * size]
                    r, q = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i * size + r, j * size + q] += dout[n, c, i, j]
    return dx
