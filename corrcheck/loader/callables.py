"""Python callables handed to the API directly (notebooks): the same UserFunction view as files give."""
from __future__ import annotations

import inspect

from .functions import UserFunction, python_params


def as_bindable(fn):
    """What to bind for a callable handed over in a notebook: `MyConv.apply` is the Function class
    MyConv (its apply is torch's, the forward/backward are the user's); an nn.Module instance is
    its class, built afresh from the config like any layer class."""
    owner = getattr(fn, "__self__", None)
    if inspect.ismethod(fn) and inspect.isclass(owner) and fn.__name__ == "apply":
        return owner
    if not inspect.isclass(fn) and hasattr(fn, "named_parameters") and hasattr(type(fn), "forward"):
        return type(fn)
    return fn


def describe_callable(name: str, fn) -> UserFunction:
    """A Python callable (a notebook function or class) as the UserFunction the binding reads."""
    params = python_params(fn)
    code = getattr(fn, "__code__", None)
    methods = ()
    if inspect.isclass(fn):
        methods = tuple(n for n, v in vars(fn).items() if callable(v) and not n.startswith("__") or n == "__call__")
    file, line = (code.co_filename, code.co_firstlineno) if code else (None, None)
    try:
        target = inspect.unwrap(fn) if callable(fn) and not inspect.isclass(fn) else fn
        source = inspect.getsource(target)
        if file is None:
            file, line = inspect.getsourcefile(target), inspect.getsourcelines(target)[1]
    except (OSError, TypeError, ValueError):
        source = _methods_source(fn) if inspect.isclass(fn) else None
    if inspect.isclass(fn) and file is None and source:
        first = next((v for v in vars(fn).values() if inspect.isfunction(v)), None)
        file, line = (first.__code__.co_filename, first.__code__.co_firstlineno) if first else (None, None)
    return UserFunction(name=name, params=params, call=fn, language="python", file=file, line=line,
                        is_class=inspect.isclass(fn), methods=methods, source=source)


def _methods_source(cls) -> str | None:
    """A class's source read from its methods: inspect finds a class only through sys.modules, which a
    module loaded by importlib.util.spec_from_file_location (or exec) is not in; its functions carry
    their file and line themselves."""
    parts = []
    for v in vars(cls).values():
        if inspect.isfunction(v):
            try:
                parts.append(inspect.getsource(v))
            except (OSError, TypeError):
                continue
    return "\n".join(parts) or None


def from_callables(callables: dict) -> dict[str, UserFunction]:
    """{flag target: callable} -> {name: UserFunction}; names are the callables' own __name__."""
    ns = {}
    for target, fn in callables.items():
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or target
        ns[name] = describe_callable(name, fn)
    return ns
