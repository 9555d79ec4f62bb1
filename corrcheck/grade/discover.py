"""Find the submissions under ROOT: every folder that a --files glob matches is one submission.

Several globs (`*/0-conv_forward.py`, `*/2-conv_backward.py`) name the files of one
submission, loaded in the order the globs were given; a folder that matches some
globs but not all is still a submission, reported as missing the rest rather than
checked on half its code (a student who handed in only the forward must not pass).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

SKIP_PARTS = {".corrcheck-cache", "__pycache__", ".git", ".ipynb_checkpoints", "node_modules"}


@dataclass(frozen=True)
class Submission:
    folder: str                     # relative to ROOT, POSIX separators; "." for ROOT itself
    path: Path                      # the folder on disk
    files: tuple[str, ...]          # relative to the folder, in --files order
    missing: tuple[str, ...] = ()   # globs that matched nothing in this folder


def find_submissions(root: Path, patterns: list[str] | tuple[str, ...], skip: tuple[Path, ...] = ()) -> list[Submission]:
    """Submissions sorted by folder, so the same ROOT always gives the same class report."""
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"cannot read {root}: {'no such folder' if not root.exists() else 'not a folder'}")
    if not patterns:
        raise UsageError("give at least one --files GLOB, such as --files '*/layers.py'")
    skipped = {p.resolve() for p in skip}
    by_folder: dict[Path, list[list[str]]] = {}
    for slot, pattern in enumerate(patterns):
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            raise UsageError(f"--files takes a glob relative to ROOT such as '*/layers.py', not {pattern!r}")
        for path in sorted(root.glob(pattern)):
            if not path.is_file() or _skipped(path.relative_to(root), path, skipped):
                continue
            slots = by_folder.setdefault(path.parent, [[] for _ in patterns])
            slots[slot].append(path.name)
    found = []
    for folder, slots in by_folder.items():
        files = tuple(dict.fromkeys(name for names in slots for name in sorted(names)))
        missing = tuple(p for p, names in zip(patterns, slots) if not names)
        rel = folder.relative_to(root).as_posix() or "."
        found.append(Submission(rel, folder, files, missing))
    if not found:
        raise UsageError(f"no file under {root} matches {', '.join(repr(p) for p in patterns)}")
    return sorted(found, key=lambda s: s.folder)


def _skipped(rel: Path, path: Path, skipped: set) -> bool:
    if any(part in SKIP_PARTS for part in rel.parts):
        return True
    resolved = path.resolve()
    return any(resolved.is_relative_to(s) for s in skipped)
