"""The Python API: the same checks as `corrcheck run`, on files or on callables (notebooks)."""
from __future__ import annotations

from .config import RunConfig
from .result import RunResult
from .runner import run
from .vocab import TARGETS
from .loader.callables import as_bindable


def check(*files, **options) -> RunResult:
    """Check the functions in `files` (or callables passed as forward=..., grad_filter=...).

    `forward=` also takes a torch.autograd.Function (`MyConv.apply` or the class), an nn.Module
    class or instance, or a function with jax.custom_vjp. Options are the CLI's, with underscores: stride=2, pad=1, layout="hw",
    input_size="7x6", seed=0, exhaustive=True, ... `result.passed` and
    `result.to_dict()` (the CLI's --json document) are the usual views.
    """

    callables = {t: as_bindable(options.pop(t)) for t in TARGETS if callable(options.get(t))}
    if callables:
        for t, fn in callables.items():
            options[t] = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", t)
    if "files" in options:
        files = tuple(options.pop("files"))
    explain = options.get("explain_cell")
    if isinstance(explain, str):
        options["explain_cell"] = tuple(int(v) for v in explain.split(","))
    cfg = RunConfig(files=tuple(str(f) for f in files), callables=callables, **options)
    return run(cfg)
