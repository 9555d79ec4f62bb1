"""The user's files (or callables) -> {dotted name: UserFunction}, the language, and the sources."""
from __future__ import annotations

from pathlib import Path

from ..config import RunConfig
from ..errors import CorrcheckError, LoadError

JAVASCRIPT_SUFFIXES = {".js", ".mjs", ".cjs"}


def import_timeout(cfg: RunConfig) -> float:
    """Importing a file may import scipy or torch from a cold disk: allow far more than one call."""
    return max(30.0, 6 * cfg.timeout)


def load_namespace(cfg: RunConfig):
    """{dotted name: UserFunction}, the language, and the sources (for locations)."""
    if cfg.callables:
        from .callables import from_callables          # lazy: only the Python API passes callables
        return from_callables(cfg.callables), "python", {}
    if not cfg.files:
        raise CorrcheckError("give a file to check: corrcheck run FILE.py")
    suffixes = {Path(f).suffix.lower() for f in cfg.files}
    for f in cfg.files:
        p = Path(f)
        if not p.exists():
            raise LoadError(f"{f}: no such file")
        if p.is_dir():
            raise LoadError(f"{f} is a directory; give the .py or .js file(s) that define the functions")
    if suffixes <= JAVASCRIPT_SUFFIXES:
        from .javascript import load_javascript         # lazy: each language's loader only for its files
        ns = load_javascript(list(cfg.files), timeout=cfg.timeout)   # also the per-call limit inside V8
        language = "javascript"
    elif suffixes <= {".py"}:
        from .python_source import load_python         # lazy: the same, for the Python loader
        ns = load_python(list(cfg.files), timeout=import_timeout(cfg))
        language = "python"
    else:
        odd = sorted(s or "(none)" for s in suffixes - {".py"} - JAVASCRIPT_SUFFIXES)
        if odd:
            raise LoadError(f"corrcheck checks .py and .js files, not {', '.join(odd)}")
        raise LoadError("give either Python or JavaScript files in one run, not both")
    sources = {}
    for f in cfg.files:
        try:
            sources[f] = Path(f).read_text(encoding="utf-8", errors="replace")
        except OSError:
            pass
    return ns, language, sources
