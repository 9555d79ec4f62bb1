"""The architecture's promises, read from the package's syntax trees (nothing is imported).

Each rule fails naming the module and line that breaks it: the reference depends on
geometry alone; only the CLI knows Typer, only report/ knows Rich; computing never
writes to the terminal; no import circle between modules or between packages, lazy
imports inside functions included; importing a module does no work.
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "corrcheck"

# Deliberate exceptions, each with its reason.
WRITES_ALLOWED = {
    # quiet_user_io swaps sys.stdout/stderr/stdin for sinks while user code runs and puts them
    # back: it keeps the user's prints off the terminal, it never writes there itself.
    "corrcheck.loader.guard",
}
IMPORT_TIME_CALLS_ALLOWED = {
    # Typer declares the command line as module-level values and decorators.
    "corrcheck.cli": {"_opt", "typer.Option", "typer.Argument", "typer.Typer", "app.command", "app.callback"},
    # Shorthand for the Variant constructor in the catalogue's table.
    "corrcheck.diagnosis.catalogue": {"_v"},
    # Returns a rule function for a set of words (a closure factory) in the rules table.
    "corrcheck.locate.rules": {"_r_batch_sum"},
}
# Modules whose import-time work another change in flight removes (none left: the reference's
# thread pool and BLAS control now live in reference_threads.py and start on first use).
WORK_AT_IMPORT_PENDING: set[str] = set()
# Calls that only build a value; allowed at module level anywhere. Classes (capitalised names)
# are allowed too: constructing an object is defining it. Everything else is work at import.
PURE_CALLS = {"tuple", "list", "dict", "set", "frozenset", "object", "slice", "re.compile", "re.sub",
              "threading.local", "threading.Lock", "threading.RLock", "Enum",
              # decorators and field declarations: they define
              "dataclass", "field", "cache", "lru_cache", "functools.cache", "functools.lru_cache"}
EFFECTFUL_MODULES = {"os", "sys", "sysconfig", "subprocess", "platform", "multiprocessing", "ctypes", "signal",
                     "shutil", "socket", "threading"}


class Module:
    def __init__(self, path: Path):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        self.is_package = parts[-1] == "__init__"
        if self.is_package:
            parts = parts[:-1]
        self.name = ".".join(parts)
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))

    @property
    def top(self) -> str:
        """The first level under corrcheck: a package (binding, report...) or a top-level module."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else "__init__"

    def where(self, node) -> str:
        return f"{self.path.relative_to(PACKAGE.parent)}:{node.lineno}"


@cache
def modules() -> dict[str, Module]:
    found = [Module(p) for p in sorted(PACKAGE.rglob("*.py"))]
    return {m.name: m for m in found}


def imports(m: Module):
    """(imported name, node) for every import anywhere in the module (inside functions too).
    Relative imports are resolved to corrcheck.x.y; a `from . import name` of a submodule
    names the submodule."""
    known = modules()
    for node in ast.walk(m.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = m.name.split(".") if m.is_package else m.name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub if sub in known else target), node


def internal_edges(m: Module):
    """(corrcheck module it imports, node); `__version__` from the package's own facade is left
    out: a literal constant defined before anything, not a dependency on what the facade loads."""
    known = modules()
    for name, node in imports(m):
        if isinstance(node, ast.ImportFrom) and [a.name for a in node.names] == ["__version__"]:
            continue
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != m.name and name.split(".")[0] == "corrcheck":
            yield name, node


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def module_graph() -> dict[str, set[str]]:
    return {name: {t for t, _ in internal_edges(m)} for name, m in modules().items()}


def dotted(node) -> str:
    """'os.path.join' for a Name/Attribute chain, '' for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


# ---------------------------------------------------------------- the rules

def test_the_package_is_found():
    names = modules()
    assert "corrcheck.reference" in names and "corrcheck.cli" in names and len(names) > 40


def test_the_reference_imports_nothing_of_corrcheck_but_geometry():
    """So it can be read, tested and reused alone; its own helpers (reference_*) may sit beside it."""
    bad = []
    for m in modules().values():
        if not m.top.startswith("reference"):
            continue
        for name, node in internal_edges(m):
            top = modules()[name].top
            if top != "geometry" and not top.startswith("reference"):
                bad.append(f"{m.where(node)} imports {name}")
    assert not bad, "the reference may import only geometry (and reference_* modules):\n" + "\n".join(bad)


@pytest.mark.parametrize("library,owners", [("typer", {"cli"}), ("click", {"cli"}), ("rich", {"report"})])
def test_only_its_owner_imports_a_user_interface_library(library, owners):
    bad = [f"{m.where(node)} imports {name}" for m in modules().values() if m.top not in owners
           for name, node in imports(m) if name == library or name.startswith(library + ".")]
    assert not bad, f"only {', '.join(sorted(owners))} may import {library}:\n" + "\n".join(bad)


def test_computing_never_writes_to_the_terminal():
    """print(), sys.stdout / sys.stderr and traceback.print_* belong to report/ and cli."""
    bad = []
    for m in modules().values():
        if m.top in ("report", "cli", "__main__") or m.name in WRITES_ALLOWED:
            continue
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Call) and dotted(node.func) in ("print", "pprint.pprint") or \
                    isinstance(node, ast.Call) and dotted(node.func).startswith("traceback.print_"):
                bad.append(f"{m.where(node)} calls {dotted(node.func)}")
            elif isinstance(node, ast.Attribute) and dotted(node) in (
                    "sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__"):
                bad.append(f"{m.where(node)} uses {dotted(node)}")
    assert not bad, "only report/ and cli write to stdout/stderr:\n" + "\n".join(bad)


def test_no_import_circle_between_modules():
    """Lazy imports inside functions count: a circle there still ties the modules together."""
    cycles = _cycles(module_graph())
    assert not cycles, "import circles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_no_import_circle_between_packages():
    """binding/, checks/, diagnosis/, locate/, report/, loader/ and the top-level modules form a
    one-way graph, so a folder says what it may import."""
    graph: dict[str, set[str]] = {}
    mods = modules()
    for name, targets in module_graph().items():
        a = mods[name].top
        graph.setdefault(a, set()).update(mods[t].top for t in targets if mods[t].top != a)
    cycles = _cycles(graph)
    assert not cycles, "circles between packages: " + "; ".join(" <-> ".join(c) for c in cycles)


def _walk_outside_lambdas(node):
    """ast.walk, without the bodies of lambdas (they run when called, not at import)."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        if not isinstance(n, ast.Lambda):
            todo.extend(ast.iter_child_nodes(n))


def _import_time_nodes(m: Module):
    """(statement, expressions evaluated at import) for the module body and class bodies;
    expressions None when the statement kind itself is work."""
    todo = list(m.tree.body)
    while todo:
        stmt = todo.pop(0)
        if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass)):
            continue
        if isinstance(stmt, ast.ClassDef):
            todo.extend(stmt.body)
            yield stmt, [*stmt.decorator_list, *stmt.bases, *stmt.keywords]
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield stmt, [*stmt.decorator_list, *stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d)]
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue                                                  # a docstring
        elif isinstance(stmt, ast.If) and ast.unparse(stmt.test) == "__name__ == '__main__'":
            continue
        elif isinstance(stmt, ast.Try) and all(isinstance(s, (ast.Import, ast.ImportFrom))
                                               for s in stmt.body + [s for h in stmt.handlers for s in h.body]):
            continue                                                  # an import with a fallback
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            yield stmt, [stmt.value] if stmt.value is not None else []
        else:
            yield stmt, None


def work_at_import(m: Module) -> list[str]:
    allowed = PURE_CALLS | IMPORT_TIME_CALLS_ALLOWED.get(m.name, set())
    bad = []
    for stmt, exprs in _import_time_nodes(m):
        if exprs is None:
            bad.append(f"{m.where(stmt)}: a module-level {type(stmt).__name__} statement runs at import")
            continue
        for node in (n for e in exprs for n in _walk_outside_lambdas(e)):
            if isinstance(node, ast.Attribute) and dotted(node) in ("os.environ", "sys.argv"):
                bad.append(f"{m.where(node)}: reads {dotted(node)} at import")
            if not isinstance(node, ast.Call):
                continue
            name = dotted(node.func)
            last = name.rpartition(".")[2]
            if name in allowed or (last.lstrip("_")[:1].isupper() and name.split(".")[0] not in EFFECTFUL_MODULES):
                continue                                              # a pure builder, or a class
            bad.append(f"{m.where(node)}: calls {name or ast.unparse(node.func)}() at import")
    return bad


def test_importing_a_module_does_no_work():
    """Module level holds definitions: constants, classes, functions, compiled patterns. No
    environment or CPU reads, no fork hooks, no patching, no calls of the package's functions."""
    bad = [line for m in modules().values() if m.name not in WORK_AT_IMPORT_PENDING for line in work_at_import(m)]
    assert not bad, "work at import:\n" + "\n".join(bad)


def test_the_command_line_starts_without_the_checking_machinery():
    """`corrcheck --help` stays fast: importing the CLI loads neither NumPy nor the runner."""
    import subprocess
    import sys
    code = ("import sys, corrcheck.cli; "
            "print(sorted(m for m in ('numpy', 'corrcheck.runner', 'corrcheck.report.sections') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent).stdout.strip()
    assert out == "[]", f"importing corrcheck.cli loaded {out}"
