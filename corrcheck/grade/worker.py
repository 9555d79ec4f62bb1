"""The child process that checks one submission: forked from a fork server that has corrcheck
loaded (`forked`), or a fresh `python -m corrcheck.grade.worker OUT ERR < task.json` where there is none.

It caps its own address space first (RLIMIT_AS, before any student code is loaded),
moves into the submission's folder (so the rerun command names the files as
the student has them and whatever the code writes stays in its own folder), sends
everything the code prints to /dev/null, runs the same check as `corrcheck run`, and
writes one JSON payload (run's document plus the rendered reports) to the file the
grader named. Only JSON crosses back to the grader: nothing a submission does in here can
reach the grader except through that document.
"""
from __future__ import annotations

import json
import os
import sys

MB = 1 << 20


def limit_memory(megabytes: int | None) -> None:
    """Cap the address space; a huge allocation then fails with MemoryError inside the check."""
    if not megabytes:
        return
    try:
        import resource                 # lazy: Unix only, and needed only inside a child
    except ImportError:                 # not on this platform: the wall-time limit still holds
        return
    limit = int(megabytes) * MB
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def check(task: dict) -> dict:
    """Run the check the task describes; the payload the grader reads."""
    # lazy: only a child checks; the grader imports this module (to fork into `forked`) without
    # loading the runner, NumPy or the report (the fork server preloads those, pool.PRELOAD)
    from .. import runner
    from ..config import RunConfig
    from ..errors import CorrcheckError
    from ..geometry import ConfigError
    from ..report.grade import submission_report

    options = dict(task["options"])
    if options.get("explain_cell") is not None:
        options["explain_cell"] = tuple(options["explain_cell"])
    try:
        config = RunConfig(files=tuple(task["files"]), **options).validate()
        result = runner.run(config)
    except (ConfigError, CorrcheckError) as exc:
        from .. import __version__      # lazy: as above, and only a submission that cannot be checked needs them
        from ..result import ErrorInfo, RunResult

        result = RunResult(__version__, "error", tuple(task["files"]),
                           error=ErrorInfo(getattr(exc, "kind", "usage"), str(exc)))
    result = _incomplete(result)
    reports = {kind: submission_report(result, kind) for kind in task.get("reports", ())}
    return {"document": result.to_dict(), "reports": reports}


def _incomplete(result):
    """A class hands in a forward and its gradients: a submission whose backward corrcheck found nowhere
    did half the work, so the grade fails it with that sentence (`run` alone passes what it checked
    and says in a note what it did not)."""
    from dataclasses import replace

    from ..vocab import GRADS, Verdict
    if result.verdict != Verdict.PASS or any(g in (result.bound or {}) for g in GRADS):
        return result
    return replace(result, verdict=Verdict.FAIL,
                   conclusion="Incomplete: no backward function was found, so only the forward was checked "
                              "(if it has another name, bind it with --grad-input / --grad-filter). "
                              + (result.conclusion or ""))


def _checked(task: dict) -> dict:
    try:
        return check(task)
    except MemoryError:
        return {"failure": "memory", "message": "ran out of memory"}
    except Exception as exc:  # noqa: BLE001 - reported to the grader as one sentence, never a traceback
        return {"failure": "internal", "message": f"internal error in corrcheck: {type(exc).__name__}: {exc}"}


def forked(task: dict, out_path: str, err_path: str) -> None:
    """Body of a child forked from the grader's fork server, which has corrcheck and NumPy loaded already.

    Its own session first, so the grader can kill it and whatever it starts as one group.
    """
    os.setsid()
    checked_into(task, out_path, err_path)


def checked_into(task: dict, out_path: str, err_path: str) -> None:
    """Limit memory, silence the student's output (fd 0 and 1 to /dev/null, fd 2 to err_path),
    check, and write the payload to out_path: the grader reads nothing else."""
    limit_memory(task.get("memory_mb"))
    devnull = os.open(os.devnull, os.O_RDWR)
    err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for fd, target in ((0, devnull), (1, devnull), (2, err)):
        os.dup2(target, fd)
    os.chdir(task["folder"])
    payload = _checked(task)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(payload, f)


def main() -> int:
    """`python -m corrcheck.grade.worker OUT ERR < task.json`, started in a session of its own."""
    task = json.loads(sys.stdin.read())
    checked_into(task, sys.argv[1], sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
