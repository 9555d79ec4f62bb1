"""Candidate source edits, as data: for each catalogue id, the rewrites that undo that mistake.

A rewrite takes the node that the locate rule for the id (locate_rules.py) points at and returns
text edits at that node's position (never a re-printed file), so a diff shows
only the expression that changed. `candidates()` walks the bound functions and
yields Candidate objects in the order worth trying: the diagnosed ids first,
every node of one function at once before each node alone (a slip is usually
made on both axes), then the rest of the catalogue.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .find import find_function, function_facts, python_candidates, source_tree
from .find import functions_to_search
from .facts import FILTER_AXES, IN_AXES, axis_kind, whole_plane
from .queries import (has_token, resolve, loop_var_nodes, size_formulas, spatial_indices, stride_products,
                             strided_windows, upper_only_tests)
from .rules import adds_one, einsum_spec, fancy_adds, fixed_crop, is_neg_pad_slice
from .rules import swapped_allocations, swapped_tap_reads

__all__ = ["Edit", "Candidate", "REWRITES", "EINSUM_REWRITES", "candidates", "apply_edits"]


@dataclass(frozen=True)
class Edit:
    """Characters replaced in the file's text, so a fix changes only the expression and its diff stays small."""

    start: int                       # character offsets into the file's text
    end: int
    text: str


@dataclass(frozen=True)
class Candidate:
    """One fix to try: edits undoing one catalogue mistake, kept only if a patched copy passes the checks."""

    file: str
    edits: tuple[Edit, ...]
    rule: str                        # the catalogue id this rewrite undoes
    what: str                        # a few words for messages

    @property
    def size(self) -> int:
        """How much text the edits change: smaller fixes are tried first."""
        return sum(len(e.text) + (e.end - e.start) for e in self.edits)

    def overlaps(self, other: "Candidate") -> bool:
        """Whether two candidates edit the same text, so they cannot be applied together."""
        return self.file == other.file and any(a.start < b.end and b.start < a.end
                                               for a in self.edits for b in other.edits)


def apply_edits(source: str, edits) -> str:
    """The source with non-overlapping edits applied, last first so earlier offsets stay valid."""
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        source = source[:e.start] + e.text + source[e.end:]
    return source


# ----------------------------------------------------------------------------- positions

class _Text:
    """ast (line, byte column) -> character offsets, and source segments."""

    def __init__(self, source: str):
        self.source = source
        self.starts, pos = [], 0
        for line in source.splitlines(keepends=True):
            self.starts.append(pos)
            pos += len(line)
        self.starts.append(pos)
        self.lines = source.splitlines(keepends=True)

    def offset(self, line: int, col: int) -> int:
        """The string offset of an ast (line, UTF-8 byte column) position."""
        raw = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        return self.starts[line - 1] + len(raw.encode("utf-8")[:col].decode("utf-8", errors="replace"))

    def span(self, node) -> tuple[int, int]:
        """The node's (start, end) string offsets."""
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def seg(self, node) -> str:
        """The node's source text ('' for a node the JavaScript rebuild made up)."""
        if getattr(node, "lineno", None) is None:
            return ""                                  # a node the JavaScript rebuild made up (len, range)
        a, b = self.span(node)
        return self.source[a:b]

    def replace(self, node, text) -> Edit:
        a, b = self.span(node)
        return Edit(a, b, text)

    def insert_after(self, node, text) -> Edit:
        b = self.span(node)[1]
        return Edit(b, b, text)

    def insert_before(self, node, text) -> Edit:
        a = self.span(node)[0]
        return Edit(a, a, text)


def _scaled(text, name_node, factor, parent) -> str:
    expr = f"{text} * {factor}"
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)) \
            or isinstance(parent, ast.UnaryOp):
        return f"({expr})"
    return expr


def _parents(root) -> dict:
    return {id(c): p for p in ast.walk(root) for c in ast.iter_child_nodes(p)}


# ----------------------------------------------------------------------------- one rewrite per mistake

def _filter_at_taps(facts, t, node):
    """f[y][x] / at(f, y, x) -> the tap variables of the enclosing tap loops, axis by axis."""
    read = next((r for r in facts.reads if r.node is node), None)
    if read is None:
        return []
    loops = facts.enclosing.get(id(node), ()) or tuple(facts.loops)
    edits = []
    for axis, idx in spatial_indices(facts, read):
        if has_token(facts, idx, "L:out"):
            taps = facts.names_of_kind("tap", axis, loops) or facts.names_of_kind("tap", axis)
            if not taps:
                return []
            edits.append(t.replace(idx, taps[0]))
    return [edits] if edits else []


def _move_stride(facts, t, node):
    """y + j*s - p -> y*s + j - p: the stride factor moves from the tap to the output index."""
    parents = _parents(node)
    for mult, factor, other in stride_products(facts, node):
        outs = loop_var_nodes(facts, node, "out")
        if not has_token(facts, other, "L:tap") or len(outs) != 1:
            continue
        o = outs[0]
        return [[t.replace(mult, t.seg(other)),
                 t.replace(o, _scaled(t.seg(o), o, t.seg(factor), parents.get(id(o))))]]
    return []


def _unstride_window(facts, t, node):
    """x[i:i + s*(k-1) + 1:s] -> x[i * s:i * s + k], range(i, i + s*k, s) -> range(i * s, i * s + k)."""
    w = next((w for w in strided_windows(facts) if w.node is node), None)
    if w is None:
        return []
    size = _filter_size(facts, t, w.stop, w.axis)
    if not size:
        return []
    start = _scaled_text(facts, t, w.start, t.seg(w.step))
    if isinstance(w.start, (ast.IfExp, ast.BoolOp, ast.Compare)):
        start = f"({start})"
    if isinstance(node, ast.Slice):
        return [[t.replace(node, f"{start}:{start} + {size}")]]
    return [[t.replace(node, f"{t.seg(node.func)}({start}, {start} + {size})")]]


def _scaled_text(facts, t, expr, factor) -> str:
    """expr's source with every output-loop variable in it multiplied by factor (i + 1 -> i * s + 1)."""
    base, parents = t.span(expr)[0], _parents(expr)
    return apply_edits(t.seg(expr), [Edit(a - base, b - base, _scaled(t.seg(o), o, factor, parents.get(id(o))))
                                     for o in loop_var_nodes(facts, expr, "out") for a, b in [t.span(o)]])


def _filter_size(facts, t, stop, axis) -> str | None:
    """The filter's size along a spatial axis as the user writes it: the term in the window's end, else a name."""
    terms = [n for n in ast.walk(stop) if getattr(n, "lineno", None) is not None and facts.toks(n) and all(
        tok.startswith("D:filter:") and axis_kind(facts.layout, "filter", int(tok.split(":")[2])) == ("s", axis)
        for tok in facts.toks(n))]
    if terms:
        return t.seg(min(terms, key=lambda n: len(t.seg(n))))
    name = facts.size_name("filter", axis)
    if name:
        return name
    filt = facts.role_name("filter")
    table = FILTER_AXES.get(facts.layout, "01")
    return f"{filt}.shape[{table.index(str(axis))}]" if filt and str(axis) in table else None


def _swap_axes(facts, t, node):
    """Swap the two spatial index expressions of a read or write (or two letters of an einsum output)."""
    read = next((r for r in facts.reads if r.node is node), None)
    if read is not None:
        sp = spatial_indices(facts, read)
        if len(sp) >= 2:
            (_, a), (_, b) = sp[-2], sp[-1]
            return [[t.replace(a, t.seg(b)), t.replace(b, t.seg(a))]]
        return []
    spec = einsum_spec(node) if isinstance(node, ast.Call) else None
    if spec is None:
        return []
    ins, res = spec
    out = []
    for operand in ins:
        common = [ch for ch in operand if ch in res]
        if len(common) >= 2:
            x, y = common[-2], common[-1]
            swapped = res.translate(str.maketrans({x: y, y: x}))
            text = ",".join(ins) + "->" + swapped
            quote = t.seg(node.args[0])[0]
            out.append([t.replace(node.args[0], f"{quote}{text}{quote}")])
            break
    return out


def _einsum_filter_taps(facts, t, node):
    """np.einsum('ijkl,ij->ij', win, f) -> 'ijkl,kl->ij': the filter takes the window's tap letters.

    The filter's letters that also index the result and the window are output positions; the
    window's letters that the result sums away and the filter lacks are its taps. Both are read
    from the spec and the operands' roles, in the order they are written.
    """
    spec = einsum_spec(node) if isinstance(node, ast.Call) else None
    if spec is None or len(spec[0]) != len(node.args) - 1:
        return []
    ins, res = spec
    roles = [facts.value(a).arr for a in node.args[1:]]
    filt = [k for k, r in enumerate(roles) if r and r[0] == "filter" and r[1] == 0]
    if len(filt) != 1 or len(ins) < 2:
        return []
    f = ins[filt[0]]
    for k, win in enumerate(ins):
        if k == filt[0]:
            continue
        outs = [ch for ch in f if ch in res and ch in win]
        taps = [ch for ch in win if ch not in res and ch not in f]
        if outs and len(outs) == len(taps):
            fixed = f.translate(str.maketrans(dict(zip(outs, taps))))
            text = ",".join(ins[:filt[0]] + [fixed] + ins[filt[0] + 1:]) + "->" + res
            quote = t.seg(node.args[0])[0]
            return [[t.replace(node.args[0], f"{quote}{text}{quote}")]]
    return []


def _rotation(facts, text, depth: int = 0) -> list[str]:
    """The filter (after `depth` leading indices) rotated by 180 degrees over its spatial axes, in
    the array's own layout."""
    axes = FILTER_AXES.get(facts.layout, "01")[depth:]
    nd = sum(ch.isdigit() for ch in axes)
    if facts.language == "javascript":
        return [f"{text}.slice().reverse().map(row => row.slice().reverse())" if nd == 2 else
                f"{text}.slice().reverse()"]
    flips = ", ".join("::-1" for _ in range(nd))
    forms = []
    if axes[0].isdigit():
        forms.append(f"{text}[{flips}]")
    else:
        forms.append(f"{text}[..., {flips}]")
    if nd == 2:
        forms.append(f"[row[::-1] for row in {text}[::-1]]")
    elif nd == 1:
        forms.append(f"{text}[::-1]")
    return forms


def _rotate_filter(facts, t, node):
    """Use the filter rotated by 180 degrees at this call (or read) instead of the filter itself."""
    out = []
    if not isinstance(node, ast.Call):
        # a plane read (w[f, c]) handed to a library call: that call's mirror (correlate2d ->
        # convolve2d), then the plane rotated where it is read
        parent = next((c for c, _ in facts.calls if any(a is node for a in c.args)), None)
        if parent is not None and re.search(r"correlate|convolve", t.seg(parent.func)):
            out += _swap_conv_corr(facts, t, parent)[:1]
        v = facts.value(node)
        if whole_plane(facts, v):
            out += [[t.replace(node, form)] for form in _rotation(facts, t.seg(node), v.arr[1])]
        return out
    for a in node.args:
        v = facts.value(a)
        if whole_plane(facts, v):
            for form in _rotation(facts, t.seg(a), v.arr[1]):
                out.append([t.replace(a, form)])
    return out


def _unflip_read(facts, t, node):
    """f[K - 1 - u] -> f[u]: read the filter forward again."""
    read = next((r for r in facts.reads if r.node is node), None)
    if read is None:
        return []
    edits = []
    for _, idx in spatial_indices(facts, read):
        taps = loop_var_nodes(facts, idx, "tap")
        if isinstance(idx, ast.BinOp) and len(taps) == 1 and any(
                isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) for n in ast.walk(idx)):
            edits.append(t.replace(idx, t.seg(taps[0])))
    return [edits] if edits else []


def _swap_conv_corr(facts, t, node):
    """signal.convolve2d <-> signal.correlate2d (and the same for any *convolve*/*correlate* call)."""
    if not isinstance(node, ast.Call) or any(r.node is node for r in facts.reads):
        return _unflip_read(facts, t, node) or _rotate_filter(facts, t, node)
    text = t.seg(node.func)
    if "convolve" in text:
        return [[t.replace(node.func, text.replace("convolve", "correlate"))]] + _rotate_filter(facts, t, node)
    if "correlate" in text:
        return [[t.replace(node.func, text.replace("correlate", "convolve"))]] + _rotate_filter(facts, t, node)
    return _rotate_filter(facts, t, node)


def _subtract_pad(facts, t, node):
    """i*s + j -> i*s + j - p; first with `0 <=` added to upper-only bounds tests, which - p makes necessary."""
    pad = facts.role_name("pad")
    if not pad:
        return []
    edit = t.insert_after(node, f" - {pad}")
    bounds = [e for test in upper_only_tests(facts) for opt in _lower_bound(facts, t, test) for e in opt]
    return ([[edit] + bounds] if bounds else []) + [[edit]]


def _pad_sign(facts, t, node):
    """... + p -> ... - p."""
    edits = []
    for n in ast.walk(node):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add) and facts.toks(n.right) == {"pad"}:
            a, b = t.span(n.left)[1], t.span(n.right)[0]
            between = t.source[a:b]
            if "+" in between:
                i = a + between.index("+")
                edits.append(Edit(i, i + 1, "-"))
    return [edits] if edits else []


def _lower_bound(facts, t, node):
    """r < H -> 0 <= r < H for every upper-only comparison of a position."""
    edits = []
    for c in ast.walk(node):
        if isinstance(c, ast.Compare) and len(c.ops) == 1:
            a, op, b = c.left, c.ops[0], c.comparators[0]
            js = facts.language == "javascript"
            if isinstance(op, (ast.Lt, ast.LtE)) and has_token(facts, a, "L:"):
                edits.append(t.insert_before(a, f"{t.seg(a)} >= 0 && " if js else "0 <= "))
            elif isinstance(op, (ast.Gt, ast.GtE)) and has_token(facts, b, "L:"):
                edits.append(t.insert_after(c, f" && {t.seg(b)} >= 0" if js else " >= 0"))
    return [edits] if edits else []


def _scale_output(facts, t, node):
    """Multiply every output variable not yet under the stride by it: i:i + K -> i * s:i * s + K
    (by its own axis's stride when the code unpacks one per axis: sh, sw = stride)."""
    stride = facts.role_name("stride")
    if not stride:
        return []
    per_axis = _unpacked(facts.func, stride)
    axis_of = {n: lp.axis for lp in facts.loops if lp.kind == "out" for n in lp.names}
    scaled = {id(o) for _, _, other in stride_products(facts, node) for o in loop_var_nodes(facts, other, "out")}
    parents = _parents(node)

    def factor(o):
        axis = axis_of.get(getattr(o, "id", None))
        return per_axis[axis] if per_axis and axis is not None and axis < len(per_axis) else stride

    edits = [t.replace(o, _scaled(t.seg(o), o, factor(o), parents.get(id(o))))
             for o in loop_var_nodes(facts, node, "out") if id(o) not in scaled]
    return [edits] if edits else []


def _unpacked(func, name: str) -> list[str] | None:
    """The names a tuple is unpacked into, `sh, sw = stride`, in axis order; None when it is not."""
    for n in ast.walk(func):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Tuple) \
                and isinstance(n.value, ast.Name) and n.value.id == name \
                and all(isinstance(e, ast.Name) for e in n.targets[0].elts):
            return [e.id for e in n.targets[0].elts]
    return None


def _accumulate(facts, t, node):
    """target = value -> target += value."""
    if not isinstance(node, ast.Assign) or len(node.targets) != 1:
        return []
    a, b = t.span(node.targets[0])[1], t.span(node.value)[0]
    between = t.source[a:b]
    if between.strip() != "=":
        return []
    i = a + between.index("=")
    return [[Edit(i, i + 1, "+=")]]


def _add_at(facts, t, node):
    """`a[:, :, idx] += v` with an index array -> `np.add.at(a, (slice(None), slice(None), idx), v)`:
    every repeated index adds its share (the += of fancy indexing adds each distinct index once)."""
    if node not in fancy_adds(facts):
        return []

    def part(e):
        if isinstance(e, ast.Slice):
            bounds = [t.seg(b) if b is not None else "None" for b in (e.lower, e.upper, e.step)]
            return "slice(None)" if bounds == ["None"] * 3 else f"slice({', '.join(bounds)})"
        return t.seg(e)
    sl = node.target.slice
    idx = ", ".join(part(e) for e in (sl.elts if isinstance(sl, ast.Tuple) else [sl]))
    numpy = next((a for a in ("np", "numpy") if re.search(rf"\b{a}\.", t.source)), "np")
    many = isinstance(sl, ast.Tuple) and len(sl.elts) > 1
    where = f"({idx})" if many else idx
    return [[t.replace(node, f"{numpy}.add.at({t.seg(node.target.value)}, {where}, {t.seg(node.value)})")]]


def _unswap_taps(facts, t, node):
    """In an input position on axis a, put the tap loop variable of axis a where another axis's is."""
    if node not in swapped_tap_reads(facts):
        return []
    tap_of = {lp.axis: lp.names[0] for lp in facts.loops if lp.kind == "tap" and lp.axis is not None and lp.names}
    axis = None
    for r in facts.reads:
        for a, idx in spatial_indices(facts, r):
            if r.role == "input" and resolve(facts, idx) is node:
                axis = a
    if axis is None or axis not in tap_of:
        return []
    edits = [t.replace(n, tap_of[axis]) for n in loop_var_nodes(facts, node, "tap")
             if n.id != tap_of[axis] and n.id in tap_of.values()]
    return [edits] if edits else []


def _hoist_reset(facts, t, node):
    """`dx = zeros(..)` inside the loop that accumulates into dx -> the same line just before that loop."""
    loops = next((lps for st, lps in facts.assigns if st is node), None)
    if not loops or not isinstance(node, ast.Assign) or getattr(loops[-1].node, "lineno", None) is None:
        return []
    loop = loops[-1].node
    a, b = t.span(node)
    line_start, line_end = t.starts[node.lineno - 1], t.starts[node.end_lineno]
    rest = t.source[b:line_end]
    js = facts.language != "python"
    if t.source[line_start:a].strip() or rest.strip() not in ("", ";"):
        return []                                   # not alone on its line: leave it to a person
    indent = t.source[t.starts[loop.lineno - 1]:t.offset(loop.lineno, loop.col_offset)]
    if indent.strip():
        return []
    text = t.source[a:b] + (";" if js and not t.source[a:b].rstrip().endswith(";") else "")
    at = t.offset(loop.lineno, loop.col_offset)
    return [[Edit(at, at, text + "\n" + indent), Edit(line_start, line_end, "")]]


def _floor_not_round(facts, t, node):
    """Math.round(a / s) -> Math.floor(a / s); Python round(a / s) -> (a) // (s): the size floors."""
    out = []
    for call in ast.walk(node):
        if not isinstance(call, ast.Call) or getattr(call.func, "lineno", None) is None:
            continue
        name = t.seg(call.func)
        if name in ("Math.round", "Math.ceil"):
            out.append([t.replace(call.func, "Math.floor")])
        elif name in ("round", "np.round", "math.ceil", "np.ceil", "ceil") and len(call.args) == 1 \
                and isinstance(call.args[0], ast.BinOp) and isinstance(call.args[0].op, ast.Div):
            a = call.args[0]
            out.append([t.replace(call, f"(({t.seg(a.left)}) // ({t.seg(a.right)}))")])
    return out


def _swap_extents(facts, t, node):
    """An output allocated as (.., OW, OH) when the sizes were computed as OH, OW: swap them back
    (alone, or with the loops ranging over them)."""
    tuples = swapped_allocations(facts)
    if not tuples:
        return []
    second, first = tuples[0].elts[-2].id, tuples[0].elts[-1].id
    alloc = [e for n in tuples for e in (t.replace(n.elts[-2], first), t.replace(n.elts[-1], second))]
    ranges = [t.replace(n.args[0], second if n.args[0].id == first else first) for n in ast.walk(facts.func)
              if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "range" and len(n.args) == 1
              and isinstance(n.args[0], ast.Name) and n.args[0].id in (first, second)
              and getattr(n, "lineno", None) is not None]
    return [alloc, alloc + ranges]


def _size_formula(facts, t, node):
    """Output size: add the missing + 1, or the missing 2 * p next to the input size."""
    value = node.value
    out = []
    if not adds_one(value):
        out.append([t.insert_after(value, " + 1")] if not isinstance(value, (ast.IfExp, ast.Compare)) else [])
    pad = facts.role_name("pad")
    if pad and "pad" not in facts.toks(value):
        parents = _parents(value)
        for n in ast.walk(value):
            if isinstance(n, (ast.Name, ast.Call, ast.Attribute, ast.Subscript)) and \
                    any(x.startswith("D:input") for x in facts.toks(n)) and \
                    not isinstance(parents.get(id(n)), (ast.Call, ast.Attribute, ast.Subscript)):
                p = parents.get(id(n))
                text = f"{t.seg(n)} + 2 * {pad}"
                if isinstance(p, ast.BinOp) and not isinstance(p.op, (ast.Add, ast.Sub)):
                    text = f"({text})"
                out.append([t.replace(n, text)])
                break
    for n in ast.walk(value):
        if isinstance(n, ast.Call) and t.seg(n.func).endswith("ceil") and len(n.args) == 1 and \
                isinstance(n.args[0], ast.BinOp) and isinstance(n.args[0].op, ast.Div):
            d = n.args[0]
            if facts.language == "javascript":
                out.append([t.replace(n.func, t.seg(n.func)[:-4] + "floor")])
            else:
                out.append([t.replace(n, f"({t.seg(d.left)}) // {t.seg(d.right)}")])
    out += _other_axis(facts, t, node)
    return [e for e in out if e]


def _other_axis(facts, t, node):
    """A copy-pasted size formula (outX = same text as outY): measure the second axis, len(a) -> len(a[0])."""
    forms = size_formulas(facts)
    twin = [s for s in forms if s is not node and t.seg(s.value) == t.seg(node.value) and s.lineno < node.lineno]
    if not twin:
        return []
    edits = []
    for n in ast.walk(node.value):
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "len" and len(n.args) == 1:
            edits.append(t.replace(n.args[0], f"{t.seg(n.args[0])}[0]"))          # len(a) / a.length
        elif isinstance(n, ast.Subscript) and isinstance(n.value, ast.Attribute) and n.value.attr == "shape" \
                and isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, int):
            edits.append(t.replace(n.slice, str(n.slice.value + 1)))
    return [edits] if edits else []


def _sum_channels(facts, t, node):
    """Inside the channel loop, index every channel axis with ':' so the window covers all channels."""
    loops = facts.enclosing.get(id(node), ())
    chans = [lp for lp in loops if lp.kind == "chan"]
    if not chans:
        return _accumulate(facts, t, node)
    var = chans[-1].names[0]
    edits = []
    for n in ast.walk(chans[-1].node):
        if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Tuple):
            for e in n.slice.elts:
                if isinstance(e, ast.Name) and e.id == var:
                    edits.append(t.replace(e, ":"))
    return ([edits] if edits else []) + _accumulate(facts, t, node)


def _add_bias(facts, t, node):
    """return out -> return out + b (broadcast over the layout's channel axis)."""
    b = facts.role_name("bias")
    if not b or not isinstance(node, ast.Return) or node.value is None:
        return []
    forms = {"nchw": [f"{b}.reshape(1, -1, 1, 1)"], "ncdhw": [f"{b}.reshape(1, -1, 1, 1, 1)"],
             "ncw": [f"{b}.reshape(1, -1, 1)"],
             "chw": [f"{b}.reshape(-1, 1, 1)"]}.get(facts.layout, []) + [b]
    value = node.value.elts[0] if isinstance(node.value, ast.Tuple) and node.value.elts else node.value
    text = t.seg(value)                                # return out, cache: the output is the first item
    if isinstance(value, (ast.IfExp, ast.BoolOp, ast.Compare, ast.Lambda)):
        return [[t.replace(value, f"({text}) + {form}")] for form in forms]
    return [[t.insert_after(value, f" + {form}")] for form in forms]


def _batch_sum(facts, t, node):
    """Sum over the batch: hoist `g = zeros(...)` above the batch loop, or `g = ...` -> `g += ...` from 0."""
    loops = [lp for lp in facts.enclosing.get(id(node), ()) if lp.kind == "batch"]
    if not loops or not isinstance(node, ast.Assign) or not isinstance(loop_stmt := loops[-1].node, ast.For):
        return []
    indent = t.lines[loop_stmt.lineno - 1][:loop_stmt.col_offset]
    head = t.offset(loop_stmt.lineno, 0)
    fn = node.value.func if isinstance(node.value, ast.Call) else None
    fname = (fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")) if fn is not None else ""
    if fname in ("zeros", "zeros_like", "empty", "empty_like", "full", "full_like") and \
            node.lineno == node.end_lineno:
        start = t.offset(node.lineno, 0)
        end = t.starts[node.lineno] if node.lineno < len(t.starts) else len(t.source)
        line = t.source[start:end].lstrip()
        return [[Edit(head, head, indent + line), Edit(start, end, "")]]
    acc = _accumulate(facts, t, node)
    if not acc:
        return []
    name = t.seg(node.targets[0])
    return [[Edit(head, head, f"{indent}{name} = 0\n")] + acc[0]]


def _crop(facts, t, node):
    """dxp[p:-p] -> dxp[p:p + H] (and dxp[:H] -> dxp[p:p + H]): crop exactly the input's extent."""
    pad = facts.role_name("pad")
    if not isinstance(node, ast.Subscript) or not pad:
        return []
    elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    base = t.seg(node.value)
    by_name, by_shape = [], []
    spatial = 0
    for k, e in enumerate(elts):
        if not isinstance(e, ast.Slice):
            continue
        if is_neg_pad_slice(facts, e) or fixed_crop(e) or (e.lower is None and e.upper is not None and has_token(facts, e.upper, "D:")):
            axis = _slice_axis(facts, elts, k)
            size = facts.size_name("input", axis) if axis is not None else None
            if e.lower is None:
                size = t.seg(e.upper)
            if size:
                by_name.append(t.replace(e, f"{pad}:{pad} + {size}"))
            by_shape.append(t.replace(e, f"{pad}:{base}.shape[{k}] - {pad}"))
            spatial += 1
    out = [c for c in (by_name, by_shape) if c and len(c) == spatial]
    return out


def _slice_axis(facts, elts, k):
    table = IN_AXES.get(facts.layout, "01")
    offset = len(table) - len(elts)
    pos = k + offset
    return int(table[pos]) if 0 <= pos < len(table) and table[pos].isdigit() else None


def _pad_offset(facts, t, node):
    if isinstance(node, ast.Subscript):
        return _crop(facts, t, node)
    return _pad_sign(facts, t, node) or _subtract_pad(facts, t, node)


# Per catalogue id: the rewrites that undo it, applied at the nodes its locate rule finds.
REWRITES = {
    "filter-indexed-by-output": (_filter_at_taps,),
    "stride-on-filter-index": (_move_stride, _unstride_window),
    "filter-transposed": (_swap_axes,),
    "input-transposed": (_swap_axes,),
    "filter-flipped": (_swap_conv_corr,),
    "padding-ignored": (_subtract_pad,),
    "padding-wrong-sign": (_pad_sign,),
    "negative-index-wraparound": (_lower_bound,),
    "stride-ignored": (_scale_output,),
    "overwrite-not-accumulate": (_accumulate,),
    "output-size": (_size_formula, _floor_not_round, _swap_extents),
    "channels-not-summed": (_sum_channels,),
    "bias-missing": (_add_bias,),
    "grad-filter-stride-ignored": (_scale_output,),
    "grad-filter-padding-ignored": (_subtract_pad,),
    "grad-filter-transposed": (_swap_axes, _unswap_taps),
    "grad-filter-not-summed-over-batch": (_batch_sum,),
    "grad-filter-wraparound": (_lower_bound,),
    "grad-input-filter-not-flipped": (_rotate_filter,),
    "grad-input-stride-ignored": (_scale_output,),
    "grad-input-padding-offset": (_pad_offset,),
    "grad-input-overwrite-not-accumulate": (_accumulate, _hoist_reset, _add_at),
    "grad-input-wraparound": (_lower_bound,),
    "grad-input-unpad-empty-at-pad0": (_crop,),
    "grad-bias-not-summed": (_batch_sum,),
}


# Per catalogue id: rewrites of einsum calls, which the locate rule (index expressions) does not visit.
EINSUM_REWRITES = {
    "filter-indexed-by-output": (_einsum_filter_taps,),
}


def _einsum_sites(dotted, file, source, layout) -> list:
    """(Facts, einsum call) for each einsum in the bound function and the helpers it calls."""
    tree = source_tree(file, source)
    if tree is None:
        return []
    out = []
    for fn in functions_to_search(tree, dotted):
        facts = None
        for n in ast.walk(fn):
            if isinstance(n, ast.Call) and einsum_spec(n) is not None:
                facts = facts or function_facts(file, source, fn, layout, tree)
                out.append((facts, n))
    return out


def _merge(edit_lists):
    """One candidate from several node edits, or None when two of them touch the same text."""
    edits = list(dict.fromkeys(e for lst in edit_lists for e in lst))      # the same edit from two nodes once
    spans = sorted((e.start, e.end) for e in edits)
    for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
        if b0 < a1 or (a0 == a1 == b0 == b1):
            return None
    return tuple(edits)


def candidates_for(bug: str, target: str, dotted: str, file: str, source: str, layout: str) -> list[Candidate]:
    """Candidates undoing `bug` in the function bound for `target`: all nodes of a function at once, then each."""
    rewrites = REWRITES.get(bug, ())
    found = [(facts, node, rewrites) for facts, node in python_candidates(bug, target, dotted, file, source, layout)]
    if bug in EINSUM_REWRITES:
        found += [(facts, node, EINSUM_REWRITES[bug]) for facts, node in _einsum_sites(dotted, file, source, layout)]
    if not found:
        return []
    t = _Text(source)
    per_node: list[tuple[int, list]] = []            # (function id, [edit lists]) per node
    for facts, node, rws in found:
        for rw in rws:
            try:
                options = rw(facts, t, node)
            except (AttributeError, IndexError, ValueError, TypeError):
                options = []
            if options:
                per_node.append((id(facts.func), node, options))
    out: list[Candidate] = []
    seen = set()

    def add(edits, what):
        if edits and edits not in seen:
            seen.add(edits)
            out.append(Candidate(file, edits, bug, what))

    by_func: dict = {}
    for fid, node, options in per_node:
        by_func.setdefault(fid, []).append(options)
    for fid, groups in by_func.items():
        if len(groups) > 1:
            for choice in range(max(len(g) for g in groups)):
                merged = _merge([g[min(choice, len(g) - 1)] for g in groups])
                add(merged, bug)
    for _, node, options in per_node:
        for opt in options:
            add(_merge([opt]), bug)
    return out


def candidates(diagnoses, bound: dict, sources: dict, layout: str, failing_targets=(),
               protected=()) -> list[Candidate]:
    """Candidates for the diagnosed ids first, then every other catalogue id on the failing targets.

    No candidate edits inside a `protected` function (one whose checks all pass): a rewrite found
    through a helper or a shared target must not make a right function wrong.
    """
    out = _all_candidates(diagnoses, bound, sources, layout, failing_targets)
    spans = {f: _function_spans(f, src, protected) for f, src in sources.items()} if protected else {}
    return [c for c in out if not any(a <= e.start and e.end <= b for e in c.edits for a, b in spans.get(c.file, ()))]


def _function_spans(file, source, names) -> list[tuple[int, int]]:
    """Character spans of the named functions' defs in one file."""
    tree = source_tree(file, source)
    if tree is None:
        return []
    t = _Text(source)
    out = []
    for name in names:
        fn = find_function(tree, name)
        if fn is not None and getattr(fn, "lineno", None) is not None:
            out.append(t.span(fn))
    return out


def _all_candidates(diagnoses, bound, sources, layout, failing_targets) -> list[Candidate]:
    targets = list(dict.fromkeys([d.target for d in diagnoses] + list(failing_targets)))
    order = [(d.bug, d.target) for d in diagnoses if d.bug]
    order += [("recomputed", target) for target in targets if target in RECOMPUTED]
    for target in targets:
        order += [(bug, target) for bug in REWRITES if _target_of(bug) == target and (bug, target) not in order]
    out, seen = [], set()
    for bug, target in order:
        if bug == "recomputed":
            out += [c for c in recomputed(target, bound, sources) if (c.file, c.edits) not in seen]
            seen |= {(c.file, c.edits) for c in out}
            continue
        name = bound.get(target)
        if not name:
            continue
        for file, source in sources.items():
            for c in candidates_for(bug, target, name, file, source, layout):
                if (c.file, c.edits) not in seen:
                    seen.add((c.file, c.edits))
                    out.append(c)
    return out


RECOMPUTED = {"grad_input": "grad-input-padding-offset", "grad_filter": "grad-filter-padding-ignored"}


def recomputed(target: str, bound: dict, sources: dict) -> list[Candidate]:
    """The gradient recomputes a size the forward also computes (ph = ...), differently: use the forward's."""
    found = {}
    for role in ("forward", target):
        for file, source in sources.items():
            tree = source_tree(file, source)
            fn = find_function(tree, bound.get(role, "")) if tree is not None and bound.get(role) else None
            if fn is not None:
                found[role] = (file, source, fn)
                break
    if len(found) < 2 or found["forward"][2] is found[target][2]:
        return []
    _, fsrc, ffn = found["forward"]
    file, source, gfn = found[target]
    t = _Text(source)
    forward = {}
    for n in ast.walk(ffn):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            forward.setdefault(n.targets[0].id, ast.get_source_segment(fsrc, n.value))
    out = []
    for n in ast.walk(gfn):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and \
                isinstance(n.value, ast.BinOp):
            theirs = forward.get(n.targets[0].id)
            if theirs and theirs != t.seg(n.value):
                out.append(Candidate(file, (t.replace(n.value, theirs),), RECOMPUTED.get(target, target),
                                     f"{n.targets[0].id} as the forward computes it"))
    if len(out) > 1:                                   # ph and pw together first
        out.insert(0, Candidate(file, tuple(e for c in out for e in c.edits), out[0].rule, "as the forward"))
    return out


def _target_of(bug: str) -> str:
    if bug.startswith("grad-filter"):
        return "grad_filter"
    if bug.startswith("grad-input"):
        return "grad_input"
    if bug.startswith("grad-bias"):
        return "grad_bias"
    return "forward"
