import numpy as np

# Transposed conv done the "easy" way: insert (stride-1) zeros between input pixels,
# pad by k-1-pad, then do an ordinary stride-1 correlation with the flipped kernel.
# kernel is stored (C_in, C_out, k, k) like torch.


def _dilate(a, s):
    N, C, H, W = a.shape
    up = np.zeros((N, C, (H - 1) * s + 1, (W - 1) * s + 1))
    up[:, :, ::s, ::s] = a
    return up


def _corr_stride1(a, k):
    # a (N, Ci, H, W), k (Co, Ci, kh, kw) -> (N, Co, H-kh+1, W-kw+1)
    N, Ci, H, W = a.shape
    Co, _, kh, kw = k.shape
    out = np.zeros((N, Co, H - kh + 1, W - kw + 1))
    for u in range(kh):
        for v in range(kw):
            out += np.einsum('nchw,oc->nohw', a[:, :, u:u + H - kh + 1, v:v + W - kw + 1], k[:, :, u, v])
    return out


def upconv_forward(inp, kernel, stride, pad):
    kh, kw = kernel.shape[2], kernel.shape[3]
    up = _dilate(inp, stride)
    qh, qw = kh - 1 - pad, kw - 1 - pad
    up = np.pad(up, ((0, 0), (0, 0), (qh, qh), (qw, qw)))
    flipped = kernel[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)   # (C_out, C_in, k, k)
    return _corr_stride1(up, flipped)


def upconv_backward(dout, inp, kernel, stride, pad):
    kh, kw = kernel.shape[2], kernel.shape[3]
    qh, qw = kh - 1 - pad, kw - 1 - pad
    up = np.pad(_dilate(inp, stride), ((0, 0), (0, 0), (qh, qh), (qw, qw)))
    flipped = kernel[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    # gradient wrt the padded upsampled input: full correlation of dout with the flipped-back filter
    Co, Ci, kh, kw = flipped.shape
    dup = np.zeros_like(up)
    for u in range(kh):
        for v in range(kw):
            dup[:, :, u:u + dout.shape[2], v:v + dout.shape[3]] += np.einsum('nohw,oc->nchw', dout, flipped[:, :, u, v])
    dflipped = np.zeros_like(flipped)
    for u in range(kh):
        for v in range(kw):
            dflipped[:, :, u, v] = np.einsum('nohw,nchw->oc', dout, up[:, :, u:u + dout.shape[2], v:v + dout.shape[3]])
    H, W = inp.shape[2], inp.shape[3]
    dinp = dup[:, :, qh:qh + (H - 1) * stride + 1:stride, qw:qw + (W - 1) * stride + 1:stride]
    dkernel = dflipped.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
    return dinp, dkernel
