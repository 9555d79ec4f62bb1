"""`corrcheck grade` end to end: a generated class of 104 submissions in two conventions.

The expected counts come from what tests/grade_class.py wrote (which mistakes, which
hostile files), not from an earlier run of corrcheck, so a grader that miscounts, loses a
submission, lets a hostile one crash it or reports a mistake it did not see fails here.
"""
from __future__ import annotations

import csv
import json
import time
from importlib.resources import files as package_files

import jsonschema
import pytest
import referencing
import referencing.jsonschema

from grade_class import HOSTILE, _files, make_class

TINY = ["--stride", "2", "--pad", "1", "--input-size", "5x4", "--filter-size", "3x2",
        "--batch", "2", "--channels", "2", "--filters", "2"]
# The endless loop sleeps in a loop that run's per-call --timeout would stop; a longer --timeout
# leaves it to the grader's --time-limit, which must kill the process.
LIMITS = ["--time-limit", "12", "--timeout", "30", "--memory-limit", "1024"]


def grade_validator():
    report = json.loads(package_files("corrcheck").joinpath("report.schema.json").read_text())
    grade = json.loads(package_files("corrcheck").joinpath("grade.schema.json").read_text())
    resource = referencing.Resource.from_contents(report, default_specification=referencing.jsonschema.DRAFT202012)
    registry = referencing.Registry().with_resource("report.schema.json", resource)
    jsonschema.Draft202012Validator.check_schema(grade)
    return jsonschema.Draft202012Validator(grade, registry=registry)


@pytest.fixture(scope="module")
def graded(cli, tmp_path_factory):
    """Grade the generated class once; every test below reads this one run."""
    base = tmp_path_factory.mktemp("class")
    generated = make_class(base / "class", per_convention=52)
    out = base / "out"
    t0 = time.perf_counter()
    proc = cli.run_cli("grade", generated.root, "--files", "*/*.py", *TINY, *LIMITS, "--no-cache",
                   "--json", "--csv", out / "grades.csv", "--report", out / "class.html",
                   "--feedback", out / "feedback", cwd=base, timeout=900)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    return generated, doc, out, proc, seconds


def test_class_has_100_submissions_in_two_conventions(graded):
    generated, doc, *_ = graded
    names = [s["submission"] for s in doc["submissions"]]
    assert len(names) == len(generated.expected) >= 100
    assert names == sorted(generated.expected)
    assert {s["config"]["convention"] for s in doc["submissions"] if "config" in s and s["verdict"] != "error"} \
        == {"cs231n", "holberton"}


def test_summary_counts_match_what_was_generated(graded):
    generated, doc, *_ = graded
    summary = doc["summary"]
    assert summary["submissions"] == len(generated.expected)
    assert summary["passed"] == generated.count("pass")
    assert summary["failed"] == generated.count("fail")
    assert summary["could_not_check"] == generated.count("error") == 3
    ranked = {m["bug"]: m["submissions"] for m in summary["mistakes"]}
    assert ranked == generated.mistake_counts()
    counts = [m["submissions"] for m in summary["mistakes"]]
    assert counts == sorted(counts, reverse=True)
    # only the huge allocation fails without a catalogued mistake
    assert summary["unexplained_failures"] == [f for f, (v, bugs) in generated.expected.items() if v == "fail" and not bugs]


def test_each_submission_gets_its_own_verdict_and_mistakes(graded):
    generated, doc, *_ = graded
    for sub in doc["submissions"]:
        verdict, bugs = generated.expected[sub["submission"]]
        named = {d["bug"] for d in sub.get("diagnoses", ()) if d["bug"]}
        assert (sub["verdict"], named) == (verdict, set(bugs)), sub["submission"]


def test_one_example_per_mistake_shows_a_line_of_that_submission(graded):
    generated, doc, *_ = graded
    located = [m for m in doc["summary"]["mistakes"] if "location" in m["example"]]
    assert len(located) >= len(doc["summary"]["mistakes"]) - 1
    for mistake in doc["summary"]["mistakes"]:
        example = mistake["example"]
        assert mistake["bug"] in generated.expected[example["submission"]][1]
        if "location" not in example:
            continue
        loc = example["location"]
        source = (generated.root / example["submission"] / loc["file"]).read_text().splitlines()
        assert source[loc["line"] - 1].strip() == loc["code"].strip()


def test_hostile_submissions_are_reported_not_fatal(graded):
    generated, doc, *_ = graded
    by_name = {s["submission"]: s for s in doc["submissions"]}
    hostile = {"cs231n-000": "endless-loop", "cs231n-001": "huge-allocation",
               "holberton-000": "exit-at-import", "holberton-001": "syntax-error"}
    for folder, kind in hostile.items():
        verdict, words = HOSTILE[kind]
        sub = by_name[folder]
        said = json.dumps(sub.get("error")) + json.dumps([c.get("message") for c in sub.get("checks", ())])
        assert sub["verdict"] == verdict and words.lower() in said.lower(), (folder, said)
    loop = by_name["cs231n-000"]
    assert loop["grade"]["limit"] == "time" and 12 <= loop["grade"]["seconds"] < 20
    reasons = {e["submission"]: e["message"] for e in doc["summary"]["not_checked"]}
    assert reasons["cs231n-000"].startswith("timed out after 12 s")


def test_json_is_valid_against_the_shipped_schemas(graded):
    _, doc, *_ = graded
    validator = grade_validator()
    assert list(validator.iter_errors(doc)) == []
    broken = json.loads(json.dumps(doc))
    broken["submissions"][5]["verdict"] = "maybe"
    assert list(validator.iter_errors(broken))


def test_the_printed_grade_schema_validates_on_its_own(cli, graded):
    """`corrcheck schema --grade` is self-contained: a plain validator, no registry, checks the document."""
    _, doc, *_ = graded
    printed = json.loads(cli.run_cli("schema", "--grade").stdout)
    jsonschema.validate(doc, printed)
    broken = json.loads(json.dumps(doc))
    broken["submissions"][0]["verdict"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, printed)


def test_gradebook_csv_has_one_row_per_submission(graded):
    generated, doc, out, *_ = graded
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["submission"] for r in rows] == sorted(generated.expected)
    assert sum(int(r["score"]) for r in rows) == generated.count("pass")
    for row in rows:
        assert set(row["mistakes"].split()) == set(generated.expected[row["submission"]][1])
        # the message is for staff: never how a comparison counted its entries
        assert "group testing" not in row["message"] and "call budget" not in row["message"]
        assert row["message"] == "" or row["verdict"] != "pass"


def test_feedback_is_runs_report_with_the_rerun_command(graded):
    generated, doc, out, *_ = graded
    written = sorted(p.name for p in (out / "feedback").iterdir())
    assert written == sorted(f"{name}.txt" for name in generated.expected)
    text = (out / "feedback" / "cs231n-005.txt").read_text()
    assert "rerun: corrcheck run layers.py" in text and "--stride 2 --pad 1" in text
    assert "bias-missing" in text and text.rstrip().splitlines()[-1].startswith("FAIL")
    hb = (out / "feedback" / "holberton-003.txt").read_text()
    assert "corrcheck run 0-conv_forward.py 2-conv_backward.py" in hb and hb.rstrip().endswith(hb.rstrip().splitlines()[-1])
    # run's own report for a file that cannot load; the grader's sentence for one it had to stop
    assert (out / "feedback" / "holberton-001.txt").read_text().rstrip().splitlines()[-1].startswith("ERROR: ")
    assert (out / "feedback" / "cs231n-000.txt").read_text().startswith("ERROR: timed out after 12 s")


def test_class_report_links_every_student_report(graded):
    generated, doc, out, *_ = graded
    page = (out / "class.html").read_text()
    assert "class summary" in page and f"{generated.count('pass')} of {len(generated.expected)} submissions pass" in page
    for name in generated.expected:
        assert f'href="feedback/{name}.txt"' in page


def test_nothing_but_json_on_stdout_and_no_traceback(cli, graded):
    *_, proc, seconds = graded
    for marker in cli.INTERNAL_MARKERS:
        assert marker not in proc.stderr


# ---------------------------------------------------------------- small classes

@pytest.fixture
def small(tmp_path):
    generated = make_class(tmp_path / "class", per_convention=5)
    for name in ("cs231n-000", "cs231n-001", "holberton-000", "holberton-001"):   # no hostile ones here
        for f in (generated.root / name).iterdir():
            f.unlink()
        (generated.root / name).rmdir()
        del generated.expected[name]
    return generated


def _grade(cli, root, *extra, **kw):
    proc = cli.run_cli("grade", root, "--files", "*/*.py", *TINY, "--json", *extra, **kw)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_second_run_checks_only_what_changed(cli, small):
    first = _grade(cli, small.root)
    assert not any(s["grade"]["cached"] for s in first["submissions"])
    second = _grade(cli, small.root)
    assert all(s["grade"]["cached"] for s in second["submissions"])
    assert second["summary"]["checked"] == 0
    strip = lambda d: [{k: v for k, v in s.items() if k not in ("grade", "seconds")} for s in d["submissions"]]
    assert strip(first) == strip(second)
    # a deadline extension: one student hands in the correct code
    late = next(f for f, (v, _) in small.expected.items() if v == "fail")
    for name, text in _files(late.split("-")[0]).items():
        (small.root / late / name).write_text(text)
    third = _grade(cli, small.root)
    rechecked = [s["submission"] for s in third["submissions"] if not s["grade"]["cached"]]
    assert rechecked == [late]
    assert {s["submission"]: s["verdict"] for s in third["submissions"]}[late] == "pass"
    assert third["summary"]["passed"] == first["summary"]["passed"] + 1
    # other flags are another question: nothing cached applies
    fourth = _grade(cli, small.root, "--seed", "3")
    assert not any(s["grade"]["cached"] for s in fourth["submissions"])


def test_same_seed_same_class_report(cli, small, tmp_path):
    runs = [_grade(cli, small.root, "--no-cache", "--seed", "7", "--jobs", str(jobs)) for jobs in (1, 2)]
    def stable(doc):
        # what the class report says; a check's finite-difference mode (and so its `mode` and
        # mismatch counts) may follow the machine's speed, which is run's business, not grade's
        summary = {k: v for k, v in doc["summary"].items() if k != "seconds"}
        rows = [(s["submission"], s["verdict"], [(d["target"], d["bug"], d.get("location")) for d in s.get("diagnoses", ())],
                 sorted({c["target"] for c in s.get("checks", ()) if c["status"] == "fail"})) for s in doc["submissions"]]
        return summary, rows
    assert stable(runs[0]) == stable(runs[1])
    assert not (small.root / ".corrcheck-cache").exists()


def test_table_and_summary_on_the_terminal(cli, small):
    # also the fallback where there is no fork server: a fresh interpreter per submission
    proc = cli.run_cli("grade", small.root, "--files", "*/*.py", *TINY, env={"CORRCHECK_GRADE_SUBPROCESS": "1"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for folder, (verdict, bugs) in small.expected.items():
        row = next(l for l in lines if l.strip("│ ").startswith(folder + " "))
        assert verdict in row and all(bug[:20] in proc.stdout for bug in bugs), row
    passed = small.count("pass")
    assert f"class summary: {passed} of {len(small.expected)} submissions pass" in proc.stdout
    assert "mistakes, by how many submissions make them:" in proc.stdout


def test_incomplete_submission_is_not_checked_on_half_its_code(cli, small):
    (small.root / "holberton-003" / "2-conv_backward.py").unlink()
    doc = json.loads(cli.run_cli("grade", small.root, "--files", "*/0-conv_forward.py", "--files", "*/2-conv_backward.py",
                             *TINY, "--json", "--no-cache").stdout)
    sub = {s["submission"]: s for s in doc["submissions"]}["holberton-003"]
    assert sub["verdict"] == "error" and "2-conv_backward.py" in sub["error"]["message"]
    assert all(s["submission"].startswith("holberton") for s in doc["submissions"])


@pytest.mark.parametrize("args, needle", [
    (["nowhere", "--files", "*/layers.py"], "no such folder"),
    ([".", "--files", "*/nothing.py"], "no file under"),
    ([".", "--files", "/etc/*.py"], "relative to ROOT"),
    ([".", "--files", "*/*.py", "--stride", "0"], "stride"),
    ([".", "--files", "*/*.py", "--report", "class.pdf"], ".html or .txt"),
])
def test_grader_errors_exit_2_with_one_sentence(cli, tmp_path, args, needle):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "conv.py").write_text("def conv(x, w):\n    return x\n")
    proc = cli.run_cli("grade", *args, cwd=tmp_path)
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = cli.run_cli("grade", *args, "--json", cwd=tmp_path)
    assert proc.returncode == 2 and json.loads(proc.stdout)["verdict"] == "error"


# ---------------------------------------------------------------- units

def test_discovery_groups_files_per_folder_in_glob_order(tmp_path):
    from corrcheck.grade.discover import find_submissions

    for folder in ("b", "a", "a/.corrcheck-cache", "c"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    for path in ("a/2-back.py", "a/0-fwd.py", "b/0-fwd.py", "a/.corrcheck-cache/0-fwd.py", "c/notes.txt"):
        (tmp_path / path).write_text("x = 1\n")
    subs = find_submissions(tmp_path, ["*/2-back.py", "*/0-fwd.py"])
    assert [(s.folder, s.files, s.missing) for s in subs] == [
        ("a", ("2-back.py", "0-fwd.py"), ()), ("b", ("0-fwd.py",), ("*/2-back.py",))]


def test_summary_ranks_by_count_then_id_and_prefers_a_located_example():
    from corrcheck.grade.summary import summarize

    def doc(verdict, *bugs, located=False):
        return {"verdict": verdict, "checks": [{"target": "forward", "status": "fail" if bugs else "pass"}],
                "diagnoses": [{"target": "forward", "bug": b, "explanation": "e",
                               **({"location": {"file": "f.py", "line": 3, "code": "x"}} if located else {})}
                              for b in bugs]}
    entries = [("a", doc("fail", "stride-ignored")), ("b", doc("fail", "bias-missing", located=True)),
               ("c", doc("fail", "stride-ignored", located=True)), ("d", doc("fail", "bias-missing")),
               ("e", doc("pass")), ("f", {"verdict": "fail", "checks": [{"target": "grad_input", "status": "fail"}],
                                           "diagnoses": [{"target": "grad_input", "bug": None}]}),
               ("g", {"verdict": "error", "error": {"kind": "load", "message": "no"}})]
    s = summarize(entries)
    assert [(m["bug"], m["submissions"], m["example"]["submission"]) for m in s["mistakes"]] == [
        ("bias-missing", 2, "b"), ("stride-ignored", 2, "c")]
    assert (s["passed"], s["failed"], s["could_not_check"]) == (1, 5, 1)
    assert s["unexplained_failures"] == ["f"] and s["not_checked"][0]["submission"] == "g"
    assert s["failing_targets"] == {"forward": 4, "grad_input": 1}


def test_a_stub_left_as_handed_out_is_unfinished_not_an_unexplained_failure():
    from corrcheck.grade.summary import summarize
    stub = {"verdict": "fail", "diagnoses": [],
            "checks": [{"target": "forward", "status": "error",
                        "message": "conv_forward raised NotImplementedError (at conv.py line 4: `raise NotImplementedError`)"}]}
    wrong = {"verdict": "fail", "diagnoses": [],
             "checks": [{"target": "forward", "status": "fail", "message": None}]}
    s = summarize([("dave", stub), ("erin", wrong)])
    assert s["unfinished"] == ["dave"] and s["unexplained_failures"] == ["erin"]


def test_progress_bar_draws_on_a_terminal_only():
    import io

    from rich.console import Console

    from corrcheck.grade import Entry
    from corrcheck.report.grade import grade_progress

    entry = Entry("alice", ("layers.py",), {"verdict": "fail"}, 0.5)
    for terminal in (True, False):
        buffer = io.StringIO()
        with grade_progress(console=Console(file=buffer, force_terminal=terminal, width=80)) as progress:
            progress(1, 2, entry)
        assert ("alice: fail" in buffer.getvalue() or "1/2" in buffer.getvalue()) == terminal


def test_grade_takes_every_check_option_of_run():
    import typer.main

    from corrcheck.cli import app

    group = typer.main.get_command(app)
    def flags(name):
        return {opt for p in group.commands[name].params for opt in p.opts}
    run_only = {"--jobs", "--explain-cell", "--json", "--report", "--quiet", "-q", "--verbose", "-v", "--help", "-h"}
    assert flags("run") - run_only - {"FILE...", "files"} <= flags("grade")
    assert {"--files", "--jobs", "--time-limit", "--memory-limit", "--cache", "--no-cache", "--csv", "--report",
            "--feedback", "--json"} <= flags("grade")


def test_a_submission_that_kills_its_own_process_is_one_row(cli, tmp_path):
    root = tmp_path / "class"
    generated = make_class(root, per_convention=4)
    noisy = (root / "cs231n-003" / "layers.py")
    noisy.write_text('print("hello from the student", flush=True)\nimport os\nos.write(1, b"raw\\n")\n' + noisy.read_text())
    dead = root / "cs231n-002" / "layers.py"
    dead.write_text("import ctypes\nctypes.string_at(0)\n" + dead.read_text())     # a segfault in C
    killed = root / "holberton-002" / "2-conv_backward.py"
    killed.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n" + killed.read_text())
    doc = _grade(cli, root, "--no-cache", "--time-limit", "20", "--timeout", "30")
    by_name = {s["submission"]: s for s in doc["submissions"]}
    assert by_name["cs231n-003"]["verdict"] == "pass"           # its prints went nowhere, stdout is one document
    assert "killed by SIGSEGV" in by_name["cs231n-002"]["error"]["message"]
    assert "killed by SIGKILL" in by_name["holberton-002"]["error"]["message"]
    assert doc["summary"]["could_not_check"] == 2 + generated.count("error")


@pytest.mark.parametrize("start", ["forkserver", "subprocess"])
def test_a_corrcheck_folder_where_grade_runs_does_not_break_the_children(small, tmp_path, start):
    """Graded from the folder a repository was cloned into (which holds corrcheck/): with an
    editable install every child once imported that folder as a namespace package and died."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("corrcheck")
    if not script.exists():
        pytest.skip("no corrcheck console script beside this interpreter")
    here = tmp_path / "clone"
    (here / "corrcheck").mkdir(parents=True)
    env = dict(os.environ, NO_COLOR="1", COLUMNS="100")
    if start == "subprocess":
        env["CORRCHECK_GRADE_SUBPROCESS"] = "1"
    proc = subprocess.run([str(script), "grade", str(small.root), "--files", "*/*.py", *TINY, "--json",
                           "--no-cache"], cwd=here, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    got = {s["submission"]: s["verdict"] for s in json.loads(proc.stdout)["submissions"]}
    assert got == {name: verdict for name, (verdict, _) in small.expected.items()}


def test_the_gradebook_message_is_why_not_how_it_counted():
    from types import SimpleNamespace
    from corrcheck.report.grade import _row
    counted = {"target": "grad_input", "against": "finite_differences", "status": "fail",
               "message": "group testing stopped at its call budget, so every entry was then checked one by one"}
    entry = SimpleNamespace(submission="bob", verdict="fail", failing_targets=("grad_input",), mistakes=(),
                            location=None, seconds=1.0, cached=False,
                            document={"checks": [counted], "conclusion": "conv_backward is not the gradient."})
    assert _row(entry)["message"] == "conv_backward is not the gradient."
    raised = dict(counted, status="error", message="conv_backward raised IndexError")
    entry.document["checks"] = [counted, raised]
    assert _row(entry)["message"] == "conv_backward raised IndexError"
    named = SimpleNamespace(**{**vars(entry), "mistakes": ("bias-missing",), "document": {"checks": [counted]}})
    assert _row(named)["message"] == ""


def test_cache_key_covers_the_helpers_a_submission_imports(tmp_path):
    """Two students with byte-identical checked files but different helper modules must not share a
    cached result, and a fix made only in a helper must be checked again."""
    from corrcheck.grade import cache
    for student, helper in (("mia", "def pad(x, p):\n    return x\n"), ("noah", "def pad(x, p):\n    return 0\n")):
        (tmp_path / student).mkdir()
        (tmp_path / student / "layers.py").write_text("from helpers import pad\n")
        (tmp_path / student / "helpers.py").write_text(helper)
    keys = {s: cache.key(tmp_path / s, ("layers.py",), {"stride": 2}) for s in ("mia", "noah")}
    assert keys["mia"] != keys["noah"]
    (tmp_path / "noah" / "helpers.py").write_text("def pad(x, p):\n    return x\n")
    assert cache.key(tmp_path / "noah", ("layers.py",), {"stride": 2}) == keys["mia"]
    (tmp_path / "noah" / "__pycache__").mkdir()
    (tmp_path / "noah" / "__pycache__" / "helpers.py").write_text("stale")   # never part of the key
    assert cache.key(tmp_path / "noah", ("layers.py",), {"stride": 2}) == keys["mia"]
