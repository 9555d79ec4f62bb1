"""Binding for the other strided-window layers: grouped/depthwise, transposed convolution, pooling.

Which op a file implements is read from its names (deconv, conv_transpose,
upconv, maxpool, avg_pool, depthwise; parameters groups / depth_multiplier /
output_padding / pool_param) unless --op/--groups say it. Three conventions:

- functional: free functions whose parameters are filled by name
  (x, w, b, dout, stride, pad, kernel_size, groups, output_padding, ...);
  a backward returns dx or (dx, dw[, db]);
- cs231n: the same with one `*_param` dict (pool_height/pool_width/stride for
  pooling, stride/pad/... for convolutions), forward returns (out, cache) and
  backward(dout, cache);
- layer: a class built from the config (weights passed in or set on the
  attributes it created, also one object deep, as mytorch's ConvTranspose2d
  keeps them in its conv2d_stride1), forward(x) / backward(dout), gradients
  read from attributes (dW, dLdW, grad_w, ...).

Canonical arrays (N, C, *S) are what checks see; filters of a transposed layer
are torch's (Cin, Cout/G, *K) or, in the zero-insertion + stride-1
correlation form (CMU mytorch), (Cout, Cin, *K) flipped on every spatial axis:
the same layer in another parameterisation, recognised, not a mistake.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections import Counter

import numpy as np

from ..errors import BindError, UnusableOutput, UserCallError, UserTimeout
from ..loader.guard import call_user
from ..vocab import POOL_OPS, Convention, Op
from .arrays import to_float_array
from .roles import words
from .layer import BIAS_ATTRS, DB_WORDS, DW_WORDS, GRAD_DICTS, PARAM_DICTS, WEIGHT_ATTRS

# matched against snake-cased names (roles.words joined by '_'), so 'GroupConv2D' reads
# group_conv2_d: a word starting 'up' is needed for up-conv, not any 'up' inside one
OP_WORDS = (
    (Op.TRANSPOSE, re.compile(r"deconv|conv_?transpose|transpose_?conv|transposed_?conv|(?:^|[_.])up_?conv")),
    (Op.MAXPOOL, re.compile(r"max_?pool")),
    (Op.AVGPOOL, re.compile(r"(avg|average|mean)_?pool")),
    (Op.MAXPOOL, re.compile(r"(?:^|[_.])pool(?:ing)?(?:$|[_.\d])")),      # pool_forward(..., mode='max')
    ("grouped", re.compile(r"depthwise|depth_wise|grouped|group_?conv|(?:^|[_.])dw_?conv")),
)


def op_named(name: str) -> str | None:
    """The op a function or class name says (one of OP_WORDS' keys), None when it names none."""
    snake = _snake(name)
    return next((op for op, pattern in OP_WORDS if pattern.search(snake)), None)


def _snake(name: str) -> str:
    """'Decoder.UpConv2D' -> 'decoder.up_conv2_d': every dotted part (a class and its method)."""
    return ".".join("_".join(words(part)) for part in name.split("."))


# what Python and JavaScript say when code unpacks a number it expected per axis (sh, sw = stride)
PAIR_WANTED = re.compile(r"unpack non-iterable int|'int' object is not subscriptable|is not iterable")
FORWARD_WORDS = re.compile(r"forward|__call__", re.I)
BACKWARD_WORDS = re.compile(r"backward|backprop|grad", re.I)

ALIASES = {
    "x": {"x", "a", "inp", "input", "inputs", "img", "a_prev", "data", "z", "in_"},
    "w": {"w", "f", "filt", "filter", "filters", "weight", "weights", "kernel", "kernels", "k_w"},
    "b": {"b", "bias", "biases"},
    "dout": {"dout", "do", "da", "grad_out", "grad_output", "dy", "delta", "dz", "d_out", "upstream", "dldz", "dl_dy",
             "dloss", "dldy", "dldout"},
    "stride": {"s", "stride", "strides", "upsampling_factor", "upsample", "factor", "step"},
    "pad": {"p", "pad", "padding", "pads"},
    "dilation": {"d", "dilation", "dil"},
    "groups": {"groups", "g", "group", "n_groups", "num_groups"},
    "multiplier": {"depth_multiplier", "multiplier", "channel_multiplier"},
    "output_padding": {"output_padding", "out_pad", "output_pad", "opad", "out_padding"},
    "kernel": {"kernel_size", "ksize", "k", "pool_size", "pool", "window", "window_size", "size", "fs",
               "filter_size", "kernel_shape"},
    "ceil_mode": {"ceil_mode", "ceil"},
    "mode": {"mode", "pool_mode", "pool_type", "pooling_type"},
    "count_include_pad": {"count_include_pad", "include_pad"},
    "x_shape": {"input_shape", "x_shape", "in_shape", "shape"},
    "cache": {"cache"},
    "in_channels": {"in_channels", "in_ch", "c_in", "in_c", "channels_in", "cin", "channels", "n_channels",
                    "num_channels", "in_planes"},
    "out_channels": {"out_channels", "out_ch", "c_out", "out_c", "channels_out", "cout", "n_filters", "num_filters"},
}


# an array name qualified by a suffix (w_dw, x_in, input_tensor, bias_pw) plays its stem's role,
# unless a later word says it is a size, an index or a gradient
QUALIFIED_STEMS = {"w": ("w", "weight", "weights", "filt"), "x": ("x", "inp", "input", "inputs"),
                   "b": ("b", "bias", "biases")}
NOT_THE_ARRAY = {"shape", "size", "sizes", "grad", "grads", "gradient", "h", "height", "width", "len", "dim",
                 "dims", "idx", "index", "count", "num", "n"}


def role_of(name: str, pool: bool) -> str | None:
    low = name.lower()
    if low.endswith("_param") or low.endswith("params") or low == "param":
        return "param"
    for role, names in ALIASES.items():
        if low in names:
            if role == "w" and pool and low in ("kernel", "filter"):
                return "kernel"
            return role
    ws = words(name)
    if len(ws) > 1 and not set(ws[1:]) & NOT_THE_ARRAY:
        return next((role for role, stems in QUALIFIED_STEMS.items() if ws[0] in stems), None)
    return None


def detect_op(names, params, param_keys=()) -> tuple[str | None, int | None]:
    """(op, groups hint) from function/class names, parameter names and the keys a *_param dict is
    read with (conv_param['groups']); (None, None) when silent."""
    low = {p.lower() for p in params} | {k.lower() for k in param_keys}
    grouped = 2 if low & {"groups", "n_groups", "num_groups"} else 0    # 0: depthwise (G = C)
    for name in names:
        op = op_named(name)
        if op == "grouped":
            return "correlate", (0 if re.search(r"depth|(?:^|[_.])dw", _snake(name)) else grouped or 2)
        if op is not None:
            return op, None
    if low & {"groups", "depth_multiplier", "n_groups", "num_groups"}:
        return "correlate", (0 if "depth_multiplier" in low else 2)
    if "output_padding" in low:
        return Op.TRANSPOSE, None
    if "pool_param" in low or "pool_height" in low:
        return Op.MAXPOOL, None
    return None, None


# the keys a cs231n-style *_param dict carries (Settings.param_dict), so any course's spelling is found
POOL_PARAM_KEYS = ("stride", "pad", "pool_height", "pool_width", "pool_size", "kernel_size", "ceil_mode",
                   "count_include_pad")
CONV_PARAM_KEYS = ("stride", "pad", "groups", "dilation", "output_padding", "depth_multiplier")


@dataclass
class Settings:
    """The numbers a call passes, in the forms learners use."""

    op: str
    stride: tuple
    pad: tuple
    dilation: tuple
    groups: int
    output_padding: tuple
    window: tuple
    ceil_mode: bool
    count_include_pad: bool
    in_channels: int
    out_channels: int
    window_pair: bool = False   # the window always as a tuple (kh, kw = kernel_size), even a square one
    pairs: bool = False         # every per-axis option as a tuple (sh, sw = stride; Holberton's kernel_shape)

    def value(self, role, x_shape=None):
        one = (lambda t: tuple(t) if self.pairs or len(set(t)) > 1 else t[0])
        if role == "mode":          # one pooling function for both: mode='max' / 'avg' (Holberton)
            return "max" if self.op == Op.MAXPOOL else "avg"
        return {
            "stride": one(self.stride), "pad": one(self.pad), "dilation": one(self.dilation),
            "groups": self.groups, "output_padding": one(self.output_padding or (0,)),
            "kernel": tuple(self.window) if self.window_pair or self.pairs else one(self.window), "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad,
            "multiplier": self.out_channels // max(1, self.in_channels),
            "x_shape": x_shape, "in_channels": self.in_channels, "out_channels": self.out_channels,
        }.get(role)

    def param_dict(self) -> dict:
        """cs231n's conv_param / pool_param: every key a course uses, so any of them is found."""
        values = {"stride": self.value("stride"), "pad": self.value("pad"), "pool_height": self.window[0],
                  "pool_width": self.window[-1], "pool_size": self.value("kernel"), "kernel_size": self.value("kernel"),
                  "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad, "groups": self.groups,
                  "dilation": self.value("dilation"), "output_padding": self.value("output_padding"),
                  "depth_multiplier": self.value("multiplier")}
        return {k: values[k] for k in (POOL_PARAM_KEYS if self.op in POOL_OPS else CONV_PARAM_KEYS)}


@dataclass
class WindowOp:
    """The user's layer behind canonical calls: forward(x, w, b) and grads(dout, x, w, b)."""

    op: str
    convention: str
    forward_fn: object                  # UserFunction (a class for the layer convention)
    backward_fns: dict                  # target -> UserFunction ("both" when one call returns dx, dw[, db])
    language: str
    timeout: float | None
    user_files: tuple
    flipped_filter: bool = False        # transposed filter stored (Cout, Cin, *K) flipped (mytorch form)
    calls: Counter = field(default_factory=Counter)
    has_bias: bool = True
    notes: list = field(default_factory=list)
    settings: Settings | None = None
    layout: object = None               # a binding.layouts.Layout when the user's arrays are not (N, C, *S)
    hung: object = None                 # the UserTimeout of a call that never returned: later calls repeat it
    squeezed_filter: bool = False       # depthwise filter stored (C, *K): the (F, 1, *K) axis of one left out
    squeezed_out: bool = False          # a global pooling returning (N, C): its spatial axes of one left out

    @property
    def pool(self) -> bool:
        return self.op in POOL_OPS

    @property
    def needs_forward(self) -> bool:
        """A cs231n backward takes the forward's cache, a layer's reads its state; a functional one stands alone."""
        return self.convention != Convention.FUNCTIONAL

    @property
    def names(self) -> dict:
        d = {"forward": self.forward_fn.name}
        for t, fn in self.backward_fns.items():
            if t not in self.targets:
                continue
            d[t] = fn.name if self.convention != Convention.LAYER else f"{self.forward_fn.name}.backward"
        if self.convention == Convention.LAYER:
            d["forward"] = f"{self.forward_fn.name}.forward"
        return d

    @property
    def targets(self) -> tuple:
        ts = ["forward"]
        for t in ("grad_input", "grad_filter", "grad_bias"):
            if t in self.backward_fns and not (self.pool and t != "grad_input") and \
                    not (t == "grad_bias" and not self.has_bias):
                ts.append(t)
        return tuple(ts)

    # ---- user space ------------------------------------------------------------------------------
    def _to_user(self, a):
        if a is None:
            return None
        return a.tolist() if self.language == "javascript" else np.array(a)

    def w_to_user(self, w):
        if w is None or not self.flipped_filter:
            return w
        return np.ascontiguousarray(np.swapaxes(w, 0, 1)[(slice(None), slice(None)) +
                                                          (slice(None, None, -1),) * (w.ndim - 2)])

    def w_from_user(self, w):
        return self.w_to_user(w) if self.flipped_filter else w

    # the user's layout (CHW, HW, NHWC, ...) on top of the container; an answer of another rank is
    # left as it is, so its shape is reported as the user wrote it
    def _act(self, a):
        """x or dout, canonical (N, C, *S) -> the user's array."""
        if a is None:
            return None
        return self._to_user(self.layout.x_to_user(a) if self.layout is not None else a)

    def _act_back(self, arr):
        if self.layout is None or arr.ndim != len(self.layout.x_shape(1, 1, (1,) * self.layout.spatial)):
            return arr
        return self.layout.x_from_user(arr)

    def _w(self, w):
        """The filter, canonical -> the user's (flipped when stored so, then in the user's layout)."""
        if w is None:
            return None
        w = self.w_to_user(w)
        if self.squeezed_filter:
            w = w[:, 0]
            return self._to_user(w)
        return self._to_user(self.layout.w_to_user(w) if self.layout is not None else w)

    def _w_back(self, arr):
        if self.squeezed_filter:
            return arr[:, None] if arr.ndim == len(self.settings.window) + 1 else arr
        if self.layout is not None and arr.ndim == len(self.layout.w_shape(1, 1, (1,) * self.layout.spatial)):
            arr = self.layout.w_from_user(arr)
        return self.w_from_user(arr)

    def _b(self, b):
        """One filter without a channel axis: its bias is one number."""
        if b is None:
            return None
        return float(b[0]) if self.layout is not None and not self.layout.channels else self._to_user(b)

    def _call(self, fn, args, kwargs, what):
        """One guarded call; after one that hung, the same timeout at once (each would wait out the limit)."""
        if self.hung is not None:
            raise self.hung
        self.calls[what] += 1
        try:
            return call_user(fn.call, args, kwargs, timeout=self.timeout, what=fn.name, user_files=self.user_files)
        except UserTimeout as err:
            self.hung = err
            raise

    def _args(self, fn, values: dict, skip=0):
        args, kwargs = [], {}
        for p in fn.params[skip:]:
            if p.kind in ("var_positional", "var_keyword"):
                continue
            role = role_of(p.name, self.pool)
            if role == "param":
                value = self.settings.param_dict()
            elif role in values:
                value = values[role]
            elif role is not None and self.settings.value(role, values.get("x_shape")) is not None:
                value = self.settings.value(role, values.get("x_shape"))
            elif p.has_default:
                break
            elif re.fullmatch(r"(width|height|depth|rows|cols|columns|[hw]_?(in|out)?|n_?(rows|cols)|len\w*)",
                              p.name.lower()):
                raise BindError(f"{fn.name} takes {p.name!r}, an extent of a flat array: corrcheck checks flat "
                                f"arrays with their sizes only for a dense convolution; pooling, grouped and "
                                f"transposed layers need nested or (N, C, *S) arrays")
            else:
                raise BindError(f"{fn.name}: cannot tell what to pass as its parameter {p.name!r}; "
                                f"name the parameters like x, w, b, dout, stride, pad")
            if p.kind == "keyword_only":
                kwargs[p.name] = value
            else:
                args.append(value)
        return args, kwargs

    # ---- canonical calls -------------------------------------------------------------------------
    def _paired(self, call):
        """call(), and once more with every per-axis option a tuple when the code unpacks one
        (sh, sw = stride): from then on this layer is called so."""
        try:
            return call()
        except UserTimeout:
            raise
        except UserCallError as err:
            if self.settings is None or self.settings.pairs or not PAIR_WANTED.search(err.message):
                raise
            self.settings.pairs = True
            try:
                return call()
            except UserTimeout:
                raise
            except UserCallError as again:
                # tuples do not run either: back to numbers (a window alone as a pair is another
                # form the runner tries); the error past the unpacking says more, when there is one
                self.settings.pairs = False
                if PAIR_WANTED.search(again.message):
                    raise err from None
                raise

    def forward(self, x, w, b):
        """Canonical out; keeps what a backward needs (cache, layer instance)."""
        return self._paired(lambda: self._forward(x, w, b))

    def grads(self, dout, x, w, b) -> dict:
        """{target: canonical array} from the user's backward(s), after a forward on the same inputs."""
        return self._paired(lambda: self._grads(dout, x, w, b))

    def _forward(self, x, w, b):
        ux = self._act(x)
        values = {"x": ux, "w": self._w(w), "b": self._b(b), "x_shape": tuple(np.shape(ux))}
        if self.convention == Convention.LAYER:
            layer = self._build(w, b)
            raw = self._call(_method(layer, "forward", self.forward_fn), (values["x"],), {}, "forward")
            self._state = layer
        else:
            args, kwargs = self._args(self.forward_fn, values)
            raw = self._call(self.forward_fn, args, kwargs, "forward")
            if self.convention == Convention.CS231N and isinstance(raw, tuple) and len(raw) == 2:
                raw, self._state = raw
            else:
                self._state = None
        out, _ = to_float_array(raw, self.forward_fn.name)
        if self.squeezed_out and out.ndim == 2:
            out = out.reshape(out.shape + (1,) * len(self.settings.window))
        return self._act_back(out)

    def _dout(self, dout):
        """dout as the user's backward takes it: (N, C) after a global pooling that returns that."""
        return self._act(dout.reshape(dout.shape[:2]) if self.squeezed_out else dout)

    def _grads(self, dout, x, w, b) -> dict:
        self._state = None
        if self.needs_forward:
            self._forward(x, w, b)
        res = {}
        if self.convention == Convention.LAYER:
            layer = self._state
            raw = self._call(_method(layer, "backward", self.forward_fn), (self._dout(dout),), {}, "grad_input")
            res["grad_input"] = self._act_back(to_float_array(raw[0] if isinstance(raw, tuple) else raw, "backward")[0])
            if not self.pool:
                dw = _attr(layer, DW_WORDS, GRAD_DICTS, WEIGHT_ATTRS + DW_WORDS)
                if dw is not None:
                    res["grad_filter"] = self._w_back(to_float_array(dw, "dW")[0])
                db = _attr(layer, DB_WORDS, GRAD_DICTS, BIAS_ATTRS + DB_WORDS)
                if db is not None:
                    res["grad_bias"] = to_float_array(db, "db")[0].reshape(-1)
            return res
        ux = self._act(x)
        values = {"x": ux, "w": self._w(w), "b": self._b(b), "dout": self._dout(dout),
                  "x_shape": tuple(np.shape(ux)), "cache": self._state}
        done = set()
        for target, fn in self.backward_fns.items():
            if id(fn) in done:
                continue
            done.add(id(fn))
            args, kwargs = self._args(fn, values)
            raw = self._call(fn, args, kwargs, target)
            if isinstance(raw, (tuple, list)) and len(raw) in (2, 3) and not _is_array_like_list(raw):
                parts = list(raw)
                res["grad_input"] = self._act_back(to_float_array(parts[0], fn.name)[0])
                if len(parts) > 1:
                    res["grad_filter"] = self._w_back(to_float_array(parts[1], fn.name)[0])
                if len(parts) > 2:
                    res["grad_bias"] = to_float_array(parts[2], fn.name)[0].reshape(-1)
            else:
                arr = to_float_array(raw, fn.name)[0]
                res[target if target != "both" else "grad_input"] = \
                    self._w_back(arr) if target == "grad_filter" else self._act_back(arr)
        return res

    def _build(self, w, b):
        cls = self.forward_fn
        s = self.settings
        values = {"w": self._w(w), "b": self._b(b), "in_channels": s.in_channels, "out_channels": s.out_channels}
        args, kwargs = [], {}
        for p in cls.params:
            if p.name == "self" or p.kind in ("var_positional", "var_keyword"):
                continue
            role = role_of(p.name, self.pool)
            if role in values and values[role] is not None:
                v = values[role]
            elif role == "param":
                v = s.param_dict()
            elif role is not None and s.value(role) is not None:
                v = s.value(role)
            elif p.has_default:
                continue
            else:
                raise BindError(f"{cls.name}: cannot tell what to pass as its parameter {p.name!r}")
            if p.kind == "keyword_only" or args is None:
                kwargs[p.name] = v
            else:
                args.append(v)
        self.calls["construct"] += 1
        layer = call_user(cls.call, args, kwargs, timeout=self.timeout, what=cls.name, user_files=self.user_files)
        if w is not None:
            _set_attr(layer, WEIGHT_ATTRS, np.asarray(self._w(w), dtype=float))
            if b is not None:
                _set_attr(layer, BIAS_ATTRS, np.array(b))
        return layer


def groups_from_weight(w_shape, channels: int) -> int | None:
    """G from a filter (F, C/G, *K) a layer made for `channels` input channels: C / w.shape[1] when that
    divides and is more than 1 (depthwise: w.shape[1] == 1, G = C); None when the shape says dense or
    is no filter at all."""
    if w_shape is None or len(w_shape) < 3 or not w_shape[1] or channels % w_shape[1] or w_shape[0] < 1:
        return None
    g = channels // w_shape[1]
    return g if g > 1 and w_shape[0] % g == 0 else None


def own_weight_shape(layer_op: "WindowOp") -> tuple | None:
    """The shape of the filter a layer class makes itself (no weight passed in), built once from the
    settings; None when it takes its weights, cannot be built, or keeps no array filter."""
    cls = layer_op.forward_fn
    if not cls.is_class or any(role_of(p.name, False) == "w" for p in cls.params):
        return None
    try:
        layer = layer_op._build(None, None)
    except (BindError, UserCallError):
        return None
    finally:
        layer_op.calls.clear()
    w = _attr(layer, WEIGHT_ATTRS, PARAM_DICTS)
    return tuple(np.shape(w)) if isinstance(w, np.ndarray) else None


def _is_array_like_list(raw) -> bool:
    """A nested list that is itself the array (not a (dx, dw) tuple)."""
    try:
        return np.asarray(raw, dtype=float).ndim >= 2 and isinstance(raw, list)
    except (ValueError, TypeError):
        return False


def _method(obj, name, cls):
    m = getattr(obj, name, None)
    if m is None and name == "forward":
        m = getattr(obj, "__call__", None)
    if m is None:
        raise BindError(f"{cls.name} has no {name} method")
    return type("M", (), {"call": staticmethod(m), "name": f"{cls.name}.{name}"})()


def _holders(obj):
    """The object and the objects it holds one attribute deep (mytorch keeps W in conv2d_stride1)."""
    yield obj
    for v in list(vars(obj).values()) if hasattr(obj, "__dict__") else []:
        if hasattr(v, "__dict__") and not isinstance(v, (np.ndarray, type)):
            yield v


def _slots(obj, names, dicts=(), keys=None):
    """(container, name) of each slot that may hold the array, in order of preference: attributes named
    in `names` (any case) on the object or on what it holds one level deep, then entries named in
    `keys` (default `names`) of its dict attributes named in `dicts` (self.params['W'], self.grads['W'])."""
    wanted = [n.lower() for n in names]
    in_dicts = [n.lower() for n in (names if keys is None else keys)]
    for h in _holders(obj):
        attrs = vars(h) if hasattr(h, "__dict__") else {}
        by_lower = {k.lower(): k for k in attrs}
        for n, low in zip(names, wanted):
            if hasattr(h, n) and not callable(getattr(h, n)):
                yield h, n
            elif low in by_lower:
                yield h, by_lower[low]
        for name, value in attrs.items():
            if name.lower() in dicts and isinstance(value, dict):
                by_key = {str(k).lower(): k for k in value}
                for low in in_dicts:
                    if low in by_key:
                        yield value, by_key[low]


def _get(container, name):
    return container.get(name) if isinstance(container, dict) else getattr(container, name, None)


def _attr(obj, names, dicts=(), keys=None):
    """The first value (not None, not a method) in one of _slots' slots."""
    for container, name in _slots(obj, names, dicts, keys):
        v = _get(container, name)
        if v is not None and not callable(v):
            return v
    return None


def _set_attr(obj, names, value, dicts=PARAM_DICTS):
    """Replace the first array in one of _slots' slots (the layer's own filter) with `value`."""
    for container, name in _slots(obj, names, dicts):
        if isinstance(_get(container, name), np.ndarray):
            if isinstance(container, dict):
                container[name] = np.array(value)
            else:
                setattr(container, name, np.array(value))
            return


def param_keys(fn) -> set[str]:
    """The string keys a function reads from its *_param dict (conv_param['groups'], .get('pad'))."""
    if not any(role_of(p.name, False) == "param" for p in fn.params) or not fn.source:
        return set()
    return set(re.findall(r"""(?:\[|get\()\s*['"](\w+)['"]""", fn.source))


__all__ = ["WindowOp", "Settings", "op_named", "POOL_PARAM_KEYS", "CONV_PARAM_KEYS", "detect_op", "groups_from_weight", "own_weight_shape", "param_keys", "role_of",
           "UserCallError", "UnusableOutput"]
