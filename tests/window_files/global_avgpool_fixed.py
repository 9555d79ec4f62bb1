import numpy as np

def global_avg_pool_forward(x):
    """(N, C, H, W) -> (N, C): the mean of every channel."""
    return x.mean(axis=(2, 3))

def global_avg_pool_backward(dout, x):
    N, C, H, W = x.shape
    return np.broadcast_to(dout[:, :, None, None] / (H * W), x.shape).copy()
