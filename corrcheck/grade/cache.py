"""Results cached by content: a submission is checked again only when its files, the flags or corrcheck change.

The key is a SHA-256 of corrcheck's version, the check options, the report formats
asked for, and each file's name and bytes. Entries are JSON files (never pickles: the
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


def key(folder: Path, files: tuple[str, ...], options: dict, extra: dict | None = None) -> str:
    digest = hashlib.sha256()
    header = {"corrcheck": __version__, "options": options, "extra": extra or {}}
    digest.update(json.dumps(header, sort_keys=True, default=str).encode("utf-8"))
    for name in files:
        data = (folder / name).read_bytes()
        digest.update(f"\0{name}\0{len(data)}\0".encode("utf-8"))
        digest.update(data)
    return digest.hexdigest()


class Cache:
    """A folder of `<key>.json` entries; `None` as the folder disables caching."""

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder is not None else None

    def get(self, k: str) -> dict | None:
        if self.folder is None:
            return None
        try:
            entry = json.loads((self.folder / f"{k}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and "document" in entry else None

    def put(self, k: str, payload: dict) -> None:
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
