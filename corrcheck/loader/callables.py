"""Python callables handed to the API directly (notebooks): the same UserFunction view as files give."""
from __future__ import annotations

import inspect

from .functions import UserFunction, python_params


def describe_callable(name: str, fn) -> UserFunction:
    """A Python callable (a notebook function or class) as the UserFunction the binding reads."""
    params = python_params(fn)
    code = getattr(fn, "__code__", None)
    methods = ()
    if inspect.isclass(fn):
        methods = tuple(n for n, v in vars(fn).items() if callable(v) and not n.startswith("__") or n == "__call__")
    return UserFunction(name=name, params=params, call=fn, language="python",
                        file=code.co_filename if code else None, line=code.co_firstlineno if code else None,
                        is_class=inspect.isclass(fn), methods=methods)


def from_callables(callables: dict) -> dict[str, UserFunction]:
    """{flag target: callable} -> {name: UserFunction}; names are the callables' own __name__."""
    ns = {}
    for target, fn in callables.items():
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or target
        ns[name] = describe_callable(name, fn)
    return ns
