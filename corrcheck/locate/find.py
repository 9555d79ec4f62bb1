"""Point at the line: which expression in the user's source makes a diagnosed mistake.

The rules read loop structure, not variable names: a loop whose range comes
from the filter's size is a tap loop, one whose range involves the stride or
the upstream gradient's size is an output loop. This module finds the bound
function (and the helpers it calls) and turns the first node a rule picks into
a Location; the work is split by concept:

    locate_facts.py    abstract values of expressions, the Facts of one function
    locate_walk.py     walking a function body into Facts
    locate_queries.py  questions the rules (and rewrites.py) share
    locate_rules.py    one rule per catalogue id
    locate_js.py       JavaScript rebuilt by tree-sitter as the same Python ast
"""
from __future__ import annotations

import ast
from dataclasses import replace

from .facts import EMPTY, Facts, Read, V
from ..binding.layer import BIAS_ATTRS, WEIGHT_ATTRS
from .javascript import is_js, js_module
from .rules import RULES
from .walk import function_facts
from ..result import Diagnosis, Location

__all__ = ["Facts", "Read", "function_facts", "locate", "locate_all", "find_function", "node_location",
           "python_candidates", "source_tree"]


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
    # the attributes a layer's weights are bound to (binding.layer's one list) hold the filter and bias,
    # whatever __init__ filled them with (np.random.randn(F, C, K, K) reads as a shape)
    for role, names in (("filter", WEIGHT_ATTRS), ("bias", BIAS_ATTRS)):
        for a in names:
            if not env.get(f"self.{a}", EMPTY).arr:
                env[f"self.{a}"] = V(arr=(role, 0, False))
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
        if loc is not None and d.bug == "grad-input-overwrite-not-accumulate" and "+=" in loc.code:
            # the located add already says +=: it is an index array's add, which NumPy buffers
            d = replace(d, explanation="An add through an index array (dx[..., idx] += v) adds each distinct index "
                                       "once: NumPy buffers it, so where windows overlap the repeated indices lose "
                                       "their terms. Use np.add.at(dx, (..., idx), v).")
        out.append(replace(d, location=loc) if loc is not d.location else d)
    return tuple(out)

