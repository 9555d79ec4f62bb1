import numpy as np

# Transposed convolution (for my U-Net decoder) written as a col2im.
# x: (N, Cin, H, W), w: (Cin, Cout, KH, KW) like torch.nn.ConvTranspose2d


def col2im(cols, out_h, out_w, stride):
    # cols: (N, Cout, KH, KW, H, W) -> (N, Cout, out_h, out_w), overlapping adds
    N, Co, KH, KW, H, W = cols.shape
    img = np.zeros((N, Co, out_h, out_w))
    for i in range(KH):
        for j in range(KW):
            img[:, :, i:i + stride * H:stride, j:j + stride * W:stride] += cols[:, :, i, j]
    return img


def conv_transpose2d(x, w, stride=1, padding=0):
    N, Ci, H, W = x.shape
    _, Co, KH, KW = w.shape
    full_h = (H - 1) * stride + KH
    full_w = (W - 1) * stride + KW
    cols = np.einsum('nchw,coij->noijhw', x, w)
    full = col2im(cols, full_h, full_w, stride)
    Ho = full_h - 2 * padding
    Wo = full_w - 2 * padding
    return full[:, :, padding:padding + Ho, padding:padding + Wo]


def conv_transpose2d_backward(dout, x, w, stride=1, padding=0):
    N, Ci, H, W = x.shape
    _, Co, KH, KW = w.shape
    dfull = np.pad(dout, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dcols = np.zeros((N, Co, KH, KW, H, W))
    for i in range(KH):
        for j in range(KW):
            dcols[:, :, i, j] = dfull[:, :, i:i + stride * H:stride, j:j + stride * W:stride]
    dx = np.einsum('noijhw,coij->nchw', dcols, w)
    dw = np.einsum('noijhw,nchw->coij', dcols, x)
    return dx, dw
