"""guard.call_user: time limits, quiet I/O, and one sentence per failure with a trimmed traceback."""
import importlib.util
import os
import re
import signal
import sys
import threading
import time

import numpy as np
import pytest

from corrcheck.loader import guard
from corrcheck.errors import UserRaised, UserTimeout
from corrcheck.loader.guard import call_user, last_warnings, quiet_user_io

HERE = os.path.join(os.path.dirname(__file__), "py_files")
USER_FILE = os.path.join(HERE, "guarded.py")


@pytest.fixture(scope="module")
def u():
    spec = importlib.util.spec_from_file_location("guarded_for_tests", USER_FILE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run(fn, *args, timeout=2.0):
    return call_user(fn, args, timeout=timeout, what=fn.__name__, user_files=[USER_FILE])


def test_returns_value_and_leaves_no_timer_or_handler(u):
    before = signal.getsignal(signal.SIGALRM)
    assert run(u.identity, 7) == 7
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_kwargs_are_passed(u):
    assert call_user(u.identity, (), {"x": 3}, timeout=None, what="identity") == 3


@pytest.mark.parametrize("name", ["spin", "spin_swallowing", "sleeps"])
def test_timeout_stops_loops_and_sleep(u, name):
    t0 = time.monotonic()
    with pytest.raises(UserTimeout) as info:
        run(getattr(u, name), timeout=0.3)
    assert time.monotonic() - t0 < 2.0
    assert re.match(rf"{name} did not return within (the )?0.3 s", info.value.message)
    assert "guarded.py line" in info.value.message        # where it was stuck
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_timeout_in_worker_thread(u):
    out = {}

    def work():
        t0 = time.monotonic()
        for name in ("spin", "spin_swallowing"):
            try:
                run(getattr(u, name), timeout=0.3)
            except UserTimeout as e:
                out[name] = (e.message, time.monotonic() - t0)
        out["after"] = run(u.identity, 5)               # the thread stays usable

    th = threading.Thread(target=work)
    th.start()
    th.join(10)
    assert not th.is_alive()
    assert re.match(r"spin did not return within (the )?0.3 s", out["spin"][0])
    assert "spin_swallowing" in out and out["spin_swallowing"][1] < 3
    assert out["after"] == 5


def test_previous_alarm_is_restored(u):
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.4)
        assert run(u.identity, 1, timeout=5.0) == 1
        delay, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < delay <= 0.4
        time.sleep(0.6)
        assert fired == [1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_outer_shorter_limit_still_wins(u):
    """A nested call with a longer limit must not postpone the outer one."""
    t0 = time.monotonic()
    with pytest.raises(UserTimeout) as info:
        call_user(lambda: run(u.spin, timeout=10.0), timeout=0.3, what="outer", user_files=[USER_FILE])
    assert time.monotonic() - t0 < 2.0
    assert info.value.message.startswith("outer did not return")


def test_raised_exception_is_one_sentence_with_user_line(u):
    with pytest.raises(UserRaised) as info:
        run(u.corre, [[1]], [[1], [2], [3]])
    msg = info.value.message
    assert msg == "corre raised IndexError: list index out of range (at guarded.py line 34: `total += a[r][0] * f[r][0]`)"
    assert "\n" not in msg
    assert isinstance(info.value.__cause__, IndexError)


def test_traceback_has_only_user_frames(u):
    with pytest.raises(UserRaised) as info:
        run(u.deep, [1])
    tb = info.value.traceback
    assert tb.startswith("Traceback (most recent call last):")
    assert tb.count('guarded.py"') == 4                     # deep called itself 3 times
    # Not the bare word "corrcheck": the checkout itself may live in a folder of that name.
    package_dir = os.path.dirname(os.path.abspath(guard.__file__))
    assert package_dir not in tb
    assert {os.path.abspath(f) for f in re.findall(r'File "([^"]+)"', tb)} == {os.path.abspath(USER_FILE)}
    assert tb.rstrip().endswith("IndexError: list index out of range")


def test_numpy_frames_are_trimmed_but_user_line_kept(u):
    with pytest.raises(UserRaised) as info:
        run(u.calls_numpy_badly, 1)
    assert "at guarded.py line" in info.value.message
    assert "site-packages" not in info.value.traceback and "numpy/" not in info.value.traceback
    assert info.value.traceback.count('File "') == 1


def test_exit_and_stdin_and_keyboardinterrupt_become_sentences(u):
    with pytest.raises(UserRaised, match=r"^exits called sys.exit\(3\)"):
        run(u.exits)
    with pytest.raises(UserRaised, match=r"^quits called sys.exit\(\)"):
        run(u.quits)
    with pytest.raises(UserRaised, match=r"^asks reads from standard input"):
        run(u.asks)
    with pytest.raises(UserRaised, match=r"^interrupts raised KeyboardInterrupt"):
        run(u.interrupts)


def test_output_is_swallowed(u, capsys):          # its cost: benchmarks/bench_guard.py
    assert run(u.chatty, 20000) == 20000
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    assert sys.stdout is not guard._SINK


def test_warnings_captured_and_numpy_errors_do_not_raise(u, capsys):
    with np.errstate(all="raise"):                     # corrcheck's own setting must not leak in
        result = run(u.warns)
    assert np.isinf(result).all()
    got = last_warnings()
    assert "UserWarning: careful" in got
    assert any(w.startswith("RuntimeWarning") for w in got)
    assert capsys.readouterr().err == ""


def test_numpy_setting_made_by_user_at_import_is_kept_for_their_calls_only(u):
    try:
        with quiet_user_io():
            np.seterr(divide="raise")                  # what a user's module does at import
        assert np.geterr()["divide"] != "raise"        # undone for corrcheck
        with pytest.raises(UserRaised, match="FloatingPointError"):
            run(u.warns)
    finally:
        guard.forget_user_settings()
    assert np.isinf(run(u.warns)).all()


def test_quiet_user_io_restores_streams():
    before = (sys.stdout, sys.stderr, sys.stdin)
    with quiet_user_io():
        print("invisible")
        assert sys.stdin.read is not None
        with pytest.raises(EOFError):
            input()
    assert (sys.stdout, sys.stderr, sys.stdin) == before


def test_exception_whose_str_fails_is_still_one_sentence(u):
    with pytest.raises(UserRaised, match=r"^raises_unprintable raised Unprintable: <unprintable> \(at guarded.py"):
        run(u.raises_unprintable)


def test_corrchecks_own_files_are_never_the_users_but_its_demo_files_are():
    """The package directory is corrcheck/, not the loader/ folder guard.py sits in."""
    import corrcheck
    import corrcheck.runner
    from corrcheck.checks import suite
    package = os.path.dirname(corrcheck.__file__)
    for own in (corrcheck.runner.__file__, suite.__file__, guard.__file__):
        assert not guard.is_user_file(own) and not guard.is_user_file(own, [package])
    assert guard.is_user_file(os.path.join(package, "demo_files", "seed_buggy.py"))
    assert not guard.is_user_file(os.__file__)                      # the standard library


HANGING = {
    "dense": "def conv_forward(x, w, stride, pad):\n    while True:\n        pass\n",
    "pool": "def max_pool_forward(x, size, stride):\n    i = 0\n    while i < 3:\n        x = x\n    return x\n",
}


@pytest.mark.parametrize("kind", sorted(HANGING))
def test_a_forward_that_never_returns_is_waited_for_once_and_said_so(kind, tmp_path):
    """Each second opinion (other layouts, grouped, transposed) would wait out the limit again."""
    import time
    from corrcheck.config import RunConfig
    from corrcheck.runner import run
    path = tmp_path / f"{kind}.py"
    path.write_text(HANGING[kind])
    started = time.perf_counter()
    res = run(RunConfig(files=(str(path),), timeout=1.0))
    took = time.perf_counter() - started
    assert res.verdict == "fail" and any(c.timed_out for c in res.checks)
    assert took < 4.0, took                           # one wait of 1 s, not one per form tried (was 9+)
    assert res.seconds >= 1.0                          # the report's time is the whole run's
    assert "did not return within the time limit" in res.conclusion
    assert "does not compute" not in res.conclusion
