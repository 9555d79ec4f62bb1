"""The questions several locate rules (and the rewrites) ask of a function's `Facts`.

Which index expressions place a window in the input, which products carry the
stride, which assignments compute an output size, which bounds tests lack a
lower bound, which writes overwrite what earlier iterations wrote, which
windows step by the stride from an output index that the stride never scales.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .facts import Read, axis_kind

__all__ = ["spatial_indices", "definition", "resolve", "position_exprs", "has_token", "stride_products",
           "loop_var_nodes", "size_formulas", "upper_only_tests", "accumulations", "StridedWindow",
           "strided_windows"]


def spatial_indices(facts, read: Read) -> list[tuple[int, ast.AST]]:
    """(spatial axis, index expression) of a read, skipping batch/channel/filter-count axes."""
    out = []
    for k, idx in enumerate(read.indices):
        kind, s = axis_kind(facts.layout, read.role, read.depth + k)
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


def has_token(facts, node, prefix) -> bool:
    """Whether the node's value carries a token starting with `prefix` (L:out, D:filter...)."""
    return any(t.startswith(prefix) for t in facts.toks(node))


def stride_products(facts, expr):
    """Mult nodes inside expr: (node, the factor that is the stride, the other factor)."""
    for n in ast.walk(expr):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
            for a, b in ((n.left, n.right), (n.right, n.left)):
                if "stride" in facts.toks(a) and not has_token(facts, a, "L:"):
                    yield n, a, b


def loop_var_nodes(facts, expr, kind):
    """The names in `expr` that are loop variables of this kind."""
    return [n for n in ast.walk(expr) if isinstance(n, ast.Name) and has_token(facts, n, f"L:{kind}")]


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
                if isinstance(op, (ast.Lt, ast.LtE)) and has_token(facts, a, "L:") and not _is_zero(b):
                    upper = True
                if isinstance(op, (ast.Gt, ast.GtE)) and has_token(facts, b, "L:") and not _is_zero(a):
                    upper = True
                if isinstance(op, (ast.Lt, ast.LtE)) and _is_zero(a) or \
                        isinstance(op, (ast.Gt, ast.GtE)) and _is_zero(b):
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
                ast.get_source_segment(facts.source, tt) == name
                for tt in getattr(s, "targets", [getattr(s, "target", None)])
                if tt is not None)]
            if not outer and not (isinstance(t, ast.Attribute) or "batch" in stmt_kinds):
                continue
        else:
            continue
        free = [lp for lp in loops if lp.kind in stmt_kinds and not (set(lp.names) & used)]
        if windows and isinstance(t, ast.Subscript) and _moving_window(facts, t):
            free = free or [lp for lp in loops if lp.kind == "out"] or [lp for lp in loops if lp.kind == "tap"]
        if free:
            out.append((stmt, free))
    return out


def _moving_window(facts, target):
    """A written region that moves with the output position: a slice using it, or a position with a tap."""
    idx = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
    for i in idx:
        if isinstance(i, ast.Slice) and has_token(facts, i, "L:out"):
            return True
        if isinstance(i, ast.Slice) and i.step is not None and facts.toks(i.step) == {"stride"} and \
                i.lower is not None and has_token(facts, i.lower, "L:tap"):
            return True                  # col2im: the stride lattice of one tap; lattices of taps overlap
        e = resolve(facts, i)
        if has_token(facts, e, "L:out") and has_token(facts, e, "L:tap"):
            return True
    return False



@dataclass(frozen=True)
class StridedWindow:
    """A window whose taps the stride spaces but whose start does not move by it: x[i:i + s*k:s], range(i, ..., s)."""

    node: ast.AST                     # the Slice, or the range(...) call of a loop
    start: ast.AST
    stop: ast.AST
    step: ast.AST
    axis: int                         # spatial axis of the output loop in `start`


def strided_windows(facts) -> list[StridedWindow]:
    """Input slices and loop ranges stepping by the stride from an unscaled output index (the window's taps)."""
    out = []
    for r in facts.reads:
        if r.role == "input":
            for _, idx in spatial_indices(facts, r):
                if isinstance(idx, ast.Slice):
                    out += _strided(facts, idx, idx.lower, idx.upper, idx.step)
    for lp in facts.loops:
        it = getattr(lp.node, "iter", None)
        if isinstance(it, ast.Call) and getattr(it.func, "id", "") == "enumerate" and it.args:
            it = it.args[0]
        if isinstance(it, ast.Call) and getattr(it.func, "id", "") == "range" and len(it.args) == 3:
            out += _strided(facts, it, *it.args)
    return out


def _strided(facts, node, start, stop, step) -> list[StridedWindow]:
    if start is None or stop is None or step is None or facts.toks(step) != {"stride"}:
        return []
    if has_token(facts, start, "L:tap") or "stride" in facts.toks(start):
        return []                                   # i*s:i*s + k, or u:u + s*oh:s over the taps: both right
    axes = {t.split(":")[2] for t in facts.toks(start) if t.startswith("L:out:")}
    if len(axes) != 1 or "-" in axes:
        return []
    return [StridedWindow(node, start, stop, step, int(axes.pop()))]
