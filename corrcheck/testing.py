"""pytest helpers: fail a test with corrcheck's plain-text report as the assertion message."""
from __future__ import annotations

from .api import check


def assert_conv_correct(*files, **options):
    """Raise AssertionError (message: the report, mismatch tables and diagnosis) unless every check passes.

    Same arguments as corrcheck.check; returns the RunResult when it passes.
    """
    __tracebackhide__ = True        # pytest shows the user's line that called this, not ours
    from .report.sections import plain_text      # lazy: Rich loads only when a check fails

    result = check(*files, **options)
    if not result.passed:
        raise AssertionError("\n" + plain_text(result))
    return result


__all__ = ["assert_conv_correct"]
