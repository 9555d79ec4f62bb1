"""What the three answers mean together: which function is wrong, and will descent descend?"""
from __future__ import annotations

GRADS = ("grad_input", "grad_filter", "grad_bias")
WORDS = {"forward": "forward", "grad_input": "input gradient", "grad_filter": "filter gradient",
         "grad_bias": "bias gradient"}


def _status(checks, target, against):
    found = [c for c in checks if c.target == target and c.against == against]
    if not found:
        return None
    return all(c.status == "pass" for c in found)


def conclusion(op, outcomes) -> str:
    """A few plain sentences; the seed's 'loss goes down, then up' story when it applies."""
    checks = [c for o in outcomes for c in o.checks]
    names = op.names
    fwd_ok = _status(checks, "forward", "reference")
    parts = []
    if all(c.status == "pass" for c in checks):
        if fwd_ok and any(_status(checks, g, "finite_differences") for g in GRADS):
            return (f"{names.get('forward')} computes the requested {op_word(outcomes)} and the backward is its exact "
                    f"gradient: gradient descent with this layer will descend.")
        return "Every check passed."
    if fwd_ok is False:
        parts.append(f"{names.get('forward')} does not compute the requested {op_word(outcomes)}.")
    elif fwd_ok:
        parts.append(f"{names.get('forward')} is right.")
    for g in GRADS:
        ref, fd = _status(checks, g, "reference"), _status(checks, g, "finite_differences")
        name, what = names.get(g), WORDS[g]
        if ref is None:
            continue
        if fwd_ok is False and ref and fd is False:
            parts.append(
                f"{name} is the true {what} of the correct {op_word(outcomes)}, but not of your forward: "
                f"the two functions disagree, so a training step moves along the gradient of a different "
                f"function than the one producing the loss. Gradient descent will not reliably descend — "
                f"the loss may first go down, then up. Fix the forward.")
        elif fwd_ok and ref is False and fd is False:
            parts.append(f"{name} is not the {what} of your (correct) forward: descent follows a wrong "
                         f"direction. Fix {name}.")
        elif fwd_ok is False and ref is False and fd:
            parts.append(f"{name} is the exact {what} of your forward, so training will descend — but on the "
                         f"wrong function, since the forward itself is wrong. Fix the forward, then its gradient.")
        elif fwd_ok is False and ref is False and fd is False:
            parts.append(f"{name} is wrong too, and not even the gradient of your own forward.")
        elif ref is False and fd is None:
            parts.append(f"{name} disagrees with the reference {what}.")
        elif ref is False:
            parts.append(f"{name} disagrees with the reference {what}.")
    if fwd_ok is None:
        parts.append("No forward was bound, so the gradients were compared with the reference only "
                     "(bind one with --forward NAME to also check them against your own forward).")
    return " ".join(parts)


def op_word(outcomes) -> str:
    op = outcomes[0].problem.geom.op
    return "correlation" if op == "correlate" else "convolution"


def summary_notes(op, outcomes) -> list[str]:
    """One sentence each: failures seen only at pad 0 / only on non-square inputs, tolerance changes, FD mode."""
    notes = []
    main = outcomes[0]
    for o in outcomes[1:]:
        if o.failed and not main.failed:
            where = {"pad0": "at pad 0 (besides the pad you asked for, corrcheck always checks pad 0)",
                     "square": "on non-square inputs"}.get(o.problem.label, o.problem.label)
            targets = ", ".join(op.names.get(t, t) for t in o.failing_targets())
            notes.append(f"{targets} fails only {where}: {o.problem.describe()}.")
        if o.problem.label == "square" and main.failed and not o.failed:
            notes.append(f"The checks fail only on non-square inputs ({main.problem.describe()}); on a square "
                         f"{'x'.join(map(str, o.problem.in_spatial))} input they pass: look for a swapped "
                         f"height/width (e.g. len(a) where len(a[0]) is meant).")
    for o in outcomes:
        if o.tolerance_note and o.tolerance_note not in notes:
            notes.append(o.tolerance_note)
    if main.fd_mode:
        notes.append("finite differences: " + (
            "every entry (exhaustive)" if main.fd_mode == "exhaustive"
            else "random directions, wrong entries localised by group testing (use --exhaustive for every entry)"))
    for target, note in op.dtype_notes.items():
        if note.startswith("integer"):
            notes.append(f"{op.names.get(target, target)} returned {note} values: results written into an "
                         f"integer array are truncated — create the output with dtype float.")
    return notes
