"""Python callables handed to the API directly (notebooks): the same UserFunction view as files give."""
from __future__ import annotations

import inspect

from .functions import MISSING, Param, UserFunction

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword_only",
    inspect.Parameter.VAR_POSITIONAL: "var_positional",
    inspect.Parameter.VAR_KEYWORD: "var_keyword",
}


def describe_callable(name: str, fn) -> UserFunction:
    try:
        sig = inspect.signature(fn)
        params = tuple(Param(p.name, MISSING if p.default is inspect.Parameter.empty else p.default, _KINDS[p.kind])
                       for p in sig.parameters.values())
    except (TypeError, ValueError):
        params = ()
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
