"""One rule per catalogue id: the node in a function's `Facts` responsible for that mistake.

A rule returns candidate nodes best first; locate.py reports the first and
rewrites.py edits at each. Rules read loop kinds and roles, never variable names
(except the gradient-name words that rank several batch accumulators).
"""
from __future__ import annotations

import ast

from .facts import axis_kind, whole_plane
from .queries import (accumulations, has_token, loop_var_nodes, position_exprs, resolve,
                             size_formulas, spatial_indices, stride_products, strided_windows, upper_only_tests)
from ..vocab import Target

__all__ = ["RULES", "einsum_spec", "adds_one", "is_neg_pad_slice", "swapped_tap_reads", "fixed_crop"]


def _r_filter_by_output(facts, target):
    return [r.node for r in facts.reads if r.role == "filter" and not r.write and any(
        has_token(facts, resolve(facts, i), "L:out") and not has_token(facts, resolve(facts, i), "L:tap")
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


def swapped_tap_reads(facts, role="input"):
    """Position expressions of `role` reads on axis a that use the tap loop of another axis
    (r = y*s + j - p with j the column tap): the taps swapped, at any filter shape."""
    hits = []
    for r in facts.reads:
        if r.role != role or r.write:
            continue
        for axis, idx in spatial_indices(facts, r):
            e = resolve(facts, idx)
            taps = {int(t.split(":")[2]) for t in facts.toks(e) if t.startswith("L:tap:") and t.split(":")[2] != "-"}
            if taps and axis not in taps and e not in hits:
                hits.append(e)
    return hits


def _einsum_swaps(facts):
    out = []
    for call, _ in facts.calls:
        spec = einsum_spec(call)
        if spec is None:
            continue
        ins, res = spec
        for operand in ins:
            common = [ch for ch in operand if ch in res]
            if len(common) >= 2 and [ch for ch in res if ch in common][-2:] == common[-2:][::-1]:
                out.append(call)
                break
    return out


def einsum_spec(call):
    """The subscripts of np.einsum('...->...', ...) as (inputs, output), or None."""
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
            if has_token(facts, other, "L:tap") and not has_token(facts, other, "L:out"):
                hits.append(e)
                break
    return hits + [w.node for w in strided_windows(facts)]


def _position_assigns(facts):
    """Values of assignments that combine an output and a tap variable (r = y*s + j - p)."""
    out = []
    for stmt, _ in facts.assigns:
        vals = stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]
        for v in vals:
            if v is not None and has_token(facts, v, "L:out") and has_token(facts, v, "L:tap"):
                out.append((v, None))
    return out


def _r_stride_ignored(facts, target):
    hits, seen = [], set()
    for e, _ in position_exprs(facts) + _position_assigns(facts):
        outs = loop_var_nodes(facts, e, "out")
        scaled = {id(o) for n, _, other in stride_products(facts, e) for o in loop_var_nodes(facts, other, "out")}
        # a name defined as a stride product (hs = i * stride; x[hs:hs + HH]) is scaled where it is used
        scaled |= {id(o) for o in outs if resolve(facts, o) is not o and any(stride_products(facts, resolve(facts, o)))}
        for o in outs:
            if id(o) in scaled:
                continue
            # a name defined without the stride (hs, ws = i, j; x[hs:hs + HH]): the slip is in its definition
            where = resolve(facts, o) if o is not e and resolve(facts, o) is not o else e
            if id(where) not in seen:
                seen.add(id(where))
                hits.append(where)
    return hits


def _r_padding_ignored(facts, target):
    return [e for e, r in position_exprs(facts) + _position_assigns(facts)
            if "pad" not in facts.toks(e) and has_token(facts, e, "L:out")
            and not (r is not None and _padded(facts, r))]


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
    if target == Target.FORWARD:
        return [s for s, free in accumulations(facts, ("tap", "chan"))] + _lattice_writes(facts)
    return ([s for s, free in accumulations(facts, ("fnum",), windows=True)] + _lattice_writes(facts)
            + _reset_in_loop(facts) + fancy_adds(facts))


INDEX_ARRAYS = {"arange", "array", "asarray", "indices", "meshgrid", "ravel_multi_index", "repeat", "tile"}


def fancy_adds(facts):
    """`dxp[:, :, idx] += dframes` with idx an index array (np.arange(T)[:, None] * s + ...): NumPy
    buffers the add, so an index that repeats (overlapping windows) is added once, not summed."""
    arrays = set()
    for node in ast.walk(facts.func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and any(
                isinstance(c, ast.Call) and (getattr(c.func, "attr", None) or getattr(c.func, "id", None)) in INDEX_ARRAYS
                for c in ast.walk(node.value)):
            arrays.add(node.targets[0].id)
    hits = []
    for node in ast.walk(facts.func):
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add) and isinstance(node.target, ast.Subscript):
            sl = node.target.slice
            idx = sl.elts if isinstance(sl, ast.Tuple) else [sl]
            if any(isinstance(i, ast.Name) and i.id in arrays for i in idx):
                hits.append(node)
    return hits


def _lattice_writes(facts):
    """`img[.., y:y_max:stride, ..] = col[..]` in a loop over y (col2im): the stride lattices of
    different loop values overlap when the stride is smaller than the window, so = loses terms."""
    hits = []
    for stmt, loops in facts.assigns:
        if not isinstance(stmt, ast.Assign) or not loops or len(stmt.targets) != 1:
            continue
        t = stmt.targets[0]
        if not isinstance(t, ast.Subscript):
            continue
        names = {n for lp in loops for n in lp.names}
        idx = t.slice.elts if isinstance(t.slice, ast.Tuple) else [t.slice]
        if any(isinstance(i, ast.Slice) and i.step is not None and "stride" in facts.toks(i.step)
               and isinstance(i.lower, ast.Name) and i.lower.id in names for i in idx):
            hits.append(stmt)
        # or a window: xp[:, :, y*stride:y*stride + kh, ...] = col[...] in a loop over y; windows wider
        # than the stride overlap, so = keeps the last one
        elif any(isinstance(i, ast.Slice) and i.lower is not None and i.upper is not None and i.step is None
                 and "stride" in facts.toks(i.lower)
                 and any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(i.lower)) for i in idx):
            hits.append(stmt)
    return hits


def _reset_in_loop(facts):
    """`dx = zeros(..)` inside a loop that later adds into dx: every pass restarts the sum, so only
    the last pass (the last filter) survives."""
    hits = []
    for stmt, loops in facts.assigns:
        if not isinstance(stmt, ast.Assign) or not loops or len(stmt.targets) != 1 or \
                not isinstance(stmt.targets[0], ast.Name) or not isinstance(stmt.value, (ast.Call, ast.List)):
            continue
        name = stmt.targets[0].id
        if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt.value)):
            continue
        inner = [s for s, lps in facts.assigns if len(lps) > len(loops) and lps[:len(loops)] == loops
                 and isinstance(s, ast.AugAssign) and _base_name(s.target) == name]
        if inner:
            hits.append(stmt)
    return hits


def _base_name(t):
    while isinstance(t, ast.Subscript):
        t = t.value
    return t.id if isinstance(t, ast.Name) else None


def _r_output_size(facts, target):
    """A formula missing the padding or the + 1, else a copy-pasted twin (outX written like outY)."""
    forms = size_formulas(facts)
    lacking = [s for s in forms if "pad" not in facts.toks(s.value) or not adds_one(s.value)]
    text = [ast.get_source_segment(facts.source, s.value) for s in forms]
    twins = [s for i, s in enumerate(forms) if text[i] in text[:i]]
    swapped = swapped_allocations(facts, forms)
    return swapped + lacking + twins + [s for s in forms if s not in lacking and s not in twins]


def swapped_allocations(facts, forms=None):
    """Tuples (.., OW, OH) naming the size variables in the other order than they were computed."""
    forms = size_formulas(facts) if forms is None else forms
    names = [st.targets[0].id for st in forms
             if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name)]
    if len(names) < 2:
        return []
    first, second = names[-2], names[-1]
    return [n for n in ast.walk(facts.func) if isinstance(n, (ast.Tuple, ast.List)) and len(n.elts) >= 2
            and all(isinstance(e, ast.Name) for e in n.elts[-2:]) and [e.id for e in n.elts[-2:]] == [second, first]]


def adds_one(expr):
    """Whether the expression adds a literal 1 somewhere (the +1 of the output-size formula)."""
    return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add) and
               any(isinstance(x, ast.Constant) and x.value == 1 for x in (n.left, n.right)) for n in ast.walk(expr))


def _r_channels(facts, target):
    hits = [s for s, free in accumulations(facts, ("chan",))]
    if hits:
        return hits
    for r in facts.reads:
        for k, idx in enumerate(r.indices):
            kind, _ = axis_kind(facts.layout, r.role, r.depth + k)
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
        if any(whole_plane(facts, facts.value(a)) for a in call.args):
            hits.append(call)
    # an element read of the filter (filt[u][v]) is where the rotation goes; a call that takes the
    # whole filter (np.tensordot(g, w), or a user's own dims(w)) only when there is no such read
    # (a read, not a store: dW[f, c] += ... writes a filter-shaped gradient, it reads no filter)
    reads = [r.node for r in facts.reads if r.role == "filter" and not isinstance(getattr(r.node, "ctx", None), ast.Store)]
    return reads or hits


def _r_pad_offset(facts, target):
    hits = []
    for node in ast.walk(facts.func):
        if isinstance(node, ast.Subscript):
            sls = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if any(isinstance(x, ast.Slice) and x.lower is None and x.upper is not None and x.step is None
                   and has_token(facts, x.upper, "D:") for x in sls):
                hits.append(node)
    return _fixed_crops(facts) + hits + _r_pad_sign(facts, target) + _r_padding_ignored(facts, target)


def fixed_crop(x):
    """A slice a:-a with a number (dxp[1:-1]): a crop right at one padding only."""
    return (isinstance(x, ast.Slice) and isinstance(x.lower, ast.Constant) and isinstance(x.lower.value, int)
            and x.lower.value > 0 and isinstance(x.upper, ast.UnaryOp) and isinstance(x.upper.op, ast.USub)
            and isinstance(x.upper.operand, ast.Constant) and x.upper.operand.value == x.lower.value
            and x.step is None)


def _fixed_crops(facts):
    return [n for n in ast.walk(facts.func) if isinstance(n, ast.Subscript) and any(
        fixed_crop(x) for x in (n.slice.elts if isinstance(n.slice, ast.Tuple) else [n.slice]))]


def _r_unpad(facts, target):
    return [n for n in ast.walk(facts.func) if isinstance(n, ast.Subscript) and any(
        is_neg_pad_slice(facts, x) for x in (n.slice.elts if isinstance(n.slice, ast.Tuple) else [n.slice]))]


def is_neg_pad_slice(facts, x):
    """Whether a slice ends at -pad (x[p:-p]), which is empty when pad is 0."""
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
    "grad-filter-transposed": lambda f, t: _transposed(f, "filter", True) + swapped_tap_reads(f),
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

