"""Run one worker process per submission, at most `jobs` at a time, each under a wall-time limit.

Each child is a fresh interpreter in its own session (so killing it also kills whatever
it started); its result and its stderr go to temporary files, not pipes, so a child that
prints megabytes can never block on a full pipe. A child past its limit is killed and
reported as timed out; one that dies (a signal, the kernel's OOM killer, os._exit in
student code) is reported with how it died. Nothing a child does raises here.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass

POLL_SECONDS = 0.02
STDERR_TAIL = 400           # characters of a crashed child's stderr kept for the message


@dataclass(frozen=True)
class Outcome:
    """What one child left: its payload (run's document and reports), or why there is none."""

    key: object
    payload: dict | None
    seconds: float
    failure: str | None = None      # time | memory | crashed | internal
    message: str | None = None


class _Child:
    def __init__(self, key, task: dict, env: dict):
        self.key = key
        self.out = tempfile.NamedTemporaryFile(suffix=".json")
        self.err = tempfile.NamedTemporaryFile(suffix=".err")
        stdin = tempfile.TemporaryFile()
        stdin.write(json.dumps(task).encode("utf-8"))
        stdin.seek(0)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "corrcheck.grade.worker", self.out.name, self.err.name],
                                     stdin=stdin, stdout=subprocess.DEVNULL, stderr=self.err, env=env,
                                     cwd=task["folder"], start_new_session=True)
        stdin.close()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            self.proc.kill()
        self.proc.wait()

    def sweep(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            pass

    def outcome(self, timed_out: float | None) -> Outcome:
        seconds = time.perf_counter() - self.started
        try:
            if timed_out is not None:
                return Outcome(self.key, None, seconds, "time", f"timed out after {timed_out:g} s (--time-limit) and was stopped")
            self.out.seek(0)
            text = self.out.read().decode("utf-8", "replace")
            try:
                payload = json.loads(text) if text.strip() else None
            except ValueError:
                payload = None
            if isinstance(payload, dict) and "document" in payload:
                return Outcome(self.key, payload, seconds)
            if isinstance(payload, dict) and "failure" in payload:
                return Outcome(self.key, None, seconds, payload["failure"], payload.get("message"))
            return Outcome(self.key, None, seconds, "crashed", self._death())
        finally:
            self.out.close()
            self.err.close()
            if isinstance(self.proc, _ProcessAdapter) and timed_out is None:
                self.proc.wait()

    def _death(self) -> str:
        code = self.proc.returncode
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            why = " (the kernel kills a process that runs out of memory this way)" if -code == signal.SIGKILL else ""
            return f"the check process was killed by {name}{why}"
        self.err.seek(0)
        tail = self.err.read().decode("utf-8", "replace").strip().splitlines()
        last = tail[-1][-STDERR_TAIL:] if tail else ""
        return f"the check process exited with code {code} before reporting" + (f": {last}" if last else "")


class _ForkedChild(_Child):
    """The same child, forked from a fork server that imported corrcheck and NumPy once.

    Saves the ~0.3 s of interpreter start and imports per submission; the child is still a
    process of its own (own memory limit, own session, killed as a group).
    """

    def __init__(self, key, task: dict, context):
        from . import worker

        self.key = key
        self.out = tempfile.NamedTemporaryFile(suffix=".json")
        self.err = tempfile.NamedTemporaryFile(suffix=".err")
        self.started = time.perf_counter()
        self.proc = _ProcessAdapter(context.Process(target=worker.forked, args=(task, self.out.name, self.err.name),
                                                    daemon=True))


class _ProcessAdapter:
    """A multiprocessing.Process seen through the part of Popen's interface the pool uses."""

    def __init__(self, process):
        self.process = process
        process.start()
        self.pid = process.pid

    @property
    def returncode(self):
        return self.process.exitcode

    def poll(self):
        return self.process.exitcode

    def kill(self):
        self.process.kill()

    def wait(self):
        self.process.join()
        self.process.close()


PRELOAD = ["corrcheck.grade.worker", "corrcheck.runner", "corrcheck.report.grade"]


def fork_server():
    """A forkserver context with corrcheck preloaded, or None where there is no fork server."""
    import multiprocessing

    if os.environ.get("CORRCHECK_GRADE_SUBPROCESS") or "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _start(key, task, env, context):
    if context is None:
        return _Child(key, task, env)
    saved = {name: os.environ.get(name) for name in SINGLE_THREAD}
    os.environ.update({name: os.environ.get(name) or "1" for name in SINGLE_THREAD})   # read once, as the server starts
    try:
        return _ForkedChild(key, task, context)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


SINGLE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run_children(tasks: list[tuple[object, dict]], *, jobs: int, time_limit: float | None, on_done=None):
    """Yield an Outcome per (key, task) as children finish; `on_done(outcome)` is called too."""
    env = dict(os.environ)
    # Many small checks side by side: one BLAS thread each, or they fight over the cores.
    for name in SINGLE_THREAD:
        env.setdefault(name, "1")
    env["PYTHONDONTWRITEBYTECODE"] = "1"     # no __pycache__ left in the students' folders
    context = fork_server() if tasks else None
    pending = deque(tasks)
    running: list[_Child] = []
    try:
        while pending or running:
            while pending and len(running) < max(1, jobs):
                key, task = pending.popleft()
                running.append(_start(key, task, env, context))
            time.sleep(POLL_SECONDS)
            for child in list(running):
                timed_out = None
                if child.proc.poll() is None:
                    if time_limit is None or time.perf_counter() - child.started <= time_limit:
                        continue
                    child.kill()
                    timed_out = time_limit
                else:
                    child.sweep()           # whatever the submission started and left behind
                running.remove(child)
                outcome = child.outcome(timed_out)
                if on_done is not None:
                    on_done(outcome)
                yield outcome
    finally:
        for child in running:           # interrupted (Ctrl-C): leave no student code running
            child.kill()
