"""Where the report goes: verbosity levels, consoles that stay stable in CI, progress, error lines.

Everything here is about the terminal, not about the content of a report, so the
content modules (report.py, report_grids.py) never ask whether stdout is a TTY.
"""
from __future__ import annotations

import contextlib
import os

from rich.console import Console
from rich.text import Text

__all__ = ["QUIET", "NORMAL", "VERBOSE", "CI_WIDTH", "make_console", "progress_reporter", "print_error",
           "Unwrapped", "print_part"]

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
    """Yield `progress(message)` for the runner: a spinner on stderr when it is a terminal, else a no-op.

    Off a terminal nothing is drawn, so CI logs and piped output stay clean.
    """
    console = console or make_console(stderr=True)
    if not enabled or not console.is_terminal:
        yield _no_progress
        return
    with console.status("checking…") as status:
        def progress(*message, **_) -> None:
            status.update(Text(" ".join(str(m) for m in message) or "checking…"))

        yield progress


def _no_progress(*_, **__) -> None:
    return None


def print_error(console: Console, message: str) -> None:
    """One sentence on the error console, as the CLI reports every problem it cannot check past."""
    console.print(Text.assemble(("error: ", "bold red"), str(message)), soft_wrap=True)


class Unwrapped(Text):
    """A line printed with soft wrap: commands stay one line, so copying them from a terminal works."""


def print_part(console: Console, part) -> None:
    """Print one report section; an `Unwrapped` line is never broken by Rich."""
    console.print(part, soft_wrap=isinstance(part, Unwrapped))
