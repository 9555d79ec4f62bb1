"""`corrcheck mistakes` and docs/mistakes.md: one source (the catalogue), so they cannot drift."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corrcheck import cli
from corrcheck.diagnosis.catalogue import CATALOGUE, SNIPPETS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def contract_ids() -> set[str]:
    """The ids the shipped contract page promises, read from its catalogue section."""
    text = (DOCS / "contract.md").read_text(encoding="utf-8")
    section = text.split("## Bug catalogue", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`((?:grad-)?[a-z]+(?:-[a-z0-9]+)+)`", section))


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def test_docs_page_is_the_command_output(runner):
    result = runner.invoke(cli.app, ["mistakes", "--markdown"])
    assert result.exit_code == 0, result.output
    page = (DOCS / "mistakes.md").read_text(encoding="utf-8")
    assert page == result.stdout, "docs/mistakes.md is stale: run `corrcheck mistakes --markdown > docs/mistakes.md`"


def test_every_contract_id_has_its_fix_and_both_snippets(runner):
    ids = contract_ids()
    assert len(ids) == 25 and "grad-input-unpad-empty-at-pad0" in ids
    doc = json.loads(runner.invoke(cli.app, ["mistakes", "--json"]).stdout)
    rows = {m["id"]: m for m in doc["mistakes"]}
    assert ids <= set(rows)
    for bug in ids:
        row = rows[bug]
        assert row["line"] and row["wrong"] and row["right"] and row["wrong"] != row["right"], bug
    page = (DOCS / "mistakes.md").read_text(encoding="utf-8")
    for bug in ids:
        assert f"### `{bug}`" in page


def test_every_window_op_id_is_on_the_page_with_both_snippets(runner):
    """The 12 ids of the grouped, transposed and pooling catalogue, beside the dense ones."""
    from corrcheck.diagnosis import catalogue_ops
    ids = set(catalogue_ops.ids())
    assert len(ids) == 12
    doc = json.loads(runner.invoke(cli.app, ["mistakes", "--json"]).stdout)
    rows = {m["id"]: m for m in doc["mistakes"]}
    page = (DOCS / "mistakes.md").read_text(encoding="utf-8")
    for bug in ids:
        row = rows[bug]
        assert row["line"] and row["wrong"] and row["right"] and row["wrong"] != row["right"], bug
        assert f"### `{bug}`" in page
    shown = runner.invoke(cli.app, ["mistakes", *sorted(ids)])
    assert shown.exit_code == 0 and all(bug in shown.stdout for bug in ids)


def test_snippets_belong_to_catalogue_entries():
    assert set(SNIPPETS) <= {m.id for m in CATALOGUE}


def test_terminal_view_lists_each_id_with_its_sentence_and_snippets(runner):
    result = runner.invoke(cli.app, ["mistakes"], env={"NO_COLOR": "1", "COLUMNS": "120"})
    assert result.exit_code == 0
    for m in CATALOGUE:
        assert m.id in result.stdout
    wrong, right = SNIPPETS["grad-input-unpad-empty-at-pad0"]
    assert f"wrong  {wrong}" in result.stdout and f"right  {right}" in result.stdout


def test_selected_ids_only_and_unknown_id_is_a_usage_error(runner):
    one = runner.invoke(cli.app, ["mistakes", "output-size", "--json"])
    assert [m["id"] for m in json.loads(one.stdout)["mistakes"]] == ["output-size"]
    bad = runner.invoke(cli.app, ["mistakes", "no-such-mistake"])
    assert bad.exit_code == 2 and "no-such-mistake" in bad.output


def test_markdown_prose_does_not_italicise_index_arithmetic(runner):
    page = runner.invoke(cli.app, ["mistakes", "--markdown"]).stdout
    prose, in_code = [], False
    for line in page.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and not line.startswith("<!--"):
            prose.append(re.sub(r"`[^`]*`", "", line))
    assert "y\\*s + j - p" in page
    assert [line for line in prose if re.search(r"(?<!\\)[*_]", line)] == []
