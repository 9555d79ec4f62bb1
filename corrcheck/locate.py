"""Point at the line: which expression in the user's source makes a diagnosed mistake.

The rules read loop structure, not variable names: a loop whose range comes
from the filter's size is a tap loop, one whose range involves the stride or
the upstream gradient's size is an output loop (`Facts` works this out by a
small abstract evaluation of the function body). Each catalogue id has one
rule that picks the responsible node among the function's array reads,
writes, position expressions, bounds checks and size formulas. JavaScript
sources go through the same rules after tree-sitter turns them into the
same facts.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .result import Diagnosis, Location
from .roles import param_role

__all__ = ["Facts", "Read", "function_facts", "locate", "locate_all", "find_function", "node_location"]

# Axis meaning per layout, for the input (and dout: c -> f) and for the filter.
IN_AXES = {"w": "0", "hw": "01", "dhw": "012", "chw": "c01", "nchw": "nc01", "nhwc": "n01c", "ncdhw": "nc012"}
FILTER_AXES = {"w": "0", "hw": "01", "dhw": "012", "chw": "fc01", "nchw": "fc01", "nhwc": "01cf",
               "ncdhw": "fc012"}
ARRAY_ROLES = ("input", "filter", "dout", "bias")


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


def _size_token(role, axis):
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
        return _Eval(self).value(node)

    def toks(self, node) -> frozenset:
        return self.value(node).toks

    def loop_kinds(self, node) -> set:
        return {t.split(":")[1] for t in self.toks(node) if t.startswith("L:")}

    def names_of_kind(self, kind, axis=None, within=None) -> list[str]:
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
            v = _role_value(a.arg, self)
            if v.toks == {role} or (v.arr and v.arr[0] == role):
                return a.arg
        if self.module is not None and args.args and args.args[0].arg == "self":
            for node in ast.walk(self.module):                        # self.b set in __init__
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                    v = _role_value(node.attr, self)
                    if v.toks == {role} or (v.arr and v.arr[0] == role):
                        return f"self.{node.attr}"
        return None

    def size_name(self, role, axis) -> str | None:
        """A name in scope holding exactly the size of this spatial axis (H for axis 0 of the input)."""
        for name, v in self.env.items():
            if len(v.toks) == 1 and not name.startswith("self."):
                (t,) = v.toks
                if t.startswith(f"D:{role}:") and _axis_kind(self.layout, role, int(t.split(":")[2])) == ("s", axis):
                    return name
        return None


def _axis_kind(layout, role, axis):
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
            kind, s = _axis_kind(facts.layout, role, int(ax))
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
        kind, s = _axis_kind(facts.layout, role, v.shape_of[1])
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
        return _role_value(node.id, self.f)

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
            return self.f.env.get(key) or _role_value(node.attr, self.f)
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
                return _size_token(role, ax)
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
                return _size_token(a.arr[0], a.arr[1])
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


def _role_value(name, facts) -> V:
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


# ----------------------------------------------------------------------------- walking a function

def function_facts(file: str, source: str, func: ast.AST, layout: str, module=None, attributes=None) -> Facts:
    facts = Facts(file=file, source=source, func=func, layout=layout or "hw", module=module,
                  language="javascript" if is_js(file) else "python")
    facts.env.update(attributes or {})
    _Walker(facts).run()
    return facts


class _Walker:
    def __init__(self, facts: Facts):
        self.f = facts
        self.stack: list[Loop] = []

    def run(self):
        fn = self.f.func
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
        self.f.params = tuple(params)
        for a in params:
            self.f.env[a] = _role_value(a, self.f)
        self.unnamed_arrays(params)
        for stmt in fn.body:
            self.stmt(stmt)

    def unnamed_arrays(self, params):
        """Parameters whose names say nothing but which are indexed: input first, then filter, by position."""
        known = {v.arr[0] for v in self.f.env.values() if v.arr}
        missing = [r for r in ("input", "filter") if r not in known and not (r == "input" and "dout" in known)]
        if not missing:
            return
        indexed = set()
        for n in ast.walk(self.f.func):
            if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name):
                indexed.add(n.value.id)
            elif isinstance(n, ast.Attribute) and n.attr == "shape" and isinstance(n.value, ast.Name):
                indexed.add(n.value.id)
            elif isinstance(n, ast.Call) and getattr(n.func, "id", "") == "len" and n.args and \
                    isinstance(n.args[0], ast.Name):
                indexed.add(n.args[0].id)
        for p in params:
            if missing and p in indexed and self.f.env[p] == EMPTY and p not in ("self", "cls"):
                self.f.env[p] = V(arr=(missing.pop(0), 0, False))

    # statements
    def stmt(self, s):
        self.f.enclosing[id(s)] = tuple(self.stack)
        if isinstance(s, (ast.For, ast.AsyncFor)):
            self.exprs(s.iter)
            self.loop(s, s.target, s.iter)
            for b in s.body:
                self.stmt(b)
            self.stack.pop()
            for b in s.orelse:
                self.stmt(b)
            return
        if isinstance(s, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            self.exprs(s.value) if s.value is not None else None
            targets = s.targets if isinstance(s, ast.Assign) else [s.target]
            for t in targets:
                self.write_target(t, s)
            self.f.assigns.append((s, tuple(self.stack)))
            if isinstance(s, ast.Assign) and s.value is not None:
                for t in targets:
                    self.bind(t, s.value)
            return
        if isinstance(s, ast.If):
            self.f.ifs.append((s.test, tuple(self.stack)))
        if isinstance(s, ast.Return):
            self.f.returns.append((s, tuple(self.stack)))
        if isinstance(s, (ast.FunctionDef, ast.ClassDef)):
            return
        for child in ast.iter_child_nodes(s):
            if isinstance(child, ast.stmt):
                self.stmt(child)
            elif isinstance(child, ast.expr):
                self.exprs(child)

    def loop(self, node, target, it):
        v = _Eval(self.f).value(it)
        names, first, rest = _target_names(target), None, None
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "enumerate" and it.args:
            arr = _Eval(self.f).value(it.args[0])
            if arr.arr:
                kind, axis = classify_bound(self.f, _size_token(arr.arr[0], arr.arr[1]))
                rest = V(arr=(arr.arr[0], arr.arr[1] + 1, arr.arr[2]))
            else:
                kind, axis = classify_bound(self.f, arr)
        elif v.arr:                                         # for row in f: a row of the filter
            kind, axis = classify_bound(self.f, _size_token(v.arr[0], v.arr[1]))
            rest = V(arr=(v.arr[0], v.arr[1] + 1, v.arr[2]))
            first = rest
        else:
            kind, axis = classify_bound(self.f, v)
        lp = Loop(node, tuple(names), kind, axis)
        token = V(frozenset({f"L:{kind}:{'-' if axis is None else axis}"}))
        if isinstance(target, ast.Tuple) and len(target.elts) == 2 and rest is not None:
            self._bind_name(target.elts[0], token)
            self._bind_name(target.elts[1], rest)
        elif first is not None:
            self._bind_name(target, first)
        else:
            for n in names:
                self.f.env[n] = token
        self.stack.append(lp)
        self.f.loops.append(lp)

    def _bind_name(self, t, v):
        if isinstance(t, ast.Name):
            self.f.env[t.id] = v

    def bind(self, target, value):
        ev = _Eval(self.f)
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts):
                    self.bind(t, v)
                return
            v = ev.value(value)
            for i, t in enumerate(target.elts):
                if v.shape_of:
                    val = _size_token(v.shape_of[0], v.shape_of[1] + i)
                elif v.elems is not None and i < len(v.elems):
                    val = v.elems[i]
                else:
                    val = V(v.toks, arr=v.arr)
                if isinstance(t, ast.Name) and not (val.arr or val.toks or val.shape_of):
                    val = _role_value(t.id, self.f)            # x, w, b, conv_param = cache
                if isinstance(t, ast.Name):
                    self.f.env[t.id] = val
                elif isinstance(t, ast.Attribute):
                    self.f.env["self." + t.attr] = val
            return
        val = ev.value(value)
        if isinstance(target, ast.Name):
            if target.id in self.f.env and self.f.env[target.id].arr and not val.arr and not val.toks:
                return                                       # x = np.asarray(x) style rebinding keeps the role
            self.f.env[target.id] = val if (val.arr or val.toks or val.shape_of or val.elems) else \
                self.f.env.get(target.id, _role_value(target.id, self.f))
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            self.f.env["self." + target.attr] = val

    def write_target(self, t, stmt):
        if isinstance(t, ast.Subscript):
            r = _as_read(self.f, t, write=True)
            if r is not None:
                self.f.reads.append(r)
                self.f.enclosing[id(t)] = tuple(self.stack)
            self.exprs(t.slice)

    def exprs(self, e):
        """Record reads and calls inside an expression (comprehension generators count as loops)."""
        if e is None:
            return
        if isinstance(e, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
            pushed = 0
            for gen in e.generators:
                self.exprs(gen.iter)
                self.loop(gen, gen.target, gen.iter)
                pushed += 1
                for cond in gen.ifs:
                    self.f.ifs.append((cond, tuple(self.stack)))
                    self.exprs(cond)
            for part in ([e.key, e.value] if isinstance(e, ast.DictComp) else [e.elt]):
                self.exprs(part)
            for _ in range(pushed):
                self.stack.pop()
            return
        if isinstance(e, Block):                       # a JS callback's statements
            for st in e.body:
                self.stmt(st)
            return
        if isinstance(e, ast.IfExp):
            self.f.ifs.append((e.test, tuple(self.stack)))
        if isinstance(e, ast.Subscript):
            r = _as_read(self.f, e)
            if r is not None:
                self.f.reads.append(r)
                self.f.enclosing[id(e)] = tuple(self.stack)
                for idx in r.indices:
                    self.exprs(idx)
                return
        if isinstance(e, ast.Call):
            self.f.calls.append((e, tuple(self.stack)))
            self.f.enclosing[id(e)] = tuple(self.stack)
            fn = e.func
            if isinstance(fn, ast.Name):
                self.f.helpers.add(fn.id)
            elif isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) and fn.value.id == "self":
                self.f.helpers.add(fn.attr)
            r = _call_read(self.f, e)
            if r is not None:
                self.f.reads.append(r)
        for child in ast.iter_child_nodes(e):
            if isinstance(child, ast.expr):
                self.exprs(child)


def _target_names(t) -> list[str]:
    if isinstance(t, ast.Name):
        return [t.id]
    if isinstance(t, (ast.Tuple, ast.List)):
        return [n for e in t.elts for n in _target_names(e)]
    return []


def _as_read(facts, node, write=False) -> Read | None:
    """a[r][c] / w[f, c, u, v] on an array of a known role -> Read with its index expressions."""
    chain, base = [], node
    while isinstance(base, ast.Subscript):
        chain.append(base.slice)
        base = base.value
    v = _Eval(facts).value(base)
    if not v.arr:
        return None
    indices = []
    for key in reversed(chain):
        indices.extend(key.elts if isinstance(key, ast.Tuple) else [key])
    return Read(node, v.arr[0], indices, v.arr[1], write=write)


def _call_read(facts, call) -> Read | None:
    """at(f, y, x) / get(a, r, c): a helper called with an array and its indices."""
    if len(call.args) < 2:
        return None
    v = _Eval(facts).value(call.args[0])
    if not v.arr or not all(isinstance(a, (ast.Name, ast.BinOp, ast.UnaryOp, ast.Constant)) for a in call.args[1:]):
        return None
    if not any(facts.toks(a) for a in call.args[1:]):
        return None
    return Read(call, v.arr[0], list(call.args[1:]), v.arr[1], call=True)


# ----------------------------------------------------------------------------- questions the rules share

def spatial_indices(facts, read: Read) -> list[tuple[int, ast.AST]]:
    """(spatial axis, index expression) of a read, skipping batch/channel/filter-count axes."""
    out = []
    for k, idx in enumerate(read.indices):
        kind, s = _axis_kind(facts.layout, read.role, read.depth + k)
        if kind == "s":
            out.append((s, idx))
    return out


def definition(facts, name: str):
    """The expression first assigned to `name` (the matching element of a tuple assignment)."""
    for stmt, _ in facts.assigns:
        if not isinstance(stmt, ast.Assign):
            continue
        for t in stmt.targets:
            if isinstance(t, ast.Name) and t.id == name:
                return stmt.value
            if isinstance(t, (ast.Tuple, ast.List)) and isinstance(stmt.value, (ast.Tuple, ast.List)):
                for te, ve in zip(t.elts, stmt.value.elts):
                    if isinstance(te, ast.Name) and te.id == name:
                        return ve
    return None


def resolve(facts, expr):
    """An index that is a plain name stands for its definition (r = y*s + j - p)."""
    if isinstance(expr, ast.Name):
        d = definition(facts, expr.id)
        if d is not None and any(t.startswith("L:") for t in facts.toks(d)):
            return d
    return expr


def position_exprs(facts, roles=("input",)) -> list[tuple[ast.AST, Read]]:
    """Index expressions (resolved to their definitions, slices split) that place a window in the input."""
    out, seen = [], set()
    for r in facts.reads:
        if r.role not in roles:
            continue
        for _, idx in spatial_indices(facts, r):
            parts = [idx.lower, idx.upper] if isinstance(idx, ast.Slice) else [idx]
            for part in parts:
                if part is None:
                    continue
                e = resolve(facts, part)
                if id(e) not in seen and any(t.startswith("L:out") or t.startswith("L:tap") for t in facts.toks(e)):
                    seen.add(id(e))
                    out.append((e, r))
    return out


def _has(facts, node, prefix) -> bool:
    return any(t.startswith(prefix) for t in facts.toks(node))


def stride_products(facts, expr):
    """Mult nodes inside expr: (node, the factor that is the stride, the other factor)."""
    for n in ast.walk(expr):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
            for a, b in ((n.left, n.right), (n.right, n.left)):
                if "stride" in facts.toks(a) and not _has(facts, a, "L:"):
                    yield n, a, b


def loop_var_nodes(facts, expr, kind):
    return [n for n in ast.walk(expr) if isinstance(n, ast.Name) and _has(facts, n, f"L:{kind}")]


def size_formulas(facts) -> list[ast.stmt]:
    """Assignments (outside loops) computing a size from the stride: the output-size formulas."""
    out = []
    for stmt, loops in facts.assigns + facts.returns:
        if loops or stmt.value is None:
            continue
        sized = isinstance(stmt, ast.Return) or any(x.startswith("D:") for x in facts.toks(stmt.value))
        if sized and _divides_by_stride(facts, stmt.value):
            out.append(stmt)
    return sorted(out, key=lambda s: (s.lineno, s.col_offset))


def _divides_by_stride(facts, expr) -> bool:
    return any(isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Div, ast.FloorDiv)) and
               "stride" in facts.toks(n.right) for n in ast.walk(expr))


def upper_only_tests(facts) -> list[ast.AST]:
    """Bounds checks that test `r < len(a)` but never `0 <= r`: negative indices slip through."""
    out = []
    for test, _ in facts.ifs:
        compares = [n for n in ast.walk(test) if isinstance(n, ast.Compare)]
        upper = lower = False
        for c in compares:
            items = [c.left] + c.comparators
            for (a, op, b) in zip(items, c.ops, items[1:]):
                if isinstance(op, (ast.Lt, ast.LtE)) and _has(facts, a, "L:") and not _is_zero(b):
                    upper = True
                if isinstance(op, (ast.Gt, ast.GtE)) and _has(facts, b, "L:") and not _is_zero(a):
                    upper = True
                if isinstance(op, (ast.Lt, ast.LtE)) and _is_zero(a) or isinstance(op, (ast.Gt, ast.GtE)) and _is_zero(b):
                    lower = True
        if upper and not lower:
            out.append(test)
    return out


def _is_zero(n) -> bool:
    return isinstance(n, ast.Constant) and n.value in (0, -1) or \
        isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub) and isinstance(n.operand, ast.Constant)


def _name_set(node) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def accumulations(facts, stmt_kinds=("tap", "chan", "out", "batch", "fnum", "in"), windows=False):
    """`target = value` inside a loop whose variable the target does not use: later iterations overwrite.

    Plain names count only when they also live outside that loop (an accumulator, not a temporary).
    With `windows`, a write to a window (slice or position) that moves with the output loop counts
    too: windows overlap, so `=` loses what earlier positions wrote.
    """
    out = []
    for stmt, loops in facts.assigns:
        if not isinstance(stmt, ast.Assign) or not loops or len(stmt.targets) != 1:
            continue
        t = stmt.targets[0]
        used = _name_set(t)
        if isinstance(t, ast.Subscript):
            used |= {n for x in _name_set(t) for n in _name_set(definition(facts, x) or ast.Constant(0))}
        elif isinstance(t, (ast.Name, ast.Attribute)):
            name = ast.get_source_segment(facts.source, t)
            if name in {ast.get_source_segment(facts.source, n) for n in ast.walk(stmt.value)}:
                continue                                   # x = x + ...: already accumulates
            outer = [s for s, lps in facts.assigns if s is not stmt and len(lps) < len(loops) and any(
                ast.get_source_segment(facts.source, tt) == name for tt in getattr(s, "targets", [getattr(s, "target", None)])
                if tt is not None)]
            if not outer and not (isinstance(t, ast.Attribute) or "batch" in stmt_kinds):
                continue
        else:
            continue
        free = [lp for lp in loops if lp.kind in stmt_kinds and not (set(lp.names) & used)]
        if windows and isinstance(t, ast.Subscript) and _moving_window(facts, t):
            free = free or [lp for lp in loops if lp.kind == "out"]
        if free:
            out.append((stmt, free))
    return out


def _moving_window(facts, target):
    """A written region that moves with the output position: a slice using it, or a position with a tap."""
    idx = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
    for i in idx:
        if isinstance(i, ast.Slice) and _has(facts, i, "L:out"):
            return True
        e = resolve(facts, i)
        if _has(facts, e, "L:out") and _has(facts, e, "L:tap"):
            return True
    return False


# ----------------------------------------------------------------------------- one rule per catalogue id

def _r_filter_by_output(facts, target):
    return [r.node for r in facts.reads if r.role == "filter" and not r.write and any(
        _has(facts, resolve(facts, i), "L:out") and not _has(facts, resolve(facts, i), "L:tap")
        for _, i in spatial_indices(facts, r))]


def _transposed(facts, role, write):
    hits = []
    for r in facts.reads:
        if r.role != role or r.write != write and role == "filter" and write:
            continue
        for axis, idx in spatial_indices(facts, r):
            axes = {int(t.split(":")[2]) for t in facts.toks(resolve(facts, idx))
                    if t.startswith(("L:out:", "L:tap:")) and t.split(":")[2] != "-"}
            if axes and axis not in axes:
                hits.append(r.node)
                break
    return hits + _einsum_swaps(facts)


def _einsum_swaps(facts):
    out = []
    for call, _ in facts.calls:
        spec = _einsum_spec(call)
        if spec is None:
            continue
        ins, res = spec
        for operand in ins:
            common = [ch for ch in operand if ch in res]
            if len(common) >= 2 and [ch for ch in res if ch in common][-2:] == common[-2:][::-1]:
                out.append(call)
                break
    return out


def _einsum_spec(call):
    fn = call.func
    if not (isinstance(fn, ast.Attribute) and fn.attr == "einsum" and call.args and
            isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
        return None
    text = call.args[0].value.replace(" ", "")
    if "->" not in text:
        return None
    lhs, res = text.split("->")
    return lhs.split(","), res


def _r_stride_on_tap(facts, target):
    hits = []
    for e, _ in position_exprs(facts) + _position_assigns(facts):
        for _, _, other in stride_products(facts, e):
            if _has(facts, other, "L:tap") and not _has(facts, other, "L:out"):
                hits.append(e)
                break
    return hits


def _position_assigns(facts):
    """Values of assignments that combine an output and a tap variable (r = y*s + j - p)."""
    out = []
    for stmt, _ in facts.assigns:
        vals = stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]
        for v in vals:
            if v is not None and _has(facts, v, "L:out") and _has(facts, v, "L:tap"):
                out.append((v, None))
    return out


def _r_stride_ignored(facts, target):
    hits = []
    for e, _ in position_exprs(facts) + _position_assigns(facts):
        outs = loop_var_nodes(facts, e, "out")
        scaled = {id(o) for n, _, other in stride_products(facts, e) for o in loop_var_nodes(facts, other, "out")}
        if outs and any(id(o) not in scaled for o in outs):
            hits.append(e)
    return hits


def _r_padding_ignored(facts, target):
    return [e for e, r in position_exprs(facts) + _position_assigns(facts)
            if "pad" not in facts.toks(e) and _has(facts, e, "L:out") and not (r is not None and _padded(facts, r))]


def _padded(facts, read):
    """Reads from np.pad(x, ...) need no - p: the padding is already in the array."""
    base = read.node if isinstance(read.node, ast.Subscript) else read.node.args[0]
    while isinstance(base, ast.Subscript):
        base = base.value
    bv = facts.value(base)
    return bool(bv.arr and bv.arr[2])


def _r_pad_sign(facts, target):
    hits = []
    for e, _ in position_exprs(facts) + _position_assigns(facts):
        for n in ast.walk(e):
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add) and facts.toks(n.right) == {"pad"}:
                hits.append(e)
    return hits


def _r_wrap(facts, target):
    tests = upper_only_tests(facts)
    if tests:
        return tests
    return [r.node for r in facts.reads if r.role == "input" and any(
        "pad" in facts.toks(resolve(facts, i)) for _, i in spatial_indices(facts, r))]


def _r_overwrite(facts, target):
    if target == "forward":
        return [s for s, free in accumulations(facts, ("tap", "chan"))]
    return [s for s, free in accumulations(facts, ("fnum",), windows=True)]


def _r_output_size(facts, target):
    """A formula missing the padding or the + 1, else a copy-pasted twin (outX written like outY)."""
    forms = size_formulas(facts)
    lacking = [s for s in forms if "pad" not in facts.toks(s.value) or not _adds_one(s.value)]
    text = [ast.get_source_segment(facts.source, s.value) for s in forms]
    twins = [s for i, s in enumerate(forms) if text[i] in text[:i]]
    return lacking + twins + [s for s in forms if s not in lacking and s not in twins]


def _adds_one(expr):
    return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add) and
               any(isinstance(x, ast.Constant) and x.value == 1 for x in (n.left, n.right)) for n in ast.walk(expr))


def _r_channels(facts, target):
    hits = [s for s, free in accumulations(facts, ("chan",))]
    if hits:
        return hits
    for r in facts.reads:
        for k, idx in enumerate(r.indices):
            kind, _ = _axis_kind(facts.layout, r.role, r.depth + k)
            if kind == "c" and isinstance(idx, ast.Constant):
                hits.append(r.node)
    return hits


def _r_bias_missing(facts, target):
    rets = [r for r, _ in facts.returns if r.value is not None]
    return rets[-1:]


def _r_batch_sum(words):
    def rule(facts, target):
        hits = []
        for s, free in accumulations(facts, ("batch",)):
            t = s.targets[0]
            name = (t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else
                    ast.get_source_segment(facts.source, t) or "")
            hits.append((0 if _words_match(name, words) else 1, s.lineno, s))
        return [h[2] for h in sorted(hits, key=lambda h: h[:2])]
    return rule


def _words_match(name, words):
    low = name.lower().replace("self.", "")
    return any(w in low for w in words)


def _r_not_flipped(facts, target):
    hits = []
    for call, _ in facts.calls:
        fn = call.func
        fname = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
        if fname in ("len", "zeros", "zeros_like", "pad", "range", "reshape"):
            continue
        if any(facts.value(a).arr and facts.value(a).arr[0] == "filter" and facts.value(a).arr[1] == 0
               for a in call.args):
            hits.append(call)
    return hits or [r.node for r in facts.reads if r.role == "filter"]


def _r_pad_offset(facts, target):
    hits = []
    for node in ast.walk(facts.func):
        if isinstance(node, ast.Subscript):
            sls = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if any(isinstance(x, ast.Slice) and x.lower is None and x.upper is not None and x.step is None
                   and _has(facts, x.upper, "D:") for x in sls):
                hits.append(node)
    return hits + _r_pad_sign(facts, target) + _r_padding_ignored(facts, target)


def _r_unpad(facts, target):
    return [n for n in ast.walk(facts.func) if isinstance(n, ast.Subscript) and any(
        _is_neg_pad_slice(facts, x) for x in (n.slice.elts if isinstance(n.slice, ast.Tuple) else [n.slice]))]


def _is_neg_pad_slice(facts, x):
    return isinstance(x, ast.Slice) and x.upper is not None and isinstance(x.upper, ast.UnaryOp) and \
        isinstance(x.upper.op, ast.USub) and "pad" in facts.toks(x.upper)


def _r_filter_flipped(facts, target):
    hits = []
    for call, _ in facts.calls:
        fn = call.func
        fname = (fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")).lower()
        if "convolve" in fname or "correlate" in fname or fname in ("flip", "rot90", "fliplr", "flipud"):
            hits.append(call)
    for r in facts.reads:
        if r.role == "filter" and any(isinstance(i, ast.BinOp) and isinstance(i.op, ast.Sub) or
                                      isinstance(i, ast.Slice) and i.step is not None for i in r.indices):
            hits.append(r.node)
    return hits


BIAS_GRAD_WORDS = ("db", "bias", "grad_b", "gb")
FILTER_GRAD_WORDS = ("dw", "dk", "df", "dfilt", "dkernel", "dweight", "grad_w", "gw", "grad_k")

RULES = {
    "filter-indexed-by-output": _r_filter_by_output,
    "stride-on-filter-index": _r_stride_on_tap,
    "filter-transposed": lambda f, t: _transposed(f, "filter", False),
    "input-transposed": lambda f, t: _transposed(f, "input", False),
    "filter-flipped": _r_filter_flipped,
    "padding-ignored": _r_padding_ignored,
    "padding-wrong-sign": _r_pad_sign,
    "negative-index-wraparound": _r_wrap,
    "stride-ignored": _r_stride_ignored,
    "overwrite-not-accumulate": _r_overwrite,
    "output-size": _r_output_size,
    "channels-not-summed": _r_channels,
    "bias-missing": _r_bias_missing,
    "grad-filter-stride-ignored": _r_stride_ignored,
    "grad-filter-padding-ignored": _r_padding_ignored,
    "grad-filter-transposed": lambda f, t: _transposed(f, "filter", True),
    "grad-filter-not-summed-over-batch": _r_batch_sum(FILTER_GRAD_WORDS),
    "grad-filter-wraparound": _r_wrap,
    "grad-input-filter-not-flipped": _r_not_flipped,
    "grad-input-stride-ignored": _r_stride_ignored,
    "grad-input-padding-offset": _r_pad_offset,
    "grad-input-overwrite-not-accumulate": _r_overwrite,
    "grad-input-wraparound": _r_wrap,
    "grad-input-unpad-empty-at-pad0": _r_unpad,
    "grad-bias-not-summed": _r_batch_sum(BIAS_GRAD_WORDS),
}


# ----------------------------------------------------------------------------- finding functions, making locations

def find_function(tree: ast.AST, dotted: str):
    """The def of `name`, `Class.method` or `pkg.mod.name` (JavaScript defs carry their dotted name)."""
    exact = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                  and n.name == dotted), None)
    if exact is not None:
        return exact
    parts = dotted.split(".")
    scope = tree.body
    node = None
    for i, part in enumerate(parts):
        node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            if i == 0:
                continue                                   # a module prefix (pkg.mod.func)
            return None
        scope = getattr(node, "body", [])
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def _attributes(tree, func, file, source, layout) -> dict:
    """self.xp = np.pad(x, ...) in forward tells backward what self.xp is: the other methods' self.* values."""
    cls = _class_of(tree, func)
    if cls is None:
        return {}
    env = {}
    for m in cls.body:
        if isinstance(m, ast.FunctionDef) and m is not func:
            facts = function_facts(file, source, m, layout, tree)
            env.update({k: v for k, v in facts.env.items() if k.startswith("self.") and v != EMPTY})
    return env


def _class_of(tree, func):
    for n in ast.walk(tree):
        if isinstance(n, ast.ClassDef) and func in n.body:
            return n
    return None


def functions_to_search(tree, dotted: str):
    """The bound function, then the helpers it calls in the same file (depth first, each once)."""
    first = find_function(tree, dotted)
    if first is None:
        return []
    out, todo, seen = [], [first], set()
    cls = _class_of(tree, first)
    while todo:
        fn = todo.pop(0)
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        out.append(fn)
        for call in ast.walk(fn):
            if not isinstance(call, ast.Call):
                continue
            f = call.func
            if isinstance(f, ast.Name):
                h = find_function(tree, f.id)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self" and cls:
                h = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == f.attr), None)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self" and \
                    "." in first.name:                 # this.outSize(...) inside a JS namespace object
                h = find_function(tree, first.name.rsplit(".", 1)[0] + "." + f.attr)
            else:
                h = None
            if h is not None:
                todo.append(h)
    return out


def node_location(file: str, source: str, node) -> Location:
    """Location of an ast node: 1-based line, 0-based character column, the source line(s) as written."""
    lines = source.splitlines()
    line, end = node.lineno, getattr(node, "end_lineno", None) or node.lineno
    raw = lines[line - 1] if line - 1 < len(lines) else ""
    column = len(raw.encode("utf-8")[:node.col_offset].decode("utf-8", errors="replace"))
    code = "\n".join(l.strip() if i else l.strip() for i, l in enumerate(lines[line - 1:end]))
    return Location(file=file, line=line, code=code, column=column, end_line=end if end != line else None)


def _parse(source):
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def is_js(file: str) -> bool:
    return file.lower().endswith((".js", ".mjs", ".cjs"))


def source_tree(file: str, source: str):
    """The file's ast: Python's own, or JavaScript rebuilt by js_module; None when it does not parse."""
    if is_js(file):
        try:
            return js_module(source)
        except Exception:                          # tree-sitter on odd input: no location, never a crash
            return None
    return _parse(source)


def python_candidates(bug: str, target: str, dotted: str, file: str, source: str, layout: str):
    """(Facts, node) pairs the rule for `bug` finds, bound function first, then its helpers."""
    rule = RULES.get(bug)
    tree = source_tree(file, source)
    if rule is None or tree is None:
        return []
    out, seen = [], set()
    for fn in functions_to_search(tree, dotted):
        facts = function_facts(file, source, fn, layout, tree, _attributes(tree, fn, file, source, layout))
        for n in rule(facts, target):
            if id(n) not in seen:
                seen.add(id(n))
                out.append((facts, n))
    return out


def locate(diagnosis: Diagnosis, bound: dict, sources: dict, config: dict | None = None) -> Location | None:
    """The source position responsible for one diagnosis, or None when no rule finds it."""
    if not diagnosis.bug or diagnosis.target not in bound:
        return None
    layout = (config or {}).get("layout", "hw")
    name = bound[diagnosis.target]
    for file, source in sources.items():
        found = python_candidates(diagnosis.bug, diagnosis.target, name, file, source, layout)
        if found:
            facts, node = found[0]
            return node_location(file, source, node)
    return None


def locate_all(diagnoses, bound: dict, sources: dict, config: dict | None = None) -> tuple:
    """Every diagnosis with its location filled in where one is found (never raises)."""
    out = []
    for d in diagnoses:
        loc = d.location
        if loc is None:
            try:
                loc = locate(d, bound, sources, config)
            except Exception:                        # a rule tripping on odd code must not cost the report
                loc = None
        out.append(Diagnosis(d.target, d.bug, d.confidence, d.explanation, loc) if loc is not d.location else d)
    return tuple(out)


# ----------------------------------------------------------------------------- JavaScript, seen as the same ast

class Block(ast.expr):
    """An arrow function's statement body used as an expression (the body of a .map callback)."""

    _fields = ("body",)


_JS_BINOPS = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "%": ast.Mod, "**": ast.Pow,
              "|": ast.BitOr, "&": ast.BitAnd, "^": ast.BitXor, ">>": ast.RShift, "<<": ast.LShift}
_JS_COMPARE = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE, "==": ast.Eq, "===": ast.Eq,
               "!=": ast.NotEq, "!==": ast.NotEq}
_JS_FUNCS = ("function_expression", "function", "arrow_function", "generator_function")


def js_module(source: str) -> ast.Module | None:
    """A tree-sitter parse of a JavaScript file rebuilt as a Python ast with the JS positions.

    Functions are top-level defs named as the user binds them (corre, mlib.conv.forward,
    Cls with methods); for loops become `for v in range(bound)`, `.length` becomes len(),
    `new Array(n).fill(0).map((_, y) => ...)` a comprehension over range(n). The rules
    then read JavaScript exactly as they read Python.
    """
    try:
        import tree_sitter
        import tree_sitter_javascript
    except ImportError:
        return None
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language()))
    tree = parser.parse(source.encode("utf-8"))
    body: list = []
    _JsBuilder(body).top(tree.root_node, prefix="")
    return ast.Module(body=body, type_ignores=[])


class _JsBuilder:
    def __init__(self, out: list):
        self.out = out

    # --- positions
    @staticmethod
    def at(node, ts):
        node.lineno, node.col_offset = ts.start_point[0] + 1, ts.start_point[1]
        node.end_lineno, node.end_col_offset = ts.end_point[0] + 1, ts.end_point[1]
        return node

    # --- top level: find every function under the name it is bound by
    def top(self, ts, prefix):
        for child in ts.named_children:
            self.declare(child, prefix)

    def declare(self, n, prefix):
        t = n.type
        if t == "function_declaration":
            self.out.append(self.function(n, prefix + _text(n.child_by_field_name("name")), n))
        elif t in ("lexical_declaration", "variable_declaration"):
            for d in n.named_children:
                if d.type == "variable_declarator":
                    self.bind(_text(d.child_by_field_name("name")), d.child_by_field_name("value"), prefix)
        elif t == "expression_statement" and n.named_children:
            e = n.named_children[0]
            if e.type == "assignment_expression":
                name = _text(e.child_by_field_name("left")).replace("module.exports.", "").replace("exports.", "")
                self.bind(name, e.child_by_field_name("right"), prefix)
        elif t == "class_declaration":
            self.out.append(self.klass(n, prefix))
        elif t in ("export_statement",):
            self.top(n, prefix)

    def bind(self, name, value, prefix):
        if value is None or not name:
            return
        if value.type in _JS_FUNCS:
            self.out.append(self.function(value, prefix + name, value))
        elif value.type == "object":
            for pair in value.named_children:
                if pair.type == "pair":
                    self.bind(f"{name}.{_text(pair.child_by_field_name('key'))}", pair.child_by_field_name("value"),
                              prefix)
                elif pair.type == "method_definition":
                    self.out.append(self.function(pair, f"{prefix}{name}.{_text(pair.child_by_field_name('name'))}",
                                                  pair))
        elif value.type == "class":
            self.out.append(self.klass(value, prefix, name))

    def klass(self, n, prefix, name=None):
        name = name or _text(n.child_by_field_name("name"))
        methods = []
        body = n.child_by_field_name("body")
        for m in (body.named_children if body is not None else []):
            if m.type == "method_definition":
                mname = _text(m.child_by_field_name("name"))
                methods.append(self.function(m, "__init__" if mname == "constructor" else mname, m, method=True))
        return self.at(ast.ClassDef(name=prefix + name, bases=[], keywords=[], body=methods or [ast.Pass()],
                                    decorator_list=[]), n)

    def function(self, fn, name, where, method=False):
        params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
        names = ["self"] if method else []
        if params is not None:
            items = [params] if params.type == "identifier" else params.named_children
            for p in items:
                p = p.child_by_field_name("left") or p if p.type == "assignment_pattern" else p
                if p.type == "identifier":
                    names.append(_text(p))
        args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=a) for a in names], vararg=None, kwonlyargs=[],
                             kw_defaults=[], kwarg=None, defaults=[])
        body = fn.child_by_field_name("body")
        stmts = self.block(body) if body is not None and body.type == "statement_block" else \
            [self.at(ast.Return(value=self.expr(body)), body)] if body is not None else []
        return self.at(ast.FunctionDef(name=name, args=args, body=stmts or [ast.Pass()], decorator_list=[],
                                       returns=None, type_params=[]), where)

    # --- statements
    def block(self, n) -> list:
        if n is None:
            return []
        if n.type != "statement_block":
            return self.stmt(n)
        return [s for c in n.named_children for s in self.stmt(c)]

    def stmt(self, n) -> list:
        t = n.type
        if t in ("lexical_declaration", "variable_declaration"):
            out = []
            for d in n.named_children:
                value = d.child_by_field_name("value")
                if d.type == "variable_declarator" and value is not None:
                    out.append(self.at(ast.Assign(targets=[self.target(d.child_by_field_name("name"))],
                                                  value=self.expr(value)), d))
            return out
        if t == "expression_statement":
            return [s for c in n.named_children for s in self.expr_stmt(c)]
        if t == "return_statement":
            value = n.named_children[0] if n.named_children else None
            return [self.at(ast.Return(value=self.expr(value) if value is not None else None), n)]
        if t == "if_statement":
            alt = n.child_by_field_name("alternative")
            orelse = [s for c in alt.named_children for s in self.block(c)] if alt is not None else []
            return [self.at(ast.If(test=self.expr(n.child_by_field_name("condition")),
                                   body=self.block(n.child_by_field_name("consequence")) or [ast.Pass()],
                                   orelse=orelse), n)]
        if t == "for_statement":
            return [self.for_loop(n)]
        if t == "for_in_statement":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            of = any(c.type == "of" for c in n.children)
            it = self.expr(right) if of else self.at(ast.Call(func=ast.Name(id="range", ctx=ast.Load()),
                                                              args=[self.length(right)], keywords=[]), right)
            return [self.at(ast.For(target=self.target(left), iter=it, body=self.block(n.child_by_field_name("body"))
                                    or [ast.Pass()], orelse=[]), n)]
        if t in ("while_statement", "do_statement"):
            cond = n.child_by_field_name("condition")
            return [self.at(ast.While(test=self.expr(cond) if cond is not None else ast.Constant(True),
                                      body=self.block(n.child_by_field_name("body")) or [ast.Pass()], orelse=[]), n)]
        if t == "statement_block":
            return self.block(n)
        return []

    def expr_stmt(self, e) -> list:
        if e.type == "assignment_expression":
            return [self.at(ast.Assign(targets=[self.target(e.child_by_field_name("left"))],
                                       value=self.expr(e.child_by_field_name("right"))), e)]
        if e.type == "augmented_assignment_expression":
            op = _text(e.child_by_field_name("operator")).rstrip("=")
            return [self.at(ast.AugAssign(target=self.target(e.child_by_field_name("left")),
                                          op=_JS_BINOPS.get(op, ast.Add)(),
                                          value=self.expr(e.child_by_field_name("right"))), e)]
        if e.type == "sequence_expression":
            return [s for c in e.named_children for s in self.expr_stmt(c)]
        if e.type == "update_expression":
            return []
        return [self.at(ast.Expr(value=self.expr(e)), e)]

    def for_loop(self, n):
        init, cond = n.child_by_field_name("initializer"), n.child_by_field_name("condition")
        var = None
        if init is not None:
            decl = next((d for d in init.named_children if d.type == "variable_declarator"), None)
            var = _text(decl.child_by_field_name("name")) if decl is not None else None
            if decl is None and init.type == "expression_statement" and init.named_children and \
                    init.named_children[0].type == "assignment_expression":
                var = _text(init.named_children[0].child_by_field_name("left"))
        bound = None
        c = cond.named_children[0] if cond is not None and cond.type == "expression_statement" and \
            cond.named_children else cond
        if c is not None and c.type == "binary_expression":
            left, right = c.child_by_field_name("left"), c.child_by_field_name("right")
            op = _text(c.child_by_field_name("operator"))
            if op in ("<", "<=") and _text(left) == var:
                bound = right
            elif op in (">", ">=") and _text(right) == var:
                bound = left
        it = self.at(ast.Call(func=ast.Name(id="range", ctx=ast.Load()),
                              args=[self.expr(bound)] if bound is not None else [], keywords=[]), cond or n)
        target = ast.Name(id=var or "_", ctx=ast.Store())
        self.at(target, init or n)
        return self.at(ast.For(target=target, iter=it, body=self.block(n.child_by_field_name("body")) or [ast.Pass()],
                               orelse=[]), n)

    def target(self, n):
        if n.type == "array_pattern":
            return self.at(ast.Tuple(elts=[self.target(c) for c in n.named_children], ctx=ast.Store()), n)
        e = self.expr(n)
        if isinstance(e, (ast.Name, ast.Subscript, ast.Attribute, ast.Tuple)):
            e.ctx = ast.Store()
            return e
        return self.at(ast.Name(id=_text(n), ctx=ast.Store()), n)

    # --- expressions
    def length(self, n):
        return self.at(ast.Call(func=ast.Name(id="len", ctx=ast.Load()), args=[self.expr(n)], keywords=[]), n)

    def expr(self, n):
        if n is None:
            return ast.Constant(None)
        t = n.type
        if t in ("identifier", "shorthand_property_identifier", "property_identifier"):
            return self.at(ast.Name(id=_text(n), ctx=ast.Load()), n)
        if t == "this":
            return self.at(ast.Name(id="self", ctx=ast.Load()), n)
        if t == "number":
            try:
                v = float(_text(n))
                return self.at(ast.Constant(int(v) if v.is_integer() else v), n)
            except ValueError:
                return self.at(ast.Constant(0), n)
        if t in ("string", "template_string"):
            return self.at(ast.Constant(_text(n).strip("'\"`")), n)
        if t in ("parenthesized_expression",) and n.named_children:
            return self.expr(n.named_children[-1])
        if t == "binary_expression":
            op = _text(n.child_by_field_name("operator"))
            left, right = self.expr(n.child_by_field_name("left")), self.expr(n.child_by_field_name("right"))
            if op in _JS_COMPARE:
                return self.at(ast.Compare(left=left, ops=[_JS_COMPARE[op]()], comparators=[right]), n)
            if op in ("&&", "||", "??"):
                return self.at(ast.BoolOp(op=ast.And() if op == "&&" else ast.Or(), values=[left, right]), n)
            return self.at(ast.BinOp(left=left, op=_JS_BINOPS.get(op, ast.Add)(), right=right), n)
        if t == "unary_expression":
            op = _text(n.child_by_field_name("operator"))
            arg = self.expr(n.child_by_field_name("argument"))
            return self.at(ast.UnaryOp(op=ast.USub() if op == "-" else ast.UAdd() if op == "+" else ast.Not(),
                                       operand=arg), n)
        if t == "subscript_expression":
            return self.at(ast.Subscript(value=self.expr(n.child_by_field_name("object")),
                                         slice=self.expr(n.child_by_field_name("index")), ctx=ast.Load()), n)
        if t == "member_expression":
            obj, prop = n.child_by_field_name("object"), _text(n.child_by_field_name("property"))
            if prop == "length":
                return self.length(obj)
            return self.at(ast.Attribute(value=self.expr(obj), attr=prop, ctx=ast.Load()), n)
        if t in ("call_expression", "new_expression"):
            return self.call(n)
        if t == "ternary_expression":
            return self.at(ast.IfExp(test=self.expr(n.child_by_field_name("condition")),
                                     body=self.expr(n.child_by_field_name("consequence")),
                                     orelse=self.expr(n.child_by_field_name("alternative"))), n)
        if t in ("array", "sequence_expression"):
            return self.at(ast.List(elts=[self.expr(c) for c in n.named_children], ctx=ast.Load()), n)
        if t in _JS_FUNCS:
            body = n.child_by_field_name("body")
            if body is not None and body.type == "statement_block":
                return self.at(Block(body=self.block(body)), n)
            return self.expr(body)
        if t in ("assignment_expression", "augmented_assignment_expression"):
            return self.expr(n.child_by_field_name("right"))
        return self.at(ast.Constant(None), n)

    def call(self, n):
        fn = n.child_by_field_name("function") or n.child_by_field_name("constructor")
        args_node = n.child_by_field_name("arguments")
        args = [self.expr(a) for a in (args_node.named_children if args_node is not None else [])
                if a.type != "comment"]
        if fn is not None and fn.type == "member_expression" and \
                _text(fn.child_by_field_name("property")) in ("map", "forEach", "flatMap") and args_node is not None \
                and args_node.named_children and args_node.named_children[0].type in _JS_FUNCS:
            return self.mapped(n, fn.child_by_field_name("object"), args_node.named_children[0], args[0])
        return self.at(ast.Call(func=self.expr(fn), args=args, keywords=[]), n)

    def mapped(self, n, receiver, callback, body):
        """xs.map((v, i) => body) -> [body for i, v in enumerate(xs)]; new Array(k).fill(0).map -> range(k)."""
        params = callback.child_by_field_name("parameters")
        names = [_text(p) for p in (params.named_children if params is not None else [callback.child_by_field_name(
            "parameter")]) if p is not None and p.type == "identifier"]
        size = _array_size(receiver)
        if size is not None:
            it = self.at(ast.Call(func=ast.Name(id="range", ctx=ast.Load()), args=[self.expr(size)], keywords=[]),
                         receiver)
            target = ast.Name(id=names[1] if len(names) > 1 else "_", ctx=ast.Store())
        else:
            it = self.at(ast.Call(func=ast.Name(id="enumerate", ctx=ast.Load()), args=[self.expr(receiver)],
                                  keywords=[]), receiver)
            target = ast.Tuple(elts=[ast.Name(id=names[1] if len(names) > 1 else "_", ctx=ast.Store()),
                                     ast.Name(id=names[0] if names else "_", ctx=ast.Store())], ctx=ast.Store())
        self.at(target, callback)
        for e in getattr(target, "elts", []):
            self.at(e, callback)
        gen = ast.comprehension(target=target, iter=it, ifs=[], is_async=0)
        return self.at(ast.ListComp(elt=body, generators=[gen]), n)


def _array_size(receiver):
    """new Array(n), new Array(n).fill(0), Array.from({length: n}) -> the node for n."""
    node = receiver
    while node is not None and node.type == "call_expression":
        fn = node.child_by_field_name("function")
        if fn is not None and fn.type == "member_expression" and _text(fn.child_by_field_name("property")) == "fill":
            node = fn.child_by_field_name("object")
        else:
            break
    if node is not None and node.type in ("new_expression", "call_expression"):
        fn = node.child_by_field_name("constructor") or node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if fn is not None and _text(fn) == "Array" and args is not None and len(args.named_children) == 1:
            return args.named_children[0]
    return None


def _text(n) -> str:
    return n.text.decode("utf-8", errors="replace") if n is not None else ""
