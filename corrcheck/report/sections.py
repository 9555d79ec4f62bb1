"""The human report: what a RunResult says, section by section, in Rich renderables.

A RunResult becomes a list of sections (header, summary, per-check details with
an error map, diagnoses with the user's source, cell explanations, conclusion,
fix, sweep, footer) and ends with one verdict line. The terminal, the exported
.html/.svg/.txt file and the pytest API's AssertionError message are the same
sections on differently configured consoles. User text always enters as `Text`,
never as markup, so brackets in code or messages print as written.

Consoles and progress live in report_console.py, the character grids (error maps,
sweep matrix, sparklines) in report_grids.py, the file formats in report_export.py;
this module re-exports their public names so callers import one place.
"""
from __future__ import annotations

import io
import json
import re
from collections import Counter
from itertools import zip_longest
from pathlib import Path

from rich.console import Console, Group
from rich.panel import Panel
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..geometry import format_axes, format_pad
from .console import (CI_WIDTH, NORMAL, QUIET, VERBOSE, Phrases, Unwrapped, make_console, print_error,
                             print_part, progress_reporter)
from .export import check_export_path, html_fragment, recording_console, save, wraps_long_lines
from .grids import BAD_MARK, error_map, num, render_loss_curves, sparkline, sweep_matrix
from ..vocab import POOL_OPS, Against, FAILING, Status, Target, Verdict

__all__ = ["QUIET", "NORMAL", "VERBOSE", "make_console", "progress_reporter", "render", "render_sections",
           "render_loss_curves", "print_error", "export", "export_sections", "check_export_path",
           "plain_text", "verdict_line", "error_map", "sparkline", "array_literal", "config_words"]

ROWS_SHOWN = 5                 # mismatch rows per failing check before "… N more (use -v)"
TERMS_SHOWN = 12               # cell-explanation rows before truncating
SYNTAX_THEME = "ansi_dark"      # the terminal's own colours, no padded background in CI logs
SOURCE_CONTEXT = 3             # lines of user source around a located mistake
HEADLINE_MAX = 36              # a summary cell's message longer than this is cut at a comma

STATUS_STYLE = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.ERROR: "bold red",
                Status.SKIPPED: "yellow"}
AGAINST_WORDS = {Against.REFERENCE: "the reference",
                 Against.FINITE_DIFFERENCES: "finite differences of your forward"}


# ---------------------------------------------------------------- entry points

def render(result, console: Console, *, verbosity: int = NORMAL) -> None:
    """Print the whole report for one RunResult; verbosity -1 prints only the verdict line."""
    for part in _sections(result, verbosity):
        print_part(console, part)
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



def export(result, path, verbosity: int = NORMAL) -> None:
    """Save the report, the reproducing command and the small failing inputs as .html/.svg/.txt."""
    export_sections([(None, result)], path, verbosity)


def html(result, verbosity: int = NORMAL) -> str:
    """The report as an HTML fragment, as `--report x.html` draws it (a notebook shows a RunResult so)."""
    console = recording_console()
    for part in _sections(result, max(verbosity, NORMAL), reproduce=True):
        print_part(console, part)
    console.print(verdict_line(result), soft_wrap=True)
    return html_fragment(console)


def export_sections(sections, path, verbosity: int = NORMAL) -> None:
    """Like `export` for titled sections (the demo)."""
    kind = check_export_path(path)      # a bad suffix is a usage error before anything is rendered
    console = recording_console()
    wrap = wraps_long_lines(kind)
    for title, body in sections:
        if title is not None:
            console.print(Rule(Text(str(title), style="bold")))
        if isinstance(body, dict):
            console.print(render_loss_curves(body))
        else:
            for part in _sections(body, max(verbosity, NORMAL), reproduce=True):
                print_part(console, part, wrap=wrap)
            console.print(verdict_line(body), soft_wrap=not wrap)
        if title is not None:
            console.print()             # as on the terminal: a blank line before the next section's rule
    save(console, path)


# ---------------------------------------------------------------- section order

def _sections(result, verbosity: int, reproduce: bool = False):
    """Yield the renderables of one report except the verdict line, which callers print last."""
    if verbosity > QUIET:
        yield _header(result)
        if result.notes:
            yield Group(*(_note(str(n)) for n in result.notes), Text(""))
        if result.verdict == Verdict.ERROR:
            return                      # nothing was checked: the verdict line says why
        if result.checks:
            yield _summary(result, verbosity)
            yield Text("")
        detailed: set = set()
        for check in result.checks:
            if check.status in FAILING or (verbosity >= VERBOSE and check.status != Status.SKIPPED):
                # One full table and map per target; a second failing comparison of the
                # same target (e.g. finite differences after the reference) is a summary.
                brief = verbosity < VERBOSE and check.target in detailed and check.status == Status.FAIL
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
            yield from _fix(result.fix)
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
    phrases = config_phrases(result.config)
    if phrases:
        lines.append(Phrases(phrases, " · "))
    if result.bound:
        lines.append(Phrases(bound_phrases(result.bound), "; ", lead=Text("bound: ", style="dim")))
    return Group(*lines, Text(""))


def bound_phrases(bound: dict) -> list[str]:
    """'grad_input, grad_filter, grad_bias -> conv_backward': one phrase per user function, not per target."""
    by_name: dict = {}
    for target, name in bound.items():
        by_name.setdefault(name, []).append(target)
    return [f"{', '.join(targets)} -> {name}" for name, targets in by_name.items()]


def _note(note: str) -> Phrases:
    """A note wrapped with a hanging indent: after its 'name: ' when it has one, and between
    'x = y' pairs when it lists them, so 'pad = pad' never splits across lines."""
    match = re.fullmatch(r"([\w.]+(?: [\w.]+){0,2}: )(.+)", note, re.S)
    key, value = match.groups() if match else ("", note)
    pairs = value.split(", ")
    if key and all(" = " in p for p in pairs):
        return Phrases(pairs, ", ", lead=key, style="dim", indent=len(key))
    return Phrases(value.split(" "), " ", lead=key, style="dim", indent=len(key) or 2)


def config_words(config: dict | None) -> str:
    """The configuration in words: 'functional convention, hw layout · correlate · stride 2, pad 1 · …'."""
    return " · ".join(config_phrases(config))


def config_phrases(config: dict | None) -> list[str]:
    """The configuration as phrases that belong together ('stride 2, pad 1'); a line breaks between them."""
    if not config:
        return []
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
    if config.get("groups", 1) != 1:
        geometry.append(f"groups {config['groups']}")
    if config.get("output_padding") and any(config["output_padding"]):
        geometry.append(f"output padding {format_axes(config['output_padding'])}")
    if config.get("ceil_mode"):
        geometry.append("ceil mode")
    if config.get("count_include_pad"):
        geometry.append("count include pad")
    if geometry:
        parts.append(", ".join(geometry))
    shapes = []
    pooling = config.get("op") in POOL_OPS          # pooling has a window, not a filter
    for key, word in (("input_shape", "input"), ("filter_shape", "window" if pooling else "filter")):
        if config.get(key):
            shapes.append(f"{word} {'x'.join(str(n) for n in config[key])}")
    if shapes:
        parts.append(", ".join(shapes))
    if config.get("seed") is not None:
        parts.append(f"seed {config['seed']}")
    return parts


def _summary(result, verbosity: int) -> Table:
    table = Table(title=None, show_edge=False, header_style="bold", pad_edge=False)
    for name, justify in (("target", "left"), ("against", "left"), ("status", "left"),
                          ("max abs error", "right"), ("mismatched", "right")):
        # a target ("grad_input (at pad 0)") and a status never break; the other columns give way
        table.add_column(name, justify=justify, no_wrap=name in ("target", "status"))
    for check in result.checks:
        if check.status == Status.SKIPPED and verbosity < VERBOSE:
            continue
        target = check.target + (f" ({check.config_note})" if check.config_note else "")
        against = check.against.replace("_", " ")
        if verbosity >= VERBOSE and check.mode:
            against += f" ({check.mode})"
        if check.mismatches is not None and check.total:
            mismatched = Text(mismatch_words(check.mismatches, check.total, check.mismatches_lower_bound))
        else:   # the headline of the message ("raised ValueError"); the whole of it is below
            words = headline(check.message, result.bound) if check.status in (Status.ERROR, Status.SKIPPED) else ""
            mismatched = Text(words, no_wrap=True, overflow="ellipsis", justify="left")
        table.add_row(target, against, Text(check.status.upper(), style=STATUS_STYLE.get(check.status, "")),
                      num(check.max_abs_error), mismatched)
    skipped = [c for c in result.checks if c.status == Status.SKIPPED]
    if skipped and verbosity < VERBOSE:
        table.caption = "skipped: " + "; ".join(
            f"{c.target}" + (f" ({c.message})" if c.message else "") for c in skipped)
        table.caption_justify = "left"
    return table


def headline(message: str | None, bound: dict | None = None) -> str:
    """A message cut to what fits a table cell: 'corr2d raised ValueError: operands could…' -> 'raised ValueError'.

    The text after the first ': ' (the exception's own words) and a trailing '(at file line N…)'
    go; so does the user's function name in front (the row names the target), and a list
    after a top-level comma when the rest is still long ('returned shape (5, 0), expected …').
    """
    text = (message or "").split(": ")[0].strip()
    text = re.sub(r"\s*\(at [^()]*\)$", "", text)
    first, _, rest = text.partition(" ")
    if rest and first in set((bound or {}).values()):
        text = rest
    if len(text) > HEADLINE_MAX:
        depth = 0
        for i, ch in enumerate(text):
            depth += ch in "([{"
            depth -= ch in ")]}"
            if depth == 0 and text.startswith(", ", i):
                return text[:i]
    return text


def mismatch_words(mismatches: int, total: int, lower_bound: bool = False) -> str:
    """numpy.testing's wording: '7 / 9 (77.8%)'; 'at least 7 / 90 (7.78%)' when group testing stopped early."""
    return ("at least " if lower_bound else "") + f"{mismatches} / {total} ({100.0 * mismatches / total:.3g}%)"


def _count(check) -> str:
    """'46 / 56' or 'at least 46 / 56'."""
    return ("at least " if check.mismatches_lower_bound else "") + f"{check.mismatches} / {check.total}"


def _val(value) -> str:
    """An array entry; result.Mismatch stores NaN as None."""
    return "nan" if value is None else f"{value:.6g}"


# ---------------------------------------------------------------- one failing check

def _check_details(check, verbosity: int, brief: bool = False) -> Group:
    title = f"{check.target} vs {check.against.replace('_', ' ')}: {check.status.upper()}"
    if check.config_note:
        title += f" ({check.config_note})"
    parts: list = [Rule(Text(title, style=STATUS_STYLE.get(check.status, "")), align="left")]
    if check.message and check.status != Status.SKIPPED:
        parts.append(Text(check.message))
    if check.traceback:
        lines = check.traceback.rstrip().splitlines()
        if verbosity < VERBOSE and len(lines) > 15:
            lines = ["…"] + lines[-15:]
        parts.append(Text("\n".join(lines), style="red"))
    if check.mismatches is not None and check.total:
        parts.append(Text(f"Mismatched elements: {mismatch_words(check.mismatches, check.total, check.mismatches_lower_bound)}"))
    if check.max_abs_error is not None and check.status == Status.FAIL:
        parts.append(Text(f"Max absolute difference: {num(check.max_abs_error)}"))
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


# ---------------------------------------------------------------- diagnoses

def _diagnoses(result) -> Group:
    parts: list = [Rule(Text("diagnosis", style="bold"), align="left")]
    shown: set = set()                  # (file, line) already on screen with its context
    for d in result.diagnoses:
        if d.follows:
            parts.append(Text.assemble((f"{d.target}: ", "bold"), (f"follows from the {d.follows}", "bold")))
        else:
            parts.append(Text.assemble((f"{d.target}: ", "bold"), (d.bug or "no known pattern matched", "bold magenta"),
                                       (f"  (confidence {d.confidence:.0%})", "dim")))
        parts.append(Text(d.explanation))
        if d.location is not None:
            loc = d.location
            lines = range(loc.line, (loc.end_line or loc.line) + 1)
            # two mistakes on one line (the seed's): its context once, then just the line, underlined
            seen = all((loc.file, n) in shown for n in lines)
            parts.append(_source_excerpt(loc, result.sources, context=0 if seen else SOURCE_CONTEXT))
            shown.update((loc.file, n) for n in lines)
        parts.append(Text(""))
    return Group(*parts)


def _source_excerpt(loc, sources: dict, context: int = SOURCE_CONTEXT) -> Group:
    where = Text(f"{loc.file}:{loc.line}" + (f":{loc.column}" if loc.column is not None else ""), style="cyan")
    source = sources.get(loc.file) if sources else None
    last = loc.end_line or loc.line
    if source:
        lines = source.splitlines()
        start, end = max(1, loc.line - context), min(len(lines), last + context)
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
    cell = "[" + ", ".join(str(i) for i in ex.cell) + "]"
    if not ex.user_terms and not ex.expected_terms and ex.note:     # nothing explained, only why
        return Group(Rule(Text(f"{ex.target} cell {cell}", style="bold"), align="left"),
                     Text(ex.note, style="yellow"), Text(""))

    def key(t):
        return (tuple(t.input_index), tuple(t.filter_index), round(float(t.coefficient), 9))

    user, expected = Counter(map(key, ex.user_terms)), Counter(map(key, ex.expected_terms))
    by_key = {key(t): t for t in (*ex.expected_terms, *ex.user_terms)}
    shared, extra, missing = user & expected, user - expected, expected - user
    # the differences first, an extra and a missing term side by side on one row, so the
    # limited view shows both sides of what is wrong; the agreeing terms after them
    rows = ([(by_key[a] if a else None, by_key[m] if m else None)
             for a, m in zip_longest(extra.elements(), missing.elements())]
            + [(by_key[k], by_key[k]) for k in shared.elements()])
    table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None,
                  title=None)
    table.add_column("your code computes")
    table.add_column("the reference computes")
    shown = rows if verbosity >= VERBOSE else rows[:TERMS_SHOWN]
    for mine, theirs in shown:
        if mine is theirs:
            label = term_text(mine, ex.left_name, ex.right_name)
            table.add_row(Text("  " + label), Text("  " + label))
            continue
        table.add_row(Text("+ " + term_text(mine, ex.left_name, ex.right_name), style="bold red") if mine else Text(""),
                      Text("- " + term_text(theirs, ex.left_name, ex.right_name), style="bold yellow")
                      if theirs else Text(""))
    parts = [Rule(Text(f"{ex.target} cell {cell}, term by term", style="bold"), align="left"),
             Text(f"your code sums {len(ex.user_terms)} terms, the reference {len(ex.expected_terms)}; "
                  f"{sum(shared.values())} agree, {sum(extra.values())} extra (+), "
                  f"{sum(missing.values())} missing (-)"), table]
    if len(rows) > len(shown):
        parts.append(Text(f"… {len(rows) - len(shown)} more rows (use -v)", style="dim"))
    if ex.note:
        parts.append(Text(ex.note, style="dim"))
    parts.append(Text(""))
    return Group(*parts)


# ---------------------------------------------------------------- fix, sweep, loss curves

def _fix(fix):
    """The fix under a rule, not in a box: the diff's lines print whole (soft-wrapped), so they can be
    copied from a terminal into `patch`."""
    if fix.verified:
        title = "fix (verified: every check passes on a patched copy)"
        style = "green"
    else:
        title = "suggested fix (NOT verified)" if fix.diff else "no fix found"
        style = "yellow"
    yield Rule(Text(title, style=f"bold {style}"), align="left", style=style)
    if fix.message:
        yield Text(fix.message)
    for line in (fix.diff or "").rstrip("\n").splitlines():
        yield Unwrapped(line, style=DIFF_STYLES.get(line[:1], "") if not line.startswith(("+++", "---")) else "bold")
    tried = f"{fix.candidates_tried} candidate edit{'' if fix.candidates_tried == 1 else 's'} tried"
    yield Text(f"{tried}; your files were not changed", style="dim")
    yield Text("")


DIFF_STYLES = {"+": "green", "-": "red", "@": "cyan"}


def _sweep(sweep, verbosity: int = NORMAL) -> list:
    parts: list = [Rule(Text("sweep", style="bold"), align="left"),
                   Text(sweep_failures(sweep))]
    matrix = sweep_matrix(sweep.rows)
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
    if result.verdict == Verdict.ERROR:
        message = result.error.message if result.error is not None else "corrcheck could not check"
        return _one_line(f"ERROR: {message}", "bold red")
    if result.verdict == Verdict.PASS:
        targets = list(dict.fromkeys(c.target for c in result.checks if c.status == Status.PASS))
        agree = "agrees" if len(targets) == 1 else "agree"
        detail = f": {count(len(targets), 'target')} {agree} ({', '.join(targets)})" if targets else ""
        return _one_line(f"PASS{detail}", "bold green")
    reasons: list = []
    by_target: dict = {}
    said: dict = {}                 # a message's first clause -> (its place in reasons, targets, other clauses)
    for check in result.checks:
        if check.status not in FAILING:
            continue
        if check.status == Status.FAIL and check.mismatches is not None and check.total:
            if check.target in by_target:
                # "…and with finite differences at 46 / 56": one clause per target, not a repeat
                first = by_target[check.target]
                reasons[first] += (f" and with {check.against.replace('_', ' ')} at "
                                   f"{_count(check)}"
                                   + (f" {check.config_note}" if check.config_note else ""))
            else:
                by_target[check.target] = len(reasons)
                reasons.append(_failure_words(check))
            continue
        # A message said once however many targets (one backward serving several) or comparisons it failed.
        label = check.target + (f" {check.config_note}" if check.config_note else "")
        lead, _, rest = (check.message or check.status).partition("; ")
        if lead not in said:
            said[lead] = (len(reasons), [], [])
            reasons.append(None)
        _, labels, clauses = said[lead]
        if label not in labels:
            labels.append(label)
        if rest and rest not in clauses:
            clauses.append(rest)
    for lead, (place, labels, clauses) in said.items():
        reasons[place] = f"{', '.join(labels)}: " + "; ".join([lead, *clauses])
    if not reasons and result.sweep is not None and result.sweep.failed:
        reasons = [sweep_failures(result.sweep, "sweep configuration")]
    return _one_line("FAIL" + (": " + "; ".join(reasons) if reasons else ""), "bold red")


def count(n: int, word: str, words: str | None = None) -> str:
    """'1 target', '2 targets' (`words` for irregular plurals)."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def sweep_failures(sweep, noun: str = "configuration") -> str:
    """'1 of 12 configurations fails', '3 of 12 configurations fail'."""
    return f"{sweep.failed} of {count(sweep.configs, noun)} {'fails' if sweep.failed == 1 else 'fail'}"


def _one_line(text: str, style: str) -> Text:
    """The verdict is one line (printed with soft_wrap), so `tail -1` and grep in CI logs see all of it."""
    return Text(" ".join(str(text).split()), style=style)


def _failure_words(check) -> str:
    note = f" {check.config_note}" if check.config_note else ""
    if check.status == Status.FAIL and check.mismatches is not None and check.total:
        unit = ("cell", "cells") if check.target == Target.FORWARD else ("entry", "entries")
        unit = unit[check.total != 1]
        against = AGAINST_WORDS.get(check.against, check.against)
        return f"{check.target} disagrees with {against} at {_count(check)} {unit}{note}"
    return f"{check.target}{note}: {check.message or check.status}"
