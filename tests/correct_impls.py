"""Generated CORRECT convolution implementations, for the no-false-accusation suite (issue 14).

Every file written here is right at every stride, pad and size it accepts; corrcheck run
zero-config on it must say pass (exit 0). The variety is the point: loop orders, slicing,
einsum, im2col/col2im, sliding_window_view, tensordot, pure lists, objects; the functional,
cs231n, holberton and layer conventions; hw, 1-D, NCHW and NHWC layouts, flat arrays with extents;
Python and JavaScript. `generate()` returns (file name, source) pairs, deterministically.
"""
from __future__ import annotations

import itertools
from pathlib import Path

# ---------------------------------------------------------------- Python, 2-D single channel (hw)

PY_HEAD = "import numpy as np\nfrom numpy.lib.stride_tricks import sliding_window_view\n\n"

# names: (forward, grad_input, grad_filter, x, w, stride, pad, dout, in_shape, k_shape)
PY_NAMES = [
    ("correlate", "correlate_backward_input", "correlate_backward_filter", "x", "w", "stride", "pad", "dout",
     "input_shape", "filter_shape"),
    ("conv2d", "conv2d_grad_input", "conv2d_grad_kernel", "image", "kernel", "stride", "padding", "grad_out",
     "image_shape", "kernel_shape"),
    ("corr2d", "corr2d_grad_x", "corr2d_grad_w", "a", "f", "s", "p", "d_out", "x_shape", "w_shape"),
    ("cross_correlate", "input_gradient", "filter_gradient", "inp", "weights", "step", "zero_pad", "delta",
     "in_shape", "fshape"),
]

PAD_NP = "    {x}p = np.pad(np.asarray({x}, dtype=float), {pad})\n"

FWD_HW = {
    "loops": PAD_NP + """    kh, kw = np.shape({w})
    oh = ({x}p.shape[0] - kh) // {s} + 1
    ow = ({x}p.shape[1] - kw) // {s} + 1
    out = np.zeros((oh, ow))
{loops}
    return out
""",
    "slices": PAD_NP + """    kh, kw = np.shape({w})
    oh = ({x}p.shape[0] - kh) // {s} + 1
    ow = ({x}p.shape[1] - kw) // {s} + 1
    out = np.empty((oh, ow))
    for r in range(oh):
        for c in range(ow):
            out[r, c] = np.sum({x}p[r * {s}:r * {s} + kh, c * {s}:c * {s} + kw] * {w})
    return out
""",
    "einsum": PAD_NP + """    win = sliding_window_view({x}p, np.shape({w}))[::{s}, ::{s}]
    return np.einsum("ijkl,kl->ij", win, np.asarray({w}, dtype=float))
""",
    "im2col": PAD_NP + """    kh, kw = np.shape({w})
    oh = ({x}p.shape[0] - kh) // {s} + 1
    ow = ({x}p.shape[1] - kw) // {s} + 1
    cols = np.empty((oh * ow, kh * kw))
    for r in range(oh):
        for c in range(ow):
            cols[r * ow + c] = {x}p[r * {s}:r * {s} + kh, c * {s}:c * {s} + kw].ravel()
    return (cols @ np.asarray({w}, dtype=float).ravel()).reshape(oh, ow)
""",
    "tensordot": PAD_NP + """    win = sliding_window_view({x}p, np.shape({w}))[::{s}, ::{s}]
    return np.tensordot(win, np.asarray({w}, dtype=float), axes=([2, 3], [0, 1]))
""",
    "bounds": """    h, wd = np.shape({x})
    kh, kw = np.shape({w})
    oh = (h + 2 * {pad} - kh) // {s} + 1
    ow = (wd + 2 * {pad} - kw) // {s} + 1
    out = np.zeros((oh, ow))
    for r in range(oh):
        for c in range(ow):
            for u in range(kh):
                for v in range(kw):
                    y, z = r * {s} - {pad} + u, c * {s} - {pad} + v
                    if 0 <= y < h and 0 <= z < wd:
                        out[r, c] += {x}[y][z] * {w}[u][v]
    return out
""",
}

LOOP_ORDERS = [("r", "c", "u", "v"), ("u", "v", "r", "c"), ("r", "u", "c", "v"), ("v", "u", "c", "r")]
RANGES = {"r": "oh", "c": "ow", "u": "kh", "v": "kw"}


def _loops(order, body, indent=4):
    lines = []
    for depth, v in enumerate(order):
        lines.append(" " * (indent + 4 * depth) + f"for {v} in range({RANGES[v]}):")
    lines.append(" " * (indent + 4 * len(order)) + body)
    return "\n".join(lines)


GI_HW = {
    "scatter_loops": """    h, wd = {ins}
    kh, kw = np.shape({w})
    dxp = np.zeros((h + 2 * {pad}, wd + 2 * {pad}))
    oh, ow = np.shape({d})
{loops}
    return dxp[{pad}:{pad} + h, {pad}:{pad} + wd]
""",
    "scatter_slices": """    h, wd = {ins}
    wk = np.asarray({w}, dtype=float)
    kh, kw = wk.shape
    dxp = np.zeros((h + 2 * {pad}, wd + 2 * {pad}))
    g = np.asarray({d}, dtype=float)
    for r in range(g.shape[0]):
        for c in range(g.shape[1]):
            dxp[r * {s}:r * {s} + kh, c * {s}:c * {s} + kw] += g[r, c] * wk
    return dxp[{pad}:dxp.shape[0] - {pad}, {pad}:dxp.shape[1] - {pad}]
""",
    "col2im": """    h, wd = {ins}
    wk = np.asarray({w}, dtype=float)
    kh, kw = wk.shape
    g = np.asarray({d}, dtype=float)
    oh, ow = g.shape
    rows = (np.arange(oh) * {s})[:, None, None, None] + np.arange(kh)[None, None, :, None]
    cols = (np.arange(ow) * {s})[None, :, None, None] + np.arange(kw)[None, None, None, :]
    dxp = np.zeros((h + 2 * {pad}, wd + 2 * {pad}))
    np.add.at(dxp, (np.broadcast_to(rows, (oh, ow, kh, kw)), np.broadcast_to(cols, (oh, ow, kh, kw))),
              g[:, :, None, None] * wk[None, None])
    return dxp[{pad}:{pad} + h, {pad}:{pad} + wd]
""",
}

GF_HW = {
    "loops": PAD_NP + """    kh, kw = {ks}
    dw = np.zeros((kh, kw))
    oh, ow = np.shape({d})
{loops}
    return dw
""",
    "einsum": PAD_NP + """    kh, kw = {ks}
    g = np.asarray({d}, dtype=float)
    win = sliding_window_view({x}p, (kh, kw))[::{s}, ::{s}][:g.shape[0], :g.shape[1]]
    return np.einsum("ijkl,ij->kl", win, g)
""",
    "im2col": PAD_NP + """    kh, kw = {ks}
    g = np.asarray({d}, dtype=float)
    oh, ow = g.shape
    cols = np.stack([{x}p[r * {s}:r * {s} + kh, c * {s}:c * {s} + kw].ravel()
                     for r in range(oh) for c in range(ow)])
    return (cols.T @ g.ravel()).reshape(kh, kw)
""",
}


def py_hw(i: int) -> str:
    names = PY_NAMES[i % len(PY_NAMES)]
    fwd, gin, gfil, x, w, s, pad, d, ins, ks = names
    fwd_kind = list(FWD_HW)[i % len(FWD_HW)]
    gi_kind = list(GI_HW)[(i // 2) % len(GI_HW)]
    gf_kind = list(GF_HW)[(i // 3) % len(GF_HW)]
    order = LOOP_ORDERS[(i // 4) % len(LOOP_ORDERS)]
    fmt = dict(x=x, w=w, s=s, pad=pad, d=d, ins=ins, ks=ks)
    body = FWD_HW[fwd_kind].format(**fmt, loops=_loops(order, f"out[r, c] += {x}p[r * {s} + u, c * {s} + v] * {w}[u][v]"))
    src = PY_HEAD + f"def {fwd}({x}, {w}, {s}, {pad}):\n" + body + "\n\n"
    src += f"def {gin}({d}, {w}, {s}, {pad}, {ins}):\n" + GI_HW[gi_kind].format(
        **fmt, loops=_loops(order, f"dxp[r * {s} + u, c * {s} + v] += {d}[r][c] * {w}[u][v]")) + "\n\n"
    src += f"def {gfil}({d}, {x}, {s}, {pad}, {ks}):\n" + GF_HW[gf_kind].format(
        **fmt, loops=_loops(order, f"dw[u, v] += {d}[r][c] * {x}p[r * {s} + u, c * {s} + v]"))
    return src


def py_hw_combined(i: int) -> str:
    """One backward returning (dx, dw)."""
    fwd_kind = list(FWD_HW)[i % len(FWD_HW)]
    order = LOOP_ORDERS[i % len(LOOP_ORDERS)]
    fmt = dict(x="x", w="w", s="stride", pad="pad")
    body = FWD_HW[fwd_kind].format(**fmt, loops=_loops(order, "out[r, c] += xp[r * stride + u, c * stride + v] * w[u][v]"))
    name = ["conv", "correlate2d", "xcorr"][i % 3]
    return PY_HEAD + f"def {name}_forward(x, w, stride, pad):\n" + body + f"""

def {name}_backward(dout, x, w, stride, pad):
    xp = np.pad(np.asarray(x, dtype=float), pad)
    w = np.asarray(w, dtype=float)
    kh, kw = w.shape
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    oh, ow = np.shape(dout)
{_loops(order, "dxp[r * stride + u, c * stride + v] += dout[r][c] * w[u, v]; dw[u, v] += dout[r][c] * xp[r * stride + u, c * stride + v]")}
    h, wd = np.shape(x)
    return dxp[pad:pad + h, pad:pad + wd], dw
"""


def py_lists(i: int) -> str:
    """Pure Python lists, no numpy: bounds checks instead of padding."""
    order = LOOP_ORDERS[i % len(LOOP_ORDERS)]
    fwd, gin, gfil = [("corre", "backprop_input", "backprop_filter"), ("correlate", "grad_input", "grad_filter"),
                      ("conv", "conv_backward_input", "conv_backward_filter"),
                      ("corr", "corr_grad_image", "corr_grad_kernel")][(i // 4) % 4]
    guard = "if 0 <= r * s - p + u < len(x) and 0 <= c * s - p + v < len(x[0]):"
    return f"""def {fwd}(x, w, s, p):
    kh, kw = len(w), len(w[0])
    oh = (len(x) + 2 * p - kh) // s + 1
    ow = (len(x[0]) + 2 * p - kw) // s + 1
    out = [[0.0] * ow for _ in range(oh)]
{_loops(order, guard)}
{" " * (4 + 4 * len(order) + 4)}out[r][c] += x[r * s - p + u][c * s - p + v] * w[u][v]
    return out


def {gin}(dout, w, s, p, input_size):
    h, wd = (input_size, input_size) if isinstance(input_size, int) else input_size
    kh, kw = len(w), len(w[0])
    oh, ow = len(dout), len(dout[0])
    dx = [[0.0] * wd for _ in range(h)]
{_loops(order, "if 0 <= r * s - p + u < h and 0 <= c * s - p + v < wd:")}
{" " * (4 + 4 * len(order) + 4)}dx[r * s - p + u][c * s - p + v] += dout[r][c] * w[u][v]
    return dx


def {gfil}(dout, x, s, p, filter_size):
    kh, kw = (filter_size, filter_size) if isinstance(filter_size, int) else filter_size
    oh, ow = len(dout), len(dout[0])
    dw = [[0.0] * kw for _ in range(kh)]
{_loops(order, guard)}
{" " * (4 + 4 * len(order) + 4)}dw[u][v] += dout[r][c] * x[r * s - p + u][c * s - p + v]
    return dw
"""


def py_1d(i: int) -> str:
    kind = i % 3
    name = ["conv1d", "correlate1d", "corr"][i % 3]
    fwd = {
        0: """    xp = np.pad(np.asarray(x, dtype=float), pad)
    k = len(w)
    n_out = (len(xp) - k) // stride + 1
    return np.array([np.dot(xp[i * stride:i * stride + k], w) for i in range(n_out)])
""",
        1: """    xp = np.pad(np.asarray(x, dtype=float), pad)
    return sliding_window_view(xp, len(w))[::stride] @ np.asarray(w, dtype=float)
""",
        2: """    out = []
    n_out = (len(x) + 2 * pad - len(w)) // stride + 1
    for i in range(n_out):
        acc = 0.0
        for j in range(len(w)):
            t = i * stride - pad + j
            if 0 <= t < len(x):
                acc += x[t] * w[j]
        out.append(acc)
    return out
""",
    }[kind]
    return PY_HEAD + f"def {name}(x, w, stride, pad):\n" + fwd + f"""

def {name}_grad_x(dout, w, stride, pad, input_size):
    n = input_size if isinstance(input_size, int) else input_size[0]
    dxp = np.zeros(n + 2 * pad)
    for i, g in enumerate(dout):
        dxp[i * stride:i * stride + len(w)] += g * np.asarray(w, dtype=float)
    return dxp[pad:pad + n]


def {name}_grad_w(dout, x, stride, pad, filter_size):
    k = filter_size if isinstance(filter_size, int) else filter_size[0]
    xp = np.pad(np.asarray(x, dtype=float), pad)
    return sum(g * xp[i * stride:i * stride + k] for i, g in enumerate(dout))
"""


# ---------------------------------------------------------------- Python, batched / multi-channel

CS231N_FWD = {
    "loops": """    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, f, i, j] = np.sum(xp[n, :, i * s:i * s + HH, j * s:j * s + WW] * w[f]) + b[f]
""",
    "einsum": """    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::s, ::s]
    out = np.einsum("nchwkl,fckl->nfhw", win, w) + b[None, :, None, None]
""",
    "im2col": """    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = 1 + (H + 2 * p - HH) // s, 1 + (W + 2 * p - WW) // s
    cols = np.empty((N, Ho, Wo, C * HH * WW))
    for i in range(Ho):
        for j in range(Wo):
            cols[:, i, j] = xp[:, :, i * s:i * s + HH, j * s:j * s + WW].reshape(N, -1)
    out = (cols @ w.reshape(F, -1).T + b).transpose(0, 3, 1, 2)
""",
}
CS231N_BWD = {
    "loops": """    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    dw[f] += dout[n, f, i, j] * xp[n, :, i * s:i * s + HH, j * s:j * s + WW]
                    dxp[n, :, i * s:i * s + HH, j * s:j * s + WW] += dout[n, f, i, j] * w[f]
    dx = dxp[:, :, p:p + H, p:p + W]
""",
    "einsum": """    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = dout.shape[2:]
    win = sliding_window_view(xp, (HH, WW), axis=(2, 3))[:, :, ::s, ::s][:, :, :Ho, :Wo]
    dw = np.einsum("nchwkl,nfhw->fckl", win, dout)
    db = dout.sum(axis=(0, 2, 3))
    dxp = np.zeros_like(xp)
    for i in range(Ho):
        for j in range(Wo):
            dxp[:, :, i * s:i * s + HH, j * s:j * s + WW] += np.einsum("nf,fckl->nckl", dout[:, :, i, j], w)
    dx = dxp[:, :, p:p + H, p:p + W]
""",
    "col2im": """    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    Ho, Wo = dout.shape[2:]
    cols = np.empty((N, Ho, Wo, C * HH * WW))
    for i in range(Ho):
        for j in range(Wo):
            cols[:, i, j] = xp[:, :, i * s:i * s + HH, j * s:j * s + WW].reshape(N, -1)
    d2 = dout.transpose(0, 2, 3, 1).reshape(-1, F)
    dw = (d2.T @ cols.reshape(-1, C * HH * WW)).reshape(w.shape)
    db = d2.sum(axis=0)
    dcols = (d2 @ w.reshape(F, -1)).reshape(N, Ho, Wo, C, HH, WW)
    dxp = np.zeros_like(xp)
    for i in range(Ho):
        for j in range(Wo):
            dxp[:, :, i * s:i * s + HH, j * s:j * s + WW] += dcols[:, i, j]
    dx = dxp[:, :, p:p + H, p:p + W]
""",
}


def py_cs231n(i: int) -> str:
    fk = list(CS231N_FWD)[i % 3]
    bk = list(CS231N_BWD)[(i // 3) % 3]
    suffix = ["naive", "fast", "strides", "im2col"][i % 4]
    return PY_HEAD + f"def conv_forward_{suffix}(x, w, b, conv_param):\n" + CS231N_FWD[fk] + \
        "    cache = (x, w, b, conv_param)\n    return out, cache\n\n\n" + \
        f"def conv_backward_{suffix}(dout, cache):\n" + CS231N_BWD[bk] + "    return dx, dw, db\n"


def py_holberton(i: int) -> str:
    mode = ["loops", "einsum"][i % 2]
    fwd_inner = {
        "loops": """            for c in range(c_new):
                Z[:, r, q, c] = np.sum(A_pad[:, r * sh:r * sh + kh, q * sw:q * sw + kw, :] * W[..., c], axis=(1, 2, 3))""",
        "einsum": """            Z[:, r, q, :] = np.einsum("mhwc,hwcf->mf", A_pad[:, r * sh:r * sh + kh, q * sw:q * sw + kw, :], W)""",
    }[mode]
    return f"""import numpy as np


def _pads(padding, h, w, kh, kw, sh, sw):
    if padding == "same":
        return ((h - 1) * sh + kh - h) // 2 + 1, ((w - 1) * sw + kw - w) // 2 + 1
    if padding == "valid":
        return 0, 0
    return padding


def conv_forward(A_prev, W, b, activation, padding="same", stride=(1, 1)):
    m, h, w, c_prev = A_prev.shape
    kh, kw, _, c_new = W.shape
    sh, sw = stride
    ph, pw = _pads(padding, h, w, kh, kw, sh, sw)
    A_pad = np.pad(A_prev, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
    Z = np.zeros((m, oh, ow, c_new))
    for r in range(oh):
        for q in range(ow):
{fwd_inner}
    return activation(Z + b)


def conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1)):
    m, h, w, c_prev = A_prev.shape
    kh, kw, _, c_new = W.shape
    sh, sw = stride
    ph, pw = _pads(padding, h, w, kh, kw, sh, sw)
    A_pad = np.pad(A_prev, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    dA = np.zeros_like(A_pad)
    dW = np.zeros_like(W)
    db = np.sum(dZ, axis=(0, 1, 2), keepdims=True)
    for r in range(dZ.shape[1]):
        for q in range(dZ.shape[2]):
            patch = A_pad[:, r * sh:r * sh + kh, q * sw:q * sw + kw, :]
            dW += np.einsum("mhwc,mf->hwcf", patch, dZ[:, r, q, :])
            dA[:, r * sh:r * sh + kh, q * sw:q * sw + kw, :] += np.einsum("hwcf,mf->mhwc", W, dZ[:, r, q, :])
    return dA[:, ph:ph + h, pw:pw + w, :], dW, db
"""


LAYER_NAMES = [("Conv2D", "W", "b", "dW", "db", "stride", "pad"),
               ("ConvLayer", "weight", "bias", "weight_grad", "bias_grad", "stride", "padding"),
               ("Convolution", "W", "b", "dW", "db", "stride", "pad")]


def py_layer(i: int) -> str:
    cls, W, b, dW, db, s, p = LAYER_NAMES[i % 3]
    nhwc = i % 2 == 1
    impl = ["slices", "einsum", "im2col"][(i // 2) % 3]
    if nhwc:
        to_c = "        x = np.moveaxis(x, -1, 1)\n"
        w_c = f"np.transpose(self.{W}, (3, 2, 0, 1))"          # (KH, KW, C, F) -> (F, C, KH, KW)
        from_c = "np.moveaxis(out, 1, -1)"
        dw_back = "np.transpose(dw_c, (2, 3, 1, 0))"
        dx_back = "np.moveaxis(dx, 1, -1)"
        dout_c = "        dout = np.moveaxis(dout, -1, 1)\n"
    else:
        to_c, w_c, from_c, dw_back, dx_back, dout_c = "", f"self.{W}", "out", "dw_c", "dx", ""
    fwd = {
        "slices": """        for i in range(Ho):
            for j in range(Wo):
                out[:, :, i, j] = np.tensordot(xp[:, :, i * s:i * s + KH, j * s:j * s + KW], w, axes=([1, 2, 3], [1, 2, 3]))""",
        "einsum": """        win = sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::s, ::s][:, :, :Ho, :Wo]
        out[...] = np.einsum("nchwkl,fckl->nfhw", win, w)""",
        "im2col": """        cols = np.stack([xp[:, :, i * s:i * s + KH, j * s:j * s + KW].reshape(N, -1)
                         for i in range(Ho) for j in range(Wo)], axis=1)
        out[...] = (cols @ w.reshape(F, -1).T).reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2)""",
    }[impl]
    return PY_HEAD + f"""class {cls}:
    def __init__(self, {W}, {b}, {s}=1, {p}=0):
        self.{W}, self.{b}, self.s, self.p = {W}, {b}, {s}, {p}

    def _w(self):
        return {w_c}

    def forward(self, x):
{to_c}        self.x = x
        s, p = self.s, self.p
        w = self._w()
        F, C, KH, KW = w.shape
        N, _, H, Wd = x.shape
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        Ho, Wo = (H + 2 * p - KH) // s + 1, (Wd + 2 * p - KW) // s + 1
        out = np.zeros((N, F, Ho, Wo))
{fwd}
        out += np.reshape(self.{b}, (1, -1, 1, 1))
        return {from_c}

    def backward(self, dout):
{dout_c}        s, p = self.s, self.p
        w = self._w()
        F, C, KH, KW = w.shape
        x = self.x
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        dxp = np.zeros_like(xp)
        dw_c = np.zeros_like(w)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                patch = xp[:, :, i * s:i * s + KH, j * s:j * s + KW]
                dw_c += np.tensordot(dout[:, :, i, j], patch, axes=([0], [0]))
                dxp[:, :, i * s:i * s + KH, j * s:j * s + KW] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
        dx = dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]]
        self.{dW} = {dw_back}
        self.{db} = dout.sum(axis=(0, 2, 3)).reshape(np.shape(self.{b}))
        return {dx_back}
"""


def py_tf(i: int) -> str:
    impl = ["loops", "tensordot", "einsum"][i % 3]
    strides, padding = [("strides", "padding"), ("stride", "pad")][i // 3 % 2]
    inner = {
        "loops": """            for f in range(kf):
                out[:, r, c, f] = np.sum(x[:, r * {s}:r * {s} + kh, c * {s}:c * {s} + kw, :] * kernel[..., f], axis=(1, 2, 3))""",
        "tensordot": """            out[:, r, c, :] = np.tensordot(x[:, r * {s}:r * {s} + kh, c * {s}:c * {s} + kw, :], kernel, axes=([1, 2, 3], [0, 1, 2]))""",
        "einsum": """            out[:, r, c, :] = np.einsum("nhwc,hwcf->nf", x[:, r * {s}:r * {s} + kh, c * {s}:c * {s} + kw, :], kernel)""",
    }[impl].format(s=strides)
    return PY_HEAD + f"""def conv2d_nhwc(inputs, kernel, {strides}=1, {padding}=0):
    n, h, w, c = inputs.shape
    kh, kw, _, kf = kernel.shape
    x = np.pad(inputs, ((0, 0), ({padding}, {padding}), ({padding}, {padding}), (0, 0)))
    oh, ow = (h + 2 * {padding} - kh) // {strides} + 1, (w + 2 * {padding} - kw) // {strides} + 1
    out = np.zeros((n, oh, ow, kf))
    for r in range(oh):
        for c in range(ow):
{inner}
    return out


def conv2d_nhwc_backprop_input(grad_out, kernel, input_shape, {strides}=1, {padding}=0):
    n, h, w, c = input_shape
    kh, kw, _, kf = kernel.shape
    dx = np.zeros((n, h + 2 * {padding}, w + 2 * {padding}, c))
    for r in range(grad_out.shape[1]):
        for q in range(grad_out.shape[2]):
            dx[:, r * {strides}:r * {strides} + kh, q * {strides}:q * {strides} + kw, :] += np.tensordot(
                grad_out[:, r, q, :], kernel, axes=([1], [3]))
    return dx[:, {padding}:{padding} + h, {padding}:{padding} + w, :]


def conv2d_nhwc_backprop_filter(inputs, grad_out, filter_shape, {strides}=1, {padding}=0):
    kh, kw, c, kf = filter_shape
    x = np.pad(inputs, ((0, 0), ({padding}, {padding}), ({padding}, {padding}), (0, 0)))
    dk = np.zeros(filter_shape)
    for r in range(grad_out.shape[1]):
        for q in range(grad_out.shape[2]):
            dk += np.tensordot(x[:, r * {strides}:r * {strides} + kh, q * {strides}:q * {strides} + kw, :],
                               grad_out[:, r, q, :], axes=([0], [0]))
    return dk
"""


def py_flat(i: int) -> str:
    w_, h_, kw_, kh_ = [("width", "height", "kw", "kh"), ("cols", "rows", "kcols", "krows"),
                        ("w", "h", "kw", "kh"), ("in_width", "in_height", "kernel_width", "kernel_height")][i % 4]
    return f"""def conv2d(src, {w_}, {h_}, kernel, {kw_}, {kh_}, stride, pad):
    ow = ({w_} + 2 * pad - {kw_}) // stride + 1
    oh = ({h_} + 2 * pad - {kh_}) // stride + 1
    out = [0.0] * (ow * oh)
    for r in range(oh):
        for c in range(ow):
            for i in range({kh_}):
                for j in range({kw_}):
                    y, x = r * stride - pad + i, c * stride - pad + j
                    if 0 <= y < {h_} and 0 <= x < {w_}:
                        out[r * ow + c] += src[y * {w_} + x] * kernel[i * {kw_} + j]
    return out
"""


# ---------------------------------------------------------------- JavaScript

JS_NAMES = [("corre", "backpropInput", "backpropFilter", "a", "f", "s", "p"),
            ("correlate", "inputGradient", "filterGradient", "x", "w", "stride", "pad"),
            ("conv2d", "conv2dGradInput", "conv2dGradKernel", "image", "kernel", "stride", "padding"),
            ("corr2d", "corr2dGradX", "corr2dGradW", "input", "weights", "step", "zeroPad")]
JS_ORDERS = [("r", "c", "u", "v"), ("u", "v", "r", "c"), ("c", "r", "v", "u"), ("r", "u", "v", "c")]
JS_RANGES = {"r": "oh", "c": "ow", "u": "kh", "v": "kw"}


def _js_loops(order, body, indent=2):
    lines = [" " * (indent + 2 * d) + f"for (let {v} = 0; {v} < {JS_RANGES[v]}; {v}++)" for d, v in enumerate(order)]
    return "\n".join(lines) + "\n" + " " * (indent + 2 * len(order)) + body


def js_hw(i: int) -> str:
    fwd, gin, gfil, x, w, s, p = JS_NAMES[i % 4]
    order = JS_ORDERS[(i // 4) % 4]
    padded = (i // 16) % 2 == 1
    zeros = "Array.from({length: %s}, () => new Array(%s).fill(0))"
    if padded:     # explicit zero-padded copy
        read = f"xp[r * {s} + u][c * {s} + v]"
        prep = (f"  const H = {x}.length, W = {x}[0].length;\n"
                f"  const xp = {zeros % ('H + 2 * ' + p, 'W + 2 * ' + p)};\n"
                f"  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) xp[i + {p}][j + {p}] = {x}[i][j];\n")
        guard = ""
    else:
        read = f"{x}[y][z]"
        prep = f"  const H = {x}.length, W = {x}[0].length;\n"
        guard = f"const y = r * {s} - {p} + u, z = c * {s} - {p} + v; if (y >= 0 && y < H && z >= 0 && z < W) "
    out_body = "{ " + (guard or "") + f"out[r][c] += {read} * {w}[u][v];" + " }"
    src = f"""function {fwd}({x}, {w}, {s}, {p}) {{
{prep}  const kh = {w}.length, kw = {w}[0].length;
  const oh = Math.floor((H + 2 * {p} - kh) / {s}) + 1, ow = Math.floor((W + 2 * {p} - kw) / {s}) + 1;
  const out = {zeros % ('oh', 'ow')};
{_js_loops(order, out_body)}
  return out;
}}

function {gin}(dO, {w}, {s}, {p}, inputSize) {{
  const [H, W] = Array.isArray(inputSize) ? inputSize : [inputSize, inputSize];
  const kh = {w}.length, kw = {w}[0].length, oh = dO.length, ow = dO[0].length;
  const dx = {zeros % ('H', 'W')};
{_js_loops(order, f"{{ const y = r * {s} - {p} + u, z = c * {s} - {p} + v; if (y >= 0 && y < H && z >= 0 && z < W) dx[y][z] += dO[r][c] * {w}[u][v]; }}")}
  return dx;
}}

function {gfil}(dO, {x}, {s}, {p}, filterSize) {{
  const [kh, kw] = Array.isArray(filterSize) ? filterSize : [filterSize, filterSize];
  const H = {x}.length, W = {x}[0].length, oh = dO.length, ow = dO[0].length;
  const dw = {zeros % ('kh', 'kw')};
{_js_loops(order, f"{{ const y = r * {s} - {p} + u, z = c * {s} - {p} + v; if (y >= 0 && y < H && z >= 0 && z < W) dw[u][v] += dO[r][c] * {x}[y][z]; }}")}
  return dw;
}}
"""
    if i % 3 == 2:       # as a CommonJS module
        src += f"\nmodule.exports = {{ {fwd}, {gin}, {gfil} }};\n"
    return src


def js_flat(i: int) -> str:
    w_, h_, kw_, kh_ = [("width", "height", "kw", "kh"), ("w", "h", "kw", "kh"),
                        ("cols", "rows", "kcols", "krows"), ("width", "height", "kernelWidth", "kernelHeight")][i % 4]
    ret = ["new Float64Array(ow * oh)", "new Array(ow * oh).fill(0)"][(i // 4) % 2]
    return f"""function conv2d(input, {w_}, {h_}, kernel, {kw_}, {kh_}, stride, pad) {{
  const ow = Math.floor(({w_} + 2 * pad - {kw_}) / stride) + 1, oh = Math.floor(({h_} + 2 * pad - {kh_}) / stride) + 1;
  const out = {ret};
  for (let r = 0; r < oh; r++)
    for (let c = 0; c < ow; c++)
      for (let i = 0; i < {kh_}; i++)
        for (let j = 0; j < {kw_}; j++) {{
          const y = r * stride - pad + i, x = c * stride - pad + j;
          if (y >= 0 && y < {h_} && x >= 0 && x < {w_}) out[r * ow + c] += input[y * {w_} + x] * kernel[i * {kw_} + j];
        }}
  return out;
}}
"""


def js_1d(i: int) -> str:
    name = ["conv1d", "correlate1d", "corr"][i % 3]
    return f"""function {name}(x, w, stride, pad) {{
  const n = Math.floor((x.length + 2 * pad - w.length) / stride) + 1, out = new Array(n).fill(0);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < w.length; j++) {{
      const t = i * stride - pad + j;
      if (t >= 0 && t < x.length) out[i] += x[t] * w[j];
    }}
  return out;
}}

function {name}GradInput(dout, w, stride, pad, inputSize) {{
  const n = Array.isArray(inputSize) ? inputSize[0] : inputSize, dx = new Array(n).fill(0);
  dout.forEach((g, i) => w.forEach((v, j) => {{ const t = i * stride - pad + j; if (t >= 0 && t < n) dx[t] += g * v; }}));
  return dx;
}}

function {name}GradFilter(dout, x, stride, pad, filterSize) {{
  const k = Array.isArray(filterSize) ? filterSize[0] : filterSize, dw = new Array(k).fill(0);
  dout.forEach((g, i) => {{ for (let j = 0; j < k; j++) {{ const t = i * stride - pad + j; if (t >= 0 && t < x.length) dw[j] += g * x[t]; }} }});
  return dw;
}}
"""


def js_layer(i: int) -> str:
    cls = ["Conv2D", "ConvLayer", "Convolution"][i % 3]
    return f"""class {cls} {{
  constructor(W, b, stride = 1, pad = 0) {{ this.W = W; this.b = b; this.stride = stride; this.pad = pad; }}
  forward(x) {{
    this.x = x;
    const s = this.stride, p = this.pad, W = this.W;
    const F = W.length, C = W[0].length, KH = W[0][0].length, KW = W[0][0][0].length;
    const N = x.length, H = x[0][0].length, Wd = x[0][0][0].length;
    const Ho = Math.floor((H + 2 * p - KH) / s) + 1, Wo = Math.floor((Wd + 2 * p - KW) / s) + 1;
    const out = [];
    for (let n = 0; n < N; n++) {{
      const planes = [];
      for (let f = 0; f < F; f++) {{
        const plane = [];
        for (let i = 0; i < Ho; i++) {{
          const row = [];
          for (let j = 0; j < Wo; j++) {{
            let acc = this.b[f];
            for (let c = 0; c < C; c++) for (let a = 0; a < KH; a++) for (let q = 0; q < KW; q++) {{
              const y = i * s - p + a, z = j * s - p + q;
              if (y >= 0 && y < H && z >= 0 && z < Wd) acc += x[n][c][y][z] * W[f][c][a][q];
            }}
            row.push(acc);
          }}
          plane.push(row);
        }}
        planes.push(plane);
      }}
      out.push(planes);
    }}
    return out;
  }}
  backward(dout) {{
    const s = this.stride, p = this.pad, W = this.W, x = this.x;
    const F = W.length, C = W[0].length, KH = W[0][0].length, KW = W[0][0][0].length;
    const N = x.length, H = x[0][0].length, Wd = x[0][0][0].length;
    const z4 = (a, b, c, d) => Array.from({{length: a}}, () => Array.from({{length: b}}, () => Array.from({{length: c}}, () => new Array(d).fill(0))));
    const dx = z4(N, C, H, Wd);
    this.dW = z4(F, C, KH, KW);
    this.db = new Array(F).fill(0);
    for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) for (let i = 0; i < dout[0][0].length; i++) for (let j = 0; j < dout[0][0][0].length; j++) {{
      const g = dout[n][f][i][j];
      this.db[f] += g;
      for (let c = 0; c < C; c++) for (let a = 0; a < KH; a++) for (let q = 0; q < KW; q++) {{
        const y = i * s - p + a, z = j * s - p + q;
        if (y >= 0 && y < H && z >= 0 && z < Wd) {{ dx[n][c][y][z] += g * W[f][c][a][q]; this.dW[f][c][a][q] += g * x[n][c][y][z]; }}
      }}
    }}
    return dx;
  }}
}}
"""


# ---------------------------------------------------------------- the corpus

FAMILIES = [
    # (family, count, generator, suffix)
    ("py_hw", 80, py_hw, ".py"),
    ("py_hw_combined", 12, py_hw_combined, ".py"),
    ("py_lists", 16, py_lists, ".py"),
    ("py_1d", 9, py_1d, ".py"),
    ("py_cs231n", 12, py_cs231n, ".py"),
    ("py_holberton", 6, py_holberton, ".py"),
    ("py_layer", 12, py_layer, ".py"),
    ("py_tf", 6, py_tf, ".py"),
    ("py_flat", 4, py_flat, ".py"),
    ("js_hw", 32, js_hw, ".js"),
    ("js_flat", 8, js_flat, ".js"),
    ("js_1d", 6, js_1d, ".js"),
    ("js_layer", 6, js_layer, ".js"),
]


def generate() -> list[tuple[str, str]]:
    out = []
    for family, count, gen, suffix in FAMILIES:
        for i in range(count):
            out.append((f"{family}_{i:03d}{suffix}", gen(i)))
    return out


def sample(n: int = 26) -> list[tuple[str, str]]:
    """A few of every family (deterministic), for the default test run."""
    by_family: dict[str, list] = {}
    for name, src in generate():
        by_family.setdefault(name.rsplit("_", 1)[0], []).append((name, src))
    picked = []
    for k in itertools.count():
        for items in by_family.values():
            step = max(1, len(items) // 3)
            if k * step < len(items) and len(picked) < n:
                picked.append(items[k * step])
        if len(picked) >= n or k > 50:
            return picked
    return picked


def write(dest: Path, items=None) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, src in (items if items is not None else generate()):
        p = dest / name
        p.write_text(src)
        paths.append(p)
    return paths
