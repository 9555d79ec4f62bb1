"""Exhaustive and directional finite differences reach the same verdicts on every example."""
from pathlib import Path

import pytest

import corrcheck
from corrcheck.checks import suite as checks

ROOT = Path(__file__).resolve().parent.parent

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
    return {(c.target, c.config_note): (c.status, c.mismatches, "budget" in (c.message or ""))
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
    ex, di = _fd(exhaustive), _fd(directional)
    assert ex.keys() == di.keys()
    for key, (status, count, _) in ex.items():
        d_status, d_count, stopped = di[key]
        assert d_status == status
        if stopped:                  # group testing hit its call budget and says so: a lower bound
            assert 0 < d_count <= count
        else:
            assert d_count == count
