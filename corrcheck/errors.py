"""Exceptions that carry one user-facing sentence each; the CLI maps them to exit codes."""
from __future__ import annotations


class CorrcheckError(Exception):
    """Base: the message is one sentence meant for the user."""

    kind = "usage"
    exit_code = 2
    traceback: str | None = None      # the user's trimmed traceback, when user code raised (LoadError)


class UsageError(CorrcheckError):
    kind = "usage"


class ConfigError(UsageError, ValueError):
    """A configuration that cannot work (stride, pad, sizes, options); one sentence naming the numbers.

    Also a ValueError, so code that validates numbers generically still catches it."""


class LoadError(CorrcheckError):
    """The user's file could not be read or imported (exit 2)."""

    kind = "load"


class BindError(CorrcheckError):
    """No function (or not enough of them) could be bound (exit 2)."""

    kind = "bind"


class UserCallError(Exception):
    """A call of the user's function went wrong: that check fails (exit 1), others still run."""

    def __init__(self, message: str, traceback: str | None = None):
        super().__init__(message)
        self.message = message
        self.traceback = traceback


class UserRaised(UserCallError):
    """The user's function raised an exception."""


class UserTimeout(UserCallError):
    """The user's function did not return within the time limit."""


class UnusableOutput(UserCallError):
    """The user's function returned None, a string, a ragged list, NaN, the wrong shape..."""

    def __init__(self, message: str, got_shape=None, traceback: str | None = None):
        super().__init__(message, traceback)
        self.got_shape = got_shape


class UnreadableOutput(UnusableOutput):
    """The user's function returned an object corrcheck cannot read as numbers (a dict, a custom
    object): corrcheck does not understand the code, so the run ends with exit 2, not a FAIL."""
