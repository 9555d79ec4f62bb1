"""Run the user's code under a time limit, silently, and turn every failure into one sentence.

Checks call user functions many times, so the happy path is kept cheap: a
few attribute swaps, one `setitimer` pair and a NumPy error-state context.

Time limits:
- on the main thread, SIGALRM (via `setitimer(ITIMER_REAL)`) raises a private
  exception inside the user's code; this also interrupts `time.sleep`;
- on any other thread, a shared watchdog thread injects the same exception with
  `PyThreadState_SetAsyncExc`; it lands at the next bytecode, so it stops pure
  Python loops but not a blocking C call (`time.sleep`, a huge BLAS call): those
  cannot be interrupted in-process and return late.
A C call that never returns (or a blocking one on a worker thread) cannot be
interrupted in-process at all: only a separate process could be killed.
Either way the exception repeats every `_REPEAT` seconds until the call is
over, and once time is up the user's own frames are traced so the first line
of a bare `except:` handler raises again: `try: ... except: pass` inside the
user's loop cannot swallow the limit.  Standard-library and corrcheck frames are
never traced, so their clean-up (a lock's `finally`) always completes.
"""
from __future__ import annotations

import _signal  # the C functions: signal.signal's enum conversions cost microseconds per call
import ctypes
import io
import linecache
import os
import signal
import sys
import sysconfig
import threading
import time
import traceback
import warnings
from functools import cache, lru_cache

import numpy as np

from ..errors import UserRaised, UserTimeout

__all__ = ["call_user", "quiet_user_io", "user_frames", "format_user_traceback", "describe_exception",
           "is_user_file", "last_warnings", "forget_user_settings", "ReadsStdin", "ProcessExit"]

_REPEAT = 0.25                      # seconds between repeated timeout exceptions
_MAX_MESSAGE = 240                  # characters of the user's exception message kept
_NUMPY_DEFAULT_ERR = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}


class _Timeout(BaseException):
    """Raised inside user code when its time is up; BaseException so `except Exception` cannot eat it."""


class ReadsStdin(EOFError):
    """What the empty stdin raises, so `input()` is recognisable in reports."""


class ProcessExit(BaseException):
    """What `os._exit(n)` / `os.abort()` raise in user code: really ending the process would end
    corrcheck silently with the user's exit code (0 reads as a pass in CI)."""

    def __init__(self, call: str):
        super().__init__(call)
        self.call = call


def _fake_exit(status=0, *_):
    raise ProcessExit(f"os._exit({_safe_text(repr, status)})")


def _fake_abort():
    raise ProcessExit("os.abort()")


class _ExitPatch:
    """Installs `_fake_exit`/`_fake_abort` while any user code runs (any thread), restores the
    originals when the last one is done; a counter because user calls nest and overlap."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._saved = None          # the originals, read when the first user call starts

    def enter(self) -> None:
        """Replace os._exit and os.abort while user code runs (nested calls share one patch)."""
        with self._lock:
            if self._depth == 0:
                self._saved = (os._exit, os.abort)
                os._exit, os.abort = _fake_exit, _fake_abort
            self._depth += 1

    def exit(self) -> None:
        """Put os._exit and os.abort back when the outermost user call ends."""
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                os._exit, os.abort = self._saved


_exit_patch = _ExitPatch()


# ---------------------------------------------------------------- quiet I/O


class _Sink(io.TextIOBase):
    """Swallows output at the cost of one method call (no buffer grows)."""

    def write(self, s):
        return len(s)

    def writelines(self, lines):
        pass

    def flush(self):
        pass

    def close(self):            # exit() closes stdin/stdout; keep ours usable
        pass

    def writable(self):
        return True


class _EmptyStdin(io.TextIOBase):
    """Standard input with nothing in it: reading raises, so `input()` cannot hang."""

    def readable(self):
        return True

    def read(self, size=-1):
        """User code that waits for input would hang the check: fail it at once."""
        raise ReadsStdin("reads from standard input")

    def readline(self, size=-1):
        raise ReadsStdin("reads from standard input")

    def close(self):
        pass


_SINK = _Sink()
_STDIN = _EmptyStdin()
# NumPy error settings the user's own modules chose at import (np.seterr at module level).
_user_np_err: dict[str, str] = dict(_NUMPY_DEFAULT_ERR)
_tls = threading.local()


def forget_user_settings() -> None:
    """Forget NumPy error settings recorded from earlier imports (a new load starts clean)."""
    _user_np_err.clear()
    _user_np_err.update(_NUMPY_DEFAULT_ERR)


def last_warnings() -> list[str]:
    """Warnings (as 'Category: message' strings) captured during this thread's last user call."""
    return list(getattr(_tls, "warnings", ()))


class quiet_user_io:
    """While user code runs: stdout/stderr go nowhere, stdin is empty, `os._exit`/`os.abort`
    raise ProcessExit instead of ending corrcheck silently, warnings are captured
    (see `last_warnings`), and NumPy floating-point errors warn (never raise) unless the
    user's own code asked otherwise: a NumPy error setting the user makes with `np.seterr`
    (at import or in a call) is remembered for their later calls and undone globally, so
    corrcheck's own arithmetic is never affected.
    """

    __slots__ = ("_saved", "_show", "_log", "_np_ctx", "_np_before")

    def __enter__(self):
        self._saved = (sys.stdout, sys.stderr, sys.stdin)
        sys.stdout, sys.stderr, sys.stdin = _SINK, _SINK, _STDIN
        _exit_patch.enter()
        # Replacing showwarning is enough to capture: warnings.warn calls it to print.
        self._log = log = []
        self._show = warnings.showwarning
        warnings.showwarning = lambda message, category, *rest: (
            len(log) < 20 and log.append(f"{category.__name__}: {message}"))
        self._np_ctx = np.errstate(**_user_np_err)
        self._np_ctx.__enter__()
        self._np_before = np.geterr()
        return self

    def __exit__(self, *exc):
        sys.stdout, sys.stderr, sys.stdin = self._saved       # plain assignments first: cannot fail
        _exit_patch.exit()
        warnings.showwarning = self._show
        _tls.warnings = self._log
        after = np.geterr()
        if after != self._np_before:
            _user_np_err.update(after)
        self._np_ctx.__exit__(*exc)
        return False


# ---------------------------------------------------------------- time limits


class _Escape:
    """Makes a timeout stick: a bare `except:` around the user's loop would swallow it, so once
    time is up the user's frames are traced and the next line they run raises again; that
    line is the handler's own, outside the `try`, so the exception leaves the loop.
    """

    __slots__ = ("active", "prev_trace", "user_files", "roots")

    def __init__(self, user_files=()):
        self.active = True
        self.prev_trace = _NO_TRACE
        self.user_files = user_files
        self.roots = None

    def trace_out(self, frame) -> None:
        """Trace the user's frames from `frame` up to call_user (exclusive).

        Only the user's: raising in the middle of the standard library's or corrcheck's
        clean-up code (a lock's `finally`) would leave their state broken.
        """
        self.roots = _roots(tuple(self.user_files))
        traced = False
        while frame is not None and frame.f_code is not _CALL_USER_CODE:
            if _is_user_file(frame.f_code.co_filename, self.roots):
                frame.f_trace = self._on_line
                traced = True
            frame = frame.f_back
        if traced and self.prev_trace is _NO_TRACE:
            self.prev_trace = sys.gettrace()
            sys.settrace(self._on_call)

    def _on_call(self, frame, event, arg):
        # Only what the user's traced frames call: never corrcheck's own clean-up.
        caller = frame.f_back
        if (self.active and caller is not None and caller.f_trace == self._on_line
                and _is_user_file(frame.f_code.co_filename, self.roots)):
            return self._on_line
        return None

    def _on_line(self, frame, event, arg):
        if self.active and event == "line":
            raise _Timeout()
        return self._on_line

    def stop(self) -> None:
        """Stop interrupting the user's code and give back the trace function it replaced."""
        self.active = False
        if self.prev_trace is not _NO_TRACE:
            sys.settrace(self.prev_trace)
            self.prev_trace = _NO_TRACE


_NO_TRACE = object()


class _Alarm:
    """One SIGALRM-based time limit on the main thread; restores the previous handler and timer."""

    __slots__ = ("deadline", "active", "fired", "prev_handler", "prev_timer", "started", "escape")

    def __init__(self, timeout: float, user_files=()):
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.active = True
        self.fired = False
        self.escape = _Escape(user_files)
        self.prev_handler = _signal.signal(signal.SIGALRM, self._on_alarm)
        self.prev_timer = _signal.setitimer(signal.ITIMER_REAL, timeout, _REPEAT)
        if 0 < self.prev_timer[0] < timeout:  # an outer limit is sooner: let it fire first
            _signal.setitimer(signal.ITIMER_REAL, self.prev_timer[0], _REPEAT)

    def _on_alarm(self, signum, frame):
        if not self.active:
            return
        if time.monotonic() >= self.deadline - 1e-3:
            self.fired = True
            self.escape.trace_out(frame)
            raise _Timeout()
        if callable(self.prev_handler):       # the outer limit's alarm, not ours
            self.prev_handler(signum, frame)

    def disarm(self) -> None:
        """Idempotent: stop our timer, put back the previous handler, trace and what remains of its timer."""
        if not self.active:
            return
        self.active = False
        _signal.setitimer(signal.ITIMER_REAL, 0)
        _signal.signal(signal.SIGALRM, self.prev_handler)
        self.escape.stop()
        delay, interval = self.prev_timer
        if delay > 0:
            left = delay - (time.monotonic() - self.started)
            _signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), interval)


class _ThreadTimeout(_Timeout):
    """Injected into a worker thread; being instantiated in that thread, it can trace its frames."""

    def __init__(self, *args):
        super().__init__(*args)
        entry = _watchdog.current()
        if entry is not None and entry.fired and entry.escape.active:
            entry.escape.trace_out(sys._getframe(1))


class _WatchEntry:
    __slots__ = ("tid", "deadline", "fired", "escape")

    def __init__(self, tid, deadline, user_files):
        self.tid, self.deadline, self.fired, self.escape = tid, deadline, False, _Escape(user_files)


class _Watchdog:
    """One daemon thread that raises _ThreadTimeout in worker threads whose call overran."""

    def __init__(self):
        self._cond = threading.Condition()
        self._entries: list[_WatchEntry] = []
        self._thread: threading.Thread | None = None

    def arm(self, timeout: float, user_files=()) -> _WatchEntry:
        """Start timing one user call on this thread; the watchdog interrupts it at the deadline."""
        entry = _WatchEntry(threading.get_ident(), time.monotonic() + timeout, user_files)
        with self._cond:
            self._entries.append(entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="corrcheck-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
        return entry

    def current(self) -> _WatchEntry | None:
        """The innermost armed entry of the calling thread."""
        tid = threading.get_ident()
        for entry in reversed(self._entries):
            if entry.tid == tid:
                return entry
        return None

    def disarm(self, entry: _WatchEntry) -> None:
        """Stop watching; an exception injected just before may still be raised here or in `_flush`.

        (Clearing it with PyThreadState_SetAsyncExc(tid, NULL) is not an option: on 3.11
        that leaves the interpreter's async-exception flag set for good, and a traced
        frame then spins in the eval loop.)
        """
        entry.escape.stop()
        lock = self._cond
        lock.acquire()
        try:
            if entry in self._entries:
                self._entries.remove(entry)
        finally:
            lock.release()
        if entry.fired:
            _flush()

    def _run(self):
        with self._cond:
            while True:
                if not self._entries:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                due = min(self._entries, key=lambda e: e.deadline)
                if due.deadline > now:
                    self._cond.wait(due.deadline - now)
                    continue
                due.fired = True
                due.deadline = now + _REPEAT
                _set_async_exc(due.tid, _ThreadTimeout)


def _set_async_exc(tid: int, exc) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(exc))


def _noop():
    pass


def _flush() -> None:
    """Let a pending injected _Timeout go off here, harmlessly (it is raised on function entry)."""
    for _ in range(3):
        try:
            _noop()
        except _Timeout:
            pass


_watchdog = _Watchdog()


class _SigintFlag:
    """Tells a real Ctrl-C (propagated) from `raise KeyboardInterrupt` in user code (reported)."""

    __slots__ = ("hit", "prev")

    def __init__(self):
        self.hit = False
        self.prev = _signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum, frame):
        if self.prev == signal.SIG_IGN:
            return
        self.hit = True
        if callable(self.prev):
            self.prev(signum, frame)
        raise KeyboardInterrupt

    def restore(self):
        """Give Ctrl-C back to the handler that was there before."""
        _signal.signal(signal.SIGINT, self.prev)


# ---------------------------------------------------------------- the call


def call_user(fn, args=(), kwargs=None, *, timeout: float | None, what: str, user_files=()):
    """Call `fn(*args, **kwargs)` as user code: quietly, within `timeout` seconds (None: no limit).

    Returns its value.  Raises UserRaised (one sentence naming `what`, the exception and
    the user's line; `.traceback` trimmed to the user's frames; `__cause__` is the
    original exception) or UserTimeout.  `user_files`: the user's files or directories;
    frames under them count as the user's.
    """
    kwargs = kwargs or {}
    on_main = threading.get_ident() == threading.main_thread().ident
    alarm = entry = sigint = None
    try:
        try:
            if on_main:
                sigint = _SigintFlag()
                if timeout is not None:
                    alarm = _Alarm(timeout, user_files)
            elif timeout is not None:
                entry = _watchdog.arm(timeout, user_files)
            with quiet_user_io():
                return fn(*args, **kwargs)
        finally:
            _disarm(alarm, entry, sigint)
    except _Timeout as exc:
        _disarm(alarm, entry, sigint)        # in case the alarm interrupted the finally above
        if (alarm is not None and alarm.fired) or (entry is not None and entry.fired):
            frames = user_frames(exc, user_files)
            where = f" (it was at {_where(frames[-1])})" if frames else ""
            raise UserTimeout(f"{what} did not return within the {timeout:g} s time limit (--timeout){where}",
                              traceback=format_user_traceback(exc, user_files) if frames else None) from None
        raise                                 # an outer call's limit: not ours to report
    except KeyboardInterrupt as exc:
        if sigint is not None and sigint.hit:
            raise                             # the person running corrcheck pressed Ctrl-C
        raise _user_raised(exc, what, user_files) from exc
    except BaseException as exc:              # noqa: B036 - user code may raise anything
        if isinstance(exc, (UserRaised, UserTimeout)) and not _has_user_frames(exc, user_files):
            raise                             # corrcheck's own nested call already reported it
        raise _user_raised(exc, what, user_files) from exc


_CALL_USER_CODE = call_user.__code__


def _disarm(alarm, entry, sigint) -> None:
    if alarm is not None:
        alarm.disarm()
    if entry is not None:
        _watchdog.disarm(entry)
    if sigint is not None:
        sigint.restore()


def _user_raised(exc: BaseException, what: str, user_files) -> UserRaised:
    frames = user_frames(exc, user_files)
    where = f" (at {_where(frames[-1])})" if frames else ""
    return UserRaised(f"{what} {describe_exception(exc)}{where}",
                      traceback=format_user_traceback(exc, user_files))


def _where(frame: traceback.FrameSummary) -> str:
    """'seed.py line 31: `sum += a[r][c] * f[y][x]`'."""
    code = (frame.line or "").strip()
    return f"{os.path.basename(frame.filename)} line {frame.lineno}" + (f": `{code}`" if code else "")


def describe_exception(exc: BaseException) -> str:
    """'raised IndexError: list index out of range', 'called sys.exit(1)', 'reads from standard input'."""
    if isinstance(exc, ReadsStdin):
        return "reads from standard input"
    if isinstance(exc, ProcessExit):
        return f"called {exc.call}"
    if isinstance(exc, SystemExit):
        return f"called sys.exit({'' if exc.code is None else _safe_text(repr, exc.code)})"
    text = _safe_text(str, exc).strip()
    text = text.splitlines()[0] if text else ""
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE - 1] + "…"
    name = type(exc).__name__
    if isinstance(exc, NameError) and getattr(exc, "name", None) in _PYTHON2_NAMES:
        text += f" ({exc.name} is Python 2; corrcheck runs Python 3)"
    return f"raised {name}: {text}" if text else f"raised {name}"


def _safe_text(to_text, value) -> str:
    """str()/repr() of a user object, which may itself raise."""
    try:
        return to_text(value)
    except Exception:                         # noqa: BLE001 - the user's __str__ is user code
        return "<unprintable>"


_PYTHON2_NAMES = frozenset({"xrange", "raw_input", "unicode", "basestring", "unichr", "long",
                            "reduce", "execfile", "file", "cmp", "izip"})


# ---------------------------------------------------------------- tracebacks


def user_frames(exc: BaseException, user_files=()) -> list[traceback.FrameSummary]:
    """The frames of `exc`'s traceback that run the user's code, outermost first."""
    roots = _roots(tuple(user_files))
    frames = traceback.extract_tb(exc.__traceback__)
    return [f for f in frames if _is_user_file(f.filename, roots)]


def format_user_traceback(exc: BaseException, user_files=()) -> str:
    """A traceback in Python's usual format, showing only the user's frames."""
    frames = user_frames(exc, user_files)
    lines = []
    if frames:
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.StackSummary.from_list(frames).format())
    if isinstance(exc, _Timeout):
        lines.append("(stopped here: time limit reached)")
    elif isinstance(exc, ReadsStdin):
        lines.append("EOFError: EOF when reading a line (standard input is empty under corrcheck)")
    else:
        lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines).rstrip("\n")


def _has_user_frames(exc, user_files) -> bool:
    return bool(user_frames(exc, user_files))


@cache
def _own_dirs() -> tuple[str, str, tuple[str, ...]]:
    """(corrcheck's package directory, its demo files, the standard library and site directories);
    read on first use, not at import (sysconfig reads the environment)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep   # corrcheck/, not loader/
    system = tuple(sorted({os.path.abspath(p) + os.sep for p in (
        sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")) if p}))
    return package, os.path.join(package, "demo_files") + os.sep, system


@lru_cache(maxsize=64)
def _roots(user_files: tuple) -> tuple:
    """Absolute files and directories whose frames are the user's (a file stands for its folder)."""
    roots = []
    for p in user_files:
        p = os.path.abspath(os.fspath(p))
        roots.append(p if os.path.isdir(p) else os.path.dirname(p))
    return tuple(r if r.endswith(os.sep) else r + os.sep for r in roots)


def is_user_file(filename: str, user_files=()) -> bool:
    """Whether code in `filename` is the user's: under one of `user_files` (files or folders),
    and neither corrcheck's own nor the standard library's nor an installed package's."""
    return _is_user_file(filename, _roots(tuple(user_files)))


def _is_user_file(filename: str, roots: tuple) -> bool:
    if not filename or filename.startswith("<"):
        return False
    path = os.path.abspath(filename)
    package, demo, system = _own_dirs()
    if path.startswith(demo):
        return True                           # the demo's example files play the user's part
    if path.startswith(package) or path.startswith(system) or "site-packages" in path:
        return False
    if not roots:                             # nothing named: anything that is not ours or the system's
        return True
    return path.startswith(roots)


def source_line(filename: str, lineno: int) -> str:
    """One line of a file, stripped (empty when unknown)."""
    return linecache.getline(filename, lineno).strip()
