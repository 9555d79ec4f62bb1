"""The forum question, end to end: the done-criteria of the core, the diagnosis and the JS bridge."""
import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((ROOT / "corrcheck" / "report.schema.json").read_text())


def _validate(doc):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(doc, SCHEMA)


def _status(doc, target, against):
    return {c["status"] for c in doc["checks"] if c["target"] == target and c["against"] == against}


def test_fixed_port_passes(cli):
    proc, doc = cli.run_json("run", EXAMPLES / "seed_fixed.py", "--stride", "2", "--pad", "1")
    assert proc.returncode == 0 and doc["verdict"] == "pass"
    assert doc["diagnoses"] == []
    _validate(doc)


def test_buggy_port_story(cli):
    proc, doc = cli.run_json("run", EXAMPLES / "seed_buggy.py", "--stride", "2", "--pad", "1")
    cli.assert_no_internal_traceback(proc)
    assert proc.returncode == 1 and doc["verdict"] == "fail"
    _validate(doc)
    assert _status(doc, "forward", "reference") == {"fail"}
    assert _status(doc, "grad_filter", "reference") == {"pass"}        # the backward is right...
    assert _status(doc, "grad_filter", "finite_differences") == {"fail"}  # ...for a different forward
    bugs = {d["bug"]: d for d in doc["diagnoses"] if d["target"] == "forward"}
    assert bugs["filter-indexed-by-output"]["confidence"] >= 0.9
    assert "stride-on-filter-index" in bugs
    assert bugs["filter-indexed-by-output"]["location"]["line"] == 30
    assert "not reliably descend" in doc["conclusion"]
    # the cell explanation: every user term reads the filter at the output position
    ex = doc["explanations"][0]
    assert ex["target"] == "forward"
    assert {tuple(t["right"]) for t in ex["user_terms"]} == {tuple(ex["cell"])}
    assert {tuple(t["right"]) for t in ex["expected_terms"]} != {tuple(ex["cell"])}


def test_uncatalogued_mistake_gets_a_pattern_sentence(tmp_path, cli):
    src = (EXAMPLES / "seed_fixed.py").read_text().replace("return out\n", "return [[2 * v for v in r] for r in out]\n", 1)
    f = tmp_path / "scaled.py"
    f.write_text(src)
    proc, doc = cli.run_json("run", f, "--stride", "2", "--pad", "1")
    assert proc.returncode == 1
    d = [d for d in doc["diagnoses"] if d["target"] == "forward"][0]
    assert d["bug"] is None and "no known mistake matched" in d["explanation"]
    assert "factor" in d["explanation"]


def _path_without_node(tmp_path):
    keep = []
    for part in os.environ.get("PATH", "").split(os.pathsep):
        if part and not (Path(part) / "node").exists():
            keep.append(part)
    return os.pathsep.join(keep)


def test_seed_js_without_node(tmp_path, cli):
    pytest.importorskip("py_mini_racer", reason="the js extra (mini-racer) is not installed")
    env = {"PATH": _path_without_node(tmp_path)}
    assert shutil.which("node", path=env["PATH"]) is None
    proc, doc = cli.run_json("run", EXAMPLES / "seed_buggy.js", "--stride", "2", "--pad", "1", env=env)
    cli.assert_no_internal_traceback(proc)
    assert proc.returncode == 1
    bugs = {d["bug"] for d in doc["diagnoses"] if d["target"] == "forward"}
    assert {"filter-indexed-by-output", "stride-on-filter-index"} <= bugs
    proc, doc = cli.run_json("run", EXAMPLES / "seed_fixed.js", "--stride", "2", "--pad", "1", env=env)
    assert proc.returncode == 0 and doc["verdict"] == "pass"


def test_demo_runs_and_tells_the_story(cli):
    proc = cli.run_cli("demo", "--stride", "2", "--pad", "1")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "filter-indexed-by-output" in out and "verified" in out and "loss" in out
    assert "Traceback" not in out + proc.stderr


def test_bad_option_is_one_sentence_and_exit_2(cli):
    proc = cli.run_cli("run", EXAMPLES / "seed_fixed.py", "--stride", "0")
    assert proc.returncode == 2
    assert "stride must be at least 1" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
