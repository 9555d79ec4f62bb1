"""corrcheck.testing inside a real pytest run: the failure points at the user's test line."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_failure_shows_the_users_line_not_the_helpers(tmp_path):
    buggy = ROOT / "examples" / "seed_buggy.py"
    (tmp_path / "test_user.py").write_text(textwrap.dedent(f"""\
        from corrcheck.testing import assert_conv_correct


        def test_my_layer():
            assert_conv_correct({str(buggy)!r}, stride=2, pad=1)  # the user's line
        """))
    env = dict(os.environ, NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=long",
                           str(tmp_path / "test_user.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert ">       assert_conv_correct(" in out and "# the user's line" in out
    assert "filter-indexed-by-output" in out                   # the report is the message
    assert "testing.py" not in out and 'raise AssertionError("\\n"' not in out
