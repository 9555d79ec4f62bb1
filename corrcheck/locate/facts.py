"""What an expression in the user's code is, as far as loops care: the abstract values behind locate.

An index expression is reduced to the tokens it depends on: loop variables of
a kind ("L:out:0" — an output loop over spatial axis 0), sizes of an array's
axes ("D:filter:2"), the stride and the padding; an array expression to its
role and depth. `Facts` holds these values for one function (filled in by
locate_walk.py) and answers the small questions the rules ask. Names are read
through roles.py; loop kinds come from what a range is built of, not names.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..binding.roles import param_role

__all__ = ["V", "EMPTY", "Read", "Loop", "Facts", "IN_AXES", "FILTER_AXES", "axis_kind", "classify_bound",
           "size_token", "role_value"]

# Axis meaning per layout, for the input (and dout: c -> f) and for the filter.
IN_AXES = {"w": "0", "hw": "01", "dhw": "012", "chw": "c01", "nchw": "nc01", "nhwc": "n01c", "ncdhw": "nc012",
           "ncw": "nc0", "nwc": "n0c"}
FILTER_AXES = {"w": "0", "hw": "01", "dhw": "012", "chw": "fc01", "nchw": "fc01", "nhwc": "01cf",
               "ncdhw": "fc012", "ncw": "fc0", "nwc": "0cf"}
ARRAY_ROLES = ("input", "filter", "dout", "bias")


def whole_plane(facts, v) -> bool:
    """A filter value that still holds all its spatial axes: w, or w[f, c] in (F, C, *K)."""
    axes = FILTER_AXES.get(facts.layout, "01")
    first = next((i for i, ch in enumerate(axes) if ch.isdigit()), 0)
    return bool(v.arr) and v.arr[0] == "filter" and v.arr[1] <= first


# ----------------------------------------------------------------------------- abstract values

@dataclass(frozen=True)
class V:
    """What an expression is, as far as loops care: tokens it depends on, or an array / shape of a role."""

    toks: frozenset = frozenset()
    arr: tuple | None = None          # (role, depth, padded): an array (or a row of one, depth > 0)
    shape_of: tuple | None = None     # (role, start axis): a shape tuple, or a size parameter
    elems: tuple | None = None        # per-position values of a tuple literal

    def __or__(self, other: "V") -> "V":
        return V(self.toks | other.toks, self.arr or other.arr, self.shape_of or other.shape_of)


EMPTY = V()


def _int_constant(node) -> int | None:
    """2 or -2 written in the source (a negative number is a unary minus on a constant), else None."""
    try:
        value = ast.literal_eval(node) if node is not None else None
    except ValueError:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def size_token(role, axis):
    """The symbolic value of an array's size along one axis (len(a), a.shape[1])."""
    return V(frozenset({f"D:{role}:{axis}"}))


@dataclass
class Read:
    """One indexed access of a role's array: a[r][c], w[f, c, u, v], at(f, y, x) (call), or a write."""

    node: ast.AST
    role: str
    indices: list                     # index expressions (ast) in user-axis order after `depth` axes
    depth: int
    write: bool = False
    call: bool = False


@dataclass
class Loop:
    """One loop of the user's function and the axis it walks, so its variable reads as an output, tap or input position."""

    node: ast.AST
    names: tuple
    kind: str                         # out | tap | in | batch | chan | fnum | other
    axis: int | None


@dataclass
class Facts:
    """Everything the rules ask about one function: loops, variable kinds, reads, and the source."""

    file: str
    source: str
    func: ast.AST
    layout: str
    module: ast.AST | None = None                     # the whole file, for attributes set elsewhere
    params: tuple = ()
    language: str = "python"
    env: dict = field(default_factory=dict)           # name -> V
    loops: list = field(default_factory=list)
    reads: list = field(default_factory=list)
    assigns: list = field(default_factory=list)       # (stmt, enclosing loops tuple)
    ifs: list = field(default_factory=list)           # (If/IfExp test, enclosing loops)
    calls: list = field(default_factory=list)         # (Call node, enclosing loops)
    returns: list = field(default_factory=list)
    helpers: set = field(default_factory=set)         # names of functions / methods called
    enclosing: dict = field(default_factory=dict)     # id(node) -> loops around it

    # --- token questions
    def value(self, node) -> V:
        """The symbolic value of an expression: which roles (stride, pad, loop indices) it is built from."""
        return _Eval(self).value(node)

    def toks(self, node) -> frozenset:
        """The role tokens an expression is built from."""
        return self.value(node).toks

    def names_of_kind(self, kind, axis=None, within=None) -> list[str]:
        """The first name of each loop of this kind (and axis), as the user wrote it."""
        loops = self.loops if within is None else within
        return [n for lp in loops if lp.kind == kind and (axis is None or lp.axis == axis) for n in lp.names[:1]]

    def role_name(self, role) -> str | None:
        """Source text of a name holding exactly this scalar role (stride, pad) or array role, as written."""
        for node in ast.walk(self.func):
            if isinstance(node, (ast.Name, ast.Attribute)) and not isinstance(getattr(node, "ctx", None), ast.Store):
                v = self.value(node)
                if v.toks == {role} or (v.arr and v.arr[0] == role and v.arr[1] == 0 and not v.toks):
                    return ast.get_source_segment(self.source, node)
        args = self.func.args
        for a in args.posonlyargs + args.args + args.kwonlyargs:      # a parameter the body never uses
            v = role_value(a.arg, self)
            if v.toks == {role} or (v.arr and v.arr[0] == role):
                return a.arg
        if self.module is not None and args.args and args.args[0].arg == "self":
            for node in ast.walk(self.module):                        # self.b set in __init__
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                    v = role_value(node.attr, self)
                    if v.toks == {role} or (v.arr and v.arr[0] == role):
                        return f"self.{node.attr}"
        return None

    def size_name(self, role, axis) -> str | None:
        """A name in scope holding exactly the size of this spatial axis (H for axis 0 of the input)."""
        for name, v in self.env.items():
            if len(v.toks) == 1 and not name.startswith("self."):
                (t,) = v.toks
                if t.startswith(f"D:{role}:") and axis_kind(self.layout, role, int(t.split(":")[2])) == ("s", axis):
                    return name
        return None


def axis_kind(layout, role, axis):
    """User axis of a role's array -> ('s', spatial index) or (letter, None)."""
    table = FILTER_AXES.get(layout, "01") if role == "filter" else IN_AXES.get(layout, "01")
    if axis < 0:
        axis += len(table)
    if not 0 <= axis < len(table):
        return ("?", None)
    ch = table[axis]
    if ch.isdigit():
        return ("s", int(ch))
    if role == "dout" and ch == "c":
        ch = "f"
    return (ch, None)


def classify_bound(facts, v: V) -> tuple[str, int | None]:
    """The kind of loop whose range is v: out (stride / output size involved), tap, in, batch, chan, fnum."""
    spatial = {"input": [], "filter": [], "dout": []}
    other = set()
    for t in v.toks:
        if t.startswith("D:"):
            _, role, ax = t.split(":")
            kind, s = axis_kind(facts.layout, role, int(ax))
            if kind == "s":
                spatial.setdefault(role, []).append(s)
            else:
                other.add(kind)
        elif t.startswith("L:"):
            _, kind, ax = t.split(":")
            if kind in ("out", "tap") and ax != "-":
                spatial.setdefault(kind + "_loop", []).append(int(ax))
    if v.shape_of and not v.toks:
        role = v.shape_of[0]
        kind, s = axis_kind(facts.layout, role, v.shape_of[1])
        if kind == "s":
            spatial[role].append(s)
    if spatial["dout"] or ("stride" in v.toks and (spatial["input"] or spatial["filter"])):
        axes = spatial["dout"] or spatial["input"] or spatial["filter"]
        return "out", min(axes)
    if spatial["filter"]:
        return "tap", min(spatial["filter"])
    if spatial["input"]:
        return "in", min(spatial["input"])
    for kind, name in (("n", "batch"), ("c", "chan"), ("f", "fnum")):
        if kind in other:
            return name, None
    return "other", None


class _Eval:
    """Abstract evaluation of one expression against the function's environment."""

    def __init__(self, facts):
        self.f = facts

    def value(self, node) -> V:
        """Dispatch on the node type; unknown nodes join their children's tokens."""
        meth = getattr(self, "_" + type(node).__name__, None)
        if meth is not None:
            return meth(node)
        out = EMPTY
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                out = out | V(self.value(child).toks)
        return out

    def _Name(self, node):
        if node.id in self.f.env:
            return self.f.env[node.id]
        return role_value(node.id, self.f)

    def _Attribute(self, node):
        if node.attr == "shape":
            base = self.value(node.value)
            if base.arr:
                return V(shape_of=(base.arr[0], base.arr[1]))
            if base.elems is not None:
                return V(elems=base.elems)
            return V(base.toks)
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            key = "self." + node.attr
            return self.f.env.get(key) or role_value(node.attr, self.f)
        if node.attr == "T":
            return self.value(node.value)
        return V(self.value(node.value).toks)

    def _Constant(self, node):
        return EMPTY

    def _Tuple(self, node):
        vals = tuple(self.value(e) for e in node.elts)
        toks = frozenset().union(*(v.toks for v in vals)) if vals else frozenset()
        return V(toks, elems=vals)

    _List = _Tuple

    def _Subscript(self, node):
        base = self.value(node.value)
        key = node.slice
        if base.shape_of is not None:
            role, start = base.shape_of
            if isinstance(key, ast.Constant) and isinstance(key.value, int):
                ax = key.value if key.value < 0 else start + key.value
                return size_token(role, ax)
            lower = _int_constant(key.lower) if isinstance(key, ast.Slice) and key.step is None else None
            if lower is not None and (lower < 0 or start >= 0):
                # Ho, Wo = dout.shape[2:] (or [-2:]): the shape from that axis on
                return V(shape_of=(role, lower if lower < 0 else start + lower))
            return V(self.value(key).toks | frozenset({f"D:{role}:{start}"}))
        if base.elems is not None and isinstance(key, ast.Constant) and isinstance(key.value, int):
            if -len(base.elems) <= key.value < len(base.elems):
                return base.elems[key.value]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            role = param_role(key.value, False)
            if role in ("stride", "pad"):
                return V(frozenset({role}))
        if base.arr:
            role, depth, padded = base.arr
            n = len(key.elts) if isinstance(key, ast.Tuple) else 1
            scalars = [e for e in (key.elts if isinstance(key, ast.Tuple) else [key]) if not isinstance(e, ast.Slice)]
            lead = 0
            for e in (key.elts if isinstance(key, ast.Tuple) else [key]):
                if isinstance(e, ast.Slice):
                    break
                lead += 1
            if lead == n and scalars:
                return V(arr=(role, depth + n, padded))
            return V(arr=(role, depth + lead, padded))
        return V(base.toks | self.value(key).toks)

    def _Call(self, node):
        fn = node.func
        name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
        args = [self.value(a) for a in node.args]
        if name == "len" and args:
            a = args[0]
            if a.arr:
                return size_token(a.arr[0], a.arr[1])
            if a.shape_of:
                return V(a.toks)
            return V(a.toks)
        if name in ("pad", "asarray", "array", "copy", "astype", "float64", "transpose") and args and args[0].arr:
            role, depth, padded = args[0].arr
            return V(arr=(role, depth, padded or name == "pad"))
        if name in ("zeros_like", "empty_like", "ones_like") and args and args[0].arr:
            return V(arr=args[0].arr)
        if name in ("zeros", "empty", "ones", "full") and args:
            shape = args[0]
            if shape.elems is not None:
                return V(shape.toks, elems=shape.elems)      # its .shape[k] is the k-th size given
            if shape.shape_of:
                return V(arr=(shape.shape_of[0], shape.shape_of[1], False))
        if name in ("range",) and args:
            return args[-1] if len(args) == 1 else V(args[0].toks | args[1].toks)
        out = EMPTY
        for a in args + [self.value(k.value) for k in node.keywords]:
            out = out | V(a.toks, shape_of=a.shape_of)
        if isinstance(fn, ast.Attribute):
            out = out | V(self.value(fn.value).toks)
        return out

    def _IfExp(self, node):
        a, b = self.value(node.body), self.value(node.orelse)
        if b.shape_of and not a.shape_of:
            return b
        if a.shape_of and not b.shape_of:
            return a
        return a | b

    def _BinOp(self, node):
        a, b = self.value(node.left), self.value(node.right)
        if isinstance(node.op, (ast.FloorDiv, ast.Div)) and isinstance(node.right, ast.Name) and b == EMPTY \
                and node.right.id in self.f.params:
            b = V(frozenset({"stride"}))                 # an unnamed parameter dividing a size is the stride
        if a.arr and not b.arr:
            return V(a.toks | b.toks, arr=a.arr)
        if b.arr and not a.arr:
            return V(a.toks | b.toks, arr=b.arr)
        return V(a.toks | b.toks, shape_of=a.shape_of or b.shape_of)

    def _Slice(self, node):
        out = EMPTY
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                out = out | V(self.value(part).toks)
        return out


def role_value(name, facts) -> V:
    """The symbolic value a parameter starts with, from the role its name suggests."""
    role = param_role(name, True) or param_role(name, False)
    if role in ARRAY_ROLES:
        return V(arr=(role, 0, False))
    if role in ("stride", "pad"):
        return V(frozenset({role}))
    if role == "filter_size":
        return V(shape_of=("filter", _first_spatial(facts.layout, "filter")))
    if role == "input_size":
        return V(shape_of=("input", _first_spatial(facts.layout, "input")))
    return EMPTY


def _first_spatial(layout, role):
    table = FILTER_AXES.get(layout, "01") if role == "filter" else IN_AXES.get(layout, "01")
    return next((i for i, ch in enumerate(table) if ch.isdigit()), 0)

