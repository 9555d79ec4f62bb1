"""Results cached by content: a submission is checked again only when its files, the flags or corrcheck change.

The key is a SHA-256 of corrcheck's version, the check options, the report formats
asked for, and the name and bytes of each file checked and of every other source file in
the submission's folder (a helper module the checked file imports changes the result too). Entries are JSON files (never pickles: the
cache sits next to student folders), written atomically so an interrupted grade
leaves no half entry.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .. import __version__

DEFAULT_DIR = ".corrcheck-cache"
SOURCE_SUFFIXES = (".py", ".js", ".cjs", ".mjs", ".json")   # what a submission's code can import
MAX_SOURCES = 2000                                          # a folder with more is hashed only this far


def key(folder: Path, files: tuple[str, ...], options: dict, extra: dict | None = None) -> str:
    """The entry's key (module doc); names and lengths frame each file's bytes, so bytes moved between files count."""
    digest = hashlib.sha256()
    header = {"corrcheck": __version__, "options": options, "extra": extra or {}}
    digest.update(json.dumps(header, sort_keys=True, default=str).encode("utf-8"))
    for name in list(files) + [n for n in _sources(folder) if n not in files]:
        try:
            data = (folder / name).read_bytes()
        except OSError:
            data = b"\0unreadable"
        digest.update(f"\0{name}\0{len(data)}\0".encode("utf-8"))
        digest.update(data)
    return digest.hexdigest()


def _sources(folder: Path) -> list[str]:
    """The submission's other source files (relative POSIX paths, sorted), outside hidden and cache folders."""
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts[:-1]):
            continue
        if path.suffix in SOURCE_SUFFIXES and path.is_file():
            found.append(rel.as_posix())
            if len(found) >= MAX_SOURCES:
                break
    return found


class Cache:
    """A folder of `<key>.json` entries; `None` as the folder disables caching."""

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder is not None else None

    def get(self, k: str) -> dict | None:
        """The stored entry, or None: a missing, unreadable or foreign file is just a miss, never an error."""
        if self.folder is None:
            return None
        try:
            entry = json.loads((self.folder / f"{k}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and "document" in entry else None

    def put(self, k: str, payload: dict) -> None:
        """Written to a temporary file and renamed (see module doc); a failed write only costs the cache."""
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(payload, f)
            os.replace(tmp, self.folder / f"{k}.json")
        except OSError:
            pass                         # a read-only ROOT still grades, just without a cache
