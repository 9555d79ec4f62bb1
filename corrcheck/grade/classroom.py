"""Grade a class: find the submissions, take what the cache knows, check the rest in child processes.

This is the one place that ties discovery, the cache, the worker pool and the summary
together; the CLI and the Python API call `grade`, and the report renders its GradeResult.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from . import cache as cache_module
from .discover import Submission, find_submissions
from .pool import Outcome, run_children
from .summary import failing_targets, first_location, mistakes, summarize
from ..config import RunConfig

DEFAULT_TIME_LIMIT = 60.0      # seconds for the whole check of one submission
DEFAULT_MEMORY_MB = 2048       # address space of one check (NumPy and corrcheck take ~0.5 GB of it)


@dataclass(frozen=True)
class Entry:
    """One submission's result: run's document plus how the grader got it."""

    submission: str
    files: tuple[str, ...]
    document: dict
    seconds: float                  # wall time of the child (0 when cached)
    cached: bool = False
    limit: str | None = None        # "time" or "memory" when a grader limit stopped the check
    reports: dict = field(default_factory=dict, compare=False)   # kind -> the student's report

    @property
    def verdict(self) -> str:
        return self.document.get("verdict", "error")

    @property
    def failing_targets(self) -> list[str]:
        return failing_targets(self.document)

    @property
    def mistakes(self) -> list[str]:
        return mistakes(self.document)

    @property
    def location(self) -> dict | None:
        """Where the first located mistake is (file relative to the submission folder, line, code)."""
        return first_location(self.document)

    def to_dict(self) -> dict:
        grade = {"seconds": round(self.seconds, 4), "cached": self.cached}
        if self.limit:
            grade["limit"] = self.limit
        return {"submission": self.submission, **self.document, "grade": grade}


@dataclass(frozen=True)
class GradeResult:
    root: str
    patterns: tuple[str, ...]
    options: dict
    entries: tuple[Entry, ...]
    summary: dict
    seconds: float
    jobs: int
    command: str | None = None

    def to_dict(self) -> dict:
        summary = dict(self.summary, seconds=round(self.seconds, 3),
                       cached=sum(e.cached for e in self.entries),
                       checked=sum(not e.cached for e in self.entries))
        return {"corrcheck_version": __version__, "root": self.root, "files": list(self.patterns),
                "config": dict(self.options), "submissions": [e.to_dict() for e in self.entries],
                "summary": summary}


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def grade(root, patterns, options: dict | None = None, *, jobs: int | None = None,
          time_limit: float | None = DEFAULT_TIME_LIMIT, memory_mb: int | None = DEFAULT_MEMORY_MB,
          cache_dir=None, use_cache: bool = True, reports: tuple[str, ...] = (), skip: tuple = (),
          progress=None) -> GradeResult:
    """Check every submission under root; `options` are RunConfig fields as `run` takes them.

    `progress(done, total, entry)` is called as each submission is known (cached ones first).
    """

    t0 = time.perf_counter()
    options = {k: v for k, v in (options or {}).items() if v is not None}
    options.pop("jobs", None)           # a sweep inside a child runs in that child: the grader owns the cores
    RunConfig(files=("submission.py",), **options).validate()   # a bad flag fails once, before 100 children
    root = Path(root)
    cache_folder = (Path(cache_dir) if cache_dir is not None else root / cache_module.DEFAULT_DIR) if use_cache else None
    store = cache_module.Cache(cache_folder)
    skip = tuple(Path(s) for s in skip) + ((cache_folder,) if cache_folder is not None else ())
    submissions = find_submissions(root, patterns, skip)
    jobs = jobs or default_jobs()
    entries: dict[str, Entry] = {}
    todo: list[tuple[object, dict]] = []
    keys: dict[str, str] = {}
    total = len(submissions)

    def record(entry: Entry) -> None:
        entries[entry.submission] = entry
        if progress is not None:
            progress(len(entries), total, entry)

    for sub in submissions:
        if sub.missing:
            record(_missing(sub))
            continue
        try:
            k = cache_module.key(sub.path, sub.files, options, {"memory_mb": memory_mb, "time_limit": time_limit})
        except OSError as exc:
            record(_not_checked(sub, f"cannot read the submission: {exc.strerror or exc}"))
            continue
        keys[sub.folder] = k
        hit = store.get(k)
        if hit is not None and all(kind in hit.get("reports", {}) for kind in reports):
            record(Entry(sub.folder, sub.files, hit["document"], 0.0, True, hit.get("limit"), hit.get("reports", {})))
            continue
        todo.append((sub, {"folder": str(sub.path.resolve()), "files": list(sub.files), "options": _jsonable(options),
                           "memory_mb": memory_mb, "reports": list(reports)}))

    for outcome in run_children(todo, jobs=jobs, time_limit=time_limit):
        entry = _entry(outcome)
        if outcome.failure != "time":       # a timeout may be the machine's load: try again next time
            store.put(keys[entry.submission], {"document": entry.document, "reports": entry.reports,
                                               "limit": entry.limit})
        record(entry)
    ordered = tuple(entries[s.folder] for s in submissions)
    summary = summarize([(e.submission, e.document) for e in ordered])
    return GradeResult(str(root), tuple(patterns), options, ordered, summary, time.perf_counter() - t0, jobs)


def _entry(outcome: Outcome) -> Entry:
    sub: Submission = outcome.key
    if outcome.payload is not None:
        return Entry(sub.folder, sub.files, outcome.payload["document"], outcome.seconds,
                     reports=outcome.payload.get("reports") or {})
    limit = outcome.failure if outcome.failure in ("time", "memory") else None
    return _not_checked(sub, outcome.message or "could not be checked", outcome.seconds, limit)


def _missing(sub: Submission) -> Entry:
    names = " and ".join(repr(p) for p in sub.missing)
    return _not_checked(sub, f"nothing in {sub.folder} matches {names}, so the submission is incomplete")


def _not_checked(sub: Submission, message: str, seconds: float = 0.0, limit: str | None = None) -> Entry:
    document = {"corrcheck_version": __version__, "verdict": "error",
                "file": sub.files[0] if sub.files else None, "files": list(sub.files),
                "error": {"kind": "load", "message": message}}
    return Entry(sub.folder, sub.files, document, seconds, limit=limit)


def _jsonable(options: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()}
