"""The learner-style corpus (tests/fixtures/manifest.json), run through the real CLI.

Each entry was labelled by an independent judge (tests/fixtures/judge.py). For
every entry: the exit code and verdict; for failures the failing target and
the catalogue id as the top diagnosis of that target; for errors one sentence
containing the expected words; never an internal traceback; nothing written
into the user's directory.
"""
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())


def _id(entry):
    return "+".join(Path(f).stem for f in entry["files"])


@pytest.fixture(scope="module")
def tree(tree_copy):
    return tree_copy(FIXTURES)


@pytest.mark.parametrize("entry", MANIFEST, ids=[_id(e) for e in MANIFEST])
def test_corpus_entry(entry, tree, cli):
    before = cli.snapshot(tree)
    files = [str(tree / f) for f in entry["files"]]
    proc, doc = cli.run_json("run", *files, *entry["flags"], cwd=tree)
    cli.assert_no_internal_traceback(proc)
    assert proc.returncode == entry["exit_code"], (doc, proc.stderr[-2000:])
    assert doc["verdict"] == entry["verdict"]
    if entry["verdict"] == "error":
        msg = doc["error"]["message"]
        assert "\n" not in msg.strip() or len(msg) < 400
        if entry.get("message_contains"):
            assert entry["message_contains"].lower() in msg.lower(), msg
    elif entry["verdict"] == "fail":
        failing = {c["target"] for c in doc["checks"] if c["status"] in ("fail", "error")}
        assert entry["target"] in failing, doc["checks"]
        if entry.get("bug"):
            mine = [d for d in doc["diagnoses"] if d["target"] == entry["target"]]
            assert mine and mine[0]["bug"] == entry["bug"], mine
        if entry.get("message_contains"):
            text = json.dumps(doc).lower()
            assert entry["message_contains"].lower() in text
    else:
        assert doc["diagnoses"] == []
    assert cli.snapshot(tree) == before, "corrcheck wrote into the user's directory"
