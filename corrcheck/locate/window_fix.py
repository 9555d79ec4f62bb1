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


def _passes(run_fn, cfg, copies, file, text, source) -> bool:
    copies[file].write_text(text, encoding="utf-8")
    try:
        res = run_fn(replace(cfg, files=tuple(str(copies[f]) for f in cfg.files), fix=False))
    finally:
        copies[file].write_text(source, encoding="utf-8")
    return res.verdict == "pass"


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
            names = sorted({n for n in IDENT.findall(body) if n not in SKIP and len(n) <= 12})
            strides = [n for n in names if re.fullmatch(r"s|stride\w*|step", n)]
            ending = "\n" if old.endswith("\n") else ""
            for _, new, what, flip in _line_candidates(old.rstrip("\n"), names, strides):
                if tried >= MAX_CANDIDATES or time.perf_counter() - started > SECONDS:
                    break
                tried += 1
                patched = "".join(lines[:loc.line - 1]) + new + ending + "".join(lines[loc.line:])
                twins = [i for i, t in enumerate(lines) if t.strip() == old.strip() and i != loc.line - 1]
                if twins:
                    # the forward's slip copied into the backward: the same edit on every copy of the line
                    indent = old[:len(old) - len(old.lstrip())]
                    fixed_body = new[len(indent):] if new.startswith(indent) else new.lstrip()
                    patched = "".join(
                        (t[:len(t) - len(t.lstrip())] + fixed_body + ending) if (i == loc.line - 1 or i in twins)
                        else t for i, t in enumerate(lines))
                if flip is not None:
                    # the same slip copied to other lines (the other axis, the backward): flip it everywhere
                    sign, name = flip
                    other = "-" if sign == "+" else "+"
                    everywhere = re.sub(rf"(?<=\s){re.escape(sign)}(?=\s+{re.escape(name)}\b)", other, source)
                    if everywhere != patched and everywhere != source:
                        if _passes(run_fn, cfg, copies, loc.file, everywhere, source):
                            return FixResult(True, unified_diff(loc.file, source, everywhere), tried,
                                             f"'{sign} {name}' -> '{other} {name}' on every line that has it: "
                                             f"every check passes on the patched copy")
                copies[loc.file].write_text(patched, encoding="utf-8")
                files = tuple(str(copies[f]) for f in cfg.files)
                res = run_fn(replace(cfg, files=files, fix=False))
                copies[loc.file].write_text(source, encoding="utf-8")
                if res.verdict == "pass":
                    return FixResult(True, unified_diff(loc.file, source, patched), tried,
                                     f"{what} on line {loc.line}: every check passes on the patched copy")
    out_of_time = time.perf_counter() - started > SECONDS
    return FixResult(False, "", tried, "no single-line edit made every check pass"
                     + (" within the time budget" if out_of_time else ""))
