"""Import the user's .py files as the course notebook would, and leave no trace behind.

Several files load in order, each as its own module whose globals start with the
names of the files before it (a notebook running cells in order); once all ran,
each module also gets the later files' names it lacks, so a forward in one file
may call a helper defined in another whatever the order.  While importing, the
file's folder leads sys.path (sibling imports) and up to three parent folders
follow it (what `sys.path.append(os.pardir)` means in the course's layout); a
file inside a package (has __init__.py) is imported as a submodule so `from .x
import y` works.  Afterwards sys.path, sys.modules, the cwd and
sys.dont_write_bytecode are as before; functions keep working through their
globals.  Every problem at import becomes a LoadError with one sentence.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import keyword
import os
import re
import sys
import types

import numpy

from . import guard
from ..errors import LoadError, UserRaised, UserTimeout
from .functions import UserFunction, python_params

__all__ = ["load_python", "module_source"]

_PARENT_LEVELS = 3
_NAMESPACE_DEPTH = 3
_PIP_NAMES = {"cv2": "opencv-python", "sklearn": "scikit-learn", "skimage": "scikit-image",
              "PIL": "Pillow", "yaml": "pyyaml", "past": "future", "Crypto": "pycryptodome"}
def module_source(path: str) -> str:
    """The user's file as text (UTF-8; undecodable bytes replaced, never an error)."""
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", errors="replace")


def load_python(paths: list[str], *, timeout: float) -> dict[str, UserFunction]:
    """Execute `paths` in order as one namespace; return every function and class they define
    (plus names imported from the user's own modules, `extra["imported"]`), keyed by dotted name."""
    if not paths:
        raise LoadError("no Python file was given")
    files = []
    for p in paths:
        _check_path(p)
        if os.path.abspath(p) not in {os.path.abspath(f) for f in files}:
            files.append(p)
    roots = _tree_roots(files)
    with _ImportSession(roots) as session:
        modules = []
        for path in files:
            modules.append(session.run_file(path, modules, timeout))
        _backfill(modules)
        return _collect(modules, roots)


# ---------------------------------------------------------------- paths and names


def _check_path(path: str) -> None:
    if not os.path.exists(path):
        raise LoadError(f"{path} does not exist")
    if os.path.isdir(path):
        raise LoadError(f"{path} is a directory; give the .py file(s) in it")
    if not path.lower().endswith(".py"):
        raise LoadError(f"{path} is not a Python file (.py)")
    if not os.access(path, os.R_OK):
        raise LoadError(f"{path} cannot be read (permission denied)")


def _parents(directory: str) -> list[str]:
    out = []
    for _ in range(_PARENT_LEVELS):
        parent = os.path.dirname(directory)
        if parent == directory or parent == os.path.dirname(parent):   # stop before the filesystem root
            break
        out.append(parent)
        directory = parent
    return out


def _tree_roots(files: list[str]) -> tuple[str, ...]:
    """Folders whose modules are the user's: each file's folder and its parents (see module doc)."""
    roots = []
    for f in files:
        d = os.path.dirname(os.path.abspath(f))
        for r in [d, *_parents(d)]:
            if r not in roots:
                roots.append(r)
    return tuple(roots)


def _safe_name(stem: str) -> str:
    """'0-conv_forward' -> '_0_conv_forward': a valid identifier for a module name."""
    name = re.sub(r"\W", "_", stem)
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = "_" + name
    return name


def _package_of(path: str) -> tuple[str | None, str | None]:
    """('cs231n', '/course') when the file lives in a package; (None, None) otherwise."""
    d = os.path.dirname(os.path.abspath(path))
    parts = []
    while os.path.isfile(os.path.join(d, "__init__.py")):
        name = os.path.basename(d)
        if not name.isidentifier() or keyword.iskeyword(name):
            return None, None
        parts.append(name)
        d = os.path.dirname(d)
    if not parts:
        return None, None
    pkg = ".".join(reversed(parts))
    existing = sys.modules.get(parts[-1])
    if existing is not None and not _is_module_in(existing, (d,)):
        return None, None                   # an unrelated module already has the name
    return pkg, d


def _is_module_in(module, roots) -> bool:
    file = getattr(module, "__file__", None)
    if file:
        return guard.is_user_file(file, roots)
    return any(guard.is_user_file(os.path.join(p, "x.py"), roots) for p in getattr(module, "__path__", ()) or ())


# ---------------------------------------------------------------- importing


class _ImportSession:
    """Imports files while sys.path points at the user's tree; restores the interpreter on exit."""

    def __init__(self, roots: tuple[str, ...]):
        self.roots = roots
        self.registered: list[str] = []

    def __enter__(self):
        self.saved_path = list(sys.path)
        self.saved_modules = set(sys.modules)
        self.saved_bytecode = sys.dont_write_bytecode
        self.saved_cwd = os.getcwd()
        self.saved_argv = sys.argv
        sys.dont_write_bytecode = True
        importlib.invalidate_caches()
        guard.forget_user_settings()
        return self

    def __exit__(self, *exc):
        for name in set(sys.modules) - self.saved_modules:
            module = sys.modules.get(name)
            if name in self.registered or (module is not None and _is_module_in(module, self.roots)):
                del sys.modules[name]
        sys.path[:] = self.saved_path
        sys.argv = self.saved_argv
        sys.dont_write_bytecode = self.saved_bytecode
        if os.getcwd() != self.saved_cwd:   # the user's module called os.chdir
            os.chdir(self.saved_cwd)
        return False

    def run_file(self, path: str, earlier: list, timeout: float) -> types.ModuleType:
        """Import one user file with its own folder (and package root) importable, under the time limit."""
        directory = os.path.dirname(os.path.abspath(path))
        stem = os.path.splitext(os.path.basename(path))[0]
        pkg, pkg_root = _package_of(path)
        sys.path[:] = [directory] + ([pkg_root] if pkg_root else []) + \
            [p for p in self.saved_path if p not in (directory, pkg_root)] + \
            [p for p in _parents(directory) if p not in self.saved_path]
        if pkg:
            self._call(importlib.import_module, (pkg,), path, timeout)
            name = pkg if stem == "__init__" else f"{pkg}.{_safe_name(stem)}"
        else:
            name = self._free_name(stem)
        code = _compile(path)
        spec = importlib.util.spec_from_file_location(
            name, path, submodule_search_locations=[directory] if stem == "__init__" else None)
        module = importlib.util.module_from_spec(spec)
        for mod in earlier:                 # the names of the files before this one
            module.__dict__.update((k, v) for k, v in vars(mod).items() if not _dunder(k))
        sys.modules[name] = module
        self.registered.append(name)
        if not pkg and stem != name and stem not in sys.modules and stem not in sys.stdlib_module_names:
            sys.modules[stem] = module      # `__import__('0-conv_forward')` finds this very module
            self.registered.append(stem)
        sys.argv = [path]                   # as if run alone: argparse at import sees no corrcheck options
        self._call(exec, (code, module.__dict__), path, timeout)
        return module

    def _free_name(self, stem: str) -> str:
        name = _safe_name(stem)
        if name in sys.modules or name in sys.stdlib_module_names:
            name = f"_corrcheck_user_{name}"
        while name in sys.modules:
            name += "_"
        return name

    def _call(self, fn, args, path, timeout):
        what = os.path.basename(path)
        try:
            return guard.call_user(fn, args, timeout=timeout, what=what, user_files=self.roots)
        except UserTimeout as e:
            where = re.search(r"\((it was at .*)\)$", e.message)
            raise LoadError(f"{what} did not finish importing within {timeout:g} s"
                            + (f" ({where.group(1)})" if where else "")
                            + "; if it is only slow, raise --timeout") from None
        except UserRaised as e:
            raise _import_error(e.__cause__, what, self.roots) from None


def _compile(path: str):
    try:
        with open(path, "rb") as fh:
            source = fh.read()
    except OSError as e:
        raise LoadError(f"{path} cannot be read ({e.strerror})") from None
    try:
        return compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        raise LoadError(_syntax_message(e, os.path.basename(path))) from None
    except ValueError:                      # null bytes (Python 3.11)
        raise LoadError(f"{os.path.basename(path)} is not a text file (it contains null bytes)") from None


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _backfill(modules: list) -> None:
    """Give each module the names of later files it lacks (notebook order does not matter to calls)."""
    for i, mod in enumerate(modules):
        for later in modules[i + 1:]:
            for k, v in vars(later).items():
                if not _dunder(k) and k not in vars(mod):
                    vars(mod)[k] = v


# ---------------------------------------------------------------- one sentence per problem


_PYTHON2 = (
    ("print statement", lambda msg, line: "Missing parentheses in call to 'print'" in msg
     or re.match(r"print\s+[^\s(=.,)\[]", line)),
    ("exec statement", lambda msg, line: "Missing parentheses in call to 'exec'" in msg),
    ("`except X, e:`", lambda msg, line: re.match(r"except\s+[^:]*,\s*\w+\s*:", line)),
    ("`raise E, message`", lambda msg, line: re.match(r"raise\s+[\w.]+\s*,", line)),
    ("backticks", lambda msg, line: "`" in line),
    ("the <> operator", lambda msg, line: "<>" in line),
    ("octal literal without 0o", lambda msg, line: "leading zeros" in msg),
    ("ur'' string", lambda msg, line: re.search(r"\b[uU][rR]['\"]", line)),
    ("long literal", lambda msg, line: re.search(r"\b\d+[lL]\b", line)),
)


def _syntax_message(e: SyntaxError, what: str) -> str:
    name = os.path.basename(e.filename) if e.filename and not e.filename.startswith("<") else what
    line = (e.text or "").strip() or (guard.source_line(e.filename, e.lineno) if e.filename and e.lineno else "")
    msg = e.msg or "invalid syntax"
    if line.startswith(("%", "!")):
        return (f"{name} has notebook-only syntax at line {e.lineno} (`{line}`); "
                f"remove the IPython magic commands from the exported file")
    if msg.startswith("(unicode error)"):
        return (f"{name} is not valid UTF-8 text (line {e.lineno}); save it as UTF-8 "
                f"or declare its encoding (`# -*- coding: latin-1 -*-`)")
    for construct, matches in _PYTHON2:
        if matches(msg, line):
            return f"{name} is Python 2 code ({construct} at line {e.lineno}); corrcheck checks Python 3"
    shown = f": `{line}`" if line else ""
    return f"{name} has a syntax error at line {e.lineno} ({msg}){shown}"


def _import_error(exc: BaseException, what: str, roots) -> LoadError:
    """Explain an exception raised while importing `what` in one sentence."""
    frames = guard.user_frames(exc, roots)
    here = frames[-1] if frames else None
    who = f"{os.path.basename(here.filename)} line {here.lineno}" if here else what
    at = f" (at {who}: `{here.line.strip()}`)" if here and here.line else ""
    if isinstance(exc, SyntaxError):        # a sibling module the file imports
        message = _syntax_message(exc, what)
    elif isinstance(exc, ModuleNotFoundError):
        message = _missing_module(exc, who, what)
    elif isinstance(exc, ImportError) and "no known parent package" in str(exc):
        message = (f"{who} uses a relative import (`{here.line.strip() if here else 'from . import'}`) "
                   f"but its folder is not a package (add an empty __init__.py next to it)")
    elif _numpy_removed(exc):
        message = f"{who} uses {_numpy_removed(exc)}, which NumPy {_numpy_version()} no longer has"
    elif isinstance(exc, SystemExit):
        message = f"{what} calls sys.exit() at import{at}, so it cannot be imported"
    elif isinstance(exc, guard.ReadsStdin):
        message = f"{what} reads from standard input at import{at}"
    elif isinstance(exc, NameError) and getattr(exc, "name", None) == "get_ipython":
        message = f"{what} calls get_ipython(){at}, which exists only inside Jupyter; remove the notebook-only lines"
    elif isinstance(exc, TypeError) and "file=<output_stream>" in str(exc):
        line = here.lineno if here else "?"
        message = f"{what} is Python 2 code (print >> statement at line {line}); corrcheck checks Python 3"
    else:
        described, _, detail = guard.describe_exception(exc).partition(": ")
        message = f"{what} {described} at import" + (f": {detail}" if detail else "") + at
    err = LoadError(message)
    err.traceback = guard.format_user_traceback(exc, roots)
    return err


def _missing_module(exc: ModuleNotFoundError, who: str, what: str) -> str:
    name = exc.name or str(exc).split("'")[1]
    top = name.split(".")[0]
    if top == "numpy":
        return f"{who} imports {name}, which NumPy {_numpy_version()} no longer has (it was removed)"
    try:
        parent_installed = top != name and importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        parent_installed = False
    if parent_installed:
        return f"{who} imports {name}, which the installed {top} does not have"
    pip = _PIP_NAMES.get(top, top)
    return (f"{who} imports {name}, which is not installed: pip install {pip} "
            f"(or, if it is your own module, put {top}.py next to {what})")


def _numpy_removed(exc: BaseException) -> str | None:
    """'np.float' or 'numpy.oldnumeric' when `exc` says NumPy lacks something old code used."""
    text = str(exc)
    m = re.match(r"module 'numpy(?:\.[\w.]+)?' has no attribute '(\w+)'", text)
    if isinstance(exc, AttributeError) and m:
        return f"np.{m.group(1)}"
    m = re.match(r"cannot import name '(\w+)' from '(numpy[\w.]*)'", text)
    if isinstance(exc, ImportError) and m:
        return f"{m.group(2)}.{m.group(1)}"
    return None


def _numpy_version() -> str:
    return numpy.__version__


# ---------------------------------------------------------------- what the files define


def _collect(modules: list, roots) -> dict[str, UserFunction]:
    found: dict[str, UserFunction] = {}
    listed = {os.path.abspath(m.__file__) for m in modules}
    for mod in modules:
        here = os.path.abspath(mod.__file__)
        for name, obj in list(vars(mod).items()):
            if _dunder(name):
                continue
            origin = _origin(obj)
            if origin is not None:
                if not guard.is_user_file(origin, roots):
                    continue
                defined_here = os.path.abspath(origin) == here
                if not defined_here and (os.path.abspath(origin) in listed or name in found):
                    continue                # came from an earlier file of the list, already there
                _add(found, name, obj, imported=not defined_here, roots=roots, module=mod.__name__)
            elif _is_namespace(obj, roots):
                _add_namespace(found, name, obj, roots, mod.__name__, depth=1, seen=set())
    return found


def _origin(obj) -> str | None:
    """The file that defines a function or class (None for anything else)."""
    if inspect.isfunction(obj):
        return obj.__code__.co_filename
    if inspect.isclass(obj):
        module = sys.modules.get(obj.__module__)
        return getattr(module, "__file__", None) or "<builtin>"
    wrapped = getattr(obj, "__wrapped__", None) if callable(obj) and not isinstance(obj, types.ModuleType) else None
    if inspect.isfunction(wrapped):         # a decorator object (jax.custom_vjp, functools.lru_cache)
        return wrapped.__code__.co_filename
    return None


def _is_namespace(obj, roots) -> bool:
    if isinstance(obj, types.ModuleType):
        return _is_module_in(obj, roots)
    if isinstance(obj, types.SimpleNamespace):
        return True
    origin = _origin(type(obj))             # an instance of one of the user's classes
    return origin is not None and guard.is_user_file(origin, roots)


def _add_namespace(found, prefix, obj, roots, module, depth, seen) -> None:
    """Dotted names for what a namespace holds: a user module's own definitions, a
    SimpleNamespace's callables, an instance's methods (bound), nested namespaces."""
    if id(obj) in seen or depth > _NAMESPACE_DEPTH:
        return
    seen.add(id(obj))
    is_module = isinstance(obj, types.ModuleType)
    if not is_module and callable(obj):     # a callable instance
        _add(found, prefix, obj, imported=False, roots=roots, module=module)
    for name, member in list(vars(obj).items()):
        if name.startswith("_"):
            continue
        origin = _origin(member)
        if origin is None:
            if _is_namespace(member, roots):
                _add_namespace(found, f"{prefix}.{name}", member, roots, module, depth + 1, seen)
        elif guard.is_user_file(origin, roots) and not (
                is_module and os.path.abspath(origin) != os.path.abspath(obj.__file__ or "")):
            _add(found, f"{prefix}.{name}", member, imported=is_module, roots=roots, module=module)
    if not is_module and not isinstance(obj, types.SimpleNamespace):
        for name in _method_names(type(obj), roots):
            _add(found, f"{prefix}.{name}", getattr(obj, name), imported=False, roots=roots, module=module)


def _add(found, name, obj, *, imported, roots, module, chain=()) -> None:
    extra = {"imported": imported, "module": module, "user_roots": roots}
    if inspect.isclass(obj):
        methods = _method_names(obj, roots)
        found[name] = _user_function(name, obj, python_params(obj), extra, is_class=True, methods=methods)
        for meth in methods:
            raw = inspect.getattr_static(obj, meth)
            call = getattr(obj, meth)
            params = python_params(call)
            if not isinstance(raw, (staticmethod, classmethod)) and params and params[0].kind == "positional":
                params = params[1:]         # drop self: bound after construction
            target = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
            found[f"{name}.{meth}"] = _user_function(f"{name}.{meth}", target, params, extra, call=call)
        chain = (*chain, obj)
        for attr, value in vars(obj).items():
            if attr.startswith("_") or len(chain) > _NAMESPACE_DEPTH:
                continue
            if inspect.isclass(value) and value not in chain and guard.is_user_file(_origin(value), roots):
                _add(found, f"{name}.{attr}", value, imported=imported, roots=roots, module=module,
                     chain=chain)           # a nested class: `mylib.conv.backward`
            elif _origin(value) is None and _is_namespace(value, roots):
                _add_namespace(found, f"{name}.{attr}", value, roots, module, depth=2, seen=set())
    elif callable(obj):
        if not inspect.isfunction(obj) and not inspect.ismethod(obj):
            extra["wrapper"] = f"{type(obj).__module__}.{type(obj).__qualname__}"
        found[name] = _user_function(name, obj, python_params(obj), extra)


def _method_names(cls, roots) -> tuple[str, ...]:
    """Methods defined by the class and its user-defined bases, most derived first."""
    names = []
    for klass in cls.__mro__:
        origin = _origin(klass)
        if klass is object or origin is None or not guard.is_user_file(origin, roots):
            continue
        for attr, value in vars(klass).items():
            if (_dunder(attr) and attr != "__call__") or attr in names:
                continue
            if inspect.isfunction(value) or isinstance(value, (staticmethod, classmethod)):
                names.append(attr)
    return tuple(names)


def _user_function(name, obj, params, extra, *, call=None, is_class=False, methods=()) -> UserFunction:
    target = inspect.unwrap(obj.__func__ if inspect.ismethod(obj) else obj)
    file = line = source = None
    code = getattr(target, "__code__", None)
    if code is not None:
        file, line = code.co_filename, code.co_firstlineno
    try:
        source = inspect.getsource(target)
        if code is None:
            file = inspect.getsourcefile(target)
            line = inspect.getsourcelines(target)[1]
    except (OSError, TypeError):
        pass
    doc = getattr(target, "__doc__", None)
    return UserFunction(name=name, params=params, call=call if call is not None else obj,
                        file=file, line=line, is_class=is_class, methods=methods,
                        doc=inspect.cleandoc(doc) if isinstance(doc, str) else None,
                        source=source, extra=dict(extra))
