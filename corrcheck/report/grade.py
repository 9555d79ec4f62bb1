"""Views of a graded class: the staff table and summary, the progress bar, the gradebook CSV,
the class report, and one feedback report per student.

A student's feedback is exactly the report `corrcheck run --report` saves (with the
rerun command and the small failing inputs), rendered in the child that checked it.
Everything here reads the GradeResult's documents, so a cached result renders the same.
"""
from __future__ import annotations

import contextlib
import csv
import html
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..errors import UsageError
from .console import make_console
from .sections import count, export

__all__ = ["submission_report", "render", "grade_progress", "prepare_outputs", "write_csv", "write_class_report",
           "write_feedback", "check_class_report_path", "CSV_COLUMNS"]

VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "error": "bold yellow"}
CSV_COLUMNS = ("submission", "verdict", "score", "failing_targets", "mistakes", "file", "line", "seconds",
               "cached", "message")
FEEDBACK_KINDS = ("txt", "html")
MESSAGE_WIDTH = 60


def submission_report(result, kind: str) -> str:
    """The report `corrcheck run FILE --report x.<kind>` would save for this RunResult."""
    fd, tmp = tempfile.mkstemp(suffix=f".{kind}")
    os.close(fd)
    try:
        export(result, tmp)
        return Path(tmp).read_text(encoding="utf-8")
    finally:
        os.unlink(tmp)


# ---------------------------------------------------------------- terminal

def render(result, console: Console, *, quiet: bool = False) -> None:
    """The per-submission table (unless quiet), then the class summary."""
    if not quiet:
        console.print(_table(result))
        console.print()
    for line in summary_lines(result):
        console.print(line, soft_wrap=True)


def _table(result) -> Table:
    table = Table(title=f"corrcheck grade {result.root}", title_justify="left", header_style="bold",
                  show_lines=False, pad_edge=False)
    table.add_column("submission", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("failing", no_wrap=True)
    table.add_column("mistakes named", overflow="fold", min_width=33)   # the longest catalogue id
    table.add_column("line", overflow="fold", max_width=11)
    table.add_column("seconds", justify="right", no_wrap=True, min_width=7)
    for entry in result.entries:
        row = _row(entry)
        named = [(bug, _where(entry, bug)) for bug in entry.mistakes]
        table.add_row(Text(row["submission"]), Text(row["verdict"], style=VERDICT_STYLE.get(row["verdict"], "")),
                      Text("\n".join(entry.failing_targets)),
                      Text("\n".join(bug for bug, _ in named) or _message(row)),
                      Text("\n".join(where for _, where in named)), Text(row["seconds_text"], style="dim"))
    return table


def _where(entry, bug: str) -> str:
    """Line of the first located diagnosis of this mistake (file:line when the submission has several files)."""
    for d in entry.document.get("diagnoses") or ():
        loc = d.get("location")
        if d.get("bug") == bug and loc:
            return f"{loc['file']}:{loc['line']}" if len(entry.files) > 1 else str(loc["line"])
    return ""


def _message(row) -> str:
    text = row["message"]
    return text if len(text) <= MESSAGE_WIDTH else text[:MESSAGE_WIDTH - 1] + "…"


def summary_lines(result) -> list[Text]:
    """The class summary: how many pass, mistakes by how many make them, what could not be checked."""
    s = result.summary
    n = s["submissions"]
    lines = [Text.assemble(("class summary: ", "bold"),
                           f"{s['passed']} of {count(n, 'submission')} pass, {s['failed']} fail, "
                           f"{s['could_not_check']} could not be checked"
                           f" · {sum(e.cached for e in result.entries)} from the cache"
                           f" · {result.seconds:.1f} s with {count(result.jobs, 'job')}")]
    if s["mistakes"]:
        lines.append(Text("mistakes, by how many submissions make them:", style="bold"))
        for m in s["mistakes"]:
            ex = m["example"]
            where = ""
            if ex.get("location"):
                loc = ex["location"]
                where = f" at {Path(loc['file']).name}:{loc['line']} `{loc['code'].strip()}`"
            lines.append(Text(f"  {m['submissions']:>4}  {m['bug']}  (e.g. {ex['submission']}{where})"))
    for key, what in (("unexplained_failures", "failing with no catalogued mistake"),
                      ("timed_out", "a call that did not return within the time limit"),
                      ("unfinished", "left unfinished: a function still raises NotImplementedError")):
        names = s.get(key) or []
        if names:
            shown = ", ".join(names[:5]) + (f", … {len(names) - 5} more" if len(names) > 5 else "")
            lines.append(Text(f"  {len(names):>4}  {what} ({shown})"))
    if s["not_checked"]:
        lines.append(Text("could not be checked:", style="bold"))
        for e in s["not_checked"]:
            lines.append(Text(f"  {e['submission']}: {e['message']}"))
    return lines


@contextlib.contextmanager
def grade_progress(enabled: bool = True, console: Console | None = None):
    """Yield `progress(done, total, entry)`: a bar on stderr's terminal, nothing elsewhere."""
    console = console or make_console(stderr=True)
    if not enabled or not console.is_terminal:
        yield lambda done, total, entry: None
        return
    # lazy: only grading on a terminal draws a bar, and rich.progress costs ~30 ms to import
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(done, total, entry):
            bar.update(task, completed=done, total=total, description=f"{entry.submission}: {entry.verdict}")

        yield progress


# ---------------------------------------------------------------- files

def _row(entry) -> dict:
    loc = entry.location
    error = entry.document.get("error") or {}
    return {
        "submission": entry.submission,
        "verdict": entry.verdict,
        "score": 1 if entry.verdict == "pass" else 0,
        "failing_targets": " ".join(entry.failing_targets),
        "mistakes": " ".join(entry.mistakes),
        "file": loc["file"] if loc else "",
        "line": f"{loc['line']}" if loc else "",
        "seconds": round(entry.seconds, 3),
        "seconds_text": "cached" if entry.cached else f"{entry.seconds:.2f}",
        "cached": int(entry.cached),
        # why it could not be checked, what a call that raised or hung said, or for a failure with no
        # catalogued mistake the conclusion (a failing comparison's message is a note on how it counted)
        "message": error.get("message") or next((c["message"] for c in entry.document.get("checks") or ()
                                                 if c.get("status") == "error" and c.get("message")), "")
        or ("" if entry.mistakes or entry.verdict != "fail" else entry.document.get("conclusion") or ""),
    }


def prepare_outputs(csv_path, report_path, feedback_dir) -> None:
    """Create the folders the outputs go to before grading, so a typo costs seconds, not the whole class."""
    for folder, option in ((csv_path and Path(csv_path).parent, "--csv"), (report_path and Path(report_path).parent, "--report"),
                           (feedback_dir and Path(feedback_dir), "--feedback")):
        if not folder:
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {str(folder)!r} for {option}: {exc.strerror or exc}") from None
        if not os.access(folder, os.W_OK):
            raise UsageError(f"cannot write to {str(folder)!r} for {option}")


def write_csv(result, path) -> None:
    """The gradebook: one row per submission, score 1 for a pass and 0 otherwise."""
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for entry in result.entries:
                writer.writerow(_row(entry))
    except OSError as exc:
        raise UsageError(f"cannot write the gradebook to {str(path)!r}: {exc.strerror or exc}") from None


def check_class_report_path(path) -> str:
    """The class report's format from its suffix, checked before grading so a bad --report fails at once."""
    suffix = Path(str(path)).suffix.lower()
    if suffix not in (".html", ".htm", ".txt"):
        raise UsageError(f"--report must name a .html or .txt file, not {str(path)!r}")
    return "txt" if suffix == ".txt" else "html"


def feedback_text(entry, kind: str) -> str:
    """The student's report; a submission that never reached `run` gets its one sentence."""
    if kind in entry.reports:
        return entry.reports[kind]
    message = (entry.document.get("error") or {}).get("message", "could not be checked")
    line = f"ERROR: {message}"
    if kind == "html":
        return f"<!DOCTYPE html>\n<html lang=\"en\"><meta charset=\"UTF-8\"><pre>{html.escape(line)}</pre></html>\n"
    return line + "\n"


def feedback_name(entry, kind: str) -> str:
    """One file per submission, named after its folder (`alice/hw3` -> `alice__hw3.txt`)."""
    stem = "root" if entry.submission == "." else entry.submission.replace("/", "__")
    return f"{stem}.{kind}"


def write_feedback(result, folder, kind: str = "txt") -> list[Path]:
    """One report file per submission (--feedback), named after its folder, so each goes back to its student."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for entry in result.entries:
            target = folder / feedback_name(entry, kind)
            target.write_text(feedback_text(entry, kind), encoding="utf-8")
            written.append(target)
    except OSError as exc:
        raise UsageError(f"cannot write feedback to {str(folder)!r}: {exc.strerror or exc}") from None
    return written


def write_class_report(result, path, feedback_dir=None, feedback_kind: str = "txt") -> None:
    """The summary and table, then each student's report: linked when --feedback wrote them, else embedded."""
    kind = check_class_report_path(path)
    console = Console(record=True, file=open(os.devnull, "w"), width=120, color_system=None,
                      highlight=False, emoji=False)
    render(result, console)
    staff = console.export_text()
    console.file.close()
    try:
        if kind == "txt":
            parts = [staff]
            for entry in result.entries:
                parts.append(f"\n===== {entry.submission} =====\n{feedback_text(entry, 'txt')}")
            Path(path).write_text("".join(parts), encoding="utf-8")
            return
        Path(path).write_text(_class_html(result, staff, Path(path), feedback_dir, feedback_kind), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the report to {str(path)!r}: {exc.strerror or exc}") from None


def _class_html(result, staff: str, path: Path, feedback_dir, feedback_kind: str) -> str:
    out = ["<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"UTF-8\">\n",
           f"<title>corrcheck grade {html.escape(result.root)}</title>\n<style>\n",
           "body{font-family:ui-monospace,Menlo,Consolas,monospace;margin:24px 32px;color:#24292f}\n",
           "pre{white-space:pre-wrap;font-size:13px}\nsummary{cursor:pointer}\n",
           ".pass{color:#116329}.fail{color:#cf222e}.error{color:#4d2d00}\n</style>\n</head>\n<body>\n",
           f"<h1>corrcheck grade {html.escape(result.root)}</h1>\n<pre>{html.escape(staff)}</pre>\n",
           "<h2>Each submission</h2>\n"]
    for entry in result.entries:
        label = f"{html.escape(entry.submission)} — <span class=\"{entry.verdict}\">{entry.verdict.upper()}</span>"
        if feedback_dir is not None:
            link = os.path.relpath(Path(feedback_dir) / feedback_name(entry, feedback_kind), path.parent)
            out.append(f"<p><a href=\"{html.escape(Path(link).as_posix())}\">{label}</a></p>\n")
        else:
            out.append(f"<details><summary>{label}</summary>\n<pre>{html.escape(feedback_text(entry, 'txt'))}</pre>\n"
                       "</details>\n")
    out.append("</body>\n</html>\n")
    return "".join(out)
