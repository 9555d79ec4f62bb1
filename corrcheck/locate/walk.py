"""Walk one function body into `Facts`: its loops (with their kinds), variable values, reads and writes.

Loops are pushed and popped as the walk enters them, so every read, assignment,
bounds test and call is recorded with the loops around it. Comprehensions count
as loops; a JavaScript callback body (locate_js.Block) is walked like statements.
"""
from __future__ import annotations

import ast

from .facts import EMPTY, Facts, Loop, Read, V, classify_bound, role_value, size_token
from .javascript import Block, is_js
from ..binding.roles import extent_roles

__all__ = ["function_facts"]


def function_facts(file: str, source: str, func: ast.AST, layout: str, module=None, attributes=None) -> Facts:
    """Walk one function once and record what the locate rules ask: loops, reads, writes, roles."""
    facts = Facts(file=file, source=source, func=func, layout=layout or "hw", module=module,
                  language="javascript" if is_js(file) else "python")
    facts.env.update(attributes or {})
    _Walker(facts).run()
    return facts


# a flat array's extent role (binding.roles.EXTENT_ALIASES) -> the (array, axis) whose size it is
EXTENT_SIZES = {"in_h": ("input", 0), "in_w": ("input", 1), "k_h": ("filter", 0), "k_w": ("filter", 1)}


class _Walker:
    def __init__(self, facts: Facts):
        self.f = facts
        self.stack: list[Loop] = []

    def run(self):
        """Seed the parameters' roles from their names, then walk the body."""
        fn = self.f.func
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
        self.f.params = tuple(params)
        for a in params:
            self.f.env[a] = role_value(a, self.f)
        # (input, H, W, kernel, KH, KW, ...) on flat arrays (the binding's extent_roles): W beside H is a
        # width, not the weights, and the extents passed are the sizes of the input's and the filter's axes
        extents = extent_roles(params)
        if {"in_h", "in_w"} <= set(extents.values()) and any(
                self.f.env[a].arr and self.f.env[a].arr[0] == "filter" for a in params if a not in extents):
            for name, role in extents.items():
                if role in EXTENT_SIZES and (role.startswith("in_") or not (self.f.env[name].toks or self.f.env[name].arr)):
                    self.f.env[name] = size_token(*EXTENT_SIZES[role])
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
        """Record one statement (its enclosing loops, reads and writes) and walk into its body."""
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
        """Classify a loop (over output positions, taps, channels...) from what its range is built from."""
        v = self.f.value(it)
        names, first, rest = _target_names(target), None, None
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "enumerate" and it.args:
            arr = self.f.value(it.args[0])
            if arr.arr:
                kind, axis = classify_bound(self.f, size_token(arr.arr[0], arr.arr[1]))
                rest = V(arr=(arr.arr[0], arr.arr[1] + 1, arr.arr[2]))
            else:
                kind, axis = classify_bound(self.f, arr)
        elif v.arr:                                         # for row in f: a row of the filter
            kind, axis = classify_bound(self.f, size_token(v.arr[0], v.arr[1]))
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
        """Track an assignment's symbolic value under the target name(s), unpacking tuples."""
        ev = self.f
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                for t, v in zip(target.elts, value.elts):
                    self.bind(t, v)
                return
            v = ev.value(value)
            for i, t in enumerate(target.elts):
                if v.shape_of:
                    val = size_token(v.shape_of[0], v.shape_of[1] + i)
                elif v.elems is not None and i < len(v.elems):
                    val = v.elems[i]
                else:
                    val = V(v.toks, arr=v.arr)
                if isinstance(t, ast.Name) and not (val.arr or val.toks or val.shape_of):
                    val = role_value(t.id, self.f)            # x, w, b, conv_param = cache
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
                self.f.env.get(target.id, role_value(target.id, self.f))
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            self.f.env["self." + target.attr] = val

    def write_target(self, t, stmt):
        """Record a write into an array element as an indexed access the rules can inspect."""
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
    v = facts.value(base)
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
    v = facts.value(call.args[0])
    if not v.arr or not all(isinstance(a, (ast.Name, ast.BinOp, ast.UnaryOp, ast.Constant)) for a in call.args[1:]):
        return None
    if not any(facts.toks(a) for a in call.args[1:]):
        return None
    return Read(call, v.arr[0], list(call.args[1:]), v.arr[1], call=True)

