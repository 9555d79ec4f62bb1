"""A verified fix for grouped, transposed and pooling layers: small edits of the located line.

The located line of each diagnosis is rewritten token by token, the way these
slips are made: a sign flipped (+ p / - p), a name for another name of the same
function (Fg for Cg), two names swapped (m * C + c for c * M + m, which takes a
swap and a rename), the stride multiplied in (i + r for i * s + r). Each
candidate runs through the same checks, same seed and options, on a copy in a
temporary directory; only a copy that passes every check is reported as
verified. The user's files are never written. Closest edits are tried first,
within a candidate cap and a time budget.

Some mistakes are undone by an edit that is not a token swap; those rewrites are
data, keyed by catalogue id (RULES), and tried first for the id diagnosed: the
divisor as the size of the window the code reads (its bounds r0:r1, c0:c1),
floor division rounded up (ceil_mode), a max pool's padding filled with -inf, a
whole axis `:` read where one index was meant. When no edit passes, the report
says what the fix is (the catalogue's sentence) and that it was not a one-line edit.
"""
from __future__ import annotations

import keyword
import re
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from ..binding.layouts import spatial_sizes
from ..binding.window_ops import CONV_PARAM_KEYS, POOL_PARAM_KEYS
from ..result import FixResult
from .fix import passes_as_before, unified_diff
from .rewrites import REWRITES, apply_edits, candidates_for

MAX_CANDIDATES = 80
SECONDS = 12.0
IDENT = re.compile(r"[A-Za-z_]\w*")
SKIP = set(keyword.kwlist) | {"np", "numpy", "range", "len", "min", "max", "sum", "abs", "self", "var", "for",
                              "function", "Math", "return", "int", "float", "zeros", "shape", "axis", "print",
                              "true", "false", "None", "True", "False", "length", "push", "floor", "ceil"}
ASSIGNED = re.compile(r"(?:^|[;{]|\bvar\s+|\blet\s+|\bconst\s+)\s*([A-Za-z_]\w*)\s*=(?!=)", re.M)
LOOP_VARS = re.compile(r"\bfor\s*\(?\s*(?:var\s+|let\s+)?([A-Za-z_]\w*)\s*(?:in\b|=)")
BOUNDS = (re.compile(r"(?<=[\[,])\s*([A-Za-z_]\w*)\s*:\s*([A-Za-z_]\w*)\s*(?=[,\]])"),        # x[.., r0:r1, ..]
          re.compile(r"\brange\(\s*([A-Za-z_]\w*)\s*,\s*([A-Za-z_]\w*)\s*\)"),             # range(r0, r1)
          re.compile(r"\bfor\s*\(\s*(?:var\s+|let\s+)?(\w+)\s*=\s*(\w+)\s*;\s*\1\s*<\s*(\w+)"))  # JS loops
QUOTED = re.compile(r"""(['"])([A-Za-z_]\w*)\1""")


def _similar(a: str, b: str) -> int:
    """Lower is closer: same length and one character apart first (Fg/Cg), case twins (m/M) next."""
    if a.lower() == b.lower():
        return 1
    if len(a) == len(b) > 1 and sum(x != y for x, y in zip(a, b)) == 1:
        return 0
    return 3 + abs(len(a) - len(b))


def _twin(a: str, b: str) -> bool:
    """Names of the same index on another axis: i/j, ki/kj, r0/c0 (same length, one character apart)."""
    return a != b and len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


def _line_candidates(line: str, names: list[str], strides: list[str]):
    """(priority, new line, description) for one line."""
    out = []
    code, sep, comment = line.partition("#")
    toks = [(m.start(), m.end(), m.group()) for m in IDENT.finditer(code)
            if m.group() not in SKIP and not code[max(0, m.start() - 1)] in "'\"."]
    for m in re.finditer(r"(?<=\s)([+-])(?=\s)", code):
        flipped = code[:m.start()] + ("-" if m.group() == "+" else "+") + code[m.end():]
        after = IDENT.match(code, m.end() + 1)
        out.append((0, flipped + sep + comment, f"'{m.group()}' -> '{'-' if m.group() == '+' else '+'}'",
                    (m.group(), after.group()) if after else None))
    adds = [m for m in re.finditer(r"\b([A-Za-z_]\w*)(\s*\+\s*)", code) if m.group(1) not in SKIP]
    for m in adds:
        # the stride multiplied in, at this index and at its twins on the other axes (i + r, j + s)
        group = [x for x in adds if x.group(1) == m.group(1) or _twin(x.group(1), m.group(1))]
        for s in strides:
            for chosen in ([m], group) if len(group) > 1 else ([m],):
                new = code
                for x in sorted(chosen, key=lambda x: -x.end(1)):
                    new = new[:x.end(1)] + f" * {s}" + new[x.end(1):]
                what = ", ".join(f"{x.group(1)} -> {x.group(1)} * {s}" for x in chosen)
                out.append((1 if len(chosen) > 1 else 1.5, new + sep + comment, what, None))
    # a filter read unflipped: index X -> K - 1 - X, with X's twin on the other axis flipped alike
    sizes = [n for n in names if re.fullmatch(r"K\w{0,2}|k[hwds]?|ksize|F[HW]?|f[hw]", n)]
    opened = {t: code.rfind("[", 0, t[0]) for t in toks}
    bare = re.compile(r"[\[,]\s*$")
    inside = [t for t in toks if opened[t] > code.rfind("]", 0, t[0])        # a bare subscript: w[:, :, a, e]
              and bare.search(code[:t[0]]) and re.match(r"\s*[,\]]", code[t[1]:])]
    for start, end, name in inside:
        group = [t for t in inside if opened[t] == opened[(start, end, name)] and (t[2] == name or _twin(t[2], name))]
        for size in sizes:
            new = code
            for gs, ge, gname in sorted(group, key=lambda t: -t[0]):
                twin_size = next((z for z in sizes if len(z) > 1 and _twin(z, size) and gname != name), size)
                new = new[:gs] + f"{twin_size} - 1 - {gname}" + new[ge:]
            out.append((1.7, new + sep + comment, f"{', '.join(g[2] for g in group)} read flipped with {size}", None))
    # a filter read flipped where it should not be: K - 1 - X -> X (every such read on the line)
    unflipped = re.sub(r"\b[A-Za-z_]\w*\s*-\s*1\s*-\s*([A-Za-z_]\w*)\b", r"\1", code)
    if unflipped != code:
        out.append((1.6, unflipped + sep + comment, "the flipped reads K - 1 - X read as X", "unflip"))
    # a term left out of a size formula (output_padding)
    for extra in [n for n in names if re.fullmatch(r"out\w*pad\w*|o_?pad\w*", n) and n not in code]:
        if re.search(r"\w\s*=\s*.*[+-]", code):
            out.append((1.8, code.rstrip() + f" + {extra}" + sep + comment, f"+ {extra} added", None))
    for start, end, name in toks:
        for other in names:
            if other == name:
                continue
            score = _similar(name, other)
            new = code[:start] + other + code[end:]
            out.append((2 + score if score <= 1 else 6 + score, new + sep + comment, f"{name} -> {other}", None))
    seen = set()
    for i, (s1, e1, a) in enumerate(toks):
        for s2, e2, b in toks[i + 1:]:
            if a == b or (a, b) in seen:
                continue
            seen.add((a, b))
            swapped = re.sub(rf"\b({re.escape(a)}|{re.escape(b)})\b", lambda m: b if m.group() == a else a, code)
            out.append((3.5, swapped + sep + comment, f"{a} <-> {b}", None))
            # the same slip on the other axis: (i, ki) and (j, kj) swapped together
            for s3, e3, c in toks:
                for s4, e4, dd in toks:
                    if len({a, b, c, dd}) == 4 and _twin(a, c) and _twin(b, dd):
                        both = re.sub(rf"\b({re.escape(c)}|{re.escape(dd)})\b",
                                      lambda m: dd if m.group() == c else c, swapped)
                        out.append((3.5, both + sep + comment, f"{a} <-> {b}, {c} <-> {dd}", None))
            # a count and its index swapped together (m * C + c for c * M + m): the case twins too
            ta, tb = a.swapcase(), b.swapcase()
            if ta != a and tb != b and ta in names and tb in names:
                both = re.sub(rf"\b({re.escape(ta)}|{re.escape(tb)})\b", lambda m: tb if m.group() == ta else ta,
                              swapped)
                out.append((3.5, both + sep + comment, f"{a} <-> {b}, {ta} <-> {tb}", None))
    out.sort(key=lambda c: c[0])   # stable: closest edits first, left to right
    unique, seen_lines = [], set()
    for c in out:
        if c[1] != line and c[1] not in seen_lines:
            seen_lines.add(c[1])
            unique.append(c)
    return unique


def _index_names(body: str) -> list[str]:
    """Short lowercase names the code indexes with: loop variables and plainly assigned ones (c = f // M)."""
    names = LOOP_VARS.findall(body) + ASSIGNED.findall(body)
    return [n for n in dict.fromkeys(names) if len(n) <= 3 and n.islower() and n not in SKIP]


def _whole_axis_to_index(line, body, ndim):
    """`xp[n, :, ...]` -> `xp[n, c, ...]`: a whole axis read (summed over) where one index was meant."""
    code, sep, comment = line.partition("#")
    out = []
    for m in re.finditer(r"(?<=[\[,])(\s*):(\s*)(?=[,\]])", code):
        for name in _index_names(body):
            out.append((code[:m.start()] + m.group(1) + name + code[m.end() - len(m.group(2)):] + sep + comment,
                        f"':' -> '{name}'"))
    return out


def _window_size_divisor(line, body, ndim):
    """`count = kh * kw` -> `count = (r1 - r0) * (c1 - c0)`: divide by the cells the window really reads,
    from the bounds the code itself slices or loops with."""
    pairs = []
    for pattern in BOUNDS:
        for m in pattern.finditer(body):
            lo, hi = m.group(m.lastindex - 1), m.group(m.lastindex)
            if lo != hi and not lo.isdigit() and (lo, hi) not in pairs:
                pairs.append((lo, hi))
    target = re.match(r"(\s*(?:var\s+|let\s+|const\s+)?[\w.]+\s*=\s*)(.*?)(\s*;?\s*(?:#.*|//.*)?)$", line)
    # or the divisor written inline: `... / (k * k)`, `/ k**2`, `/ (kh * kw)`
    inline = INLINE_DIVISOR.search(line)
    if (target is None and inline is None) or not pairs:
        return []
    out = []
    for i in range(len(pairs) - ndim + 1):
        chosen = pairs[i:i + ndim]
        if len({hi for _, hi in chosen}) < ndim:
            continue
        product = " * ".join(f"({hi} - {lo})" for lo, hi in chosen)
        if target is not None and product != target.group(2):
            out.append((target.group(1) + product + target.group(3), f"divide by {product}, the cells the window reads"))
        elif inline is not None:
            out.append((line[:inline.start(1)] + f"({product})" + line[inline.end(1):],
                        f"divide by {product}, the cells the window reads"))
    return out


# a divisor made of sizes only, right after `/`: (k * k), (kh * kw), k ** 2, (k ** 2), k*k
INLINE_DIVISOR = re.compile(r"/\s*(\(\s*[A-Za-z_][\w.]*(?:\s*\*\s*[A-Za-z_][\w.]*)+\s*\)"
                            r"|\(?\s*[A-Za-z_][\w.]*\s*\*\*\s*\d+\s*\)?"
                            r"|[A-Za-z_][\w.]*(?:\s*\*\s*[A-Za-z_][\w.]*)+)")


def _rounded_up(line, body, ndim):
    """Output size rounded up (ceil_mode): `(A) // s` -> `-(-(A) // s)`, `Math.floor(` -> `Math.ceil(`."""
    code, sep, comment = line.partition("#")
    out = []
    # with padding, torch drops a last window that would start in the padding after the input:
    # (n + 2p - k) // s + 1 -> min(-(-(n + 2p - k) // s) + 1, (n + p - 1) // s + 1)
    padded = re.compile(r"\(\s*(([A-Za-z_]\w*)\s*\+\s*2\s*\*\s*([A-Za-z_]\w*)\s*-\s*[A-Za-z_]\w*)\s*\)\s*//\s*"
                        r"([A-Za-z_]\w*)\s*\+\s*1\b")
    up = padded.sub(lambda m: f"min(-(-({m.group(1)}) // {m.group(4)}) + 1, "
                              f"({m.group(2)} + {m.group(3)} - 1) // {m.group(4)} + 1)", code)
    if up != code:
        out.append((up + sep + comment, "the size rounded up, without a last window that starts in the padding"))
    up = re.sub(r"\(([^()]*)\)\s*//\s*([A-Za-z_]\w*)", r"-(-(\1) // \2)", code)
    if up != code:
        out.append((up + sep + comment, "the size rounded up: -(-(a) // s)"))
    up = re.sub(r"\b(Math|math|np|numpy)\.floor\(", r"\1.ceil(", code)
    if up != code and "//" not in code.split("floor")[0][-3:]:
        out.append((up + sep + comment, "floor -> ceil"))
    # rounded up already, but keeping a last window that starts in the after-padding: cap the count
    # at the windows starting before n + p, (n + p - 1) // s + 1
    sizes = re.search(r"ceil\W*\(\s*\(?\s*([A-Za-z_]\w*)\s*\+\s*2\s*\*\s*([A-Za-z_]\w*)\s*-\s*[A-Za-z_]\w*\s*\)?"
                      r"\s*/\s*([A-Za-z_]\w*)", code)
    assigned = _assignment(code)
    if sizes and assigned:
        (n, p, s), (lhs, rhs, end) = sizes.groups(), assigned
        capped = (f"Math.min({rhs}, Math.floor(({n} + {p} - 1) / {s}) + 1)" if end
                  else f"min({rhs}, ({n} + {p} - 1) // {s} + 1)")
        out.append((f"{lhs}= {capped}{end}" + sep + comment, "no last window that starts in the padding after the input"))
    flag = re.search(r"\b(ceil_mode|ceilMode|ceil)\b", body)
    if flag and not re.search(r"ceil", code):   # a floor line in code that takes the flag: round up only when asked
        out = [(_when(flag.group(1), new, code) + sep + comment, f"{what}, when {flag.group(1)}")
               for new, what in ((n.partition("#")[0], w) for n, w in out)] + out
    return out


def _assignment(code: str) -> tuple[str, str, str] | None:
    """`lhs = rhs;` -> (lhs, rhs without its ';', the ';' or ''): one split for the size-line rewrites
    (Python or JavaScript); None for a line that assigns nothing or compares (==)."""
    lhs, eq, rhs = code.partition("=")
    if not eq or "==" in code:
        return None
    rhs = rhs.strip()
    return lhs, rhs.rstrip(";").rstrip(), ";" if rhs.endswith(";") else ""


def _when(flag: str, new: str, old: str) -> str:
    """`size = NEW` only when `flag`, else the old right-hand side (Python or JavaScript)."""
    (lhs, rhs_new, _), (_, rhs_old, end) = _assignment(new), _assignment(old)
    if end:
        return f"{lhs}= {flag} ? {rhs_new} : {rhs_old};"
    return f"{lhs}= {rhs_new} if {flag} else {rhs_old}"


def _minus_infinity_padding(line, body, ndim):
    """A max pool's padding filled with -inf (np.pad's default zeros win all-negative windows)."""
    out = []
    m = re.search(r"\bnp\.pad\(", line)
    if m and "constant_values" not in line:
        depth = 0
        for i in range(m.end() - 1, len(line)):
            depth += {"(": 1, ")": -1}.get(line[i], 0)
            if depth == 0:
                out.append((line[:i] + ", constant_values=-np.inf" + line[i:], "padding filled with -np.inf"))
                break
    if re.search(r"\.fill\(\s*0\s*\)", line):
        out.append((re.sub(r"\.fill\(\s*0\s*\)", ".fill(-Infinity)", line), "padding filled with -Infinity"))
    # a read outside the input that falls back to 0 (inside ? img[r][c] : 0, or x[r, c] if inside else 0)
    if re.search(r"\?[^:?]*:\s*0(\.0*)?\b", line):
        out.append((re.sub(r"(\?[^:?]*:\s*)0(\.0*)?\b", r"\1-Infinity", line, count=1),
                    "a cell outside the input read as -Infinity, not 0"))
    if re.search(r"\belse\s+0(\.0*)?\b", line):
        out.append((re.sub(r"\belse\s+0(\.0*)?\b", "else float('-inf')", line, count=1),
                    "a cell outside the input read as -inf, not 0"))
    return out


def _accumulated(line, body, ndim):
    """dx[...] = g -> dx[...] += g: a gradient added where windows overlap, not overwritten."""
    m = re.search(r"\]\s*=(?!=)", line)
    return [(line[:m.start()] + "] +=" + line[m.end():], "the gradient added (+=), not assigned")] if m else []


def _string_keys(line, body, ndim):
    """`pool_param['stride'], pool_param['stride']` -> `pool_param['pool_height'], pool_param['pool_width']`:
    a dictionary read with the wrong key (one occurrence, or two read with another pair of keys); the keys
    are the file's own and those corrcheck's *_param dicts carry."""
    keys = list(dict.fromkeys([m.group(2) for m in QUOTED.finditer(body)] + list(POOL_PARAM_KEYS + CONV_PARAM_KEYS)))
    found = list(QUOTED.finditer(line))
    out = []
    for m in found:
        for k in keys:
            if k != m.group(2):
                out.append((line[:m.start(2)] + k + line[m.end(2):], f"'{m.group(2)}' -> '{k}'"))
    same = [m for m in found if m.group(2) == found[0].group(2)] if found else []
    if len(same) == 2:
        a, b = same
        for k1 in keys:
            for k2 in keys:
                if len({k1, k2, a.group(2)}) == 3:
                    new = line[:a.start(2)] + k1 + line[a.end(2):b.start(2)] + k2 + line[b.end(2):]
                    out.append((new, f"'{a.group(2)}', '{a.group(2)}' -> '{k1}', '{k2}'"))
    return out


def _stride_to_position(line, body, ndim):
    """`i + ki * stride` -> `i * stride + ki`: in a transposed convolution the stride spreads the input
    position, not the filter tap (also the other way round, for the forward's slip mirrored)."""
    code, sep, comment = line.partition("#")
    pattern = re.compile(r"\b([A-Za-z_]\w*)\s*\+\s*([A-Za-z_]\w*)\s*\*\s*(s|stride\w*|step)\b")
    moved = pattern.sub(lambda m: f"{m.group(1)} * {m.group(3)} + {m.group(2)}", code)
    return [(moved + sep + comment, "the stride moved from the tap to the input position")] if moved != code else []


def _multiplier_order(line, body, ndim):
    """`m * C + c` -> `c * M + m`: output channels numbered channel-major (torch: f = c * M + m)."""
    code, sep, comment = line.partition("#")
    names = set(IDENT.findall(body))

    def swap(m):
        a, big, b = m.group(1), m.group(2), m.group(3)
        if big != b.upper() or a.upper() not in names:
            return m.group()
        return f"{b} * {a.upper()} + {a}"
    moved = re.sub(r"\b([a-z]\w*)\s*\*\s*([A-Z]\w*)\s*\+\s*([a-z]\w*)\b", swap, code)
    return [(moved + sep + comment, "the output channel numbered c * M + m")] if moved != code else []


def _rename_all(line, body, ndim):
    """A name used twice on the line renamed in both places (g * Fg:g * Fg + Cg -> g * Cg:g * Cg + Cg)."""
    code, sep, comment = line.partition("#")
    names = sorted({n for n in IDENT.findall(body) if n not in SKIP and len(n) <= 20})
    counts = {}
    for m in IDENT.finditer(code):
        counts[m.group()] = counts.get(m.group(), 0) + 1
    out = []
    for name, n in counts.items():
        if n < 2 or name in SKIP:
            continue
        for other in names:
            if other != name and _similar(name, other) <= 1:
                out.append((re.sub(rf"\b{re.escape(name)}\b", other, code) + sep + comment,
                            f"every {name} -> {other}"))
    return out


def _group_start_factor(source, line, strides):
    """`c0 = g * Fg` (and `c0 = (f // Fg) * Fg` elsewhere): a group's first channel counted in filters
    per group; the factor that multiplies the group index becomes a look-alike name (Cg), on every
    line that assigns a group start with it, forward and backward together."""
    m = re.search(r"=.*\*\s*([A-Za-z_]\w*)\s*(?:#.*)?$", line)
    if m is None:
        return []
    factor = m.group(1)
    starts = re.compile(rf"^(\s*[A-Za-z_]\w*\s*=.*\*\s*){re.escape(factor)}(\s*(?:#.*)?)$", re.M)
    out = []
    for other in sorted({n for n in IDENT.findall(source) if n not in SKIP and n != factor
                         and _similar(factor, n) <= 1}):
        new = starts.sub(lambda mm: f"{mm.group(1)}{other}{mm.group(2)}", source)
        if new != source:
            out.append((new, f"each group starts at g * {other}, not g * {factor}"))
    return out


def _window_as_stride(source, line, strides):
    """Windows stepped by their own size (`i * k + a` with `H / k` windows): step by the stride in the
    indices and count windows as (n - k) / s + 1, in the located function's file. A whole-file rewrite:
    the slip is in two places (the indices and the size) that must change together."""
    m = re.search(r"\b([A-Za-z_]\w*)\s*\*\s*([A-Za-z_]\w*)\s*\+\s*[A-Za-z_]\w*", line)
    if m is None:
        return []
    k = m.group(2)
    out = []
    for s in [n for n in strides if n != k]:
        new = re.sub(rf"\b([A-Za-z_]\w*)\s*\*\s*{re.escape(k)}(\s*\+)", rf"\1 * {s}\2", source)
        new = re.sub(rf"\b(Math\.floor|math\.floor|int)\(\s*([A-Za-z_]\w*)\s*/\s*{re.escape(k)}\s*\)",
                     rf"(\1((\2 - {k}) / {s}) + 1)", new)
        new = re.sub(rf"(?<![\w.])([A-Za-z_]\w*)\s*//\s*{re.escape(k)}\b", rf"((\1 - {k}) // {s} + 1)", new)
        if new != source:
            out.append((new, f"windows stepped by {s}, counted as (n - {k}) / {s} + 1"))
    return out


def _swap_pair(line, body, ndim):
    """`r, c = t % k, t // k` / `const r = t % k, c = Math.floor(t / k)`: the two values swapped."""
    js_comment = re.search(r";\s*(//.*)$", line)       # JavaScript's comment; Python's // is a division
    code, sep, comment = (line[:js_comment.start(1)], "", js_comment.group(1)) if js_comment else line.partition("#")
    out = []
    m = re.match(r"^(\s*)([A-Za-z_]\w*)\s*,\s*([A-Za-z_]\w*)\s*=\s*(.+?),\s*(.+?)\s*$", code)
    if m and m.group(4).count("(") == m.group(4).count(")"):
        out.append((f"{m.group(1)}{m.group(2)}, {m.group(3)} = {m.group(5)}, {m.group(4)}" + sep + comment,
                    f"{m.group(2)} and {m.group(3)} swapped"))
    m = re.match(r"^(\s*(?:const|let|var)\s+)([A-Za-z_]\w*)\s*=\s*(.+?),\s*([A-Za-z_]\w*)\s*=\s*(.+?);(.*)$", code)
    if m and m.group(3).count("(") == m.group(3).count(")"):
        out.append((f"{m.group(1)}{m.group(2)} = {m.group(5)}, {m.group(4)} = {m.group(3)};{m.group(6)}" + sep + comment,
                    f"{m.group(2)} and {m.group(4)} swapped"))
    return out


def _stride_on_position(line, body, ndim):
    """`dx[n, c, y + r, x + q]`: the window offset added to the output index; start the window at
    y * stride (each stride name the code has: s, stride, self.stride)."""
    strides = list(dict.fromkeys(m.group(0) for m in re.finditer(r"\b(?:self\.|this\.)?(?:s|stride\w*|step)\b", body)))
    out = []
    plain = re.compile(r"(?<=[\[,])(\s*)([A-Za-z_]\w*)(\s*\+\s*)(?=[^,\]]+[\],])")
    for s in strides:
        new = plain.sub(lambda m: f"{m.group(1)}{m.group(2)} * {s}{m.group(3)}", line)
        if new != line:
            out.append((new, f"each window starts at the output index times {s}"))
    return out


def _window_keys(source, line, strides):
    """`HH = pool_param['stride']` (and WW, in forward and backward): each window extent read from
    its own key, the height's from 'pool_height', the width's from 'pool_width' (named by the
    variable it is stored in: h/H or w/W)."""
    read = re.compile(r"^(\s*)([A-Za-z_]\w*)(\s*=\s*[A-Za-z_]\w*\[\s*['\"])stride(['\"]\s*\])", re.M)

    def key(m):
        name = m.group(2)
        if re.fullmatch(r"s|S|stride\w*|step", name):
            return m.group(0)
        axis = "pool_height" if re.search(r"h|H", name) else "pool_width" if re.search(r"w|W", name) else None
        return m.group(0) if axis is None else f"{m.group(1)}{name}{m.group(3)}{axis}{m.group(4)}"
    new = read.sub(key, source)
    return [(new, "each window extent read from its own key (pool_height, pool_width)")] if new != source else []


def _output_padding_added(line, body, ndim):
    """`H_out = (H - 1) * s - 2 * p + k` -> `... + k + op`, with op the name the function already
    reads output_padding into (a parameter, or `op = conv_param['output_padding']`)."""
    names = []
    for m in re.finditer(r"^\s*([A-Za-z_][\w, ]*?)\s*=\s*([^=\n]+)$", body, re.M):   # op = ..., or s, op = a, b
        left, right = [t.strip() for t in m.group(1).split(",")], [t.strip() for t in m.group(2).split(",")]
        pairs = zip(left, right) if len(left) == len(right) else ((left[0], m.group(2)),) if len(left) == 1 else ()
        names += [n for n, v in pairs if re.search(r"output_?padding", v) and n.isidentifier()]
    names += ["output_padding"] if re.search(r"\boutput_padding\b", body) else []
    code, sep, comment = line.partition("#")
    assigned = _assignment(code)
    if assigned is None:
        return []
    lhs, rhs, end = assigned
    return [(f"{lhs}= {rhs} + {name}{end}" + (" " + sep + comment if sep else ""),
             f"+ {name} (output_padding) in the output size")
            for name in dict.fromkeys(names) if not re.search(rf"\b{re.escape(name)}\b", rhs)]


def _function_span(lines, at):
    """(first, end) line indices of the def / function that holds line `at` (by indentation)."""
    indent = lambda t: len(t) - len(t.lstrip())
    first = next((i for i in range(at, -1, -1) if re.match(r"\s*(async\s+)?(def|function)\b", lines[i])
                  and indent(lines[i]) < indent(lines[at])), None)
    if first is None:
        return None
    end = next((i for i in range(at + 1, len(lines)) if lines[i].strip()
                and indent(lines[i]) <= indent(lines[first])), len(lines))
    return first, end


def _crop_in_function(source, line, strides):
    """`r = i * stride + ki` on every axis of the located function -> `... - pad`: the output position
    of a transposed convolution crops the padding, and each axis has its own line."""
    lines = source.splitlines(keepends=True)
    bare = [t.rstrip("\n") for t in lines]
    if line not in bare:
        return []
    span = _function_span(lines, bare.index(line))
    index = re.compile(rf"(\b[A-Za-z_]\w*\s*\*\s*(?:{'|'.join(map(re.escape, strides)) or 's'})\s*\+\s*[A-Za-z_]\w*)"
                       r"(?!\s*[-+]\s*[A-Za-z_(])(?=\s*(;|,|$|\)))", re.M)
    out = []
    # the whole file first (the forward and its backward often share the slip), then the located function
    for first, end, where in ((0, len(lines), "the file"),) + ((span + ("this function",),) if span else ()):
        body = "".join(lines[first:end])
        for pad in [n for n in ("padding", "pad", "p") if re.search(rf"\b{n}\b", body)]:
            new = index.sub(rf"\1 - {pad}", body)
            if new != body:
                out.append(("".join(lines[:first]) + new + "".join(lines[end:]),
                            f"every output position in {where} crops the padding: ... - {pad}"))
    return out


# catalogue id -> whole-file rewrites, for slips made in two places at once
FILE_RULES = {"pool-stride-as-window": (_window_as_stride, _window_keys), "group-offset-wrong": (_group_start_factor,), "transpose-padding-added": (_crop_in_function,)}

# catalogue id -> rewrites that undo it; tried first, in this order, for the diagnosed id
FILTER_NAMES = r"(w|W|weight\w*|weights|kernel\w*|filt\w*|self\.\w+)"


def _flip_filter_argument(line, body, ndim):
    """`np.einsum('...', patch, w)` -> `..., w[..., ::-1, ::-1])`: the filter handed to a product whole
    (einsum, tensordot, dot, matmul, @) read reversed on every spatial axis."""
    reverse = "[..., " + ", ".join(["::-1"] * ndim) + "]"
    out = []
    for m in re.finditer(rf"(?<![\w.\[])({FILTER_NAMES})(?![\w\[(])", line):
        before = line[:m.start()]
        if not re.search(r"(einsum|tensordot|dot|matmul|convolve|correlate)\(|@\s*$", before):
            continue
        out.append((line[:m.end()] + reverse + line[m.end():], f"{m.group(1)} read reversed on every spatial axis"))
    return out


def _flip_before_transpose(line, body, ndim):
    """`k.transpose(1, 0, 2, 3)` / `np.swapaxes(k, 0, 1)` in/out swapped but not reversed: the
    mytorch form's filter is also flipped, so reverse its spatial axes where it is swapped."""
    reverse = "[..., " + ", ".join(["::-1"] * ndim) + "]"
    out = []
    for m in re.finditer(r"([A-Za-z_][\w.]*)\.(transpose|swapaxes)\(", line):
        out.append((line[:m.end(1)] + reverse + line[m.end(1):], f"{m.group(1)} reversed on every spatial axis "
                    f"where it is swapped"))
    for m in re.finditer(r"\bnp\.(transpose|swapaxes)\(\s*([A-Za-z_][\w.]*)", line):
        out.append((line[:m.end(2)] + reverse + line[m.end(2):], f"{m.group(2)} reversed on every spatial axis "
                    f"where it is swapped"))
    return out


RULES = {
    "grad-input-overwrite-not-accumulate": (_accumulated,),
    "groups-channels-summed": (_whole_axis_to_index,),
    "transpose-filter-not-flipped": (_flip_filter_argument, _flip_before_transpose),
    "group-offset-wrong": (_rename_all,),
    "depth-multiplier-swapped": (_multiplier_order,),
    "transpose-stride-wrong-side": (_stride_to_position,),
    "avgpool-wrong-divisor": (_window_size_divisor,),
    "pool-stride-as-window": (_string_keys,),
    "ceil-mode-window-outside": (_rounded_up, _minus_infinity_padding),
    "transpose-output-padding-missing": (_output_padding_added,),
    "pool-gradient-wrong-cell": (_swap_pair, _stride_on_position),
}
# what the edit is, said when no candidate passes (the catalogue's sentence says why)
NOT_ONE_LINE = {
    "groups-channels-summed": "read only the group's channels (xp[n, c] with c = f // M, or the slice "
                              "g*C/G:(g+1)*C/G) and the group's own weights",
    "avgpool-wrong-divisor": "divide by the number of input cells each window covers (its clipped bounds, or a "
                             "ones array pooled the same way); if your layer is meant to count the padding, run "
                             "with --count-include-pad",
    "pool-stride-as-window": "the window size and the step are separate: both the indices (i*stride + a, a < "
                             "kernel) and the output size (n + 2p - k) // stride + 1 change",
    "ceil-mode-window-outside": "a max pool pads with -inf (a cell outside the input never wins); with ceil_mode, "
                                "round the output size up (ceil), clip the last window to the input and drop a "
                                "last window that would start in the padding after the input (torch's rule)",
    "transpose-output-padding-missing": "add output_padding to the output size, (n - 1)*s - 2p + d*(k - 1) + "
                                        "output_padding + 1; a function without an output_padding parameter needs one",
}


def _rule_candidates(bug, line, body, ndim):
    """(priority, new line, description, flip) from the id's rewrites, ahead of the token edits."""
    out = []
    for rule in RULES.get(bug, ()):
        out.extend((-1, new, what, None) for new, what in rule(line, body, ndim) if new != line)
    return out


def _tokens(text: str):
    return re.split(r"([A-Za-z_]\w*)", text.strip())


def _same_shape_names(x: str, y: str) -> bool:
    """One-letter names (i / j) and doubled ones (rr / cc): the same index on another axis."""
    return len(x) == len(y) and len(set(x)) == len(set(y)) == 1


def _analogue(old: str, other: str) -> dict | None:
    """{name in old: name in other} when `other` is `old` with names swapped for their twins on another
    axis (r = i*s + ki - p  /  c = j*s + kj - p), or the very same line (the backward's copy)."""
    a, b = _tokens(old), _tokens(other)
    if len(a) != len(b) or len(a) < 3:
        return None
    mapping = {}
    for i, (x, y) in enumerate(zip(a, b)):
        if i % 2 == 0:
            if x != y:
                return None
        elif x != y:
            if not _twin(x, y) and not _same_shape_names(x, y) or mapping.get(x, y) != y:
                return None
            mapping[x] = y
    return mapping


def _apply_everywhere(lines, index, new, ending) -> str:
    """The edited line, and the same edit on its analogues: its copy in the backward, its other axis."""
    old = lines[index]
    out = []
    for i, t in enumerate(lines):
        mapping = {} if i == index else _analogue(old, t)
        if mapping is None:
            out.append(t)
            continue
        body = "".join(mapping.get(tok, tok) if j % 2 else tok for j, tok in enumerate(_tokens(new)))
        out.append(t[:len(t) - len(t.lstrip())] + body + (ending if t.endswith("\n") else ""))
    return "".join(out)


def _shifted(cfg, result):
    """A second configuration for the proof: input one larger per axis, a non-square window turned
    round (a fix that only holds on the first shape, like kh for kw, is no fix)."""
    c = result.config or {}
    spatial, k = spatial_sizes(c)
    n, k = [v + 1 + i for i, v in enumerate(spatial)], list(k)
    changes = {}
    if n and cfg.input_size is None:
        changes["input_size"] = "x".join(map(str, n))
    if k and len(set(k)) > 1 and cfg.filter_size is None:
        changes["filter_size"] = "x".join(map(str, k[::-1]))
    return replace(cfg, **changes) if changes else None


def _passes(run_fn, cfg, result, copies, file, text, source) -> bool:
    copies[file].write_text(text, encoding="utf-8")
    try:
        files = tuple(str(copies[f]) for f in cfg.files)
        if not passes_as_before(result, run_fn(replace(cfg, files=files, fix=False))):
            return False
        second = _shifted(cfg, result)
        return second is None or passes_as_before(result, run_fn(replace(second, files=files, fix=False)))
    finally:
        copies[file].write_text(source, encoding="utf-8")


def search_window_fix(cfg, result, *, rerun) -> FixResult:
    """The first candidate edit with which every check passes, as a unified diff.

    `rerun(cfg) -> RunResult` checks one patched copy (the runner's `run`, passed in so this
    module does not import the runner that calls it)."""
    try:
        return _search(cfg, result, rerun)
    except Exception as exc:                           # the report must survive a failed search
        return FixResult(False, "", 0, f"no verified fix: the search stopped on an internal error "
                                       f"({type(exc).__name__})")


def _candidates(bug, line, names, strides, body, ndim):
    return _rule_candidates(bug, line, body, ndim) + _line_candidates(line, names, strides)


def _search(cfg, result, run_fn) -> FixResult:
    started = time.perf_counter()
    located = [(d.bug, d.location) for d in result.diagnoses if d.location is not None]
    if not located:
        return FixResult(False, "", 0, "no line to edit: the mistake could not be located")
    ndim = max(1, len(spatial_sizes(result.config or {})[0]))
    tried = 0
    with tempfile.TemporaryDirectory(prefix="corrcheck-fix-") as tmp:
        copies = {}
        for i, f in enumerate(cfg.files):
            dst = Path(tmp) / str(i) / Path(f).name
            dst.parent.mkdir(parents=True)
            shutil.copyfile(f, dst)
            copies[f] = dst
        # whole-file rewrites for slips made in two places at once (the indices and the size formula)
        for bug, loc in located:
            if loc.file not in copies or not FILE_RULES.get(bug):
                continue
            source = Path(loc.file).read_text(encoding="utf-8")
            line = source.splitlines()[loc.line - 1]
            strides = sorted({n for n in IDENT.findall(source) if re.fullmatch(r"s|stride\w*|step", n)})
            for rule in FILE_RULES[bug]:
                for patched, what in rule(source, line, strides):
                    if tried >= 2 * MAX_CANDIDATES:
                        break
                    tried += 1
                    if _passes(run_fn, cfg, result, copies, loc.file, patched, source):
                        return FixResult(True, unified_diff(loc.file, source, patched), tried,
                                         f"{what}: every check passes on the patched copy, also on a second shape")
        # a dense mistake made in every group (catalogue_ops.dense_in_every_group): the dense rewrites
        for d in result.diagnoses:
            if d.location is None or d.bug not in REWRITES or d.location.file not in copies:
                continue
            source = Path(d.location.file).read_text(encoding="utf-8")
            layout = (result.config or {}).get("layout", "nchw")
            for cand in candidates_for(d.bug, d.target, result.bound.get(d.target, ""), d.location.file, source,
                                       layout):
                if tried >= MAX_CANDIDATES or time.perf_counter() - started > SECONDS:
                    break
                tried += 1
                patched = apply_edits(source, cand.edits)
                if _passes(run_fn, cfg, result, copies, d.location.file, patched, source):
                    return FixResult(True, unified_diff(d.location.file, source, patched), tried,
                                     f"{cand.what}: every check passes on the patched copy, also on a second shape")
        done = set()
        for bug, loc in located:
            if (loc.file, loc.line) in done or loc.file not in copies:
                continue
            done.add((loc.file, loc.line))
            source = Path(loc.file).read_text(encoding="utf-8")
            lines = source.splitlines(keepends=True)
            old = lines[loc.line - 1]
            body = "".join(lines[max(0, loc.line - 60):loc.line + 60])
            names = sorted({n for n in IDENT.findall(body) if n not in SKIP and len(n) <= 20})
            strides = [n for n in names if re.fullmatch(r"s|stride\w*|step", n)]
            ending = "\n" if old.endswith("\n") else ""
            for _, new, what, flip in _candidates(bug, old.rstrip("\n"), names, strides, source, ndim):
                if tried >= MAX_CANDIDATES or time.perf_counter() - started > SECONDS:
                    break
                tried += 1
                patched = _apply_everywhere(lines, loc.line - 1, new, ending)
                if flip is not None:
                    # the same slip copied to other lines (the other axis, the backward): edit it everywhere
                    if flip == "unflip":
                        everywhere = re.sub(r"\b([A-Za-z_]\w*)\s*-\s*1\s*-\s*([A-Za-z_]\w*)\b", r"\2", source)
                        said = "every flipped read K - 1 - X read as X"
                    else:
                        sign, name = flip
                        other = "-" if sign == "+" else "+"
                        everywhere = re.sub(rf"(?<=\s){re.escape(sign)}(?=\s+{re.escape(name)}\b)", other, source)
                        said = f"'{sign} {name}' -> '{other} {name}' on every line that has it"
                    if everywhere != patched and everywhere != source and \
                            _passes(run_fn, cfg, result, copies, loc.file, everywhere, source):
                        return FixResult(True, unified_diff(loc.file, source, everywhere), tried,
                                         f"{said}: every check passes on the patched copy, also on a second shape")
                if _passes(run_fn, cfg, result, copies, loc.file, patched, source):
                    return FixResult(True, unified_diff(loc.file, source, patched), tried,
                                     f"{what} on line {loc.line}: every check passes on the patched copy, "
                                     f"also on a second shape")
        # the same edit on every located line (the slip repeated in forward and backward)
        by_file: dict = {}
        for bug, loc in located:
            by_file.setdefault(loc.file, {}).setdefault(loc.line, bug)
        for file, line_bugs in by_file.items():
            if len(line_bugs) < 2 or file not in copies:
                continue
            source = Path(file).read_text(encoding="utf-8")
            lines = source.splitlines(keepends=True)
            names = sorted({n for n in IDENT.findall(source) if n not in SKIP and len(n) <= 20})
            strides = [n for n in names if re.fullmatch(r"s|stride\w*|step", n)]
            per_line = {no: {c[2]: c[1] for c in reversed(_candidates(bug, lines[no - 1].rstrip("\n"), names, strides,
                                                                        source, ndim))}
                        for no, bug in sorted(line_bugs.items())}
            first = min(line_bugs)
            for _, _, what, _ in _candidates(line_bugs[first], lines[first - 1].rstrip("\n"), names, strides,
                                             source, ndim):
                if tried >= 2 * MAX_CANDIDATES or time.perf_counter() - started > 2 * SECONDS:
                    break
                if not all(what in per_line[no] for no in line_bugs):
                    continue
                tried += 1
                new_lines = list(lines)
                for no in line_bugs:
                    new_lines[no - 1] = per_line[no][what] + ("\n" if lines[no - 1].endswith("\n") else "")
                patched = "".join(new_lines)
                if _passes(run_fn, cfg, result, copies, file, patched, source):
                    return FixResult(True, unified_diff(file, source, patched), tried,
                                     f"{what} on lines {', '.join(map(str, sorted(line_bugs)))}: every check passes "
                                     f"on the patched copy, also on a second shape")
    out_of_time = time.perf_counter() - started > SECONDS
    needed = next((NOT_ONE_LINE[b] for b, _ in located if b in NOT_ONE_LINE), None)
    return FixResult(False, "", tried, "no single-line edit made every check pass"
                     + (" within the time budget" if out_of_time else "")
                     + (f"; the fix is not a one-line edit here: {needed}" if needed else ""))
