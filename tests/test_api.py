"""The Python API and the pytest helper: the same result as the CLI, as objects."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import corrcheck
from corrcheck.testing import assert_conv_correct

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _strip(d):
    d = dict(d)
    d.pop("seconds", None)
    return d


def test_check_to_dict_equals_cli_json(cli):
    # --exhaustive in both: the automatic finite-difference mode weighs the time of one user call,
    # so on a loaded machine two runs may pick different modes (and differ in `fd_mode` only)
    result = corrcheck.check(EXAMPLES / "seed_buggy.py", stride=2, pad=1, exhaustive=True)
    _, doc = cli.run_json("run", EXAMPLES / "seed_buggy.py", "--stride", "2", "--pad", "1", "--exhaustive")
    api = _strip(json.loads(json.dumps(result.to_dict())))
    via_cli = _strip(doc)
    api["file"] = via_cli["file"] = api["files"] = via_cli["files"] = None
    assert api == via_cli
    assert not result.passed


def test_callables_directly():
    def corr(x, w, s, p):
        from numpy.lib.stride_tricks import sliding_window_view
        xp = np.pad(np.asarray(x, float), p)
        return np.einsum("ijkl,kl->ij", sliding_window_view(xp, np.shape(w))[::s, ::s], w)

    def wrong(x, w, s, p):
        return corr(x, w, s, p) * 1.5

    assert corrcheck.check(forward=corr, stride=2, pad=1, layout="hw").passed
    bad = corrcheck.check(forward=wrong, stride=2, pad=1, layout="hw")
    assert bad.verdict == "fail" and bad.bound == {"forward": "test_callables_directly.<locals>.wrong"}


def test_assert_conv_correct_message_is_the_report():
    with pytest.raises(AssertionError) as info:
        assert_conv_correct(EXAMPLES / "seed_buggy.py", stride=2, pad=1)
    msg = str(info.value)
    assert "Mismatched elements" in msg and "filter-indexed-by-output" in msg
    assert "\x1b[" not in msg                       # plain text, no ANSI codes
    assert assert_conv_correct(EXAMPLES / "seed_fixed.py", stride=2, pad=1).passed


def test_pytest_example_file_runs_green():
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(EXAMPLES / "test_seed_with_pytest.py")], capture_output=True, text=True,
                          cwd=EXAMPLES.parent, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "6 passed" in proc.stdout


def _plain_corr(x, w):
    """Stride 1, pad 0, dilation 1 built in: the signature takes none of them."""
    from numpy.lib.stride_tricks import sliding_window_view
    return np.einsum("ijkl,kl->ij", sliding_window_view(np.asarray(x, float), np.shape(w)), w)


def test_a_stride_or_dilation_no_function_takes_is_said_before_the_verdict():
    result = corrcheck.check(forward=_plain_corr, dilation=2, pad=0, stride=1, layout="hw")
    assert result.verdict == "fail"
    assert any("no bound function takes a dilation" in n for n in result.notes)
    assert not any("takes a stride" in n for n in result.notes)          # stride 1: nothing to say
    assert "dilation left out" in result.diagnoses[0].explanation
    strided = corrcheck.check(forward=_plain_corr, stride=2, pad=0, layout="hw")
    assert any("no bound function takes a stride" in n for n in strided.notes)
    assert corrcheck.check(forward=_plain_corr, stride=1, pad=0, layout="hw").passed
    padded = corrcheck.check(forward=_plain_corr, stride=1, pad=1, layout="hw")
    assert padded.verdict == "fail" and any("no bound function takes a pad" in n for n in padded.notes)
