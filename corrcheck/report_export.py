"""The report as a file (--report): which suffixes, the recording console, and the page around it.

The sections are the terminal's; only the container changes. HTML and SVG are
self-contained (no web fonts, nothing fetched), so a saved report opens offline
and can be attached to a forum post as is.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

from rich._export_format import CONSOLE_HTML_FORMAT, CONSOLE_SVG_FORMAT
from rich.console import Console

from .errors import UsageError
from .report_console import CI_WIDTH

__all__ = ["EXPORT_SUFFIXES", "check_export_path", "recording_console", "save"]

EXPORT_SUFFIXES = (".html", ".htm", ".svg", ".txt")

# Rich's own export templates, made self-contained: no web fonts, and a <title>.
_SVG_FORMAT = re.sub(r',\s*url\("[^"]*"\)\s*format\("[^"]*"\)', "", CONSOLE_SVG_FORMAT)
_HTML_FORMAT = CONSOLE_HTML_FORMAT.replace('<meta charset="UTF-8">',
                                           '<meta charset="UTF-8">\n<title>corrcheck report</title>')


def check_export_path(path) -> str:
    """The export format for path ('html', 'svg' or 'txt'); raises UsageError otherwise."""
    suffix = Path(str(path)).suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise UsageError(f"--report must name a .html, .svg or .txt file, not {str(path)!r}")
    return "html" if suffix == ".htm" else suffix[1:]


def recording_console() -> Console:
    """A console that records in full colour at the CI width, whatever the real terminal is."""
    return Console(record=True, file=io.StringIO(), width=CI_WIDTH, force_terminal=True,
                   color_system="truecolor", highlight=False, emoji=False)


def save(console: Console, path) -> None:
    """Write what `console` recorded to path in the format its suffix names."""
    kind = check_export_path(path)
    if kind == "html":
        text = console.export_html(code_format=_HTML_FORMAT)
    elif kind == "svg":
        text = console.export_svg(title="corrcheck report", code_format=_SVG_FORMAT)
    else:
        text = console.export_text()
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the report to {str(path)!r}: {exc.strerror or exc}") from None
