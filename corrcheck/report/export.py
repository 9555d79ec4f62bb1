"""The report as a file (--report): which suffixes, the recording console, and the page around it.

The sections are the terminal's; only the container changes. HTML and SVG are
self-contained (no web fonts, nothing fetched), so a saved report opens offline
and can be attached to a forum post as is.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

from rich._export_format import CONSOLE_SVG_FORMAT
from rich.console import Console
from rich.terminal_theme import TerminalTheme

from ..errors import UsageError
from .console import CI_WIDTH

__all__ = ["EXPORT_SUFFIXES", "HTML_THEME", "check_export_path", "wraps_long_lines", "recording_console", "save",
           "html_fragment"]

EXPORT_SUFFIXES = (".html", ".htm", ".svg", ".txt")

# Rich's SVG template without its web fonts (nothing is fetched when the file is opened).
_SVG_FORMAT = re.sub(r',\s*url\("[^"]*"\)\s*format\("[^"]*"\)', "", CONSOLE_SVG_FORMAT)

# A page of its own rather than Rich's bare <pre>: the font shrinks so the report's 100
# columns fit a narrow window (a monospace glyph is ~0.6em wide), longer lines (the
# verdict, commands) wrap instead of scrolling sideways, line-height stays normal so
# box-drawing rules join, and the font stack finds a monospace font on every system.
_HTML_FORMAT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>corrcheck report</title>
<style>
{stylesheet}
body {{
    color: {foreground};
    background-color: {background};
    margin: 0;
    padding: 24px 32px;
}}
pre.corrcheck {{
    margin: 0;
    font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace;
    font-size: clamp(8px, calc((100vw - 64px) / 62), 14px);
    line-height: normal;
    white-space: pre-wrap;
    overflow-wrap: anywhere;
}}
</style>
</head>
<body>
<pre class="corrcheck"><code style="font-family:inherit">{code}</code></pre>
</body>
</html>
"""

# Dark text on white with the ANSI colours darkened enough to read on it (GitHub's light
# terminal palette): Rich's default export theme draws cyan and bright green nearly invisible.
HTML_THEME = TerminalTheme(
    (255, 255, 255), (36, 41, 47),
    [(36, 41, 47), (207, 34, 46), (17, 99, 41), (77, 45, 0),
     (9, 105, 218), (130, 80, 223), (27, 124, 131), (110, 119, 129)],
    [(87, 96, 106), (164, 14, 38), (26, 127, 55), (99, 60, 1),
     (33, 139, 255), (164, 117, 249), (49, 146, 170), (140, 149, 159)],
)


def check_export_path(path) -> str:
    """The export format for path ('html', 'svg' or 'txt'); raises UsageError otherwise."""
    suffix = Path(str(path)).suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise UsageError(f"--report must name a .html, .svg or .txt file, not {str(path)!r}")
    return "html" if suffix == ".htm" else suffix[1:]


def wraps_long_lines(kind: str) -> bool:
    """An SVG is a fixed frame that clips what runs past its width, so there long lines are wrapped.

    A terminal and a .txt keep commands on one line (copyable); HTML wraps them with CSS.
    """
    return kind == "svg"


def recording_console() -> Console:
    """A console that records in full colour at the CI width, whatever the real terminal is."""
    return Console(record=True, file=io.StringIO(), width=CI_WIDTH, force_terminal=True,
                   color_system="truecolor", highlight=False, emoji=False)


def save(console: Console, path) -> None:
    """Write what `console` recorded to path in the format its suffix names."""
    kind = check_export_path(path)
    if kind == "html":
        text = console.export_html(code_format=_HTML_FORMAT, theme=HTML_THEME)
    elif kind == "svg":
        text = console.export_svg(title="corrcheck report", code_format=_SVG_FORMAT)
    else:
        text = console.export_text()
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the report to {str(path)!r}: {exc.strerror or exc}") from None


# A notebook cell shows a fragment, not a page: inline styles (no <style> block to clash with the
# notebook's), the same theme and wrapping as the saved .html report.
_FRAGMENT_FORMAT = ('<pre class="corrcheck" style="font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, '
                    'monospace; line-height: normal; white-space: pre-wrap; overflow-wrap: anywhere; '
                    'color: {foreground}; background-color: {background}; padding: 8px 12px">'
                    '<code style="font-family:inherit">{code}</code></pre>')


def html_fragment(console: Console) -> str:
    """What `console` recorded as one self-contained <pre> (Jupyter's _repr_html_)."""
    return console.export_html(code_format=_FRAGMENT_FORMAT, theme=HTML_THEME, inline_styles=True)
