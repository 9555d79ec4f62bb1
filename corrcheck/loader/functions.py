"""A language-neutral view of one user function: its name, parameters and a way to call it.

Python and JavaScript loaders both produce these, so binding and checking never
know which language they run.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

_MISSING = object()


@dataclass(frozen=True)
class Param:
    name: str
    default: Any = _MISSING           # _MISSING when the parameter has no default
    kind: str = "positional"          # positional | keyword_only | var_positional | var_keyword

    @property
    def has_default(self) -> bool:
        """Whether the parameter may be left out of a call."""
        return self.default is not _MISSING


@dataclass(frozen=True)
class UserFunction:
    """One callable found in the user's files.

    `call(*args, **kwargs)` returns the raw value (nested lists, arrays, tuples...).
    For classes, `is_class` is True and `call` constructs an instance; `methods`
    names the methods defined on the class (bound after construction).
    """

    name: str                          # dotted, as the user would type it: mlib.conv, ConvLayer.forward
    params: tuple[Param, ...]
    call: Callable[..., Any]
    language: str = "python"           # python | javascript
    file: str | None = None
    line: int | None = None
    is_class: bool = False
    methods: tuple[str, ...] = ()
    doc: str | None = None
    source: str | None = None          # the function's own source text when known
    extra: dict = field(default_factory=dict, compare=False)

    def signature(self) -> str:
        """The signature as the user wrote it, for binding messages: name(a, f, s=..., *args)."""
        parts = []
        for p in self.params:
            prefix = "*" if p.kind == "var_positional" else "**" if p.kind == "var_keyword" else ""
            parts.append(prefix + p.name + ("=…" if p.has_default else ""))
        return f"{self.name}({', '.join(parts)})"


MISSING = _MISSING

_PARAM_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword_only",
    inspect.Parameter.VAR_POSITIONAL: "var_positional",
    inspect.Parameter.VAR_KEYWORD: "var_keyword",
}


def python_params(obj) -> tuple[Param, ...]:
    """A Python callable's parameters as Params (defaults kept); () when it has no signature."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return ()
    return tuple(Param(p.name, MISSING if p.default is inspect.Parameter.empty else p.default, _PARAM_KINDS[p.kind])
                 for p in sig.parameters.values())
