"""Where the report goes and how its lines break: verbosity levels, consoles that stay stable
in CI, progress, error lines, lines that must not wrap and lists that wrap only between items.

Everything here is about the terminal, not about the content of a report, so the
content modules (report.py, report_grids.py) never ask whether stdout is a TTY.
"""
from __future__ import annotations

import contextlib
import os

from rich.console import Console
from rich.measure import Measurement
from rich.text import Text

__all__ = ["QUIET", "NORMAL", "VERBOSE", "CI_WIDTH", "make_console", "progress_reporter", "print_error",
           "Unwrapped", "print_part", "Phrases"]

QUIET, NORMAL, VERBOSE = -1, 0, 1
CI_WIDTH = 100                 # stable width when not writing to a terminal


def make_console(*, stderr: bool = False, file=None) -> Console:
    """A console that is stable in CI logs: fixed width and no ANSI when piped or NO_COLOR is set."""
    probe = Console(file=file, stderr=stderr)
    kwargs = dict(file=file, stderr=stderr, highlight=False, emoji=False)
    if not probe.is_terminal:
        kwargs["width"] = _env_width() or CI_WIDTH
        kwargs["color_system"] = None
    if os.environ.get("NO_COLOR"):
        kwargs["color_system"] = None  # Rich's no_color keeps bold/underline codes; NO_COLOR means none
    return _Console(**kwargs)


class _Console(Console):
    """Rich exits with 1 on a closed pipe; re-raise instead so the CLI keeps the verdict's exit code."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def _env_width() -> int | None:
    try:
        return int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None


@contextlib.contextmanager
def progress_reporter(enabled: bool = True, console: Console | None = None):
    """Yield `progress(message, completed=None, total=None)` for the runner; draws on stderr's terminal only.

    A plain message shows as a spinner; a step that says how far it got (the sweep's
    `completed`/`total`) shows as a bar with M of N and the elapsed time. Off a
    terminal nothing is drawn, so CI logs and piped output stay clean. Both are
    transient: the report that follows starts on a clean line.
    """
    console = console or make_console(stderr=True)
    if not enabled or not console.is_terminal:
        yield _no_progress
        return
    display = _TerminalProgress(console)
    try:
        yield display
    finally:
        display.close()


def _no_progress(*_, **__) -> None:
    return None


class _TerminalProgress:
    """One live display at a time (Rich allows no more): a spinner, switched to a bar when counts arrive."""

    def __init__(self, console: Console):
        self.console = console
        self._status = None
        self._bar = None
        self._task = None
        self._show_spinner("checking…")     # from the start: loading and binding take time too

    def __call__(self, *message, completed: int | None = None, total: int | None = None, **_) -> None:
        text = " ".join(str(m) for m in message) or "checking…"
        if completed is not None and total:
            self._show_bar(text, int(completed), int(total))
        else:
            self._show_spinner(text)

    def _show_spinner(self, text: str) -> None:
        self._stop_bar()
        if self._status is None:
            self._status = self.console.status(Text(text))
            self._status.start()
        else:
            self._status.update(Text(text))

    def _show_bar(self, text: str, completed: int, total: int) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
        # "sweep: 3/24 configurations" -> "sweep: configurations"; the M of N column shows the count
        description = " ".join(text.replace(f"{completed}/{total}", " ").split())
        if self._bar is None:
            # imported here: only a sweep on a terminal draws a bar, and rich.progress costs ~30 ms to import
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                       TimeElapsedColumn)

            self._bar = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=self.console, transient=True)
            self._bar.start()
            self._task = self._bar.add_task(description, total=total)
        self._bar.update(self._task, description=description, completed=completed, total=total, refresh=True)

    def _stop_bar(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def close(self) -> None:
        """Take whatever is drawn off the terminal, also when the check raised or was interrupted."""
        self._stop_bar()
        if self._status is not None:
            self._status.stop()
            self._status = None


def print_error(console: Console, message: str) -> None:
    """One sentence on the error console, as the CLI reports every problem it cannot check past."""
    console.print(Text.assemble(("error: ", "bold red"), str(message)), soft_wrap=True)


class Unwrapped(Text):
    """A line printed with soft wrap: commands stay one line, so copying them from a terminal works."""


def print_part(console: Console, part, wrap: bool = False) -> None:
    """Print one report section; an `Unwrapped` line is not broken by Rich unless `wrap` (an SVG frame)."""
    console.print(part, soft_wrap=isinstance(part, Unwrapped) and not wrap)


class Phrases:
    """Phrases joined by `sep` that wrap between phrases, never inside one.

    'input 2x3x8x7, filter 4x3x3x2 · seed 0' must not break as 'seed' / '0'. A broken line
    keeps the separator's mark (',' or '·') at its end and the next one is indented;
    a phrase wider than the whole line still wraps at its spaces.
    """

    def __init__(self, phrases, sep: str = " · ", *, lead: Text | str = "", style: str = "", indent: int = 2):
        self.phrases = [p if isinstance(p, Text) else Text(str(p)) for p in phrases]
        self.sep, self.lead, self.style, self.indent = sep, lead, style, indent

    def __rich_console__(self, console, options):
        width = options.max_width
        line = Text.assemble(self.lead, style=self.style)
        empty = len(line)
        mark, last = self.sep.rstrip(), len(self.phrases) - 1
        for i, phrase in enumerate(self.phrases):
            sep = self.sep if i else ""
            room = len(mark) if i < last else 0     # a line broken after this phrase ends with the mark
            if len(line) > empty and line.cell_len + len(sep) + phrase.cell_len + room > width:
                line.append(mark)
                yield from self._fit(console, line, width)
                line = Text(" " * self.indent, style=self.style)
                empty, sep = len(line), ""
            line.append(sep)
            line.append_text(phrase)
        yield from self._fit(console, line, width)

    def _fit(self, console, line: Text, width: int):
        """A line holding one over-long phrase wraps at its spaces, continuation lines indented."""
        if line.cell_len <= width:
            yield line
            return
        for k, part in enumerate(line.wrap(console, max(1, width - self.indent))):
            part.rstrip()
            yield Text(" " * self.indent, style=self.style) + part if k else part

    def __rich_measure__(self, console, options) -> Measurement:
        lead = Text.assemble(self.lead).cell_len
        longest = max((p.cell_len for p in self.phrases), default=0)
        total = lead + sum(p.cell_len for p in self.phrases) + len(self.sep) * max(0, len(self.phrases) - 1)
        return Measurement(min(longest + self.indent, total), total).clamp(max_width=options.max_width)
