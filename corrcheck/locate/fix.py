"""A verified fix: try candidate edits on a patched copy, keep one with which every check passes.

Candidates come from rewrites.py (diagnosed ids first). Each one is written to a
temporary copy of the user's directory (siblings symlinked, so imports between
the user's files still work) and checked by the same runner with the same seed
and options; only a copy that passes everything is reported as verified. Two
edits are combined when the file has two mistakes. The user's files are never
written. The search stops at a time budget and a candidate cap.
"""
from __future__ import annotations

import difflib
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path

from .rewrites import Candidate, apply_edits, candidates
from ..result import FixResult
from ..vocab import Against, FAILING, Status, Verdict

__all__ = ["search_fix", "unified_diff", "failing_targets", "protected_functions", "improves",
           "DEFAULT_SECONDS", "DEFAULT_MAX_CANDIDATES"]

DEFAULT_SECONDS = 8.0               # wall-time budget of one search
DEFAULT_MAX_CANDIDATES = 60         # and at most this many re-runs
CANDIDATE_TIMEOUT = 2.0             # seconds per user call while checking a candidate
MIRROR_LIMIT = 2000                 # directory entries symlinked into the copy; beyond, sys.path does it


def unified_diff(path: str, old: str, new: str) -> str:
    """`--- path` / `+++ path` headers, so `patch -p0` (and `git apply -p0`) work from the user's cwd."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    for lines in (a, b):
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n\\ No newline at end of file\n"
    return "".join(difflib.unified_diff(a, b, fromfile=path, tofile=path))


def search_fix(cfg, result, *, rerun, seconds: float = DEFAULT_SECONDS,
               max_candidates: int = DEFAULT_MAX_CANDIDATES) -> FixResult:
    """Search edits that make every check of `result`'s run pass; verified only when one does.

    `rerun(cfg) -> RunResult` checks one patched copy (the runner's `run`, passed in so this
    module does not import the runner that calls it)."""
    try:
        return _search(cfg, result, rerun, seconds, max_candidates)
    except Exception as exc:                           # the report must survive a failed search
        return FixResult(False, "", 0, f"no verified fix: the search stopped on an internal error "
                                       f"({type(exc).__name__})")


def _search(cfg, result, rerun, seconds, max_candidates) -> FixResult:
    t0 = time.perf_counter()
    sources = {}
    for f in cfg.files:
        try:
            sources[f] = Path(f).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return FixResult(False, "", 0, f"no verified fix: could not read {f} to patch a copy of it")
    layout = (result.config or {}).get("layout", "hw")
    failing = failing_targets(result)
    diagnoses = [d for d in result.diagnoses if d.target in failing]
    pool = candidates(diagnoses, result.bound, sources, layout, failing,
                      protected=protected_functions(result, failing))
    if not pool:
        return FixResult(False, "", 0, "no verified fix: no candidate edit applies to the functions that fail")
    check_cfg = cfg.replace(fix=False, sweep=False, timeout=min(cfg.timeout or CANDIDATE_TIMEOUT, CANDIDATE_TIMEOUT))
    tried, scored = 0, []                          # (score, edits by file, description)

    with _Mirror(cfg.files) as mirror:
        def attempt(combo: tuple[Candidate, ...]):
            nonlocal tried
            patched = {}
            for c in combo:
                patched.setdefault(c.file, []).extend(c.edits)
            texts = {f: apply_edits(sources[f], e) for f, e in patched.items()}
            tried += 1
            res = mirror.run(rerun, check_cfg, texts)
            score = _score(res)
            scored.append((score, combo, texts, res))
            return passes_as_before(result, res)

        for combo in _schedule(pool, diagnoses, scored, result):
            if tried >= max_candidates or time.perf_counter() - t0 > seconds:
                break
            if attempt(combo):
                texts = scored[-1][2]
                return FixResult(True, _diff(sources, texts), tried, _describe(combo))
    return _unverified(sources, scored, result, tried, time.perf_counter() - t0 > seconds)


def failing_targets(result) -> list[str]:
    """Targets whose own checks fail: a gradient that matches the reference is right even when it
    disagrees with finite differences, since those differentiate the user's (then wrong) forward."""
    by_target: dict = {}
    for c in result.checks:
        by_target.setdefault(c.target, {})[c.against] = c.status
    out = []
    for target, status in by_target.items():
        bad = [a for a, s in status.items() if s in FAILING]
        if bad and not (bad == [Against.FINITE_DIFFERENCES] and status.get(Against.REFERENCE) == Status.PASS):
            out.append(target)
    return out


def protected_functions(result, failing) -> tuple[str, ...]:
    """Functions bound only to targets that pass: an edit there can only make a right function wrong.
    One function may serve several targets; it is editable as soon as one of them fails."""
    checked = {c.target for c in result.checks if c.status != Status.SKIPPED}
    editable = {(result.bound or {}).get(t) for t in failing}
    return tuple(dict.fromkeys(name for t, name in (result.bound or {}).items()
                               if name and t in checked and t not in failing and name not in editable))


def _schedule(pool, diagnoses, scored, base):
    """Singles of diagnosed ids, pairs across diagnosed ids, pairs with an improving single, then the rest."""
    diagnosed = [d.bug for d in diagnoses if d.bug]
    own = [c for c in pool if c.rule in diagnosed]
    rest = [c for c in pool if c.rule not in diagnosed]
    done = set()

    def fresh(combo):
        key = frozenset((c.file, c.edits) for c in combo)
        if key in done or any(a.overlaps(b) for a, b in combinations(combo, 2)):
            return False
        done.add(key)
        return True

    by_target: dict = {}
    for d in diagnoses:
        if d.bug:
            by_target.setdefault(d.target, []).append(d.bug)
    for bugs in by_target.values():                    # diagnosed as two slips at once: their pair first
        for x, y in combinations(dict.fromkeys(bugs), 2):
            a = next((c for c in own if c.rule == x), None)
            b = next((c for c in own if c.rule == y), None)
            if a is not None and b is not None and fresh((a, b)):
                yield (a, b)
    for c in own:
        if fresh((c,)):
            yield (c,)
    for a, b in combinations(own, 2):
        if a.rule != b.rule and fresh((a, b)):
            yield (a, b)
    for c in rest:
        if fresh((c,)):
            yield (c,)
    improving = [combo[0] for s, combo, _, res in sorted(scored, key=lambda x: x[0])
                 if len(combo) == 1 and improves(base, res)][:4]
    for a in improving:
        for b in pool:
            if b.rule != a.rule and fresh((a, b)):
                yield (a, b)


def passes_as_before(base, res) -> bool:
    """A patched copy is fixed only when it passes the same checks of the same bound functions: an
    edit that renames a backward away (so nothing binds to it) passes by checking less."""
    return (res is not None and res.verdict == Verdict.PASS and res.bound == base.bound
            and {(c.target, c.against) for c in base.checks} <= {(c.target, c.against) for c in res.checks})


def _score(res) -> tuple:
    """Lower is closer to passing (ranks the candidates that improve): crashed checks, failing, wrong entries."""
    if res is None or res.verdict == Verdict.ERROR:
        return (10 ** 6, 0, 0)
    bad = [c for c in res.checks if c.status in FAILING]
    return (sum(c.status == Status.ERROR for c in bad), len(bad),
            sum((c.mismatches if c.mismatches is not None else (c.total or 1)) for c in bad))


def _bad(res) -> dict:
    """(target, against) -> the check, for each check that fails or raised."""
    return {(c.target, c.against): c for c in res.checks if c.status in FAILING}


def _wrong(c) -> float:
    """Wrong entries of a failing check; one that raised counts as every entry wrong."""
    if c.status == Status.ERROR:
        return float("inf")
    return c.mismatches if c.mismatches is not None else (c.total or float("inf"))


def improves(base, res) -> bool:
    """Strictly closer than the original run: fewer failing checks and none newly failing, or the
    same failing checks with fewer wrong entries in total and none that newly raises."""
    if res is None or res.verdict == Verdict.ERROR:
        return False
    old, new = _bad(base), _bad(res)
    if not set(new) <= set(old):
        return False                                   # it broke a check that passed
    if len(new) < len(old):
        return True
    if any(c.status == Status.ERROR and old[k].status != Status.ERROR for k, c in new.items()):
        return False
    return sum(_wrong(c) for c in new.values() if c.status != Status.ERROR) < \
        sum(_wrong(old[k]) for k, c in new.items() if c.status != Status.ERROR)


def _diff(sources, texts) -> str:
    return "".join(unified_diff(f, sources[f], texts[f]) for f in sources if f in texts)


def _describe(combo) -> str:
    ids = list(dict.fromkeys(c.rule for c in combo))
    return "undoes " + " and ".join(ids) + ("" if len(combo) == 1 else f" ({len(combo)} edits)")


def _unverified(sources, scored, base, tried, out_of_time) -> FixResult:
    why = "the time budget ran out" if out_of_time else "no candidate made every check pass"
    better = [s for s in scored if improves(base, s[3])]
    if not better:
        return FixResult(False, "", tried, f"no verified fix: {why}, and none of the {tried} candidate edits "
                                           "got closer to passing (so none is shown)")
    score, combo, texts, res = min(better, key=lambda s: (s[0], sum(c.size for c in s[1])))
    return FixResult(False, _diff(sources, texts), tried,
                     f"no verified fix: {why}; the closest edit ({_describe(combo)}) still fails "
                     f"{', '.join(_still_failing(res)) or 'some checks'}")


def _still_failing(res) -> list[str]:
    """Each check the edit leaves failing, with how much of it is still wrong."""
    out = []
    for c in _bad(res).values():
        what = f"{c.target} against {c.against.replace('_', ' ')}"
        if c.status == Status.ERROR:
            out.append(f"{what} (it raises an error)")
        elif c.mismatches is not None and c.total:
            out.append(f"{what} ({'at least ' if c.mismatches_lower_bound else ''}{c.mismatches} / {c.total} entries wrong)")
        else:
            out.append(what)
    return out


class _Mirror:
    """A temp copy of each user directory: the files to patch written, their siblings symlinked."""

    def __init__(self, files):
        self.files = list(files)
        self.tmp = None

    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="corrcheck-fix-")
        self.dirs = {}
        for i, d in enumerate(dict.fromkeys(str(Path(f).resolve().parent) for f in self.files)):
            mirror = Path(self.tmp.name) / str(i) / Path(d).name     # same directory name: packages still import
            mirror.mkdir(parents=True)
            self.dirs[d] = mirror
            _link_siblings(Path(d), mirror, {Path(f).name for f in self.files if str(Path(f).resolve().parent) == d})
        return self

    def __exit__(self, *exc):
        self.tmp.cleanup()

    def path(self, f) -> Path:
        """Where the mirror holds its copy of a user file."""
        return self.dirs[str(Path(f).resolve().parent)] / Path(f).name

    def run(self, rerun, cfg, texts: dict):
        """Check the copy with `texts` patched in; None when the runner itself fails."""
        copies = []
        for f in self.files:
            p = self.path(f)
            text = texts.get(f)
            if text is None:
                text = Path(f).read_text(encoding="utf-8")
            p.write_text(text, encoding="utf-8")
            copies.append(str(p))
        with _isolated(list(self.dirs)):
            try:
                return rerun(cfg.replace(files=tuple(copies)))
            except Exception:                          # a candidate must never take the report down
                return None


def _link_siblings(src: Path, dst: Path, skip: set) -> None:
    try:
        entries = [e for e in os.scandir(src) if e.name not in skip and e.name != "__pycache__"]
    except OSError:
        return
    for e in entries[:MIRROR_LIMIT]:
        try:
            os.symlink(e.path, dst / e.name, target_is_directory=e.is_dir())
        except OSError:
            return                                     # no symlinks here: sys.path still finds the siblings


@contextmanager
def _isolated(original_dirs):
    """Original directories on sys.path (after the copy's), no bytecode written, user modules forgotten."""
    saved_path, saved_flag = list(sys.path), sys.dont_write_bytecode
    before = set(sys.modules)
    sys.path.extend(d for d in original_dirs if d not in sys.path)
    sys.dont_write_bytecode = True
    try:
        yield
    finally:
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_flag
        for name in set(sys.modules) - before:        # sibling modules imported by the copy
            mod = sys.modules.get(name)
            if _from_temp(getattr(mod, "__file__", None)):
                sys.modules.pop(name, None)


def _from_temp(path) -> bool:
    return bool(path) and "corrcheck-fix-" in str(path)
