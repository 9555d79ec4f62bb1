import numpy as np

def max_pool_backward(dout, x, k, stride):
    N, C, H, W = x.shape
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i*stride:i*stride+k, j*stride:j*stride+k].reshape(N, C, -1)
            t = win.argmax(axis=2)
            for n in range(N):
                for c in range(C):
                    r, q = t[n, c] % k, t[n, c] // k
                    dx[n, c, i*stride + r, j*stride + q] += dout[n, c, i, j]
    return dx

def max_pool_forward(x, k, stride):
    N, C, H, W = x.shape
    Ho, Wo = (H - k)//stride + 1, (W - k)//stride + 1
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i*stride:i*stride+k, j*stride:j*stride+k].max(axis=(2, 3))
    return out
