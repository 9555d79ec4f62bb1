"""Volume-object layers (ConvNetJS and the libraries that copy its form), read natively.

A volume is an object with one flat array `w` of numbers, extents `sx` (width), `sy` (height) and
`depth`, and a gradient array `dw` of the same size. A layer is built from an options object
(`new ConvLayer({sx, sy, filters, stride, pad, in_sx, in_sy, in_depth})`), keeps its filters as
volumes and its biases as one volume, `forward(V)` returns a volume, and `backward()` reads the
output volume's `dw` and writes gradients into the input volume's `dw` and each filter's `dw`.

corrcheck builds the volumes with the library's own volume class, so the layer's methods
(`V.get(x, y, d)`) work; the flat order of `w` is read off the class's own accessor when it has
one (ConvNetJS: ((sx * y) + x) * depth + d). The user-facing layout is chw, one example.
"""
from __future__ import annotations

import itertools
import re

import numpy as np

from .arrays import to_float_array
from ..errors import BindError, UnusableOutput, UserCallError
from ..loader.functions import Param, UserFunction

VOL_X = {"sx", "width", "w", "nx", "cols"}
VOL_Y = {"sy", "height", "h", "ny", "rows"}
VOL_D = {"depth", "d", "channels", "nc", "c"}
OPTION_PARAMS = {"opt", "opts", "options", "def", "config", "conf", "cfg", "params", "spec", "args", "settings"}
OPTION_KEYS = {
    "k_w": ("sx", "filter_sx", "kernel_width", "kw", "filter_w", "fw", "filter_size", "kernel_size", "size"),
    "k_h": ("sy", "filter_sy", "kernel_height", "kh", "filter_h", "fh"),
    "filters": ("filters", "out_depth", "num_filters", "n_filters", "nfilters", "filter_count", "out_channels"),
    "stride": ("stride", "strides", "step"),
    "pad": ("pad", "padding", "zero_pad"),
    "in_w": ("in_sx", "in_width", "input_width", "in_w", "width"),
    "in_h": ("in_sy", "in_height", "input_height", "in_h", "height"),
    "in_c": ("in_depth", "in_channels", "input_depth", "channels", "depth"),
}
AXES = ("x", "y", "d")


def volume_class(ns: dict) -> UserFunction | None:
    """The class whose constructor takes (sx, sy, depth, ...): the library's volume."""
    for f in ns.values():
        if not f.is_class:
            continue
        names = [p.name.lower() for p in f.params][:3]
        if len(names) == 3 and names[0] in VOL_X and names[1] in VOL_Y and names[2] in VOL_D:
            return f
    return None


def option_param(cls: UserFunction) -> str | None:
    """`opt` when the layer's constructor takes one options object."""
    params = [p for p in cls.params if p.kind == "positional"]
    if len(params) >= 1 and params[0].name.lower() in OPTION_PARAMS and all(p.has_default for p in params[1:]):
        return params[0].name
    return None


def option_keys(cls: UserFunction, param: str) -> list[str]:
    """The keys the constructor reads from its options object (`opt.sx`, `opt['stride']`)."""
    src = cls.source or ""
    keys = re.findall(rf"\b{re.escape(param)}\s*(?:\.\s*([A-Za-z_$][\w$]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])", src)
    return list(dict.fromkeys(a or b for a, b in keys))


def fits(cls: UserFunction, ns: dict) -> bool:
    param = option_param(cls)
    if param is None or volume_class(ns) is None:
        return False
    roles = _key_roles(option_keys(cls, param))
    return {"k_w", "filters"} <= set(roles.values())


def _key_roles(keys) -> dict[str, str]:
    roles = {}
    for role, aliases in OPTION_KEYS.items():
        for a in aliases:
            if a in keys and a not in roles and role not in roles.values():
                roles[a] = role
                break
    return roles


class VolumeLayerImpl:
    """Calls a volume-object layer in user space (chw arrays in, chw arrays out)."""

    convention = "layer"

    def __init__(self, cls: UserFunction, vol: UserFunction, fwd: str, bwd: str | None):
        self.cls, self.vol, self.fwd_name, self.bwd_name = cls, vol, fwd, bwd
        self.param = option_param(cls)
        self.key_roles = _key_roles(option_keys(cls, self.param))
        self.order: tuple[str, ...] | None = None      # flat order of w, slowest axis first
        self.attrs: dict[str, str] = {}
        self.has_bias = True
        words = {"k_w": "filter width", "k_h": "filter height", "filters": "filter count", "in_w": "input width",
                 "in_h": "input height", "in_c": "channels"}
        keys = ", ".join(f"{k}: {words.get(r, r)}" for k, r in self.key_roles.items())
        self.binding_notes = [f"{cls.name}({{{keys}}}) with {vol.name} volumes (flat w, gradients in dw), "
                              f"then .{fwd}(V)" + (f", .{bwd}()" if bwd else "")]

    def takes(self, role: str) -> bool:
        return role in self.key_roles.values()

    @property
    def targets(self):
        return ("forward",) + (("grad_input", "grad_filter", "grad_bias") if self.bwd_name else ())

    @property
    def names(self):
        d = {"forward": f"{self.cls.name}.{self.fwd_name}"}
        if self.bwd_name:
            d.update({t: f"{self.cls.name}.{self.bwd_name}" for t in ("grad_input", "grad_filter", "grad_bias")})
        return d

    # ---- volumes ------------------------------------------------------------------
    def _flat_order(self, caller):
        """Which flat order the volume class uses, read from its own get(x, y, d) when it has one."""
        if self.order is not None:
            return self.order
        self.order = ("y", "x", "d")                 # ConvNetJS: ((sx * y) + x) * depth + d
        if "get" in self.vol.methods:
            try:
                v = caller("forward")(self.vol, 2, 3, 4)
                v.set("w", list(range(24)))
                ext = {"x": 2, "y": 3, "d": 4}
                probes = [(1, 2, 3), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
                got = [v.call_method("get", *p) for p in probes]
                for order in itertools.permutations(AXES):
                    if all(_flat_index(order, ext, dict(zip(AXES, p))) == g for p, g in zip(probes, got)):
                        self.order = order
                        break
            except Exception:        # noqa: BLE001 - an odd accessor: keep the common order
                pass
        return self.order

    def _to_flat(self, a_chw) -> list:
        a = np.asarray(a_chw, dtype=np.float64)              # (depth, sy, sx)
        axes = {"d": 0, "y": 1, "x": 2}
        return np.transpose(a, [axes[k] for k in self.order]).reshape(-1).tolist()

    def _from_flat(self, flat, sx, sy, depth, what) -> np.ndarray:
        arr, _ = to_float_array(flat, what)
        ext = {"x": sx, "y": sy, "d": depth}
        if arr.size != sx * sy * depth:
            raise UnusableOutput(f"{what} holds {arr.size} numbers for a {sx}x{sy}x{depth} volume",
                                 got_shape=tuple(arr.shape))
        a = arr.reshape([ext[k] for k in self.order])
        return np.transpose(a, [self.order.index(k) for k in ("d", "y", "x")])

    def _volume(self, caller, a_chw, grad=None):
        a = np.asarray(a_chw, dtype=np.float64)
        depth, sy, sx = a.shape
        v = caller("forward")(self.vol, sx, sy, depth)
        v.set("w", self._to_flat(a))
        v.set("dw", self._to_flat(np.zeros_like(a) if grad is None else grad))
        return v

    def _read_volume(self, value, what, field="w") -> np.ndarray:
        d = _fields(value)
        if not isinstance(d, dict) or field not in d or not {"sx", "sy", "depth"} <= set(d):
            raise UnusableOutput(f"{what} is not a volume (an object with {field}, sx, sy, depth): got "
                                 f"{_describe(value)}")
        return self._from_flat(d[field], int(d["sx"]), int(d["sy"]), int(d["depth"]), what)

    # ---- building the layer ---------------------------------------------------------
    def _options(self, args) -> dict:
        w = np.asarray(args.w)
        f, c, kh, kw = w.shape
        x = np.asarray(args.x)
        _, h, wd = x.shape
        values = {"k_w": kw, "k_h": kh, "filters": f, "stride": args.stride, "pad": args.pad,
                  "in_w": wd, "in_h": h, "in_c": c}
        return {k: values[r] for k, r in self.key_roles.items()}

    def _build(self, args, caller):
        self._flat_order(caller)
        obj = caller("forward")(self.cls, self._options(args))
        fields = _fields(obj)
        w = np.asarray(args.w, dtype=np.float64)
        f_attr = self.attrs.get("filters") or next(
            (k for k, v in fields.items() if isinstance(v, list) and len(v) == w.shape[0] and v
             and all(isinstance(e, dict) and "w" in e for e in v)), None)
        if f_attr is None:
            raise UnusableOutput(f"new {self.cls.name} has no list of {w.shape[0]} filter volumes "
                                 f"(fields: {', '.join(sorted(fields)) or 'none'})")
        self.attrs["filters"] = f_attr
        obj.set(f_attr, [self._volume(caller, w[i]) for i in range(w.shape[0])])
        b_attr = self.attrs.get("biases") or next(
            (k for k, v in fields.items() if isinstance(v, dict) and "w" in v and k != f_attr
             and np.size(v["w"]) == w.shape[0]), None)
        if b_attr is not None:
            self.attrs["biases"] = b_attr
            obj.set(b_attr, self._volume(caller, np.asarray(args.b, dtype=np.float64).reshape(-1, 1, 1)))
        self.has_bias = b_attr is not None
        return obj

    def _method(self, obj, name):
        return UserFunction(name=f"{self.cls.name}.{name}", params=(Param("V"),), call=getattr(obj, name),
                            language=self.cls.language, file=self.cls.file)

    # ---- calls ----------------------------------------------------------------------
    def forward(self, args, caller):
        obj = self._build(args, caller)
        v = self._volume(caller, args.x)
        out = caller("forward")(self._method(obj, self.fwd_name), v)
        return self._read_volume(out, f"{self.names['forward']}'s result")

    def gradients(self, target, args, caller):
        obj = self._build(args, caller)
        v = self._volume(caller, args.x)
        out = caller("forward")(self._method(obj, self.fwd_name), v)
        y = self._read_volume(out, f"{self.names['forward']}'s result")
        fields = _fields(obj)
        o_attr = self.attrs.get("output") or next(
            (k for k, val in fields.items() if isinstance(val, dict) and "w" in val and k not in self.attrs.values()
             and np.size(val["w"]) == y.size
             and np.allclose(np.asarray(val["w"], dtype=float).reshape(-1), np.asarray(out["w"], dtype=float).reshape(-1))),
            None)
        if o_attr is None:
            raise UnusableOutput(f"after {self.names['forward']} no field of the layer holds the output volume, "
                                 f"so its dw cannot be set for {self.names['grad_input']}")
        self.attrs["output"] = o_attr
        obj.set(o_attr, self._volume(caller, y, grad=args.dout))
        value = caller("grad_input")(UserFunction(name=f"{self.cls.name}.{self.bwd_name}", params=(),
                                                  call=getattr(obj, self.bwd_name), language=self.cls.language,
                                                  file=self.cls.file))
        res: dict = {}
        name = self.names["grad_input"]
        try:
            res["grad_input"] = self._read_volume(v, f"the input volume's dw after {name}", "dw")
        except UserCallError as err:
            res["grad_input"] = err
        fields = _fields(obj)
        try:
            filt = fields[self.attrs["filters"]]
            res["grad_filter"] = np.stack([self._read_volume(f, f"filter {i}'s dw after {name}", "dw")
                                           for i, f in enumerate(filt)])
        except UserCallError as err:
            res["grad_filter"] = err
        if self.has_bias:
            try:
                res["grad_bias"] = self._read_volume(fields[self.attrs["biases"]], f"the biases' dw after {name}",
                                                     "dw").reshape(-1)
            except UserCallError as err:
                res["grad_bias"] = err
        del value
        return res

    def used_attributes(self) -> str:
        return ", ".join(f"{k} .{v}" for k, v in self.attrs.items())


def _flat_index(order, ext, idx) -> int:
    i = 0
    for k in order:
        i = i * ext[k] + idx[k]
    return i


def _fields(value):
    if isinstance(value, dict):
        return value
    try:
        return dict(vars(value))
    except TypeError:
        return value


def _describe(value) -> str:
    if isinstance(value, dict):
        return f"an object with fields {', '.join(sorted(map(str, value))[:8])}"
    return type(value).__name__


def bind_error(cls: UserFunction) -> BindError:
    return BindError(f"{cls.name} takes an options object, but corrcheck found no volume class "
                     f"(constructor (sx, sy, depth)) to build its inputs with: wrap it in a small adapter file "
                     f"(README: \"Your code has another shape?\")")
