"""Reading intent from names: which function is the forward, which parameter is the stride.

Learners name things in a few dozen ways; these word lists are data, so a new
alias is one word added here, not a new branch somewhere else.
"""
from __future__ import annotations

import re

ROLE_ALIASES = {
    "input": {"a", "x", "inp", "input", "inputs", "img", "image", "images", "signal", "data", "arr",
              "a_prev", "x_in", "xin", "activation", "activations", "prev", "matrix", "i", "in_",
              "vol", "v", "seq", "sequence", "feature", "features", "fmap", "src", "source", "mat"},
    "filter": {"f", "w", "filt", "filter", "filters", "kernel", "kernels", "k", "weight", "weights",
               "kern", "mask", "template", "conv_filter"},
    "bias": {"b", "bias", "biases"},
    "stride": {"s", "stride", "strides", "step", "sh_sw", "st"},
    "pad": {"p", "pad", "padding", "pads", "zero_pad", "pad_width", "zp", "border", "margin", "zero_padding",
            "pad_size", "padsize", "npad", "num_pad"},
    "dilation": {"dilation", "dil", "rate", "dilations"},
    "dout": {"do", "dout", "grad_out", "grad_output", "dy", "delta", "dz", "d_out", "dl_dout",
             "dldo", "dedo", "de_do", "dl", "de", "g", "upstream", "grad", "gout", "dodt",
             "d_o", "error", "err", "deltas", "dl_dy", "grad_y", "dout_", "top_diff", "d"},
    "filter_size": {"fs", "ksize", "filter_size", "kernel_size", "k_size", "filter_shape", "kernel_shape",
                    "ks", "w_shape", "kshape", "wshape", "fshape", "f_shape", "k_shape", "size_f",
                    "filtersize", "kernelsize", "kernelshape", "filtershape", "filter_dims", "kernel_dims"},
    "input_size": {"is", "input_size", "input_shape", "x_shape", "in_shape", "xshape", "inshape",
                   "a_shape", "ishape", "i_shape", "image_shape", "img_shape", "signal_len",
                   "inputshape", "inputsize", "n_in", "input_len", "signal_shape", "orig_shape"},
    "conv_param": {"conv_param", "conv_params", "params", "param", "conf", "config", "hparams", "opts",
                   "options", "cfg"},
    "activation": {"activation", "act", "activation_fn", "activation_function"},
    "cache": {"cache", "ctx", "saved", "cached"},
}

GRAD_WORDS = {"back", "backward", "backwards", "backprop", "backpropagate", "backpropagation", "grad", "grads",
              "gradient", "gradients", "deriv", "derivative", "derivatives", "bwd", "bprop", "delta", "vjp",
              "adjoint"}
FORWARD_WORDS = {"forward", "fwd", "fprop", "corre", "corr", "correlate", "correlation", "xcorr", "conv",
                 "convolve", "convolution", "conv1d", "conv2d", "conv3d", "corr1d", "corr2d", "corr3d",
                 "correlate1d", "correlate2d", "convolve1d", "convolve2d", "filter2d", "cross", "crosscorr",
                 "apply", "run", "call"}
HELPER_WORDS = {"im2col", "col2im", "pad", "padding", "zeros", "pixel", "size", "size2", "shape", "loss",
                "error", "train", "main", "test", "init", "relu", "pool", "softmax", "step", "update",
                "pair", "rand", "random", "print", "show", "plot", "get", "set", "tap", "index", "indices",
                "out", "output", "clip", "flip", "rot", "rotate", "rot180", "col", "cols", "window",
                "windows", "dilate", "unpad", "mse", "accuracy", "predict", "fit", "load", "save",
                "reshape", "flatten", "transpose", "assert", "check", "validate", "helper", "util"}


def words(name: str) -> list[str]:
    """'backpropFilter' -> ['backprop', 'filter']; 'conv_forward_naive' -> ['conv', 'forward', 'naive']."""
    name = name.rsplit(".", 1)[-1]
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [w.lower() for w in re.split(r"[_\W]+", spaced) if w]


def param_role(name: str, in_gradient: bool) -> str | None:
    """The role a parameter plays, from its name alone (None when unknown)."""
    low = name.lower().lstrip("_")
    if low == "d" and not in_gradient:
        return "dilation"
    for role, aliases in ROLE_ALIASES.items():
        if low in aliases:
            if role == "dout" and not in_gradient and low in ("g", "grad", "error", "err", "d"):
                continue
            if role == "input" and in_gradient and low == "i":
                continue
            return role
    # Gradient-ish names: d_something, dL_dO, grad_something
    if in_gradient and (low.startswith(("dl", "de_", "grad", "d_out", "dout", "delta", "dy", "dz"))):
        return "dout"
    if low.endswith(("_shape", "_size", "shape")) and any(k in low for k in ("filter", "kernel", "w", "f")):
        return "filter_size"
    if low.endswith(("_shape", "_size", "shape")) and any(k in low for k in ("input", "x", "img", "in")):
        return "input_size"
    return None


def function_kind(name: str) -> tuple[str | None, int]:
    """Guess what a function computes from its name -> (kind, score).

    kind: forward | grad_input | grad_filter | grad_bias | backward (several gradients) | None.
    """
    ws = words(name)
    wset = set(ws)
    low = name.rsplit(".", 1)[-1].lower()
    is_grad = bool(wset & GRAD_WORDS) or any(w.startswith(("backprop", "backward", "grad")) for w in ws)
    if len(ws) >= 2 and not is_grad:             # conv_fast_dx, conv_dk: a trailing d<thing> names a gradient
        tail = ws[-1]
        for kind, tails in (("grad_input", ("dx", "da", "di", "dinput", "dimg")),
                            ("grad_filter", ("dw", "dk", "df", "dfilter", "dkernel", "dweight")),
                            ("grad_bias", ("db", "dbias"))):
            if tail in tails:
                return kind, 3
    if not is_grad and re.match(r"^d(w|x|f|k|b|input|filter|kernel|weight|bias)$", low):
        is_grad = True
    if is_grad:
        # the thing the gradient is taken with respect to
        if low in ("dw", "df", "dk") or wset & {"filter", "filters", "kernel", "kernels", "weight", "weights",
                                                 "dw", "df", "dk", "dfilter", "dkernel", "dweight", "filt"} \
                or (wset & {"w", "k", "f"} and ws[-1] in ("w", "k", "f")):
            return "grad_filter", 3
        if wset & {"input", "inputs", "image", "img", "dx", "signal", "data", "inp", "da", "dinput",
                   "prev", "dprev", "dimage", "activation"} or (wset & {"x", "a", "i"} and ws[-1] in ("x", "a", "i")):
            return "grad_input", 3
        if wset & {"bias", "db", "dbias", "biases"} or ws[-1] == "b":
            return "grad_bias", 3
        return "backward", 2
    if wset & HELPER_WORDS and not wset & {"forward", "conv", "corre", "correlate", "convolve", "corr",
                                           "conv1d", "conv2d", "conv3d", "corr2d", "corr1d"}:
        return None, 0
    if wset & FORWARD_WORDS:
        score = 3 if wset & {"forward", "corre", "correlate", "conv", "conv2d", "conv1d", "conv3d", "corr2d",
                             "corr1d", "convolve", "convolution", "correlation", "xcorr"} else 1
        return "forward", score
    return None, 0


CONV_NAME_WORDS = {"conv", "corr", "corre", "correlate", "correlation", "convolve", "convolution", "xcorr",
                   "crosscorr", "filter2d", "im2col", "col2im"}
CONV_PARAM_ROLES = {"stride", "pad", "dilation", "filter_size"}      # by a name longer than one letter
CONV_PARAM_NAMES = {"kernel", "kernels", "filter", "filters", "kernel_size", "filter_size", "ksize", "kh", "kw",
                    "fh", "fw", "in_channels", "out_channels", "num_filters", "n_filters", "conv_param",
                    "conv_params"}


def conv_evidence(name: str, param_names) -> bool:
    """Whether a function's name or parameters speak of a convolution (conv2d, correlate,
    stride=, padding=, kernel=). Without that, a binding by position must be earned by behaviour."""
    ws = words(name)
    if any(w in CONV_NAME_WORDS or w.startswith(("conv", "corr")) for w in ws):
        return True
    roles = set()
    for p in param_names:
        low = p.lower().lstrip("_")
        if low in CONV_PARAM_NAMES or (len(low) > 1 and param_role(p, False) in CONV_PARAM_ROLES):
            return True
        roles.add(param_role(p, False))
    return {"stride", "pad"} <= roles            # (x, w, s, p): one letter each, but the pair says it


# Flat row-major arrays with explicit extents (canvas / WebGL style): conv2d(input, width, height,
# kernel, kw, kh, stride, pad) reads input[r * width + c]. "w"/"h" are extents only as a pair.
EXTENT_ALIASES = {
    "in_w": {"width", "cols", "ncols", "n_cols", "num_cols", "in_w", "in_width", "iw", "img_w", "image_width",
             "img_width", "input_width", "src_width", "width_in", "w_in", "nx", "xsize", "size_x"},
    "in_h": {"height", "rows", "nrows", "n_rows", "num_rows", "in_h", "in_height", "ih", "img_h", "image_height",
             "img_height", "input_height", "src_height", "height_in", "h_in", "ny", "ysize", "size_y"},
    "k_w": {"kw", "k_w", "kernel_width", "kwidth", "kernel_w", "fw", "f_w", "filter_width", "filter_w", "kcols",
            "kernel_cols", "k_cols", "kx", "ksize_x"},
    "k_h": {"kh", "k_h", "kernel_height", "kheight", "kernel_h", "fh", "f_h", "filter_height", "filter_h", "krows",
            "kernel_rows", "k_rows", "ky", "ksize_y"},
    "out_w": {"ow", "out_w", "out_width", "output_width", "owidth", "out_cols", "width_out", "w_out"},
    "out_h": {"oh", "out_h", "out_height", "output_height", "oheight", "out_rows", "height_out", "h_out"},
    "n_channels": {"channels", "n_channels", "num_channels", "nchannels", "depth", "in_channels", "chans"},
}


def extent_roles(param_names) -> dict[str, str]:
    """{param: extent role} when the parameters describe a flat array's extents, else {}."""
    names = {p.lower().lstrip("_"): p for p in param_names}
    roles = {}
    for low, p in names.items():
        for role, aliases in EXTENT_ALIASES.items():
            if low.replace("_", "") in {a.replace("_", "") for a in aliases} and role not in roles.values():
                roles[p] = role
                break
    if "w" in names and "h" in names and "in_w" not in roles.values() and "in_h" not in roles.values():
        roles[names["w"]], roles[names["h"]] = "in_w", "in_h"
    placed = set(roles.values())
    if not ({"in_w", "in_h"} <= placed or {"k_w", "k_h"} <= placed):
        return {}
    return roles
