"""How each convention calls the user's code, in user space (layout and container already applied).

Every impl (the ones here, layer.py, volumes.py, torch_function.py, torch_module.py,
jax_vjp.py) speaks one protocol, documented here once; BoundOp (bound.py) does
everything canonical around it:

    targets, names, has_bias    what is bound; BoundOp passes them on unchanged
    takes(role)                 whether the user's code receives stride/pad/...: the runner's
                                default stride 2 / pad 1 only where the code can see them
    forward(args, caller)       the raw value the user's forward returned for UserArgs `args`
    gradients(target, args, caller) -> {target: raw value or exception}, for every target
                                that one call answers (one backward often serves three)

`caller(target)` comes from BoundOp: the guarded, counted way to call user code.
Optional: `binding_notes` / `call_notes` (report lines), `used_attributes()`,
`bias_index(idx)` (a bias not shaped (F,)), `flat` (flat arrays with extents), `square_kernel`,
`compiles` (slow first calls).
"""
from __future__ import annotations

import ast
import textwrap

import numpy as np

from .arrays import to_float_array
from ..errors import BindError, UnusableOutput, UserCallError, UserRaised
from ..loader.functions import UserFunction
from .roles import extent_roles, param_role
from ..vocab import Convention, GRADS, Target

EXTENT_NAMES = ("in_w", "in_h", "k_w", "k_h", "out_w", "out_h", "n_channels")
ROLE_WORDS = {"in_w": "input width", "in_h": "input height", "k_w": "filter width", "k_h": "filter height",
              "out_w": "output width", "out_h": "output height", "n_channels": "channel count"}
ROLE_ORDER = {
    "forward": ["input", "filter", "bias", "stride", "pad", "dilation"],
    "grad_filter": ["dout", "input", "stride", "pad", "filter_size", "dilation"],
    "grad_input": ["dout", "filter", "stride", "pad", "input_size", "dilation"],
    "grad_bias": ["dout"],
    "backward": ["dout", "input", "filter", "bias", "stride", "pad", "dilation"],
}
REQUIRED = {
    "forward": {"input", "filter"},
    "grad_filter": {"dout", "input"},
    "grad_input": {"dout", "filter"},
    "grad_bias": {"dout"},
    "backward": {"dout"},
}
FLAG = {"forward": "--forward", "grad_input": "--grad-input", "grad_filter": "--grad-filter",
        "grad_bias": "--grad-bias", "backward": "--grad-input/--grad-filter"}


def assign_roles(fn: UserFunction, kind: str, *, has_bias: bool | None = None) -> dict[str, str]:
    """param name -> role, by name first, then by position for the unnamed rest."""
    in_grad = kind != "forward"
    params = [p for p in fn.params if p.kind in ("positional", "keyword_only")]
    roles: dict[str, str] = dict(extent_roles([p.name for p in params]))
    flat = bool(roles)
    for p in params:
        if p.name in roles:
            continue
        role = param_role(p.name, in_grad)
        if kind == "grad_filter" and role == "filter" and p.name.lower() == "k":
            role = "filter_size"        # dw = np.zeros(k): a one-letter k here is the kernel's size
        if role == "bias" and has_bias is False:
            role = None
        if role and role not in roles.values():
            roles[p.name] = role
    for size, other in zip(params, params[1:]):
        # (..., K, L): a filter size followed by a parameter no name explains is the filter's height and
        # width, not a dilation by position
        if roles.get(size.name) == "filter_size" and other.name not in roles and not other.has_default \
                and param_role(other.name, in_grad) is None and len(params) == params.index(other) + 1:
            roles[size.name], roles[other.name] = "k_h", "k_w"
            flat = True
    if "conv_param" in roles.values():
        # stride and pad travel in the dict
        order = [r for r in ROLE_ORDER[kind] if r not in ("stride", "pad", "dilation")]
    else:
        order = list(ROLE_ORDER[kind])
    if has_bias is False or (kind == "forward" and has_bias is None and "bias" not in roles.values()):
        order = [r for r in order if r != "bias"]
    free = [r for r in order if r not in roles.values()]
    if flat:        # with explicit extents only the arrays go by position: a stray int is not a stride
        free = [r for r in free if r in ("input", "filter", "dout", "bias")]
    for p in params:
        if p.name in roles or p.has_default or not free:
            continue
        if p.kind != "positional":
            continue
        roles[p.name] = free.pop(0)
    if flat:
        unplaced = [p.name for p in params if p.name not in roles and not p.has_default]
        if unplaced:
            raise BindError(
                f"{fn.signature()} takes flat arrays with explicit extents, but corrcheck could not place "
                f"{', '.join(unplaced)} (it knows width/height, kw/kh, ow/oh, channels, stride and pad by "
                f"name): rename them or wrap the function in a small adapter file (README: \"Your code has "
                f"another shape?\")")
    missing = REQUIRED[kind] - set(roles.values())
    if missing:
        raise BindError(
            f"cannot tell which parameter of {fn.signature()} is the {' / '.join(sorted(missing))}; "
            f"rename it or bind another function with {FLAG[kind]}")
    for pname, role in roles.items():
        key = _string_key_read(fn, pname) if role in ("input", "filter", "dout", "bias") else None
        if key is not None:
            raise BindError(
                f"{fn.name} uses {pname}[{key!r}], so `{pname}` is a dict or object, not the {role} array "
                f"corrcheck would pass: wrap it in a small adapter file (README: \"Your code has another shape?\")")
    return roles


def _string_key_read(fn: UserFunction, pname: str) -> str | None:
    """The first string key the function's own source reads from a parameter (layer["W"])."""
    if fn.language != "python" or not fn.source:
        return None
    try:
        tree = ast.parse(textwrap.dedent(fn.source))
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == pname
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            return node.slice.value
    return None


def role_values(args, kind: str, size_style: str = "auto") -> dict:
    """The value corrcheck passes for each role, in user space."""
    values = {
        "input": args.x, "filter": args.w, "bias": args.b, "dout": args.dout,
        "stride": args.stride, "pad": args.pad, "dilation": args.dilation,
        "filter_size": args.size_value("filter", size_style),
        "input_size": args.size_value("input", size_style),
        "conv_param": {"stride": args.stride, "pad": args.pad},
        "_ndim": args.geom.ndim, "_pad_mode": args.geom.mode,
    }
    values.update(args.extents())
    if args.geom.dilation != (1,) * args.geom.ndim:
        values["conv_param"]["dilation"] = args.dilation
    return values


def _as_declared(p, role: str, values: dict, flip: bool = False):
    """A value in the form the parameter declares: `strides=(1, 1)` gets a tuple even when every
    axis has the same stride, `strides=1` an int, `padding="valid"` gets 'same'/'valid' when the run
    asked for it. Without a default the name guesses (strides: a tuple); `flip` gives the other
    form, tried when the guess raises."""
    v = values[role]
    default = p.default if p.has_default else None
    if role in ("stride", "dilation", "pad") and isinstance(v, int):
        if isinstance(default, (tuple, list)):
            as_tuple = True
        elif isinstance(default, int) and not isinstance(default, bool):
            as_tuple = False
        else:
            as_tuple = p.name.lower() in ("strides", "dilations", "pads")
        if as_tuple != flip:
            return (v,) * values["_ndim"]
        return v
    if role == "pad" and isinstance(default, str):
        if values.get("_pad_mode"):
            return values["_pad_mode"]
        if v == 0:
            return "valid"                      # pad 0 is what such a function calls 'valid'
    return v


def build_call(fn: UserFunction, roles: dict[str, str], values: dict, flip: bool = False):
    """Positional args in parameter order (JavaScript has no keywords), keywords for keyword-only."""
    args, kwargs = [], {}
    params = list(fn.params)
    last = max((i for i, p in enumerate(params) if p.name in roles), default=-1)
    for i, p in enumerate(params):
        if p.name in roles:
            v = _as_declared(p, roles[p.name], values, flip)
            if p.kind == "keyword_only":
                kwargs[p.name] = v
            else:
                args.append(v)
        elif i < last and p.kind == "positional":
            if not p.has_default:
                args.append(None)
            elif fn.language == "python":
                args.append(p.default)
            else:
                args.append(None)
    return args, kwargs


def split_by_shape(value, want: dict[str, tuple], order: list[str], name: str) -> dict:
    """A backward that returns several gradients: give each element to the target its shape fits.

    A returned tuple or list is read both ways, as several gradients and as one array (a tuple of
    rows), and the reading that fits more targets wins: `return d_signal, d_kernel` with plain
    lists and `return tuple(map(tuple, grad))` are both understood.
    """
    readings = []
    if isinstance(value, dict):
        readings.append(list(value.values()))
    elif isinstance(value, (tuple, list)) and len(value) > 1:
        readings.append(list(value))
    readings.append([value])
    best = None
    for items in readings:
        out = _assign(items, want, order, name)
        fitted = sum(not isinstance(v, UnusableOutput) for v in out.values())
        if best is None or fitted > best[0]:
            best = (fitted, out)
    return best[1]


def _assign(items, want, order, name) -> dict:
    shapes = []
    for item in items:
        try:
            shapes.append(tuple(to_float_array(item, name)[0].shape))
        except UserCallError:
            shapes.append(None)
    out: dict = {}
    used = set()
    for target in order:
        shape = want.get(target)
        matches = [i for i, s in enumerate(shapes) if i not in used and s is not None and shape is not None
                   and (s == tuple(shape) or ((target == Target.GRAD_BIAS or len(s) == 1)
                                              and int(np.prod(s)) == int(np.prod(shape))))]
        if len(matches) == 1 or (matches and sum(1 for t in order if want.get(t) == want.get(target)) == 1):
            out[target] = items[matches[0]]
            used.add(matches[0])
    for target in order:                       # ambiguous shapes: fall back on the usual order (dx, dw, db)
        if target not in out and len(items) == len(order):
            i = order.index(target)
            if i not in used and shapes[i] is not None:
                out[target] = items[i]
                used.add(i)
    for target in order:
        if target not in out:
            if all(item is None for item in items):     # a stub: dx, dw, db = None, None, None
                out[target] = UnusableOutput(f"{name} returned {len(items)} values, all None "
                                             f"(a placeholder left in?)")
                continue
            got = ", ".join("None" if item is None else str(s) for item, s in zip(items, shapes))
            out[target] = UnusableOutput(
                f"{name} returned {len(items)} value(s) with shapes {got}; none has the "
                f"{target.replace('_', ' ')} shape {tuple(want.get(target) or ())}")
    return out


def grad_shapes(args, has_bias) -> dict[str, tuple]:
    """The user-layout shape of each gradient: how the items of a returned tuple are told apart."""
    d = {"grad_input": args.x_shape, "grad_filter": args.w_shape}
    if has_bias:
        d["grad_bias"] = (args.filters,)
    return d


def _first_if_pair(value, want_shape):
    """`return out, cache` from a forward: keep the output (a tuple of rows that has the
    output's shape is the output itself)."""
    if isinstance(value, tuple) and len(value) >= 2:
        if _shape_or_none(value) == tuple(want_shape):
            return value
        first = _shape_or_none(value[0])
        if first is not None and len(first) >= 1:
            return value[0]
    return value


def _shape_or_none(value):
    """The shape `value` reads as (tensors that require grad included), None when unreadable."""
    try:
        return tuple(to_float_array(value, "output")[0].shape)
    except UserCallError:
        return None


class FunctionalImpl:
    """Free functions: forward(x, w, s, p), backward_filter(...), backward_input(...) or one backward."""

    convention = Convention.FUNCTIONAL

    def __init__(self, forward: UserFunction | None, grads: dict[str, UserFunction], has_bias: bool):
        self.forward_fn = forward
        self.grads = dict(grads)
        self.has_bias = has_bias
        self.form: dict[str, tuple[str, bool]] = {}      # function -> (size style, flip) that worked
        self.roles = {}
        if forward is not None:
            self.roles[forward.name] = assign_roles(forward, "forward", has_bias=has_bias)
        for target, fn in self.grads.items():
            if fn.name in self.roles:
                continue
            serving = [t for t, g in self.grads.items() if g is fn]
            kind = target if len(serving) == 1 else "backward"
            self.roles[fn.name] = assign_roles(fn, kind, has_bias=has_bias)
        self.binding_notes = [
            f"{fn.name}: " + ", ".join(f"{p} = {ROLE_WORDS.get(r, r.replace('_', ' '))}"
                                       for p, r in self.roles[fn.name].items())
            for fn in self._functions()
        ]
        extent = {r for roles in self.roles.values() for r in roles.values() if r in EXTENT_NAMES}
        self.flat = bool(extent)             # flat row-major arrays with explicit extents: worth trying
        self.flat_channels = "n_channels" in extent
        # only a forward that takes its own input's extents needs them to read a flat array; a gradient's
        # H, W (or KH, KW) may just size its result, as input_shape does, so nested arrays come first there
        self.flat_first = forward is not None and any(r in EXTENT_NAMES for r in self.roles[forward.name].values())

    def takes(self, role: str) -> bool:
        """Whether any bound function receives this role (directly or in a conv_param dict)."""
        return any(role in r.values() or "conv_param" in r.values() for r in self.roles.values())

    def _functions(self):
        seen = []
        for fn in [self.forward_fn, *self.grads.values()]:
            if fn is not None and fn not in seen:
                seen.append(fn)
        return seen

    @property
    def targets(self):
        t = ([Target.FORWARD] if self.forward_fn else []) + [g for g in GRADS if g in self.grads]
        return tuple(t)

    @property
    def names(self):
        d = {"forward": self.forward_fn.name} if self.forward_fn else {}
        d.update({t: fn.name for t, fn in self.grads.items()})
        return d

    def forward(self, args, caller):
        fn = self.forward_fn
        return _first_if_pair(self._call_sized(fn, "forward", args, caller("forward")), args.out_shape)

    def _call_sized(self, fn, kind, args, call):
        """Call in the forms the signature admits until one runs with the right shape.

        Sizes go the common way first (an int when square, the full shape with channels), strides
        and pads as declared (an int default gets an int, `strides=(1, 1)` a tuple). A function that
        raises, or returns the wrong shape on its first calls, gets the other forms (`h, w =
        image_shape` needs a tuple; `KH, KW = ksize` the spatial part; `new Array(FS)` an int); the
        form that works is kept. A raise is the user's only when every admissible form raises.
        """
        roles = self.roles[fn.name]
        forms = self._forms(fn, args, roles)
        known = fn.name in self.form
        first_exc, first_value, have_value, ran = None, None, False, None
        for form in forms:
            a, kw = build_call(fn, roles, role_values(args, kind, form[0]), flip=form[1])
            try:
                value = call(fn, *a, **kw)
            except UserRaised as exc:
                if first_exc is None and not have_value:
                    first_exc = exc
                continue
            if self._fits(fn, kind, args, value):
                if len(forms) > 1:
                    self.form.setdefault(fn.name, self._specific(args, form))
                return value
            if not have_value:
                first_value, have_value, ran = value, True, form
            if known:
                break              # a remembered form that runs: a wrong shape is the user's finding
        if have_value:
            if len(forms) > 1:
                self.form.setdefault(fn.name, self._specific(args, ran))   # no form fits: keep the first that ran
            return first_value
        raise first_exc

    def _forms(self, fn, args, roles):
        """(size style, flip int/tuple) pairs worth trying, the remembered one first."""
        sized = {"filter_size", "input_size"} & set(roles.values())
        scalar = {"stride", "pad", "dilation"} & set(roles.values())
        styles = args.size_styles() if sized else ("auto",)
        forms = [(st, fl) for fl in ((False, True) if scalar else (False,)) for st in styles]
        distinct = []
        for f in forms:
            if not any(self._same_values(args, f, g) for g in distinct):
                distinct.append(f)
        memo = self.form.get(fn.name)
        if memo in distinct:
            distinct.remove(memo)
            distinct.insert(0, memo)
        return distinct

    @staticmethod
    def _same_values(args, a, b) -> bool:
        return a[1] == b[1] and all(args.size_value(w, a[0]) == args.size_value(w, b[0]) for w in ("filter", "input"))

    @staticmethod
    def _specific(args, form):
        """The most specific style that passed the same values: a tuple that worked on a non-square
        size is remembered as 'always a tuple', not 'an int when square'."""
        style, flip = form
        same = [st for st in args.size_styles() if all(
            args.size_value(w, st) == args.size_value(w, style) for w in ("filter", "input"))]
        return (same[-1] if same else style), flip

    def _fits(self, fn, kind, args, value) -> bool:
        """Whether a single-result function returned the shape its target needs (True when unknown)."""
        serving = [t for t, g in self.grads.items() if g is fn]
        if kind != "forward" and len(serving) != 1:
            return True
        want = {"forward": args.out_shape, "grad_input": args.x_shape, "grad_filter": args.w_shape}.get(kind)
        if want is None:
            return True
        try:
            got = to_float_array(_first_if_pair(value, want) if kind == "forward" else value, fn.name)[0].shape
        except UserCallError:
            return False
        if self.flat and len(got) == 1:
            return int(got[0]) == int(np.prod(want))
        return tuple(got) == tuple(want)

    def gradients(self, target, args, caller):
        """One call of the function serving `target`; a tuple answer is split by shape among the targets it serves."""
        fn = self.grads[target]
        serving = [t for t in GRADS if self.grads.get(t) is fn]
        value = self._call_sized(fn, target, args, caller(serving[0]))
        if len(serving) == 1 and not (isinstance(value, tuple) and len(value) > 1):
            return {target: value}
        return split_by_shape(value, grad_shapes(args, self.has_bias), serving, fn.name)


class Cs231nImpl:
    """conv_forward_*(x, w, b, conv_param) -> (out, cache); conv_backward_*(dout, cache) -> (dx, dw, db)."""

    convention = Convention.CS231N
    has_bias = True

    @staticmethod
    def takes(role: str) -> bool:
        """conv_param always carries stride and pad, so both are always passed."""
        return role in ("stride", "pad")          # conv_param carries both

    def __init__(self, forward: UserFunction, backward: UserFunction | None):
        self.forward_fn, self.backward_fn = forward, backward
        self.fwd_roles = assign_roles(forward, "forward", has_bias=True)
        self.binding_notes = [f"{forward.name}(x, w, b, conv_param) -> (out, cache)"] + (
            [f"{backward.name}(dout, cache) -> (dx, dw, db)"] if backward else [])

    @property
    def targets(self):
        return (Target.FORWARD,) + (GRADS if self.backward_fn else ())

    @property
    def names(self):
        d = {"forward": self.forward_fn.name}
        if self.backward_fn:
            d.update({t: self.backward_fn.name for t in GRADS})
        return d

    def _forward_raw(self, args, caller):
        a, kw = build_call(self.forward_fn, self.fwd_roles, role_values(args, "forward"))
        return caller("forward")(self.forward_fn, *a, **kw)

    def forward(self, args, caller):
        """The out of (out, cache); a bare array is accepted too."""
        value = self._forward_raw(args, caller)
        if isinstance(value, tuple) and len(value) == 2:
            return value[0]
        return value

    def gradients(self, target, args, caller):
        """Run the forward for its cache, then conv_backward(dout, cache) -> (dx, dw, db)."""
        value = self._forward_raw(args, caller)
        if not (isinstance(value, tuple) and len(value) == 2):
            raise UnusableOutput(f"{self.forward_fn.name} should return (out, cache) for the backward pass")
        dout, cache = args.dout, value[1]
        del value                 # the forward's output is not needed while the backward runs
        grads = caller("grad_input")(self.backward_fn, dout, cache)
        return split_by_shape(grads, grad_shapes(args, True), list(GRADS),
                              self.backward_fn.name)


class HolbertonImpl:
    """conv_forward(A_prev, W, b, activation, padding, stride); conv_backward(dZ, A_prev, W, b, padding, stride)."""

    convention = Convention.HOLBERTON
    has_bias = True

    def __init__(self, forward: UserFunction | None, backward: UserFunction | None):
        self.forward_fn, self.backward_fn = forward, backward
        self.binding_notes = []
        if forward:
            self.binding_notes.append(f"{forward.name}(A_prev, W, b, activation=identity, padding, stride)")
        if backward:
            self.binding_notes.append(f"{backward.name}(dZ, A_prev, W, b, padding, stride) -> (dA_prev, dW, db)")

    @property
    def targets(self):
        return ((Target.FORWARD,) if self.forward_fn else ()) + (
            GRADS if self.backward_fn else ())

    @property
    def names(self):
        d = {"forward": self.forward_fn.name} if self.forward_fn else {}
        if self.backward_fn:
            d.update({t: self.backward_fn.name for t in GRADS})
        return d

    def bias_index(self, idx):
        """Where canonical bias entry f sits in Holberton's (1, 1, 1, F) bias."""
        return (0, 0, 0, idx[0])

    def takes(self, role: str) -> bool:
        """Stride and padding are keyword parameters here: passed only when a function declares them."""
        name = {"stride": "stride", "pad": "padding"}.get(role)
        return any(name in (p.name for p in fn.params) for fn in (self.forward_fn, self.backward_fn) if fn)

    @staticmethod
    def _padding(args):
        if args.geom.mode in ("same", "valid"):
            return args.geom.mode
        sym = args.geom.symmetric_pad
        if sym is None:
            raise UnusableOutput("the holberton convention takes one pad per axis (ph, pw); asymmetric padding cannot be passed")
        return tuple(int(p) for p in sym)

    @staticmethod
    def _bias(args):
        return np.asarray(args.b, dtype=np.float64).reshape(1, 1, 1, -1)

    def _call(self, fn, caller_key, caller, *lead, args):
        stride = tuple(int(s) for s in args.geom.stride)
        params = [p.name for p in fn.params]
        kw = {}
        pos = list(lead)
        if "padding" in params:
            kw["padding"] = self._padding(args)
        if "stride" in params:
            kw["stride"] = stride
        return caller(caller_key)(fn, *pos, **kw)

    def forward(self, args, caller):
        """conv_forward with the identity as activation, so its output is the bare correlation."""
        return self._call(self.forward_fn, "forward", caller, args.x, args.w, self._bias(args),
                          (lambda z: z), args=args)

    def gradients(self, target, args, caller):
        """conv_backward(dZ, A_prev, W, b, ...) -> (dA_prev, dW, db), split by shape."""
        value = self._call(self.backward_fn, "grad_input", caller, args.dout, args.x, args.w,
                           self._bias(args), args=args)
        return split_by_shape(value, grad_shapes(args, True), list(GRADS),
                              self.backward_fn.name)


def has_named_role(impl, role: str) -> bool:
    """Whether a parameter of a bound function (or constructor) is named for `role` itself, not merely
    reachable through a conv_param dict that may never read it (a dilation the code must take)."""
    for table in (getattr(impl, "roles", None), getattr(impl, "fwd_roles", None)):
        if not isinstance(table, dict):
            continue
        for v in table.values():
            if role in (v.values() if isinstance(v, dict) else [v]):
                return True
    return False
