"""The human report: the one module that renders with Rich.

A RunResult becomes a list of sections (header, summary, per-check details with
an error map, diagnoses with the user's source, cell explanations, conclusion,
fix, sweep, footer) and ends with one verdict line. The terminal, the exported
.html/.svg/.txt file and the pytest API's AssertionError message are the same
sections on differently configured consoles. User text always enters as `Text`,
never as markup, so brackets in code or messages print as written.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np
from rich._export_format import CONSOLE_HTML_FORMAT, CONSOLE_SVG_FORMAT
from rich.console import Console, Group
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from .errors import UsageError
from .geometry import format_axes, format_pad

__all__ = ["QUIET", "NORMAL", "VERBOSE", "make_console", "progress_reporter", "render", "render_sections",
           "render_loss_curves", "print_error", "export", "export_sections",
           "check_export_path", "plain_text", "verdict_line"]

QUIET, NORMAL, VERBOSE = -1, 0, 1
CI_WIDTH = 100                 # stable width when not writing to a terminal
ROWS_SHOWN = 5                 # mismatch rows per failing check before "… N more (use -v)"
TERMS_SHOWN = 12               # cell-explanation rows before truncating
MAP_ROWS, MAP_COLS = 24, 40    # error-map grid is cropped beyond this
MAP_SLICES_VERBOSE = 4         # leading-axis slices shown with -v (1 otherwise)
SYNTAX_THEME = "ansi_dark"      # the terminal's own colours, no padded background in CI logs
SOURCE_CONTEXT = 3             # lines of user source around a located mistake
EXPORT_SUFFIXES = (".html", ".htm", ".svg", ".txt")

OK_MARK, BAD_MARK = "·", "✗"
STATUS_STYLE = {"pass": "bold green", "fail": "bold red", "error": "bold red", "skipped": "yellow"}
AGAINST_WORDS = {"reference": "the reference", "finite_differences": "finite differences of your forward"}

# Rich's own export templates, made self-contained: no web fonts, and a <title>.
_SVG_FORMAT = re.sub(r',\s*url\("[^"]*"\)\s*format\("[^"]*"\)', "", CONSOLE_SVG_FORMAT)
_HTML_FORMAT = CONSOLE_HTML_FORMAT.replace('<meta charset="UTF-8">',
                                           '<meta charset="UTF-8">\n<title>corrcheck report</title>')


# ---------------------------------------------------------------- consoles

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


# ---------------------------------------------------------------- entry points

def render(result, console: Console, *, verbosity: int = NORMAL) -> None:
    """Print the whole report for one RunResult; verbosity -1 prints only the verdict line."""
    for part in _sections(result, verbosity):
        _print(console, part)
    console.print(verdict_line(result), soft_wrap=True)  # one line, never wrapped: CI greps it


def render_sections(sections, console: Console, *, verbosity: int = NORMAL) -> None:
    """Print titled sections (the demo: buggy run, fixed run, loss curves).

    A section's body is a RunResult, or a dict of name -> loss values.
    """
    for title, body in sections:
        if verbosity > QUIET:
            console.print(Rule(Text(str(title), style="bold")))
        if isinstance(body, dict):
            if verbosity > QUIET:
                console.print(render_loss_curves(body))
        else:
            render(body, console, verbosity=verbosity)
        if verbosity > QUIET:
            console.print()


def plain_text(result, verbosity: int = NORMAL) -> str:
    """The report as plain text without ANSI codes (the pytest API's AssertionError message)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=CI_WIDTH, color_system=None, highlight=False, emoji=False)
    render(result, console, verbosity=verbosity)
    return buffer.getvalue()


def check_export_path(path) -> str:
    """The export format for path ('html', 'svg' or 'txt'); raises UsageError otherwise."""
    suffix = Path(str(path)).suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise UsageError(f"--report must name a .html, .svg or .txt file, not {str(path)!r}")
    return "html" if suffix == ".htm" else suffix[1:]


def export(result, path, verbosity: int = NORMAL) -> None:
    """Save the report, the reproducing command and the small failing inputs as .html/.svg/.txt."""
    export_sections([(None, result)], path, verbosity)


def export_sections(sections, path, verbosity: int = NORMAL) -> None:
    """Like `export` for titled sections (the demo)."""
    kind = check_export_path(path)
    console = Console(record=True, file=io.StringIO(), width=CI_WIDTH, force_terminal=True,
                      color_system="truecolor", highlight=False, emoji=False)
    for title, body in sections:
        if title is not None:
            console.print(Rule(Text(str(title), style="bold")))
        if isinstance(body, dict):
            console.print(render_loss_curves(body))
            continue
        for part in _sections(body, max(verbosity, NORMAL), reproduce=True):
            _print(console, part)
        console.print(verdict_line(body), soft_wrap=True)
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


# ---------------------------------------------------------------- section order

class Unwrapped(Text):
    """A line printed with soft wrap: commands stay one line, so copying them from a terminal works."""


def _print(console: Console, part) -> None:
    console.print(part, soft_wrap=isinstance(part, Unwrapped))


def _sections(result, verbosity: int, reproduce: bool = False):
    """Yield the renderables of one report except the verdict line, which callers print last."""
    if verbosity > QUIET:
        yield _header(result)
        if result.notes:
            yield Text("\n".join(str(n) for n in result.notes) + "\n", style="dim")
        if result.verdict == "error":
            return                      # nothing was checked: the verdict line says why
        if result.checks:
            yield _summary(result, verbosity)
            yield Text("")
        detailed: set = set()
        for check in result.checks:
            if check.status in ("fail", "error") or (verbosity >= VERBOSE and check.status != "skipped"):
                # One full table and map per target; a second failing comparison of the
                # same target (e.g. finite differences after the reference) is a summary.
                brief = verbosity < VERBOSE and check.target in detailed and check.status == "fail"
                yield _check_details(check, verbosity, brief=brief)
                detailed.add(check.target)
        if result.diagnoses:
            yield _diagnoses(result)
        for explanation in result.explanations:
            yield _cell_explanation(explanation, verbosity)
        if result.conclusion:
            yield Panel(Text(result.conclusion), title="what this means", title_align="left",
                        border_style="cyan")
        if result.fix is not None:
            yield _fix(result.fix)
        if result.sweep is not None:
            yield from _sweep(result.sweep, verbosity)
        curves = getattr(result, "loss_curves", None)
        if curves:
            yield render_loss_curves(curves)
        if reproduce or verbosity >= VERBOSE:
            yield from _reproduce(result)
        yield from _footer(result)


# ---------------------------------------------------------------- header & summary

def _header(result) -> Group:
    files = ", ".join(result.files) if result.files else "(functions given directly)"
    lines = [Text.assemble(("corrcheck ", "bold"), (str(result.version), "bold"), " · ", files)]
    words = config_words(result.config)
    if words:
        lines.append(Text(words))
    if result.bound:
        bound = ", ".join(f"{target} -> {name}" for target, name in result.bound.items())
        lines.append(Text.assemble(("bound: ", "dim"), bound))
    return Group(*lines, Text(""))


def config_words(config: dict | None) -> str:
    """The configuration in words: 'functional convention, hw layout · correlate · stride 2, pad 1 · …'."""
    if not config:
        return ""
    parts = []
    if config.get("convention") or config.get("layout"):
        parts.append(f"{config.get('convention', '?')} convention, {config.get('layout', '?')} layout")
    if config.get("op"):
        parts.append(str(config["op"]))
    geometry = []
    if config.get("stride"):
        geometry.append(f"stride {format_axes(config['stride'])}")
    if config.get("pad"):
        geometry.append(f"pad {format_pad(config['pad'])}")
    if config.get("dilation") and any(d != 1 for d in config["dilation"]):
        geometry.append(f"dilation {format_axes(config['dilation'])}")
    if geometry:
        parts.append(", ".join(geometry))
    shapes = []
    for key, word in (("input_shape", "input"), ("filter_shape", "filter")):
        if config.get(key):
            shapes.append(f"{word} {'x'.join(str(n) for n in config[key])}")
    if shapes:
        parts.append(", ".join(shapes))
    if config.get("seed") is not None:
        parts.append(f"seed {config['seed']}")
    return " · ".join(parts)


def _summary(result, verbosity: int) -> Table:
    table = Table(title=None, show_edge=False, header_style="bold", pad_edge=False)
    for name, justify in (("target", "left"), ("against", "left"), ("status", "left"),
                          ("max abs error", "right"), ("mismatched", "right")):
        table.add_column(name, justify=justify)
    for check in result.checks:
        if check.status == "skipped" and verbosity < VERBOSE:
            continue
        target = check.target + (f" ({check.config_note})" if check.config_note else "")
        against = check.against.replace("_", " ")
        if verbosity >= VERBOSE and check.mode:
            against += f" ({check.mode})"
        if check.mismatches is not None and check.total:
            mismatched = Text(mismatch_words(check.mismatches, check.total))
        else:   # the headline of the message ("corr2d raised ValueError"); the whole of it is below
            headline = (check.message or "").split(": ")[0] if check.status in ("error", "skipped") else ""
            mismatched = Text(headline, no_wrap=True, overflow="ellipsis", justify="left")
        table.add_row(target, against, Text(check.status.upper(), style=STATUS_STYLE.get(check.status, "")),
                      _num(check.max_abs_error), mismatched)
    skipped = [c for c in result.checks if c.status == "skipped"]
    if skipped and verbosity < VERBOSE:
        table.caption = "skipped: " + "; ".join(
            f"{c.target}" + (f" ({c.message})" if c.message else "") for c in skipped)
        table.caption_justify = "left"
    return table


def mismatch_words(mismatches: int, total: int) -> str:
    """numpy.testing's wording: '7 / 9 (77.8%)'."""
    return f"{mismatches} / {total} ({100.0 * mismatches / total:.3g}%)"


def _num(value) -> str:
    """A number in the report; None (not computed) shows as nothing."""
    return "" if value is None else f"{value:.6g}"


def _val(value) -> str:
    """An array entry; result.Mismatch stores NaN as None."""
    return "nan" if value is None else f"{value:.6g}"


# ---------------------------------------------------------------- one failing check

def _check_details(check, verbosity: int, brief: bool = False) -> Group:
    title = f"{check.target} vs {check.against.replace('_', ' ')}: {check.status.upper()}"
    if check.config_note:
        title += f" ({check.config_note})"
    parts: list = [Rule(Text(title, style=STATUS_STYLE.get(check.status, "")), align="left")]
    if check.message and check.status != "skipped":
        parts.append(Text(check.message))
    if check.traceback:
        lines = check.traceback.rstrip().splitlines()
        if verbosity < VERBOSE and len(lines) > 15:
            lines = ["…"] + lines[-15:]
        parts.append(Text("\n".join(lines), style="red"))
    if check.mismatches is not None and check.total:
        parts.append(Text(f"Mismatched elements: {mismatch_words(check.mismatches, check.total)}"))
    if check.max_abs_error is not None and check.status == "fail":
        parts.append(Text(f"Max absolute difference: {_num(check.max_abs_error)}"))
    if brief:
        parts.append(Text("(rows and error map of this comparison with -v)", style="dim"))
    elif check.worst:
        parts.append(_worst_table(check, verbosity))
    if check.error_map is not None and not brief:
        grid = error_map(check.error_map, check.target, verbosity)
        if grid is not None:
            parts.append(grid)
    parts.append(Text(""))
    return Group(*parts)


def _worst_table(check, verbosity: int) -> Group:
    rows = sorted(check.worst, key=_badness, reverse=True)
    shown = rows if verbosity >= VERBOSE else rows[:ROWS_SHOWN]
    table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None)
    for name in ("index", "expected", "actual", "difference"):
        table.add_column(name, justify="left" if name == "index" else "right")
    for m in shown:
        diff = None if m.expected is None or m.actual is None else m.actual - m.expected
        table.add_row("[" + ", ".join(str(i) for i in m.index) + "]", _val(m.expected), _val(m.actual),
                      Text(_val(diff), style="red"))
    total_wrong = check.mismatches if check.mismatches is not None else len(rows)
    more = total_wrong - len(shown)
    parts = [table]
    if more > 0:
        hint = "(use -v)" if verbosity < VERBOSE and len(shown) < len(rows) else "(see the error map)"
        parts.append(Text(f"… {more} more {hint}", style="dim"))
    return Group(*parts)


def _badness(m) -> float:
    if m.expected is None or m.actual is None:
        return float("inf")
    return abs(m.actual - m.expected)


def error_map(mask, target: str = "output", verbosity: int = NORMAL) -> Group | None:
    """The wrong/ok grid of the last two axes, so patterns (border, every s-th row) are visible."""
    m = np.asarray(mask, dtype=bool)
    while m.ndim > 1 and m.shape[0] == 1:
        m = m[0]                        # batch/channel axes of size 1 say nothing: show the grid
    if m.ndim == 0 or m.size == 0:
        return None
    if m.ndim == 1:
        views = [((), m[None, :])]
    else:
        lead = m.shape[:-2]
        flat = m.reshape((-1,) + m.shape[-2:])
        indices = list(np.ndindex(*lead)) if lead else [()]
        wrong = [i for i, s in enumerate(flat) if s.any()] or [0]
        keep = wrong[: MAP_SLICES_VERBOSE if verbosity >= VERBOSE else 1]
        views = [(indices[i], flat[i]) for i in keep]
    shape = "x".join(str(n) for n in m.shape)
    name = "output" if target == "forward" else target
    parts = []
    for lead_index, grid in views:
        where = ""
        if lead_index:
            where = f", slice [{', '.join(str(i) for i in lead_index)}, :, :]"
        caption = f"error map of {name} ({shape}{where}; {BAD_MARK} wrong, {OK_MARK} ok)"
        parts.append(Text(caption, style="dim"))
        parts.append(_grid_text(grid, one_d=m.ndim == 1))
    if m.ndim > 2 and verbosity < VERBOSE:
        with_errors = sum(1 for s in m.reshape((-1,) + m.shape[-2:]) if s.any())
        if with_errors > 1:
            parts.append(Text(f"… {with_errors - 1} more slices with mismatches (use -v)", style="dim"))
    return Group(*parts)


def _grid_text(grid, one_d: bool) -> Text:
    rows, cols = grid.shape
    shown = grid[:MAP_ROWS, :MAP_COLS]
    label_w = 0 if one_d else len(str(min(rows, MAP_ROWS) - 1))
    text = Text(" " * (label_w + 1) + " ".join(str(j % 10) for j in range(shown.shape[1])) + "\n", style="dim")
    for i, row in enumerate(shown):
        if not one_d:
            text.append(str(i).rjust(label_w) + " ", style="dim")
        else:
            text.append(" ")
        for j, bad in enumerate(row):
            text.append(BAD_MARK if bad else OK_MARK, style="bold red" if bad else "green")
            if j < len(row) - 1:
                text.append(" ")
        text.append("\n")
    if rows > MAP_ROWS or cols > MAP_COLS:
        text.append(f"(cropped to {shown.shape[0]}x{shown.shape[1]} of {rows}x{cols})\n", style="dim")
    text.rstrip()
    return text


# ---------------------------------------------------------------- diagnoses

def _diagnoses(result) -> Group:
    parts: list = [Rule(Text("diagnosis", style="bold"), align="left")]
    for d in result.diagnoses:
        bug = d.bug or "no known pattern matched"
        parts.append(Text.assemble((f"{d.target}: ", "bold"), (bug, "bold magenta"),
                                   (f"  (confidence {d.confidence:.0%})", "dim")))
        parts.append(Text(d.explanation))
        if d.location is not None:
            parts.append(_source_excerpt(d.location, result.sources))
        parts.append(Text(""))
    return Group(*parts)


def _source_excerpt(loc, sources: dict) -> Group:
    where = Text(f"{loc.file}:{loc.line}" + (f":{loc.column}" if loc.column is not None else ""), style="cyan")
    source = sources.get(loc.file) if sources else None
    last = loc.end_line or loc.line
    if source:
        lines = source.splitlines()
        start, end = max(1, loc.line - SOURCE_CONTEXT), min(len(lines), last + SOURCE_CONTEXT)
        syntax = Syntax(source, _lexer(loc.file, source), line_numbers=True, line_range=(start, end),
                        highlight_lines=set(range(loc.line, last + 1)), word_wrap=True, theme=SYNTAX_THEME)
        if loc.column is not None and loc.line <= len(lines):
            span = _token_span(lines[loc.line - 1], loc.column)
            if span:
                syntax.stylize_range("bold underline", (loc.line, span[0]), (loc.line, span[1]))
    else:
        syntax = Syntax(loc.code, _lexer(loc.file, loc.code), line_numbers=True, start_line=loc.line,
                        highlight_lines={loc.line}, word_wrap=True, theme=SYNTAX_THEME)
    return Group(where, syntax)


def _lexer(path: str, code: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".py":
        return "python"
    if suffix in (".js", ".mjs", ".cjs"):
        return "javascript"
    return Syntax.guess_lexer(path, code)


def _token_span(line: str, column: int) -> tuple[int, int] | None:
    """The expression starting at column, e.g. `f[y][x]` or `at(f, y, x)`, to underline it."""
    match = re.compile(r"[\w.]+(?:\[[^\]]*\]|\([^()]*\))*|\S+").match(line, column)
    return (column, match.end()) if match else None


# ---------------------------------------------------------------- cell explanation

def term_text(term, left: str, right: str) -> str:
    """`I[1][2]·F[0][1]`, with a coefficient prefix when it is not 1."""
    coef = "" if abs(term.coefficient - 1.0) < 1e-12 else f"{term.coefficient:g}·"
    return (f"{coef}{left}{''.join(f'[{i}]' for i in term.input_index)}"
            f"·{right}{''.join(f'[{i}]' for i in term.filter_index)}")


def _cell_explanation(ex, verbosity: int) -> Group:
    def key(t):
        return (tuple(t.input_index), tuple(t.filter_index), round(float(t.coefficient), 9))

    user, expected = Counter(map(key, ex.user_terms)), Counter(map(key, ex.expected_terms))
    by_key = {key(t): t for t in (*ex.expected_terms, *ex.user_terms)}
    shared, extra, missing = user & expected, user - expected, expected - user
    rows = ([(by_key[k], " ") for k in shared.elements()]
            + [(by_key[k], "+") for k in extra.elements()]
            + [(by_key[k], "-") for k in missing.elements()])
    cell = "[" + ", ".join(str(i) for i in ex.cell) + "]"
    table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None,
                  title=None)
    table.add_column("your code computes")
    table.add_column("the reference computes")
    shown = rows if verbosity >= VERBOSE else rows[:TERMS_SHOWN]
    for term, mark in shown:
        label = term_text(term, ex.left_name, ex.right_name)
        if mark == " ":
            table.add_row(Text("  " + label), Text("  " + label))
        elif mark == "+":
            table.add_row(Text("+ " + label, style="bold red"), Text(""))
        else:
            table.add_row(Text(""), Text("- " + label, style="bold yellow"))
    parts = [Rule(Text(f"{ex.target} cell {cell}, term by term", style="bold"), align="left"),
             Text(f"your code sums {len(ex.user_terms)} terms, the reference {len(ex.expected_terms)}; "
                  f"{sum(shared.values())} agree, {sum(extra.values())} extra (+), "
                  f"{sum(missing.values())} missing (-)"), table]
    if len(rows) > len(shown):
        parts.append(Text(f"… {len(rows) - len(shown)} more terms (use -v)", style="dim"))
    if ex.note:
        parts.append(Text(ex.note, style="dim"))
    parts.append(Text(""))
    return Group(*parts)


# ---------------------------------------------------------------- fix, sweep, loss curves

def _fix(fix) -> Panel:
    if fix.verified:
        title = "fix (verified: every check passes on a patched copy)"
        style = "green"
    else:
        title = "suggested fix (NOT verified)" if fix.diff else "no fix found"
        style = "yellow"
    body: list = []
    if fix.message:
        body.append(Text(fix.message))
    if fix.diff:
        body.append(Syntax(fix.diff.rstrip("\n"), "diff", word_wrap=True, theme=SYNTAX_THEME))
    tried = f"{fix.candidates_tried} candidate edit{'' if fix.candidates_tried == 1 else 's'} tried"
    body.append(Text(f"{tried}; your files were not changed", style="dim"))
    return Panel(Group(*body), title=title, title_align="left", border_style=style)


def _sweep(sweep, verbosity: int = NORMAL) -> list:
    parts: list = [Rule(Text("sweep", style="bold"), align="left"),
                   Text(f"{sweep.failed} of {sweep.configs} configurations fail")]
    matrix = _sweep_matrix(sweep.rows)
    if matrix is not None:
        parts.append(matrix)
    if verbosity >= VERBOSE or matrix is None:
        for config, passed, *rest in sweep.rows:
            if not passed:
                failing = ", ".join(rest[0]) if rest and rest[0] else ""
                reason = f" ({rest[1]})" if len(rest) > 1 and rest[1] else ""
                parts.append(Text(f"{BAD_MARK} {config_words(config)}: {failing}{reason}", style="red"))
    if sweep.smallest_failing:
        parts.append(Text.assemble(("smallest failing config: ", "bold"), config_words(sweep.smallest_failing)))
    parts = [Group(*parts)]
    if sweep.command:
        parts.append(Unwrapped.assemble(("reproduce: ", "bold"), sweep.command))
    return parts + [Text("")]


def _sweep_matrix(rows) -> Table | None:
    """stride (rows) x pad (columns); a cell says ✓, ✗, or how many of its sizes fail."""
    cells: dict = {}
    for config, passed, *_ in rows:
        if "stride" not in config or "pad" not in config:
            return None
        key = (format_axes(config["stride"]), format_pad(config["pad"]))
        cells.setdefault(key, []).append(bool(passed))
    if not cells:
        return None
    strides = sorted({k[0] for k in cells}, key=_natural)
    pads = sorted({k[1] for k in cells}, key=_natural)
    table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None)
    table.add_column("stride \\ pad", style="bold")
    for p in pads:
        table.add_column(p, justify="center")
    for s in strides:
        row = []
        for p in pads:
            results = cells.get((s, p))
            if not results:
                row.append(Text(""))
            elif all(results):
                row.append(Text("✓", style="green"))
            elif not any(results):
                row.append(Text(BAD_MARK, style="bold red"))
            else:
                row.append(Text(f"{BAD_MARK} {results.count(False)}/{len(results)}", style="red"))
        table.add_row(s, *row)
    return table


def _natural(label: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", label)]


SPARKS = "▁▂▃▄▅▆▇█"
LOG_SPAN = 100.0       # a positive curve spanning more than this ratio is drawn on a log scale


def render_loss_curves(curves: dict) -> Table:
    """Loss per training step as sparklines: a correct gradient descends, a wrong one may climb."""
    table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None,
                  title="loss during training (log scale when it spans decades)", title_justify="left")
    for name, justify in (("run", "left"), ("loss", "left"), ("first", "right"), ("last", "right")):
        table.add_column(name, justify=justify)
    for name, values in curves.items():
        values = [float(v) for v in values]
        table.add_row(Text(str(name), overflow="fold"), Text(sparkline(values), style="cyan", no_wrap=True),
                      _num(values[0]) if values else "", _num(values[-1]) if values else "")
    return table


def sparkline(values, width: int = 40) -> str:
    """One block character per (averaged) step; non-finite values show as '!'."""
    if not values:
        return ""
    arr = np.asarray(values, dtype=float)
    if len(arr) > width:
        arr = np.array([chunk.mean() for chunk in np.array_split(arr, width)])
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return "!" * len(arr)
    if finite.min() > 0 and finite.max() / finite.min() > LOG_SPAN:
        arr, finite = np.log10(arr), np.log10(finite)   # losses span decades: show them on a log scale
    lo, hi = finite.min(), finite.max()
    span = hi - lo or 1.0
    return "".join("!" if not np.isfinite(v) else SPARKS[int((v - lo) / span * (len(SPARKS) - 1))] for v in arr)


# ---------------------------------------------------------------- reproduce, footer, verdict

def _reproduce(result) -> list:
    """The exact command and the small failing inputs, ready to paste into a forum post."""
    if not result.command and not result.inputs:
        return []
    parts: list = [Rule(Text("reproduce", style="bold"), align="left")]
    if result.command:
        parts.append(Unwrapped.assemble(("command: ", "bold"), result.command))
    for name, value in (result.inputs or {}).items():
        parts.append(Text(f"{name} = {array_literal(_plain(value))}", overflow="fold"))
    parts.append(Text(""))
    return parts


def array_literal(value, indent: int = 0) -> str:
    """Nested lists as a literal valid in Python and JavaScript, one innermost row per line."""
    if not isinstance(value, list) or not value or not isinstance(value[0], list):
        return json.dumps(value)
    pad = "  " * (indent + 1)
    rows = ",\n".join(pad + array_literal(v, indent + 1) for v in value)
    return "[\n" + rows + "\n" + "  " * indent + "]"


def _plain(value):
    """Nested lists of floats for JSON, whatever array type came in."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _footer(result) -> list:
    calls = ", ".join(f"{target} {n}" for target, n in result.calls.items()) if result.calls else "none"
    parts: list = [Text(f"user-function calls: {calls} · {result.seconds:.2f} s", style="dim")]
    if result.command:
        parts.append(Unwrapped(f"rerun: {result.command}", style="dim"))
    return parts


def verdict_line(result) -> Text:
    """The last line of every report: PASS, FAIL: what disagrees where, or ERROR: why not checked."""
    if result.verdict == "error":
        message = result.error.message if result.error is not None else "corrcheck could not check"
        return _one_line(f"ERROR: {message}", "bold red")
    if result.verdict == "pass":
        targets = list(dict.fromkeys(c.target for c in result.checks if c.status == "pass"))
        detail = f": {len(targets)} targets agree ({', '.join(targets)})" if targets else ""
        return _one_line(f"PASS{detail}", "bold green")
    reasons = []
    by_target: dict = {}
    for check in result.checks:
        if check.status not in ("fail", "error"):
            continue
        if check.target in by_target and check.status == "fail" and check.mismatches is not None and check.total:
            # "…and with finite differences at 46 / 56": one clause per target, not a repeat
            first = by_target[check.target]
            reasons[first] += (f" and with {check.against.replace('_', ' ')} at "
                               f"{check.mismatches} / {check.total}"
                               + (f" {check.config_note}" if check.config_note else ""))
            continue
        if check.status == "fail" and check.mismatches is not None and check.total:
            by_target.setdefault(check.target, len(reasons))
        reasons.append(_failure_words(check))
    if not reasons and result.sweep is not None and result.sweep.failed:
        reasons = [f"{result.sweep.failed} of {result.sweep.configs} sweep configurations fail"]
    return _one_line("FAIL" + (": " + "; ".join(reasons) if reasons else ""), "bold red")


def _one_line(text: str, style: str) -> Text:
    """The verdict is one line (printed with soft_wrap), so `tail -1` and grep in CI logs see all of it."""
    return Text(" ".join(str(text).split()), style=style)


def _failure_words(check) -> str:
    note = f" {check.config_note}" if check.config_note else ""
    if check.status == "fail" and check.mismatches is not None and check.total:
        unit = "cells" if check.target == "forward" else "entries"
        against = AGAINST_WORDS.get(check.against, check.against)
        return f"{check.target} disagrees with {against} at {check.mismatches} / {check.total} {unit}{note}"
    return f"{check.target}{note}: {check.message or check.status}"
