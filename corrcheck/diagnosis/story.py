"""What the three answers mean together: which function is wrong, and will descent descend?"""
from __future__ import annotations

from ..vocab import Against, FAILING, GRADS, Status, Target
from ..checks.problem import extents_equal
from ..geometry import format_axes


def _is_value_check(c) -> bool:
    """A comparison of numbers (or a call that failed), not a finding about state or in-place writes."""
    return c.mismatches is not None or c.status != Status.FAIL


def _status(checks, target, against):
    found = [c for c in checks if c.target == target and c.against == against and _is_value_check(c)]
    if not found:
        return None
    return all(c.status == Status.PASS for c in found)


def conclusion(op, outcomes) -> str:
    """A few plain sentences; the seed's 'loss goes down, then up' story when it applies."""
    # a function with state passes a square re-check on a fresh object: its failures are not about shape
    stateful = stateful_functions(op.names, outcomes)
    square_only = [t for t in _square_only(outcomes) if op.names.get(t) not in stateful]
    # a target that only fails on non-square shapes is judged on the square ones, and said so
    checks = [c for c in reported_checks(outcomes) if c.target not in square_only] + \
        [c for o in outcomes if o.problem.label == "square" for c in o.checks if c.target in square_only]
    names = op.names
    square_sentence = None
    if square_only:
        who = list(dict.fromkeys(names.get(t, t) for t in square_only))
        square_sentence = (f"{_join(who)} {'is' if len(who) == 1 else 'are'} right on square inputs but not on "
                           f"non-square ones: one size is probably used for both axes (len(a) where len(a[0]) "
                           f"is meant, or a single filter size). If your layer is only meant for square sizes, "
                           f"--input-size 7 --filter-size 3 checks it on those.")
    if all(c.status == Status.PASS for c in checks) and square_sentence:
        return square_sentence             # right on square shapes only: that is the finding, not "descends"
    if all(c.status == Status.PASS for c in checks):
        if _status(checks, Target.FORWARD, Against.REFERENCE) and \
                any(_status(checks, g, Against.FINITE_DIFFERENCES) for g in GRADS):
            return (f"{names.get('forward')} computes the requested {op_word(outcomes)} and the backward is its exact "
                    f"gradient: gradient descent with this layer will descend.")
        return "Every check passed."
    return blame(names, checks, op_word(outcomes), square_sentence)


def blame(names: dict, checks, noun: str, square_sentence: str | None = None) -> str:
    """Which function to fix, from the checks alone (any layer: dense or strided window): the forward
    against the reference, each gradient against the reference and against finite differences of
    the user's forward. `names` maps targets to the user's function names; `noun` names the layer."""
    # a function may be blamed only when one of its own checks failed (one backward serving
    # several targets is blamed through any of them)
    guilty = {names.get(c.target, c.target) for c in checks if c.status in FAILING}
    fwd_ok = _status(checks, Target.FORWARD, Against.REFERENCE)
    parts = []
    # a call that never returned computed nothing, right or wrong: say that instead
    hung = list(dict.fromkeys(names.get(c.target, c.target) for c in checks if c.timed_out))
    if hung:
        parts.append(f"{_join(hung)} did not return within the time limit: an endless loop (an index that never "
                     f"advances?), or far too slow even for these small inputs (--timeout gives it longer).")
    if fwd_ok is False and names.get("forward") not in hung:
        parts.append(f"{names.get('forward')} does not compute the requested {noun}.")
    elif fwd_ok:
        parts.append(f"{names.get('forward')} computes the right values.")
    if square_sentence:
        parts.append(square_sentence)
    cases: dict[str, list[str]] = {}
    judged = []                                # (gradient, case) of each gradient worth a sentence
    for g in GRADS:
        ref, fd = _status(checks, g, Against.REFERENCE), _status(checks, g, Against.FINITE_DIFFERENCES)
        if ref is None or (ref and fd is not False):
            continue
        if fwd_ok is False and ref and fd is False:
            case = "true-of-reference"
        elif fwd_ok and ref is False and fd is False:
            case = "wrong-gradient"
        elif fwd_ok is False and ref is False and fd:
            case = "consistent-with-wrong-forward"
        elif fwd_ok is False and ref is False and fd is False:
            case = "both-wrong"
        else:
            case = "disagrees"
        if names.get(g, g) not in guilty or names.get(g, g) in hung:
            continue
        judged.append((g, case))
    for g, case in judged:
        who = cases.setdefault(case, [])
        label = names.get(g, g)
        if len({c for t, c in judged if names.get(t) == label}) > 1:   # one backward serving several
            label = f"{label}'s {g.replace('_', ' ')}"                 # gradients whose verdicts differ
        if label not in who:
            who.append(label)
    for case, who in cases.items():
        w = _join(who)
        one = len(who) == 1
        if case == "true-of-reference":
            parts.append(
                f"{w} {'is the true gradient' if one else 'are the true gradients'} of the correct "
                f"{noun}, but not of your forward: a training step moves along the gradient of a "
                f"different function than the one producing the loss, so gradient descent will not reliably "
                f"descend (the loss may first go down, then up). Fix the forward.")
        elif case == "wrong-gradient":
            parts.append(f"{w} {'is not the gradient' if one else 'are not the gradients'} of your (correct) "
                         f"forward: descent follows a wrong direction. Fix {w}.")
        elif case == "consistent-with-wrong-forward":
            parts.append(f"{w} {'is the exact gradient' if one else 'are the exact gradients'} of your forward, "
                         f"so training will descend, but on the wrong function. Fix the forward, then "
                         f"{'its gradient' if one else 'its gradients'}.")
        elif case == "both-wrong":
            parts.append(f"{w} {'is' if one else 'are'} wrong too, and not even the gradient of your own forward.")
        else:
            parts.append(f"{w} {'disagrees' if one else 'disagree'} with the reference.")
    for c in checks:
        sentence = f"{c.message}." if c.message else None
        if not _is_value_check(c) and sentence and sentence not in parts:
            parts.append(sentence)
    if fwd_ok is None and not names.get(Target.FORWARD):
        parts.append("No forward was bound, so the gradients were compared with the reference only "
                     "(bind one with --forward NAME to also check them against your own forward).")
    elif fwd_ok is None and not hung and any(t in names for t in GRADS):
        parts.append(f"{names[Target.FORWARD]} gave no output of the right shape, so the gradients were compared "
                     f"with the reference only, not with finite differences of it.")
    return " ".join(parts)


def follows_forward(names: dict, checks, target: str) -> str | None:
    """The sentence for a gradient that fails against the reference only because the forward does:
    it is the exact gradient of the user's (wrong) forward, so its differences from the reference
    are the forward's mistake carried through, not an index pattern of its own. None otherwise."""
    if target not in GRADS or _status(checks, Target.FORWARD, Against.REFERENCE) is not False:
        return None
    if _status(checks, target, Against.REFERENCE) is not False or not _status(checks, target, Against.FINITE_DIFFERENCES):
        return None
    who = names.get(target, target)
    what = target.replace("_", " ")
    label = who if who.endswith(what) or who == target else f"{who}'s {what}"
    return (f"{label} is the exact gradient of your {names.get('forward', 'forward')} (its finite-difference check "
            f"passes), so it differs from the reference only because the forward does: fix the forward, then "
            f"derive this gradient again from it.")


def stateful_functions(names: dict, outcomes) -> set:
    """The user's functions a check found keeping state (two calls disagreeing, inputs written in
    place): their other answers are later calls', not values to read index patterns from."""
    return {names.get(c.target) for o in outcomes for c in o.checks if c.state_finding}


def reported_checks(outcomes) -> list:
    """The checks a run reports: the main problem's, plus new failures on the other variants
    (pad 0, probes). The square re-check only informs a note, so it never blames anyone."""
    checks = list(outcomes[0].checks)
    failing = set(outcomes[0].failing_targets())
    for o in outcomes[1:]:
        if o.problem.label == "square":
            continue
        new = [c for c in o.checks if c.status in ("fail", "error") and c.target not in failing]
        checks += new
        failing |= {c.target for c in new}
    return checks


def _square_only(outcomes) -> list[str]:
    """Targets that fail on the (non-square) main problem but pass on the square re-check."""
    main = outcomes[0]
    square = next((o for o in outcomes if o.problem.label == "square"), None)
    if square is None:
        return []
    ok = {t for t in square.targets if all(c.status == Status.PASS for c in square.checks if c.target == t)}
    return [t for t in main.failing_targets() if t in ok]


def op_word(outcomes) -> str:
    """The operation's noun for the story's sentences."""
    op = outcomes[0].problem.geom.op
    return "correlation" if op == "correlate" else "convolution"


def summary_notes(op, outcomes) -> list[str]:
    """One sentence each: failures seen only at pad 0 / only on non-square inputs, tolerance changes, FD mode."""
    notes = []
    main = outcomes[0]
    stateful = stateful_functions(op.names, outcomes)
    for o in outcomes[1:]:
        if o.failed and not main.failed:
            where = {"pad0": "at pad 0 (besides the pad you asked for, corrcheck always checks pad 0)",
                     "even": "where the stride divides the padded input exactly (corrcheck checks such a size "
                             "besides one where it does not)",
                     "stride1": "at stride 1 (no --stride was given, so corrcheck checks stride 1 besides 2)",
                     "square": "on non-square inputs"}.get(o.problem.label, o.problem.note)
            who = list(dict.fromkeys(op.names.get(t, t) for t in o.failing_targets()))
            notes.append(f"{_join(who)} {'fails' if len(who) == 1 else 'fail'} only {where}: {o.problem.describe()}.")
        if o.problem.label == "square" and main.failed and not o.failed and \
                not {op.names.get(t) for t in main.failing_targets()} <= stateful:
            notes.append(f"The checks fail only on non-square inputs ({main.problem.describe()}); on a square "
                         f"{'x'.join(map(str, o.problem.in_spatial))} input they pass: look for a swapped "
                         f"height/width (e.g. len(a) where len(a[0]) is meant).")
    unseen = equal_extents_note(op, main.problem)
    if unseen:
        notes.append(unseen)
    for o in outcomes:
        notes += [n for n in o.tolerance_notes if n not in notes]
    if main.fd_mode:
        notes.append("finite differences: " + (
            "every entry (exhaustive)" if main.fd_mode == "exhaustive"
            else "random directions, wrong entries localised by group testing (use --exhaustive for every entry)"))
    for target, note in op.dtype_notes.items():
        if note.startswith("integer"):
            notes.append(f"{op.names.get(target, target)} returned {note} values: results written into an "
                         f"integer array are truncated — create the output with dtype float.")
    return notes


UNSEEN_BY_EXTENT = {
    # a transposed read (a[x][y], f[i][j]) still shows on square sizes; a size used for the wrong axis does not
    "input": "the input's height used for its width (len(a) where len(a[0]) is meant)",
    "filter": "the filter's height used for its width (range(KH) where KW is meant)",
    "output": "an output or gradient built with its two axes swapped (reshape(ow, oh))",
    "output at pad 0": "an output with its axes swapped at pad 0",
}


def equal_extents_note(op, problem) -> str | None:
    """When the user's own sizes make two extents equal, say which mistakes that hides."""
    equal = extents_equal(problem.in_spatial, problem.k_spatial, problem.geom) if problem.geom.ndim > 1 else []
    hidden = [UNSEEN_BY_EXTENT[e] for e in equal if not (e == "output at pad 0" and "output" in equal)]
    L = op.layout
    counts = {"N": problem.batch if L.batch else None, "C": problem.channels if L.channels else None,
              "F": problem.filters if L.channels else None}
    same = [f"{a}={b}" for i, (a, x) in enumerate(counts.items()) for b, y in list(counts.items())[i + 1:]
            if x is not None and x == y]
    if same:
        hidden.append("a batch, channel or filter axis used in place of another (" + ", ".join(same) + ")")
    if not hidden:
        return None
    what = ", ".join(e for e in equal) or "counts"
    return (f"the sizes you gave make some extents equal ({what}" + (f"; {', '.join(same)}" if same and equal else "")
            + f"), so these mistakes cannot show here: {'; '.join(hidden)} — give sizes that differ to check them")


def _join(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def unreceived_geometry_notes(opts, takes, pad=None, output_padding=None) -> list[str]:
    """A stride, dilation, pad or output padding asked for (GeometryOptions `opts`, the raw --pad and
    --output-padding) that no bound function receives (`takes(role)` is False): the code passes only
    if it builds that value in (a constant), so say so before the verdict rather than leave the user
    guessing at a FAIL."""
    asked = {role: format_axes(value) for role, value in (("stride", opts.stride), ("dilation", opts.dilation))
             if value is not None and any(v != 1 for v in value)}
    for role, value in (("pad", pad), ("output_padding", output_padding)):
        if value is not None and str(value).strip().lower() not in ("0", "valid", "(0, 0)", "0x0"):
            asked[role] = str(value)
    words = {role: role.replace("_", " ") for role in asked}
    return [f"no bound function takes {'an' if words[role][0] in 'aeiou' else 'a'} {words[role]}: checked at "
            f"{words[role]} {value} as asked, which the code computes only if it builds that {words[role]} in"
            for role, value in asked.items() if not takes(role)]
