"""Plain, frozen results: what every check computes and every view renders.

The JSON document, the Rich report and the Python API are three views of a
RunResult; nothing here prints or knows about Rich. Each to_dict() is that
object's part of the --json document (docs/contract.md).
"""
from __future__ import annotations

from enum import Enum
from dataclasses import dataclass, field
from typing import Any
from .vocab import Verdict


@dataclass(frozen=True)
class Mismatch:
    """One wrong entry: index in the user's own array layout, values as floats (None for NaN)."""

    index: tuple[int, ...]
    expected: float | None
    actual: float | None

    def to_dict(self) -> dict:
        return {"index": list(self.index), "expected": self.expected, "actual": self.actual}


@dataclass(frozen=True)
class CheckResult:
    """One comparison: a user function's output against the reference or finite differences."""

    target: str                     # forward | grad_input | grad_filter | grad_bias
    against: str                    # reference | finite_differences
    status: str                     # pass | fail | error | skipped
    max_abs_error: float | None = None
    mismatches: int | None = None
    total: int | None = None
    worst: tuple[Mismatch, ...] = ()
    message: str | None = None
    # Internal extras for the report (not all go to JSON).
    error_map: Any = None           # bool array, True where wrong (user's layout); None when nothing is wrong
    mode: str | None = None         # exhaustive | directional | direct
    traceback: str | None = None    # trimmed user traceback when the user's code raised
    config_note: str | None = None  # e.g. "at pad 0" when the failure is from an extra config
    # True when `mismatches` counts the entries group testing singled out before its budget ran
    # out: at least that many are wrong, maybe more (never printed as an exact count)
    mismatches_lower_bound: bool = False
    timed_out: bool = False         # the user's call hit the time limit (the story says so; no second opinions)

    @property
    def state_finding(self) -> bool:
        """Found state, not wrong numbers: two calls that disagree, or inputs written in place."""
        return bool(self.message) and self.status == "fail" and self.mismatches is None

    def to_dict(self) -> dict:
        d = {
            "target": self.target,
            "against": self.against,
            "status": self.status,
            "max_abs_error": self.max_abs_error,
            "mismatches": self.mismatches,
            "total": self.total,
            "worst": [m.to_dict() for m in self.worst],
        }
        if self.message:
            d["message"] = self.message
        if self.timed_out:
            d["timed_out"] = True
        if self.mode:
            d["mode"] = self.mode
        if self.config_note:
            d["config_note"] = self.config_note
        if self.mismatches_lower_bound:
            d["mismatches_lower_bound"] = True
        return d


@dataclass(frozen=True)
class Location:
    """Where a mistake sits in the user's source (1-based line, 0-based column), with the code as written to quote."""

    file: str
    line: int
    code: str
    column: int | None = None
    end_line: int | None = None

    def to_dict(self) -> dict:
        d = {"file": self.file, "line": self.line, "code": self.code}
        if self.column is not None:
            d["column"] = self.column
        if self.end_line is not None:
            d["end_line"] = self.end_line
        return d


@dataclass(frozen=True)
class Diagnosis:
    """One mistake named for one target (bug None when no catalogued one fits): what the user reads, and where."""

    target: str
    bug: str | None                 # catalogue id, or None when no known pattern matched
    confidence: float
    explanation: str
    location: Location | None = None
    follows: str | None = None      # "forward": no mistake of its own, the exact gradient of a wrong forward

    def to_dict(self) -> dict:
        d = {"target": self.target, "bug": self.bug, "confidence": round(float(self.confidence), 4),
             "explanation": self.explanation}
        if self.follows is not None:
            d["follows"] = self.follows
        if self.location is not None:
            d["location"] = self.location.to_dict()
        return d


@dataclass(frozen=True)
class FixResult:
    """What --fix found: `verified` only when a patched copy passed every check of the run, else why not."""

    verified: bool
    diff: str
    candidates_tried: int
    message: str | None = None

    def to_dict(self) -> dict:
        d = {"verified": self.verified, "diff": self.diff, "candidates_tried": self.candidates_tried}
        if self.message:
            d["message"] = self.message
        return d


@dataclass(frozen=True)
class SweepResult:
    """The --sweep summary: how many configurations fail and the smallest failing one, the one worth reproducing."""

    configs: int
    failed: int
    smallest_failing: dict | None
    rows: tuple = ()                # (config dict, passed: bool, failing targets tuple)
    command: str | None = None      # exact command reproducing the smallest failure

    def to_dict(self) -> dict:
        """The contract's three keys; rows and command are for the report's table and rerun line."""
        return {"configs": self.configs, "failed": self.failed, "smallest_failing": self.smallest_failing}


@dataclass(frozen=True)
class CellTerm:
    """One product in an output cell: input entry times filter entry (user's layout indices)."""

    input_index: tuple[int, ...]
    filter_index: tuple[int, ...]
    coefficient: float = 1.0


@dataclass(frozen=True)
class CellExplanation:
    """One cell as the products the user's code sums beside the expected ones: the indexing slip, concretely."""

    target: str
    cell: tuple[int, ...]
    user_terms: tuple[CellTerm, ...]
    expected_terms: tuple[CellTerm, ...]
    note: str | None = None         # e.g. why it was skipped or truncated
    left_name: str = "I"            # names used when rendering (I·F, dO·I, dO·F)
    right_name: str = "F"

    def to_dict(self) -> dict:
        def terms(ts):
            return [{"left": list(t.input_index), "right": list(t.filter_index), "coefficient": t.coefficient}
                    for t in ts]
        d = {"target": self.target, "cell": list(self.cell), "left_name": self.left_name,
             "right_name": self.right_name, "user_terms": terms(self.user_terms),
             "expected_terms": terms(self.expected_terms)}
        if self.note:
            d["note"] = self.note
        return d


@dataclass(frozen=True)
class ErrorInfo:
    """Why corrcheck could not check (exit 2): the failing step (usage/load/bind) and one sentence, no traceback."""

    kind: str                       # usage | load | bind
    message: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class RunResult:
    """Everything one run found; --json, the Rich report and the Python API are views of this one object."""

    version: str
    verdict: str                    # pass | fail | error
    files: tuple[str, ...] = ()
    config: dict | None = None
    bound: dict = field(default_factory=dict)
    checks: tuple[CheckResult, ...] = ()
    diagnoses: tuple[Diagnosis, ...] = ()
    calls: dict = field(default_factory=dict)
    seconds: float = 0.0
    fix: FixResult | None = None
    sweep: SweepResult | None = None
    error: ErrorInfo | None = None
    # Report-only extras
    notes: tuple[str, ...] = ()          # sentences: chosen convention/layout, tolerance, conclusions
    conclusion: str | None = None        # the one-paragraph "what this means" story
    explanations: tuple[CellExplanation, ...] = ()
    command: str | None = None           # exact command that reproduces this run
    inputs: dict | None = None           # small failing input arrays (nested lists) for --report
    sources: dict = field(default_factory=dict)  # file -> source text, for highlighted locations

    @property
    def passed(self) -> bool:
        """For API callers: True only for a pass verdict, so an error (nothing checked) is never a pass."""
        return self.verdict == Verdict.PASS

    def _repr_html_(self) -> str:
        """Jupyter shows a result as the HTML report (drawn by report/, like --report x.html)."""
        from .report.sections import html       # lazy: results never import their views; only Jupyter asks
        return html(self)

    def to_dict(self) -> dict:
        """The --json document of docs/contract.md; optional keys appear only when they have a value."""
        d: dict[str, Any] = {
            "corrcheck_version": self.version,
            "verdict": self.verdict,
            "file": self.files[0] if self.files else None,
            "files": list(self.files),
        }
        if self.error is not None:
            d["error"] = self.error.to_dict()
            if self.config is not None:
                d["config"] = self.config
            return _plain(d)
        d.update({
            "config": self.config,
            "bound": dict(self.bound),
            "checks": [c.to_dict() for c in self.checks],
            "diagnoses": [x.to_dict() for x in self.diagnoses],
            "calls": dict(self.calls),
            "seconds": round(self.seconds, 4),
        })
        if self.fix is not None:
            d["fix"] = self.fix.to_dict()
        if self.sweep is not None:
            d["sweep"] = self.sweep.to_dict()
        if self.notes:
            d["notes"] = list(self.notes)
        if self.conclusion:
            d["conclusion"] = self.conclusion
        if self.explanations:
            d["explanations"] = [e.to_dict() for e in self.explanations]
        return _plain(d)


def _plain(value):
    """The document as plain JSON types: the vocabulary's str-enum members (Verdict.FAIL) become the
    strings they stand for, so the API's dict is the --json document itself, not a look-alike."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    return value
