"""The class summary: pass count, mistakes ranked by how many submissions make them, what could not be checked.

Computed from the per-submission documents alone (the same whether a result came
from a child or the cache), in submission-folder order, so it is deterministic.
"""
from __future__ import annotations

from collections import Counter

TARGET_ORDER = ("forward", "grad_input", "grad_filter", "grad_bias")


def failing_targets(document: dict) -> list[str]:
    """Targets with a failed or errored check, in the usual target order."""
    bad = {c.get("target") for c in document.get("checks") or () if c.get("status") in ("fail", "error")}
    return [t for t in TARGET_ORDER if t in bad] + sorted(t for t in bad - set(TARGET_ORDER) if t)


def mistakes(document: dict) -> list[str]:
    """Catalogue ids named for this submission, once each, in the order the report gives them."""
    return list(dict.fromkeys(d["bug"] for d in document.get("diagnoses") or () if d.get("bug")))


def first_location(document: dict) -> dict | None:
    """Where the first located mistake is, so the class table points at one line per submission."""
    for d in document.get("diagnoses") or ():
        if d.get("location"):
            return d["location"]
    return None


def summarize(entries) -> dict:
    """`entries` are (submission folder, run document) pairs sorted by folder."""
    verdicts = Counter(doc.get("verdict") for _, doc in entries)
    counts: Counter = Counter()
    examples: dict[str, dict] = {}
    targets: Counter = Counter()
    unexplained = []
    hung = []
    unfinished = []
    errors = []
    for folder, doc in entries:
        if doc.get("verdict") == "error":
            error = doc.get("error") or {}
            errors.append({"submission": folder, "kind": error.get("kind", "load"),
                           "message": error.get("message", "could not be checked")})
            continue
        targets.update(failing_targets(doc))
        named = mistakes(doc)
        if any(c.get("timed_out") for c in doc.get("checks") or ()):
            hung.append(folder)               # an endless loop is its own finding, not an unnamed mistake
        elif doc.get("verdict") == "fail" and not named and any(
                "NotImplementedError" in (c.get("message") or "") for c in doc.get("checks") or ()):
            unfinished.append(folder)         # a stub left as handed out: not a mistake to catalogue
        elif doc.get("verdict") == "fail" and not named:
            unexplained.append(folder)
        for bug in named:
            counts[bug] += 1
            diag = next(d for d in doc["diagnoses"] if d.get("bug") == bug)
            # the first submission making it, or the first one where it could be located
            if bug not in examples or ("location" not in examples[bug] and diag.get("location")):
                example = {"submission": folder, "target": diag.get("target"), "explanation": diag.get("explanation")}
                if diag.get("location"):
                    example["location"] = diag["location"]
                examples[bug] = example
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "submissions": len(entries),
        "passed": verdicts.get("pass", 0),
        "failed": verdicts.get("fail", 0),
        "could_not_check": verdicts.get("error", 0),
        "mistakes": [{"bug": bug, "submissions": n, "example": examples[bug]} for bug, n in ranked],
        "failing_targets": {t: targets[t] for t in sorted(targets, key=lambda t: (-targets[t], t))},
        "unexplained_failures": unexplained,
        "timed_out": hung,
        "unfinished": unfinished,
        "not_checked": errors,
    }
