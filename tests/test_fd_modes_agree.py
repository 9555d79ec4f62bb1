"""Exhaustive and directional finite differences reach the same verdicts on every example."""
import pytest

import corrcheck
from corrcheck import checks
from clihelp import ROOT

EXAMPLES = ROOT / "examples"
CASES = [
    ([EXAMPLES / "seed_buggy.py"], {}),
    ([EXAMPLES / "seed_fixed.py"], {}),
    ([EXAMPLES / "seed_buggy.js"], {}),
    ([EXAMPLES / "seed_fixed.js"], {}),
    ([EXAMPLES / "adapters" / "tiny_framework_adapter.py"], {}),
    ([EXAMPLES / "adapters" / "vol_library.js", EXAMPLES / "adapters" / "vol_adapter.js"],
     {"convention": "functional", "layout": "chw"}),
]


def _fd(result):
    return {(c.target, c.config_note): (c.status, c.mismatches)
            for c in result.checks if c.against == "finite_differences"}


@pytest.mark.parametrize("files,opts", CASES, ids=[c[0][-1].name for c in CASES])
def test_modes_agree(files, opts, monkeypatch):
    exhaustive = corrcheck.check(*files, stride=2, pad=1, exhaustive=True, **opts)
    monkeypatch.setattr(checks, "EXHAUSTIVE_SECONDS", 0.0)      # auto mode now always goes directional
    directional = corrcheck.check(*files, stride=2, pad=1, **opts)
    assert {c.mode for c in exhaustive.checks if c.against == "finite_differences"} <= {"exhaustive"}
    assert "directional" in {c.mode for c in directional.checks if c.against == "finite_differences"} or \
        not _fd(directional)
    assert exhaustive.verdict == directional.verdict
    assert _fd(exhaustive) == _fd(directional)
