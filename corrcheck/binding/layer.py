"""Layer classes: `Cls(W, b, stride, pad)` or self-initialising `Conv2D(in_ch, out_ch, k, ...)`.

The object is built from the config, its weight and bias attributes are set
to corrcheck's arrays before each call, and the gradients are read back from
whatever attributes (or `grads` dict) the backward filled.
"""
from __future__ import annotations

import numpy as np

from .arrays import to_float_array
from .bound import _digest
from .conventions import split_by_shape
from ..errors import BindError, UnreadableOutput, UnusableOutput, UserCallError
from ..loader.functions import Param, UserFunction
from ..vocab import Convention, Target

CTOR_ROLES = {
    "weight": {"w", "weight", "weights", "filters", "filter", "kernel", "kernels", "k", "kernel_weights"},
    "bias": {"b", "bias", "biases"},
    "stride": {"stride", "s", "strides", "step"},
    "pad": {"pad", "padding", "p", "pads", "zero_pad"},
    "dilation": {"dilation", "dil"},
    "in_channels": {"in_channels", "input_channels", "in_ch", "c_in", "cin", "channels", "n_channels",
                    "num_channels", "in_features", "depth", "input_depth", "in_depth", "c_prev", "nc"},
    "out_channels": {"out_channels", "output_channels", "out_ch", "c_out", "cout", "num_filters", "n_filters",
                     "nb_filters", "filters", "number_of_filters", "num_kernels", "n_kernels", "out_features",
                     "num_output", "nf", "filter_count", "n_filter", "c_new"},
    "kernel_size": {"kernel_size", "filter_size", "ksize", "k_size", "kernel", "size", "field", "kernel_shape",
                    "filter_shape", "fs", "window", "receptive_field", "f", "k", "kernel_dim", "filter_dim"},
}
FORWARD_METHODS = ("forward", "__call__", "fprop", "call", "forward_pass", "feed_forward", "feedforward")
# a layer whose gradients accumulate until zero_grad() (torch's rule) gets it before each backward, as a step does
ZERO_GRAD_METHODS = ("zero_grad", "zero_grads", "zerograd", "zero_gradients", "clear_grad", "clear_grads",
                     "reset_grad", "reset_grads", "reset_gradients")
BACKWARD_METHODS = ("backward", "backprop", "bprop", "backward_pass", "backpropagate", "back_propagation")
WEIGHT_ATTRS = ("W", "w", "weight", "weights", "filters", "filter", "kernel", "kernels", "K", "params_W")
BIAS_ATTRS = ("b", "bias", "biases", "B")
DW_WORDS = ("dw", "dweight", "dweights", "d_w", "d_weight", "d_weights", "grad_w", "grad_weight", "grad_weights",
            "weight_grad", "weights_grad", "w_grad", "dfilters", "d_filters", "dfilter", "d_filter", "dkernel",
            "d_kernel", "dk", "df", "grad_filters", "grad_kernel", "kernel_grad", "filters_grad", "dw_", "gw", "dldw")
DB_WORDS = ("db", "dbias", "d_bias", "grad_b", "grad_bias", "bias_grad", "b_grad", "dbiases", "d_biases",
            "biases_grad", "gb", "dldb")
GRAD_DICTS = ("grads", "gradients", "grad", "param_grads", "dparams", "d_params")
PARAM_DICTS = ("params", "parameters", "param", "_params", "weights_dict", "vars")    # self.params["w"] (tinynn style)


def find_method(cls: UserFunction, names) -> str | None:
    """The class's method for the first of `names` it has, matched case-insensitively."""
    low = {m.lower(): m for m in cls.methods}
    for n in names:
        if n in low:
            return low[n]
    return None


def ctor_roles(cls: UserFunction) -> tuple[dict[str, str], str]:
    """param -> role, and the mode: 'arrays' (W, b given) or 'sizes' (the class makes its weights)."""
    roles = {}
    params = [p for p in cls.params if p.kind in ("positional", "keyword_only")]
    names = {p.name.lower() for p in params}
    sizes = bool(names & (CTOR_ROLES["in_channels"] | CTOR_ROLES["out_channels"]) - {"filters"}) or \
        bool(names & {"kernel_size", "filter_size", "ksize"})
    used = set()
    for p in params:
        low = p.name.lower()
        order = (("in_channels", "out_channels", "kernel_size", "stride", "pad", "dilation") if sizes
                 else ("weight", "bias", "stride", "pad", "dilation"))
        for role in order:
            if low in CTOR_ROLES[role] and role not in used:
                roles[p.name] = role
                used.add(role)
                break
    free = [r for r in (("in_channels", "out_channels", "kernel_size") if sizes else ("weight", "bias"))
            if r not in used]
    for p in params:
        if p.name not in roles and not p.has_default and free:
            roles[p.name] = free.pop(0)
    return roles, ("sizes" if sizes else "arrays")


class LayerImpl:
    """The impl (protocol: conventions.py) for layer classes: rebuilt per configuration, arrays
    set and read back as attributes."""

    convention = Convention.LAYER

    def __init__(self, cls: UserFunction):
        self.cls = cls
        self.fwd_name = find_method(cls, FORWARD_METHODS)
        self.bwd_name = find_method(cls, BACKWARD_METHODS)
        self.zero_name = find_method(cls, ZERO_GRAD_METHODS)
        if self.fwd_name is None:
            raise BindError(f"class {cls.name} has no forward method (looked for {', '.join(FORWARD_METHODS[:3])}); "
                            f"bind one with --forward {cls.name}.METHOD")
        self.roles, self.mode = ctor_roles(cls)
        self.has_bias = self.mode == "sizes" or "bias" in self.roles.values()
        if self.mode == "arrays" and "weight" not in self.roles.values():
            raise BindError(f"cannot tell which parameter of {cls.signature()} is the weight array")
        self._instance_key = None
        self._instance = None
        self.attrs: dict[str, str] = {}
        self.binding_notes = [f"{cls.name}({', '.join(f'{p}={r}' for p, r in self.roles.items())}) "
                              f"then .{self.fwd_name}(x)" + (f", .{self.bwd_name}(dout)" if self.bwd_name else "")
                              + (f" after .{self.zero_name}()" if self.bwd_name and self.zero_name else "")]

    def takes(self, role: str) -> bool:
        """Whether the constructor has a parameter in this role (stride, pad, a size)."""
        return role in self.roles.values()

    @property
    def targets(self):
        t = (Target.FORWARD,)
        if self.bwd_name:
            t += (Target.GRAD_INPUT, Target.GRAD_FILTER) + ((Target.GRAD_BIAS,) if self.has_bias else ())
        return t

    @property
    def names(self):
        d = {"forward": f"{self.cls.name}.{self.fwd_name}"}
        if self.bwd_name:
            d.update({t: f"{self.cls.name}.{self.bwd_name}" for t in self.targets if t != Target.FORWARD})
        return d

    # ---- building the object ---------------------------------------------------
    def _ctor_values(self, args):
        L = args.layout
        f = args.filters
        c = args.w_shape[-2] if L.channels_last else (args.w_shape[1] if L.channels else 1)
        k = args.w_shape[:-2] if L.channels_last else (args.w_shape[2:] if L.channels else args.w_shape)
        ksize = k[0] if len(set(k)) == 1 else tuple(k)
        return {"weight": args.w, "bias": args.b if args.b is not None else np.zeros(f),
                "stride": args.stride, "pad": args.pad, "dilation": args.dilation,
                "in_channels": c, "out_channels": f, "kernel_size": ksize}

    def _build(self, args, caller, key):
        vals = self._ctor_values(args)
        pos, kw = [], {}
        for p in self.cls.params:
            if p.name in self.roles:
                v = vals[self.roles[p.name]]
                (kw.__setitem__(p.name, v) if p.kind == "keyword_only" else pos.append(v))
            elif p.kind == "positional" and not p.has_default:
                pos.append(None)
            elif p.kind == "positional":
                break
        obj = caller(key)(self.cls, *pos, **kw)
        if self.mode == "sizes":
            self._set_params(obj, args)
        return obj

    def _set_params(self, obj, args):
        """Point the object's own weight/bias attributes (or the entries of its params dict, written
        `params['w']`) at corrcheck's arrays."""
        d = _with_param_dicts(_attrs(obj))
        w_attr = self.attrs.get("weight") or _pick(d, WEIGHT_ATTRS, args.w_shape) or \
            next((n for n in WEIGHT_ATTRS if n in d and d[n] is None), None)   # made lazily on first forward
        if w_attr is None:
            shapes = {k: tuple(v.shape) for k, v in d.items() if isinstance(v, np.ndarray)}
            # where to put the weights is corrcheck's question, not the user's mistake: exit 2 when
            # no layout finds it (probe.choose), like an object it cannot read
            raise UnreadableOutput(
                f"{self.cls.name} made no weight attribute of shape {tuple(args.w_shape)} "
                f"(array attributes: {shapes or 'none'}); try --layout or an adapter file")
        self.attrs["weight"] = w_attr
        _set_slot(obj, w_attr, np.array(args.w, dtype=np.float64))
        f = args.filters
        b_attr = self.attrs.get("bias") or _pick(d, BIAS_ATTRS, None, size=f) or \
            next((n for n in BIAS_ATTRS if n in d and d[n] is None), None)
        if b_attr is not None:
            self.attrs["bias"] = b_attr
            old = d.get(b_attr)
            shape = np.shape(old) if old is not None else (f,)
            _set_slot(obj, b_attr, np.asarray(args.b, dtype=np.float64).reshape(shape))

    def _instance_for(self, args, caller, key, fresh):
        ident = _digest(np.asarray(args.w), None if args.b is None else np.asarray(args.b), args.geom)
        if fresh or self._instance is None or self._instance_key != ident:
            self._instance = self._build(args, caller, key)
            self._instance_key = ident
        elif self.mode == "sizes":
            self._set_params(self._instance, args)
        return self._instance

    def _method(self, obj, name) -> UserFunction:
        m = getattr(obj, name)
        return UserFunction(name=f"{self.cls.name}.{name}", params=(Param("x"),), call=m, language="python",
                            file=self.cls.file)

    # ---- calls -----------------------------------------------------------------
    def forward(self, args, caller):
        """An instance with the draw's weights set, then its forward on x."""
        obj = self._instance_for(args, caller, "forward", fresh=False)
        return caller("forward")(self._method(obj, self.fwd_name), args.x)

    def gradients(self, target, args, caller):
        """Forward then backward on one instance: dx returned, dW and db read from attributes or the returned tuple."""
        obj = self._instance_for(args, caller, "forward", fresh=False)
        caller("forward")(self._method(obj, self.fwd_name), args.x)
        if self.zero_name:
            caller("grad_input")(UserFunction(name=f"{self.cls.name}.{self.zero_name}", params=(),
                                              call=getattr(obj, self.zero_name), language="python", file=self.cls.file))
        before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in _attrs(obj).items()}
        value = caller("grad_input")(self._method(obj, self.bwd_name), args.dout)
        out = {}
        if isinstance(value, tuple) and len(value) > 1:
            out.update(split_by_shape(value, {"grad_input": args.x_shape, "grad_filter": args.w_shape},
                                      [Target.GRAD_INPUT, Target.GRAD_FILTER], self.names["grad_input"]))
        else:
            out["grad_input"] = value
        f = args.filters
        dw, dw_name = self._read_grad(obj, before, args.w_shape, DW_WORDS, self._keys("weight", WEIGHT_ATTRS + ("k",)))
        if dw_name:
            self.attrs["grad_filter"] = dw_name
            out["grad_filter"] = dw
        elif "grad_filter" not in out:
            named = _named_array(obj, DW_WORDS)
            if named is not None:                 # there, but unusable: that is the finding
                attr, shape, problem = named
                out["grad_filter"] = UnusableOutput(
                    f"{self.names['grad_input']} leaves .{attr} " + (
                        f"with shape {shape}, expected {tuple(args.w_shape)}" if shape is not None
                        else f"unreadable: {problem}"),
                    got_shape=shape)
            else:
                out["grad_filter"] = UnusableOutput(
                    f"after {self.names['grad_input']} no attribute holds a filter gradient of shape "
                    f"{tuple(args.w_shape)} (looked for {', '.join(DW_WORDS[:6])}, ... and a grads dict)")
        if self.has_bias:
            db, db_name = self._read_grad(obj, before, None, DB_WORDS, self._keys("bias", BIAS_ATTRS), size=f)
            if db_name:
                self.attrs["grad_bias"] = db_name
                out["grad_bias"] = db
            else:
                out["grad_bias"] = UnusableOutput(
                    f"after {self.names['grad_input']} no attribute holds a bias gradient with {f} values "
                    f"(looked for {', '.join(DB_WORDS[:5])}, ... and a grads dict)")
        return out

    def _keys(self, slot: str, names) -> tuple[str, ...]:
        """The keys a grads dict may file this gradient under: the attribute the values live in
        (grads['kernels'] beside self.kernels, grads['W'] beside params['W']), and the usual names."""
        held = self.attrs.get(slot, "")
        held = held.partition("[")[2].rstrip("]").strip("'\"") or held
        return tuple(dict.fromkeys(n.lower() for n in (held, *names) if n))

    def _read_grad(self, obj, before, shape, words, dict_keys, size=None):
        d = _attrs(obj)
        remembered = self.attrs.get("grad_filter" if size is None else "grad_bias")
        if remembered:
            holder, _, key = remembered.partition("[")
            if key:
                g = d.get(holder)
                if isinstance(g, dict) and key.strip("]'\"") in g:
                    return g[key.strip("]'\"")], remembered
            elif holder in d:
                return d[holder], remembered
        for name, value in d.items():
            if name.lower() in words and _fits(value, shape, size):
                return value, name
        for name, value in d.items():
            if isinstance(value, dict) and name.lower() in GRAD_DICTS:
                for k, v in value.items():
                    lk = str(k).lower()
                    if (lk in dict_keys or lk in words) and _fits(v, shape, size):
                        return v, f"{name}[{k!r}]"
        for name, value in d.items():
            low = name.lower()
            if (low.startswith("d") or "grad" in low) and name not in before and _fits(value, shape, size):
                return value, name
        return None, None

    def used_attributes(self) -> str:
        """Which attributes carried the weights and gradients, for the binding note of the report."""
        words = {"weight": "weights set in", "bias": "bias set in", "grad_filter": "filter gradient read from",
                 "grad_bias": "bias gradient read from"}
        return ", ".join(f"{words.get(role, role)} .{attr}" for role, attr in self.attrs.items())


def _named_array(obj, words):
    """(attribute, shape or None, problem) for an attribute named like a gradient, whatever its shape."""
    for name, value in _attrs(obj).items():
        if name.lower() in words:
            try:
                return name, tuple(to_float_array(value, name)[0].shape), None
            except UserCallError as err:
                return name, None, err.message
    return None


def _with_param_dicts(d: dict) -> dict:
    """The attributes, plus each entry of a params dict under the name `params['w']` (found by its
    shape, like any array attribute)."""
    out = dict(d)
    for name, value in d.items():
        if name.lower() in PARAM_DICTS and isinstance(value, dict):
            out.update({f"{name}[{k!r}]": v for k, v in value.items()})
    return out


def _set_slot(obj, slot: str, value) -> None:
    """Set an attribute, or an entry `holder['key']` of a dict attribute."""
    holder, _, key = slot.partition("[")
    if key:
        getattr(obj, holder)[key.rstrip("]").strip("'\"")] = value
    else:
        setattr(obj, slot, value)


def _attrs(obj) -> dict:
    try:
        return dict(vars(obj))
    except TypeError:
        return {}


def _fits(value, shape, size) -> bool:
    try:
        arr, _ = to_float_array(value, "attribute")
    except UserCallError:
        return False
    if size is not None:
        return arr.size == size
    return tuple(arr.shape) == tuple(shape)


def _pick(d, names, shape, size=None):
    for n in names:
        if n in d and isinstance(d[n], np.ndarray) and _fits(d[n], shape, size):
            return n
    for k, v in d.items():
        if isinstance(v, np.ndarray) and _fits(v, shape, size) and not k.lower().startswith(("d", "grad")):
            return k
    return None
