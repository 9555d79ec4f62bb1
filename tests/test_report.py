"""The Rich report: key texts of hand-made results, verbosity, no ANSI off a TTY, exports."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from rich.console import Console

from corrcheck.report import sections as report
from corrcheck.errors import UsageError
from corrcheck.result import (CellExplanation, CellTerm, CheckResult, Diagnosis, ErrorInfo, FixResult,
                              Location, Mismatch, RunResult, SweepResult)

SEED_JS = """\
function corre(a, f, s, p){
  let outY = parseInt((a.length - f.length + 2 * p)/s + 1)
  let outX = parseInt((a.length - f.length + 2 * p)/s + 1)
  return new Array(outY).fill(0).map((_, y) =>
    new Array(outX).fill(0).map((__, x) => {
      let sum = 0;
      for(let j = 0; j < f.length; j++){
        for(let i = 0; i < f[j].length; i++){
          if(a[y + j * s - p] && a[y + j * s - p][x + i * s - p])
            sum += a[y + j * s - p][x + i * s - p] * f[y][x]
        }
      }
      return sum
    }))
}
"""
BUG_LINE = 10
CONFIG = {"op": "correlate", "stride": [2, 2], "pad": [[1, 1], [1, 1]], "dilation": [1, 1], "layout": "hw",
          "convention": "functional", "input_shape": [5, 5], "filter_shape": [3, 3], "seed": 0}


def _comparison(target, against, expected, actual, **extra):
    """A CheckResult built the way the checks build one: mask, counts, worst first."""
    wrong = ~np.isclose(actual, expected, rtol=1e-7, atol=1e-9)
    order = sorted(zip(*np.nonzero(wrong)), key=lambda ix: -abs(actual[ix] - expected[ix]))
    worst = tuple(Mismatch(tuple(int(i) for i in ix), float(expected[ix]), float(actual[ix])) for ix in order)
    return CheckResult(target=target, against=against, status="fail" if wrong.any() else "pass",
                       max_abs_error=float(np.abs(actual - expected).max()), mismatches=int(wrong.sum()),
                       total=int(wrong.size), worst=worst, error_map=wrong, **extra)


def failing_result() -> RunResult:
    rng = np.random.default_rng(0)
    expected = rng.normal(size=(3, 3))
    actual = expected.copy()
    wrong_cells = [(0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 0), (2, 2)]        # 7 of 9
    for k, ix in enumerate(wrong_cells):
        actual[ix] += 0.5 + k
    forward = _comparison("forward", "reference", expected, actual)
    dfilter_expected = rng.normal(size=(3, 3))
    dfilter_actual = dfilter_expected.copy()
    dfilter_actual[0, :] *= -1.0                                                 # a whole row wrong
    grad_filter = _comparison("grad_filter", "finite_differences", dfilter_expected, dfilter_actual,
                              mode="exhaustive")
    grad_input = CheckResult("grad_input", "reference", "pass", 1e-15, 0, 25, mode="direct")
    grad_bias = CheckResult("grad_bias", "reference", "skipped", message="the forward takes no bias")
    diagnosis = Diagnosis("forward", "filter-indexed-by-output", 0.99,
                          "The filter is read at the output position: write f[j][i] instead of f[y][x].",
                          Location("seed.js", BUG_LINE, "sum += a[y + j * s - p][x + i * s - p] * f[y][x]",
                                   column=SEED_JS.splitlines()[BUG_LINE - 1].index("f[y][x]")))
    unknown = Diagnosis("grad_filter", None, 0.4, "No known pattern matched; the mismatch is the whole first row.")
    explanation = CellExplanation(
        "forward", (0, 1),
        user_terms=(CellTerm((0, 1), (0, 1)), CellTerm((0, 2), (0, 1)), CellTerm((1, 1), (0, 1))),
        expected_terms=(CellTerm((0, 1), (1, 0)), CellTerm((0, 2), (1, 1)), CellTerm((1, 1), (2, 0))),
    )
    fix = FixResult(True, "--- seed.js\n+++ seed.js\n@@ -10 +10 @@\n-            sum += a[y][x] * f[y][x]\n"
                          "+            sum += a[y][x] * f[j][i]\n", 14)
    sweep = SweepResult(
        configs=4, failed=3,
        smallest_failing={"stride": [1, 1], "pad": [[1, 1], [1, 1]], "input_shape": [3, 3], "filter_shape": [2, 2]},
        rows=(({"stride": [1, 1], "pad": [[0, 0], [0, 0]]}, True, ()),
              ({"stride": [1, 1], "pad": [[1, 1], [1, 1]]}, False, ("forward",)),
              ({"stride": [2, 2], "pad": [[0, 0], [0, 0]]}, False, ("forward",)),
              ({"stride": [2, 2], "pad": [[1, 1], [1, 1]]}, False, ("forward",))),
        command="corrcheck run seed.js --stride 1 --pad 1 --input-size 3 --filter-size 2")
    return RunResult(
        version="0.1.0", verdict="fail", files=("seed.js",), config=CONFIG,
        bound={"forward": "corre", "grad_filter": "backpropFilter", "grad_input": "backpropInput"},
        checks=(forward, grad_input, grad_filter, grad_bias), diagnoses=(diagnosis, unknown),
        calls={"forward": 6, "grad_filter": 2, "grad_input": 1}, seconds=0.41, fix=fix, sweep=sweep,
        notes=("Bound by name: functional convention, nested lists in hw layout.",),
        conclusion="Every output cell multiplies its whole window by one filter entry, so training follows "
                   "a wrong gradient and the loss climbs.",
        explanations=(explanation,), command="corrcheck run seed.js --stride 2 --pad 1 --seed 0",
        inputs={"input": rng.normal(size=(5, 5)).round(3).tolist(), "filter": [[1.0, 0.0], [0.0, -1.0]]},
        sources={"seed.js": SEED_JS})


def passing_result() -> RunResult:
    checks = tuple(CheckResult(t, a, "pass", 1e-16, 0, n) for t, a, n in
                   (("forward", "reference", 9), ("grad_input", "reference", 25),
                    ("grad_filter", "finite_differences", 9)))
    return RunResult("0.1.0", "pass", ("ok.py",), CONFIG, {"forward": "corre"}, checks,
                     calls={"forward": 3}, seconds=0.12)


def error_result() -> RunResult:
    return RunResult("0.1.0", "error", ("missing.py",),
                     error=ErrorInfo("load", "cannot read missing.py: no such file"))


def text_of(result, verbosity=report.NORMAL, width=100) -> str:
    buffer = io.StringIO()
    report.render(result, Console(file=buffer, width=width, color_system=None), verbosity=verbosity)
    return buffer.getvalue()


def test_failing_report_names_the_mismatch_in_numpy_words():
    out = text_of(failing_result())
    assert "Mismatched elements: 7 / 9 (77.8%)" in out
    assert "Max absolute difference: 6.5" in out
    assert "… 2 more (use -v)" in out
    assert "functional convention, hw layout · correlate · stride 2, pad 1 · input 5x5, filter 3x3 · seed 0" in out
    assert "forward -> corre" in out
    assert "Bound by name" in out


def test_mismatch_rows_are_worst_first_and_verbose_shows_all():
    normal = text_of(failing_result())
    rows = re.findall(r"^\[(\d), (\d)\]\s", normal, re.M)
    assert rows[0] == ("2", "2")                   # the largest offset (6.5) comes first
    verbose = text_of(failing_result(), report.VERBOSE)
    assert "(use -v)" not in verbose.split("grad_filter vs")[0]
    assert len(re.findall(r"^\[\d, \d\]\s", verbose, re.M)) > len(rows)
    assert "exhaustive" in verbose                  # -v shows how each check ran
    assert "grad_input vs reference: PASS" in verbose


def test_error_map_shows_the_pattern():
    out = text_of(failing_result())
    grid = out.split("error map of output")[1].splitlines()[1:5]
    assert grid[1].split() == ["0", "·", "✗", "✗"]
    assert grid[2].split() == ["1", "✗", "✗", "✗"]
    assert grid[3].split() == ["2", "✗", "·", "✗"]
    row_map = out.split("error map of grad_filter")[1].splitlines()[1:5]
    assert row_map[1].split() == ["0", "✗", "✗", "✗"] and row_map[2].split() == ["1", "·", "·", "·"]


def test_error_map_of_4d_gradient_shows_a_slice_with_mismatches():
    mask = np.zeros((2, 3, 4, 4), dtype=bool)
    mask[1, 2, ::2, :] = True                       # every 2nd row of one slice
    mask[0, 1, 0, 0] = True
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None).print(report.error_map(mask, "grad_input"))
    out = buffer.getvalue()
    assert "slice [0, 1, :, :]" in out and "2x3x4x4" in out
    assert "1 more slices with mismatches (use -v)" in out
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None).print(report.error_map(mask, "grad_input", report.VERBOSE))
    verbose = buffer.getvalue()
    grid = verbose.split("slice [1, 2, :, :]")[1].splitlines()[2:6]
    assert [row.count("✗") for row in grid] == [4, 0, 4, 0]


def test_large_error_maps_are_cropped():
    mask = np.ones((64, 64), dtype=bool)
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None).print(report.error_map(mask, "forward"))
    out = buffer.getvalue()
    assert "cropped to 24x40 of 64x64" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_diagnosis_shows_bug_and_highlighted_source():
    out = text_of(failing_result())
    assert "forward: filter-indexed-by-output  (confidence 99%)" in out
    assert "write f[j][i] instead of f[y][x]" in out
    assert "seed.js:10:" in out
    assert re.search(r"^\W*10 .*\* f\[y\]\[x\]", out, re.M)    # the user's line, numbered
    assert re.search(r"^\s*7 ", out, re.M) and re.search(r"^\s*13 ", out, re.M)  # context around it
    assert "grad_filter: no known pattern matched" in out


def test_diagnosis_without_sources_shows_the_located_code():
    result = failing_result()
    bare = RunResult(**{**result.__dict__, "sources": {}})
    out = text_of(bare)
    assert re.search(r"^\W*10 .*f\[y\]\[x\]", out, re.M)


def test_cell_explanation_marks_extra_and_missing_terms():
    out = text_of(failing_result())
    assert "forward cell [0, 1], term by term" in out
    assert "+ I[0][1]·F[0][1]" in out
    assert "- I[0][1]·F[1][0]" in out
    assert "0 agree, 3 extra (+), 3 missing (-)" in out


def test_gradient_cell_explanation_uses_its_names():
    ex = CellExplanation("grad_filter", (1, 1), (CellTerm((0, 0), (2, 2)),), (CellTerm((0, 0), (2, 2)), CellTerm((1, 0), (3, 2))),
                         left_name="dO", right_name="I")
    result = RunResult("0.1.0", "fail", ("x.py",), CONFIG, explanations=(ex,))
    out = text_of(result)
    assert "dO[0][0]·I[2][2]" in out and "- dO[1][0]·I[3][2]" in out
    assert "1 agree, 0 extra (+), 1 missing (-)" in out


def test_long_cell_explanation_shows_both_sides_of_the_difference_first():
    agree = tuple(CellTerm((9, i), (0, i)) for i in range(5))
    mine = agree + tuple(CellTerm((i, 0), (1, 1)) for i in range(15))
    theirs = agree + tuple(CellTerm((i, 1), (0, 0)) for i in range(15))
    result = RunResult("0.1.0", "fail", ("x.py",), CONFIG,
                       explanations=(CellExplanation("forward", (0, 0), mine, theirs),))
    out = text_of(result)
    pair = [line for line in out.splitlines() if "+ I[0][0]·F[1][1]" in line]
    assert pair and "- I[0][1]·F[0][0]" in pair[0]              # an extra and a missing term on one row
    assert "- I[11][1]·F[0][0]" in out and "- I[12][1]·F[0][0]" not in out
    assert "… 8 more rows (use -v)" in out                      # 3 differing + 5 agreeing rows hidden
    full = text_of(result, verbosity=report.VERBOSE)
    assert "- I[14][1]·F[0][0]" in full and "  I[9][4]·F[0][4]" in full


def test_conclusion_fix_sweep_and_footer():
    out = text_of(failing_result())
    assert "what this means" in out and "the loss climbs" in out
    assert "fix (verified: every check passes on a patched copy)" in out
    assert "+            sum += a[y][x] * f[j][i]" in out
    assert "14 candidate edits tried" in out
    assert "3 of 4 configurations fail" in out
    matrix = out.split("stride \\ pad")[1].splitlines()
    assert matrix[1].split() == ["1", "✓", "✗"] and matrix[2].split() == ["2", "✗", "✗"]
    assert "smallest failing config: stride 1, pad 1 · input 3x3, filter 2x2" in out
    assert "--input-size 3 --filter-size 2" in out
    assert "user-function calls: forward 6, grad_filter 2, grad_input 1 · 0.41 s" in out


def test_the_fix_diff_prints_whole_lines_that_patch_can_take():
    out = text_of(failing_result(), width=40)          # narrower than the diff's lines
    lines = out.splitlines()
    assert "-            sum += a[y][x] * f[y][x]" in lines
    assert "+            sum += a[y][x] * f[j][i]" in lines
    fix = out[out.index("fix (verified"):out.index("candidate edits tried")].splitlines()
    assert "--- seed.js" in fix and not any(line.startswith(("│", "╭", "╰")) for line in fix)


def test_unverified_fix_says_so():
    result = failing_result()
    unverified = RunResult(**{**result.__dict__, "fix": FixResult(False, "", 31, "no edit made every check pass")})
    out = text_of(unverified)
    assert "no fix found" in out and "no edit made every check pass" in out and "verified:" not in out


def test_verdict_lines_and_quiet():
    failing = text_of(failing_result())
    assert failing.rstrip().splitlines()[-1] == (
        "FAIL: forward disagrees with the reference at 7 / 9 cells; grad_filter disagrees with finite "
        "differences of your forward at 3 / 9 entries")
    assert text_of(failing_result(), report.QUIET).strip() == failing.rstrip().splitlines()[-1]
    assert text_of(passing_result(), report.QUIET).strip() == "PASS: 3 targets agree (forward, grad_input, grad_filter)"
    assert text_of(error_result(), report.QUIET).strip() == "ERROR: cannot read missing.py: no such file"


def test_skipped_and_errored_checks():
    out = text_of(failing_result())
    assert "skipped: grad_bias (the forward takes no bias)" in out
    crashed = CheckResult("grad_input", "reference", "error", message="raised IndexError: list index out of range",
                          traceback='  File "conv.py", line 12, in backward\n    dx[i][j] += 1\nIndexError: list index out of range')
    result = RunResult("0.1.0", "fail", ("conv.py",), CONFIG, checks=(crashed,))
    out = text_of(result)
    assert 'File "conv.py", line 12' in out
    summary_row = next(line for line in out.splitlines() if line.startswith("grad_input "))
    assert summary_row.rstrip().endswith("raised IndexError")      # headline only; details below
    assert out.rstrip().endswith("FAIL: grad_input: raised IndexError: list index out of range")


def test_config_note_reaches_summary_and_verdict():
    check = CheckResult("grad_input", "reference", "fail", 1.0, 25, 25, config_note="at pad 0")
    out = text_of(RunResult("0.1.0", "fail", ("c.py",), CONFIG, checks=(check,)))
    assert "grad_input (at pad 0)" in out
    assert out.rstrip().endswith("at 25 / 25 entries at pad 0")


def test_user_text_with_brackets_is_not_markup():
    d = Diagnosis("forward", None, 0.2, "[bold]x[/bold] and [red] stay as written")
    out = text_of(RunResult("0.1.0", "fail", ("c.py",), CONFIG, diagnoses=(d,)))
    assert "[bold]x[/bold] and [red] stay as written" in out


def test_nan_entries_show_as_nan():
    check = CheckResult("forward", "reference", "fail", None, 1, 4, worst=(Mismatch((0, 0), 1.0, None),))
    out = text_of(RunResult("0.1.0", "fail", ("c.py",), CONFIG, checks=(check,)))
    assert re.search(r"\[0, 0\]\s+1\s+nan\s+nan", out)


def test_no_ansi_when_piped_or_no_color(monkeypatch):
    piped = io.StringIO()
    console = report.make_console(file=piped)
    assert console.width == 100 and not console.is_terminal
    report.render(failing_result(), console)
    assert "\x1b[" not in piped.getvalue() and "✗" in piped.getvalue()

    class FakeTTY(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    tty = FakeTTY()
    report.render(failing_result(), report.make_console(file=tty))
    assert "\x1b[" in tty.getvalue()                 # colour on a terminal...
    monkeypatch.setenv("NO_COLOR", "1")
    tty = FakeTTY()
    report.render(failing_result(), report.make_console(file=tty))
    assert "\x1b[" not in tty.getvalue()             # ...and none at all with NO_COLOR


def test_plain_text_has_the_report_without_ansi():
    text = report.plain_text(failing_result())
    assert "\x1b[" not in text
    assert "filter-indexed-by-output" in text and text.rstrip().splitlines()[-1].startswith("FAIL: forward")


@pytest.mark.parametrize("suffix", [".html", ".svg", ".txt"])
def test_export_formats_hold_diagnosis_command_and_inputs(tmp_path, suffix):
    path = tmp_path / f"report{suffix}"
    report.export(failing_result(), path, report.NORMAL)
    content = path.read_text(encoding="utf-8")
    if suffix == ".svg":                             # text sits in <text> elements, spaces as &#160;
        content = content.replace("&#160;", " ")
        assert content.lstrip().startswith("<svg") and "cdnjs" not in content
    if suffix == ".html":
        assert content.lstrip().startswith("<!DOCTYPE html>") and content.rstrip().endswith("</html>")
        assert "<title>corrcheck report</title>" in content
    assert "filter-indexed-by-output" in content
    assert "corrcheck run seed.js --stride 2 --pad 1 --seed 0" in content
    assert "[1.0, 0.0]" in content                  # the small input, pasteable
    if suffix == ".txt":
        assert "\x1b[" not in content
        assert "filter = [\n  [1.0, 0.0],\n  [0.0, -1.0]\n]" in content


def test_array_literal_is_pasteable_python():
    value = [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, -8.5]]]
    literal = report.array_literal(value)
    assert eval(literal) == value                   # noqa: S307 - a literal we just built
    assert literal.splitlines()[2] == "    [1.0, 2.0],"
    assert report.array_literal([1.0, 2.0]) == "[1.0, 2.0]"


def test_error_result_shows_only_the_reason():
    out = text_of(error_result())
    assert "user-function calls" not in out
    assert out.rstrip().splitlines()[-1] == "ERROR: cannot read missing.py: no such file"


def test_export_rejects_unknown_extension(tmp_path):
    with pytest.raises(UsageError, match=r"\.html, \.svg or \.txt"):
        report.export(failing_result(), tmp_path / "report.pdf")


def test_export_reports_unwritable_path_in_one_sentence(tmp_path):
    with pytest.raises(UsageError, match="cannot write the report"):
        report.export(failing_result(), tmp_path / "no" / "such" / "dir.txt")


def test_demo_sections_and_loss_curves():
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None)
    report.render_sections([("buggy forward", failing_result()), ("fixed forward", passing_result()),
                            ("loss curve", {"buggy": [1.0, 0.8, 0.9, 3.0, float("inf")], "fixed": [1.0, 0.5, 0.2]})],
                           console)
    out = buffer.getvalue()
    assert "buggy forward" in out and "fixed forward" in out and "loss during training" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(("buggy ", "fixed "))}
    assert "!" in lines["buggy"] and lines["fixed"].split()[1] == "█▃▁"


def test_sparkline_downsamples_long_curves():
    assert len(report.sparkline(list(range(1000)), width=20)) == 20
    assert report.sparkline([3.0, 2.0, 1.0]) == "█▄▁"


def test_progress_is_silent_off_a_terminal():
    buffer = io.StringIO()
    with report.progress_reporter(console=Console(file=buffer)) as progress:
        progress("binding functions")
        progress("checking", "grad_filter", step=2)
    assert buffer.getvalue() == ""


def test_verbose_sweep_lists_each_failing_config_with_reason():
    result = failing_result()
    rows = result.sweep.rows + (({"stride": [3, 3], "pad": [[0, 0], [0, 0]], "input_shape": [4, 4],
                                  "filter_shape": [3, 3]}, False, ("grad_input",), "your forward raised"),)
    swept = RunResult(**{**result.__dict__, "sweep": SweepResult(5, 4, result.sweep.smallest_failing, rows)})
    out = text_of(swept, report.VERBOSE)
    assert "✗ stride 3, pad 0 · input 4x4, filter 3x3: grad_input (your forward raised)" in out
    assert "✗ stride 3" not in text_of(swept)


def test_same_target_twice_gives_one_table_and_one_verdict_clause():
    mask = np.ones((1, 1, 2, 3), dtype=bool)        # canonical map with size-1 batch/channel axes
    rows = (Mismatch((0, 1), 1.0, -1.0), Mismatch((1, 2), 0.5, 0.0))
    by_ref = CheckResult("grad_input", "reference", "fail", 2.0, 6, 6, worst=rows, error_map=mask)
    by_fd = CheckResult("grad_input", "finite_differences", "fail", 2.0, 4, 6, worst=rows, error_map=mask)
    result = RunResult("0.1.0", "fail", ("c.js",), CONFIG, checks=(by_ref, by_fd))
    out = text_of(result)
    assert out.count("error map of grad_input (2x3;") == 1    # leading size-1 axes dropped
    assert "(rows and error map of this comparison with -v)" in out
    assert out.rstrip().splitlines()[-1] == ("FAIL: grad_input disagrees with the reference at 6 / 6 entries "
                                             "and with finite differences at 4 / 6")
    assert text_of(result, report.VERBOSE).count("error map of grad_input") == 2


def test_commands_are_never_wrapped_so_they_can_be_copied():
    result = failing_result()
    long_command = "corrcheck run " + "/very/long/path/" * 8 + "seed.js --stride 2 --pad 1 --seed 0"
    long = RunResult(**{**result.__dict__, "command": long_command})
    out = text_of(long, width=60)
    assert f"rerun: {long_command}" in out.splitlines()
    assert "reproduce: corrcheck run seed.js --stride 1 --pad 1 --input-size 3 --filter-size 2" in out.splitlines()


def test_token_underline_covers_indexing_and_calls():
    line = "        total += at(a, y + j * s - p) * at(f, y, x)  # c"
    start = line.index("at(f")
    assert line[slice(*report._token_span(line, start))] == "at(f, y, x)"
    line = "sum += a[r][c] * f[y][x]"
    assert line[slice(*report._token_span(line, line.index("f[")))] == "f[y][x]"


def test_sparkline_uses_a_log_scale_for_decades():
    assert report.sparkline([1.0, 1e-3, 1e-6, 1e-9]) == "█▅▃▁"       # linear would be "█▁▁▁"
    assert report.sparkline([2.0, 1.0, 3.0]) == "▄▁█"


def test_summary_cell_shows_a_short_headline_and_targets_never_break():
    shape = "conv_backward returned shape (2, 3, 0, 0), expected (2, 3, 8, 7)"
    raised = ("corr2d raised ValueError: operands could not be broadcast together with remapped shapes "
              "[original->remapped]: (3,3,3,2)->(3,3,3,2) (at c.py line 27: `np.einsum(...)`)")
    bound = {"forward": "corr2d", "grad_input": "conv_backward", "grad_filter": "conv_backward"}

    def rows(*checks):
        out = text_of(RunResult("0.1.0", "fail", ("c.py",), CONFIG, bound, checks))
        return out, {line.split(" ")[0]: line.rstrip() for line in out.splitlines() if "│" in line}

    out, table = rows(CheckResult("forward", "reference", "pass", 0.0, 0, 16),      # practice_12's shape
                      CheckResult("grad_input", "reference", "error", message=shape, config_note="at pad 0"))
    assert table["grad_input"].endswith("│ returned shape (2, 3, 0, 0)")
    assert shape in out                                           # the whole message below the table
    out, table = rows(CheckResult("forward", "reference", "error", message=raised),  # practice_02's shape
                      CheckResult("grad_filter", "finite_differences", "fail", 2.80892, 9, 9,
                                  config_note="on a 8x8 input"))
    assert table["forward"].endswith("│ raised ValueError")
    assert table["grad_filter"].startswith("grad_filter (on a 8x8 input) │")
    assert report.headline("raised IndexError: list index out of range") == "raised IndexError"
    assert report.headline("f returned shape (5,), expected (4,)", {"forward": "f"}) == "returned shape (5,), expected (4,)"


def test_header_and_notes_wrap_between_phrases_not_inside_them():
    config = {**CONFIG, "convention": "cs231n", "layout": "nchw", "input_shape": [2, 3, 8, 7],
              "filter_shape": [4, 3, 3, 2], "seed": 123}
    notes = ("corr2d_grad_image: dout = dout, kernel = filter, image_shape = input size, stride = stride, pad = pad",
             "finite differences: random directions, wrong entries localised by group testing (use --exhaustive "
             "for every entry)")
    bound = {"forward": "conv_forward_naive", "grad_input": "conv_backward_naive",
             "grad_filter": "conv_backward_naive", "grad_bias": "conv_backward_naive"}
    out = text_of(RunResult("0.1.0", "pass", ("c.py",), config, bound, notes=notes), width=92)
    lines = out.splitlines()
    header = lines[1:lines.index(next(line for line in lines if line.startswith("bound:")))]
    assert len(header) == 2 and header[0].endswith(" ·") and header[1].startswith("  ")
    for phrase in ("cs231n convention, nchw layout", "stride 2, pad 1", "input 2x3x8x7, filter 4x3x3x2", "seed 123"):
        assert any(phrase in line for line in header), phrase      # never 'seed' / '123'
    assert max(len(line) for line in lines) <= 92
    at = lines.index("bound: forward -> conv_forward_naive;")     # one phrase per user function
    assert lines[at + 1] == "  grad_input, grad_filter, grad_bias -> conv_backward_naive"
    at = next(i for i, line in enumerate(lines) if line.startswith("corr2d_grad_image: "))
    assert lines[at].endswith("stride = stride,") and lines[at + 1] == " " * len("corr2d_grad_image: ") + "pad = pad"
    at = next(i for i, line in enumerate(lines) if line.startswith("finite differences: "))
    indent = " " * len("finite differences: ")
    assert lines[at + 1].startswith(indent) and lines[at + 1][len(indent)] != " "
    assert " ".join((lines[at] + lines[at + 1]).split()) == notes[1]
    assert all(line == line.rstrip() for line in lines[:at + 2])  # no padding a copy would drag along


def test_second_mistake_on_an_already_shown_line_shows_just_that_line():
    result = failing_result()
    first = result.diagnoses[0]
    column = SEED_JS.splitlines()[BUG_LINE - 1].index("a[y + j")
    second = Diagnosis("forward", "stride-on-filter-index", 0.9, "Multiply the stride onto the output index.",
                       Location("seed.js", BUG_LINE, first.location.code, column=column))
    out = text_of(RunResult(**{**result.__dict__, "diagnoses": (first, second)}))
    section = out.split("stride-on-filter-index")[1].split("term by term")[0]
    assert re.search(r"^\W*10 .*f\[y\]\[x\]", section, re.M)
    assert not re.search(r"^\s*(7|9|11|13) ", section, re.M)      # the context was shown just above
    assert len(re.findall(r"^\s*7 ", out, re.M)) == 1


def test_exported_demo_sections_are_separated_like_on_the_terminal(tmp_path):
    path = tmp_path / "demo.txt"
    report.export_sections([("buggy forward", failing_result()), ("fixed forward", passing_result()),
                            ("loss curve", {"fixed": [1.0, 0.5]})], path)
    lines = path.read_text(encoding="utf-8").splitlines()
    for title in ("fixed forward", "loss curve"):
        rule = next(i for i, line in enumerate(lines) if title in line and "─" in line)
        assert lines[rule - 1] == "" and lines[rule - 2].startswith(("FAIL", "PASS"))


# ---------------------------------------------------------------- wording (new-user trial)

def test_one_passing_target_is_singular():
    one = RunResult("0.1.0", "pass", ("ok.py",), CONFIG, {"forward": "corre"},
                    (CheckResult("forward", "reference", "pass", 1e-16, 0, 9),), calls={"forward": 3}, seconds=0.1)
    assert text_of(one, report.QUIET).strip() == "PASS: 1 target agrees (forward)"


def test_one_backward_failing_several_targets_is_said_once():
    shape_message = "conv_grad returned 1 value(s) with shapes None; none has the grad {} shape ({})"
    checks = [CheckResult("forward", "reference", "pass", 1e-16, 0, 9)]
    for against in ("reference", "finite_differences"):
        checks += [CheckResult("grad_input", against, "error", message=shape_message.format("input", "5, 5")),
                   CheckResult("grad_filter", against, "error", message=shape_message.format("filter", "3, 3"))]
    result = RunResult("0.1.0", "fail", ("conv.py",), CONFIG, {"forward": "conv", "grad_input": "conv_grad",
                                                              "grad_filter": "conv_grad"}, tuple(checks))
    line = text_of(result, report.QUIET).strip()
    assert line == ("FAIL: grad_input, grad_filter: conv_grad returned 1 value(s) with shapes None; "
                    "none has the grad input shape (5, 5); none has the grad filter shape (3, 3)")
    crash = "conv_grad raised IndexError: list index out of range (at conv.py line 9: `dx[i] += 1`)"
    same = RunResult("0.1.0", "fail", ("conv.py",), CONFIG, {}, tuple(
        CheckResult(t, "reference", "error", message=crash) for t in ("grad_input", "grad_filter")))
    assert text_of(same, report.QUIET).strip() == f"FAIL: grad_input, grad_filter: {crash}"


def test_counts_agree_with_their_nouns():
    assert report.count(1, "target") == "1 target" and report.count(2, "entry", "entries") == "2 entries"
    one_of_one = SweepResult(configs=1, failed=1, smallest_failing=None)
    assert report.sweep_failures(one_of_one) == "1 of 1 configuration fails"
    assert report.sweep_failures(SweepResult(configs=4, failed=3, smallest_failing=None)) == "3 of 4 configurations fail"
    single = CheckResult("forward", "reference", "fail", 1.0, 1, 1)
    result = RunResult("0.1.0", "fail", ("conv.py",), CONFIG, {}, (single,))
    assert text_of(result, report.QUIET).strip() == "FAIL: forward disagrees with the reference at 1 / 1 cell"


def test_a_cell_explanation_with_only_a_note_shows_the_note_not_an_empty_table():
    ex = CellExplanation("forward", (9, 9), (), (), note="--explain-cell 9,9 is not a cell of the forward's output")
    out = text_of(RunResult("0.1.0", "pass", ("x.py",), CONFIG, explanations=(ex,)))
    assert "forward cell [9, 9]" in out and "--explain-cell 9,9 is not a cell" in out
    assert "term by term" not in out and "sums 0 terms" not in out
