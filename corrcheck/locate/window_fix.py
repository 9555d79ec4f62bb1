"""A verified fix for grouped, transposed and pooling layers: small edits of the located line.

The located line of each diagnosis is rewritten token by token, the way these
slips are made: a sign flipped (+ p / - p), a name for another name of the same
function (Fg for Cg), two names swapped (m * C + c for c * M + m, which takes a
swap and a rename), the stride multiplied in (i + r for i * s + r). Each
candidate runs through the same checks, same seed and options, on a copy in a
temporary directory; only a copy that passes every check is reported as
verified. The user's files are never written. Closest edits are tried first,
within a candidate cap and a time budget.
"""
from __future__ import annotations

import keyword
import re
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from ..result import FixResult
from ..vocab import POOL_OPS
from .fix import unified_diff

MAX_CANDIDATES = 80
SECONDS = 12.0
IDENT = re.compile(r"[A-Za-z_]\w*")
SKIP = set(keyword.kwlist) | {"np", "numpy", "range", "len", "min", "max", "sum", "abs", "self", "var", "for",
                              "function", "Math", "return", "int", "float", "zeros", "shape", "axis", "print",
                              "true", "false", "None", "True", "False", "length", "push", "floor", "ceil"}


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


def _tokens(text: str):
    return re.split(r"([A-Za-z_]\w*)", text.strip())


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
            if not _twin(x, y) and not (len(x) == len(y) == 1) or mapping.get(x, y) != y:
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
    n = [v + 1 + i for i, v in enumerate(c.get("input_shape", [])[2:])]
    k = list(c.get("filter_shape", []))
    k = k[2:] if c.get("op") not in POOL_OPS else k
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
        if run_fn(replace(cfg, files=files, fix=False)).verdict != "pass":
            return False
        second = _shifted(cfg, result)
        return second is None or run_fn(replace(second, files=files, fix=False)).verdict == "pass"
    finally:
        copies[file].write_text(source, encoding="utf-8")


def search_window_fix(cfg, result, run_fn) -> FixResult:
    """The first candidate edit with which every check passes, as a unified diff."""
    started = time.perf_counter()
    located = [d.location for d in result.diagnoses if d.location is not None]
    if not located:
        return FixResult(False, "", 0, "no line to edit: the mistake could not be located")
    tried = 0
    with tempfile.TemporaryDirectory(prefix="corrcheck-fix-") as tmp:
        copies = {}
        for i, f in enumerate(cfg.files):
            dst = Path(tmp) / str(i) / Path(f).name
            dst.parent.mkdir(parents=True)
            shutil.copyfile(f, dst)
            copies[f] = dst
        done = set()
        for loc in located:
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
            for _, new, what, flip in _line_candidates(old.rstrip("\n"), names, strides):
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
        for loc in located:
            by_file.setdefault(loc.file, set()).add(loc.line)
        for file, line_nos in by_file.items():
            if len(line_nos) < 2 or file not in copies:
                continue
            source = Path(file).read_text(encoding="utf-8")
            lines = source.splitlines(keepends=True)
            names = sorted({n for n in IDENT.findall(source) if n not in SKIP and len(n) <= 20})
            strides = [n for n in names if re.fullmatch(r"s|stride\w*|step", n)]
            per_line = {no: {c[2]: c[1] for c in reversed(_line_candidates(lines[no - 1].rstrip("\n"), names, strides))}
                        for no in sorted(line_nos)}
            first = min(line_nos)
            for _, _, what, _ in _line_candidates(lines[first - 1].rstrip("\n"), names, strides):
                if tried >= 2 * MAX_CANDIDATES or time.perf_counter() - started > 2 * SECONDS:
                    break
                if not all(what in per_line[no] for no in line_nos):
                    continue
                tried += 1
                new_lines = list(lines)
                for no in line_nos:
                    new_lines[no - 1] = per_line[no][what] + ("\n" if lines[no - 1].endswith("\n") else "")
                patched = "".join(new_lines)
                if _passes(run_fn, cfg, result, copies, file, patched, source):
                    return FixResult(True, unified_diff(file, source, patched), tried,
                                     f"{what} on lines {', '.join(map(str, sorted(line_nos)))}: every check passes "
                                     f"on the patched copy, also on a second shape")
    out_of_time = time.perf_counter() - started > SECONDS
    return FixResult(False, "", tried, "no single-line edit made every check pass"
                     + (" within the time budget" if out_of_time else ""))
