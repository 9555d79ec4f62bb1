"""Glue between the checks and the pure diagnosis modules: which outputs to match, on which shapes.

The catalogue matcher (match.py), the pattern describer (patterns.py) and
the cell explainer (explain.py) are pure; this module feeds them the user's
outputs, re-running the user's function on probe shapes when it crashed on
the main one (a forward reading f[y][x] only survives when the output is no
larger than the filter).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import explain, patterns, relations, structure
from .match import diagnose_shape, match
from .story import follows_forward, stateful_functions
from .. import reference
from ..checks.suite import ProblemOutcome, TargetOutcome, expected_for, make_draw, user_result
from ..checks.compare import wrong_mask
from ..errors import ConfigError, UnusableOutput, UserCallError
from ..checks.problem import article, probe_variants
from ..result import CellExplanation, Diagnosis
from ..checks.tolerances import tolerance_for
from ..vocab import ACTIVATION_TARGETS, Against, Status, Target

EXPLAIN_BUDGET = 400
STRUCTURE_MAX_INPUT = 256      # probe the term structure on inputs of at most this many cells (the cost bound)


def canonical_shape(layout, target: str, shape) -> tuple | None:
    """A shape the user returned, in the user's layout -> canonical axis order (best effort)."""
    if shape is None:
        return None
    shape = tuple(shape)
    if target in ACTIVATION_TARGETS:
        if not layout.channels:
            return (1, 1) + shape
        if not layout.batch:
            return (1,) + shape
        if layout.channels_last and len(shape) >= 2:
            return (shape[0], shape[-1]) + shape[1:-1]
        return shape
    if target == Target.GRAD_FILTER:
        if not layout.channels:
            return (1, 1) + shape
        if layout.channels_last and len(shape) >= 2:
            return (shape[-1], shape[-2]) + shape[:-2]
        return shape
    return shape


def _match_on(op, target, outcome, tol):
    t = outcome.targets[target]
    users = list(t.user[:1])
    for d in outcome.draws[len(users):]:            # later draws run only now that a check failed
        try:
            users.append(user_result(op, target, d, outcome.problem.geom))
        except UserCallError:
            return None
    return match(target, outcome.draws, users, outcome.problem.geom, rtol=tol.rtol, atol=tol.atol,
                          has_bias=op.has_bias)


def _describe(op, bad, geom, expected, actual) -> str:
    """The pattern sentence, with indices as the user writes them when the layout has no channel
    axis (for channel layouts the canonical (n, c, ...) order is kept: spatial axes last)."""
    if not op.layout.channels:
        bad, expected, actual = (a.reshape(a.shape[2:]) for a in (bad, expected, actual))
    return patterns.unmatched(bad, geom, expected, actual)


def _diagnose_target(op, target, outcome, cfg, rng) -> list[Diagnosis]:
    t = outcome.targets[target]
    tol = tolerance_for(op.dtype_notes.get(target), cfg.rtol, cfg.atol)
    p = outcome.problem
    found: list[Diagnosis] = []
    if t.error is not None:
        if isinstance(t.error, UnusableOutput) and t.error.got_shape is not None:
            expected = t.expected[0].shape
            more = _more_shapes(op, p, rng) if target == Target.FORWARD else ()
            d = diagnose_shape(target, canonical_shape(op.layout, target, t.error.got_shape), expected,
                               p.in_spatial, p.k_spatial, p.geom, more)
            if d is not None:
                return [d]
        # Crashed or wrong shape here: the mistake may still be diagnosable on other shapes.
        for variant in probe_variants(p):
            draws = [make_draw(variant, rng, op.has_bias) for _ in range(2)]
            try:
                users = [user_result(op, target, d, variant.geom) for d in draws]
            except UnusableOutput as err:
                # it runs here but returns the wrong shape: that shape may name the mistake
                d = None if err.got_shape is None else diagnose_shape(
                    target, canonical_shape(op.layout, target, err.got_shape),
                    expected_for(target, draws[0], variant.geom).shape, variant.in_spatial, variant.k_spatial,
                    variant.geom)
                if d is not None:
                    shape = "x".join(map(str, variant.in_spatial))
                    return [replace(d, explanation=f"{d.explanation} (diagnosed on {article(shape)} {shape} input, "
                                                   f"where the function runs{_where_it_raises(p, t.error)})")]
                continue
            except UserCallError:
                continue
            vo = ProblemOutcome(variant, draws)
            vo.targets[target] = TargetOutcome(target, users, [expected_for(target, d, variant.geom) for d in draws])
            found = match(target, draws, users, variant.geom, rtol=tol.rtol, atol=tol.atol,
                                   has_bias=op.has_bias)
            if found:
                shape = "x".join(map(str, variant.in_spatial))
                return [Diagnosis(x.target, x.bug, x.confidence,
                                  f"{x.explanation} (diagnosed on {article(shape)} {shape} input, where the function "
                                  f"runs{_where_it_raises(p, t.error)})",
                                  x.location)
                        for x in found]
            if not np.allclose(users[0], vo.targets[target].expected[0]):
                found = by_structure(op, target, p, rng)
                if found:
                    return found
                bad = wrong_mask(users[0], vo.targets[target].expected[0], tol)
                return [Diagnosis(target, None, 0.0,
                                  _describe(op, bad, variant.geom, vo.targets[target].expected[0], users[0]))]
        return []
    if t.user and t.user[0] is not None:
        if not t.expected:  # let go while the finite differences ran: the reference makes it again
            t.expected.append(expected_for(target, outcome.draws[0], p.geom))
        found = _match_on(op, target, outcome, tol) or by_structure(op, target, p, rng)
        if found:
            return found
        bad = wrong_mask(t.user[0], t.expected[0], tol)
        if bad.any():
            return [Diagnosis(target, None, 0.0, _describe(op, bad, p.geom, t.expected[0], t.user[0]))]
    return []


def _more_shapes(op, p, rng, sizes=(1, 2)):
    """The forward's output shape at input sizes grown by 1 and 2 per axis (two calls at most):
    one shape fits several formulas (ceil and round agree on many sizes), three rarely do."""
    out = []
    for grow in sizes:
        v = replace(p, in_spatial=tuple(n + grow for n in p.in_spatial), label="probe")
        try:
            op.forward(*(lambda d: (d.x, d.w, d.b))(make_draw(v, rng, op.has_bias)), v.geom)
        except UnusableOutput as e:
            got = canonical_shape(op.layout, "forward", e.got_shape)
            if got is not None and len(got) >= v.geom.ndim:
                out.append((got[-v.geom.ndim:], v.in_spatial, v.k_spatial, v.geom))
        except (UserCallError, ConfigError):
            continue
        else:
            out.append((v.out_spatial, v.in_spatial, v.k_spatial, v.geom))
    return tuple(out)


def _where_it_raises(p, error) -> str:
    """'; on the 7x6 input with a 3x2 filter: corre raised IndexError: ... (at file line N)'."""
    if error is None or isinstance(error, UnusableOutput):
        return ""
    first = (getattr(error, "message", "") or "").strip().splitlines()[:1]
    if not first:
        return ""
    shape, fshape = "x".join(map(str, p.in_spatial)), "x".join(map(str, p.k_spatial))
    return f"; on the {shape} input with {article(fshape)} {fshape} filter: {first[0].rstrip('.')}"


def small_problem(p):
    """The problem shrunk to about 3x4 outputs (the axes keep their order of size), where probing
    the term structure costs a few dozen calls whatever the user's size; None for 'same' padding,
    whose pad the user's code derives from the size."""
    g = p.geom
    if g.mode is not None:
        return None
    out = p.out_spatial
    rank = sorted(range(g.ndim), key=lambda a: (p.in_spatial[a], a))
    n = list(p.in_spatial)
    for r, axis in enumerate(rank):
        s, (pb, pa), d = g.stride[axis], g.pad[axis], g.dilation[axis]
        want = min(out[axis], 3 + r)
        span = d * (p.k_spatial[axis] - 1) + 1
        n[axis] = min(n[axis], max(1, (want - 1) * s + span - pb - pa, span - pb - pa))
    try:
        g.out_shape(tuple(n), p.k_spatial)
    except ConfigError:
        return p
    return replace(p, in_spatial=tuple(n), label="probe")


def by_structure(op, target, problem, rng) -> list[Diagnosis]:
    """Name the mistake from the term structure of the user's function (relations.py), probed at a
    small size where it runs; the structure is exact (verified), so this never guesses."""
    if target not in ("forward", "grad_input", "grad_filter"):
        return []
    tried = []
    small = small_problem(problem)
    for variant in [v for v in (small, problem) if v is not None] + probe_variants(problem):
        key = (variant.in_spatial, variant.k_spatial)
        if key in tried or (variant is not small and np.prod(variant.in_spatial) > STRUCTURE_MAX_INPUT):
            continue
        tried.append(key)
        d, geom = make_draw(variant, rng, False), variant.geom
        fn, shapes = _bilinear(op, target, d, geom)
        try:
            st = structure.term_structure(fn, *shapes)
        except UserCallError:
            st = None
        if st is None:
            continue
        if st.undefined.all():
            continue                     # every entry reads past an edge here (JavaScript NaN): try a square shape
        ev = relations.events_of(target, st, geom.ndim)
        found = relations.relate(target, ev, geom, variant.in_spatial, variant.k_spatial, variant.out_spatial)
        if found or not st.undefined.any():
            return found
    return []


def _bilinear(op, target, d, geom):
    """The user's `target` as a function of its two bilinear operands (bias zero), and their shapes."""
    zero_b = None if d.b is None else np.zeros_like(d.b)
    if op.has_bias and zero_b is None:
        zero_b = np.zeros(d.w.shape[0])
    if target == "forward":
        return (lambda a, b: op.forward(a, b, zero_b, geom)), (d.x.shape, d.w.shape)
    if target == "grad_input":
        return (lambda a, b: op.grad_input(a, d.x, b, zero_b, geom)), (d.dout.shape, d.w.shape)
    return (lambda a, b: op.grad_filter(a, b, d.w, zero_b, geom)), (d.dout.shape, d.x.shape)


def _shifted_expected(target, d, g, pads):
    """The reference gradient when the backward pads (before, after) = pads; a negative 'after'
    means the last rows of the input are never read (the crop keeps the output size)."""
    crop = tuple(max(0, -a) for _, a in pads)
    geom = replace(g, pad=tuple((b, max(a, 0)) for b, a in pads), mode=None)
    keep = (slice(None), slice(None)) + tuple(slice(0, n - c) for n, c in zip(d.x.shape[2:], crop))
    try:
        small = replace(d, x=d.x[keep])
        got = expected_for(target, small, geom)
    except (ConfigError, ValueError):      # a shift that does not fit: not this mistake
        return None
    if target == Target.GRAD_INPUT:
        got = np.pad(got, [(0, 0), (0, 0)] + [(0, c) for c in crop])
    return got


def _pad_offset(op, target, outcome, cfg) -> list[Diagnosis]:
    """A backward that pads differently from the forward (a real bug in Holberton code: its 'same'
    padding is one more than the forward's) equals the reference gradient with the pad shifted."""
    t = outcome.targets[target]
    if t.error is not None or not t.user or t.user[0] is None:
        return []
    g = outcome.problem.geom
    tol = tolerance_for(op.dtype_notes.get(target), cfg.rtol, cfg.atol)
    for delta in (1, -1, 2):
        pads = tuple((b + delta, a - delta) for b, a in g.pad)
        if any(b < 0 for b, a in pads):
            continue
        want = _shifted_expected(target, outcome.draws[0], g, pads)
        if want is not None and want.shape == t.user[0].shape and not wrong_mask(t.user[0], want, tol).any():
            fwd = op.names.get("forward", "the forward")
            mode = f" for padding='{g.mode}'" if g.mode else ""
            words = "one more" if delta == 1 else ("one less" if delta == -1 else f"{delta} more")
            bug = {"grad_input": "grad-input-padding-offset", "grad_filter": "grad-filter-padding-ignored"}.get(target)
            return [Diagnosis(target, bug if target == Target.GRAD_INPUT else None, 0.9,
                              f"{op.names.get(target, target)} pads {words} than {fwd}{mode} "
                              f"(it reads the input shifted by {delta}): compute the padding in the backward "
                              f"exactly as in the forward.")]
    return []


def _stale(op, target, outcome) -> Diagnosis:
    """A value from a function that keeps state between calls: say that, not an index pattern (a
    gradient accumulated over k calls is k times the right one, which reads as a scale factor)."""
    name = op.names.get(target, target)
    t = outcome.targets.get(target)
    times = ""
    scale = patterns.scale_factor(t.expected[0], t.user[0]) if t is not None and t.user and \
        t.user[0] is not None and t.expected else None
    if scale is not None and round(scale) >= 2 and abs(scale - round(scale)) < 1e-6:
        times = f": it is {round(scale)} times the right one, a sum over {round(scale)} calls"
    return Diagnosis(target, None, 0.0, f"{name} keeps state between calls (above), so this is not its first "
                     f"answer{times}; reset the gradient at the start of each backward (dW = ..., not dW += ...) "
                     f"and check again")


def diagnose_outcomes(op, outcomes, cfg, rng) -> list[Diagnosis]:
    """Diagnoses for every target that fails against the reference, on the first config where it fails."""
    out: list[Diagnosis] = []
    done = set()
    stateful = stateful_functions(op.names, outcomes)
    for outcome in outcomes:
        for c in outcome.checks:
            if c.against != Against.REFERENCE or c.status == Status.PASS or c.target in done:
                continue
            if c.state_finding:
                continue                     # repeatability / in-place findings: already one sentence
            done.add(c.target)
            if op.names.get(c.target) in stateful:
                out.append(_stale(op, c.target, outcome))
                continue
            try:
                found = _diagnose_target(op, c.target, outcome, cfg, rng)
                if c.target != Target.FORWARD and not any(d.bug for d in found):
                    found = _pad_offset(op, c.target, outcome, cfg) or found
            except UserCallError:
                found = []
            if not any(d.bug for d in found):
                sentence = follows_forward(op.names, outcome.checks, c.target)
                found = [Diagnosis(c.target, None, 1.0, sentence, follows="forward")] if sentence else found
            seen = {"pad0": "pad 0", "even": outcome.problem.describe(),
                    "stride1": "stride 1"}.get(outcome.problem.label)
            for d in found:
                if seen and d.bug:
                    d = replace(d, explanation=f"{d.explanation} (seen at {seen})")
                out.append(d)
    return out


def explain_worst(op, outcomes, cfg) -> list:
    """Term-by-term explanation of the worst (or the requested) cell of the first failing target."""
    order = sorted(outcomes, key=lambda o: {"main": 0, "probe": 1}.get(o.problem.label, 2))
    stateful = stateful_functions(op.names, outcomes)
    for main in order:
        found = _explain_first(explain, op, main, cfg, skip=stateful)
        if found:
            return found
    return []


def _explain_first(explain, op, main, cfg, skip=()) -> list:
    wrong = {}
    for target in (Target.FORWARD, Target.GRAD_INPUT, Target.GRAD_FILTER):
        if op.names.get(target) in skip:
            continue                      # a later call's answer of a stateful function: no terms to list
        t = main.targets.get(target)
        if t is None or t.error is not None or not t.user or t.user[0] is None or not t.expected:
            continue                      # no result kept: it matched the reference (checks.suite trims those)
        tol = tolerance_for(op.dtype_notes.get(target), cfg.rtol, cfg.atol)
        wrong[target] = (t, wrong_mask(t.user[0], t.expected[0], tol))
    # --explain-cell names a cell of the forward's output, or of the first failing gradient when the
    # forward is right (the cell the default report explains is such a gradient's)
    asked = next((tg for tg, (_, bad) in wrong.items() if bad.any()), Target.FORWARD) if cfg.explain_cell else None
    for target, (t, bad) in wrong.items():
        if not bad.any() and target != asked:
            continue
        cell = _cell(op, target, t, bad, cfg, asked)
        if isinstance(cell, CellExplanation):     # the requested cell is not in the output: say so
            return [cell]
        if cell is None:
            continue
        try:
            exp = _explain(explain, op, target, main, cell)
        except UserCallError:
            return []
        return [exp] if exp is not None else []
    return []


def _not_a_cell(want: tuple, user_shape: tuple, target: str = Target.FORWARD) -> str:
    """'--explain-cell 5,9 is not a cell of the forward's output, which is 3x4 in your layout:
    give 2 indices, each below its size (0,0 to 2,3)'."""
    asked = ",".join(map(str, want))
    first = ",".join("0" for _ in user_shape)
    last = ",".join(str(n - 1) for n in user_shape)
    axes = f"{len(user_shape)} ind{'ex' if len(user_shape) == 1 else 'ices'}"
    why = "" if len(want) == len(user_shape) else f" (you gave {len(want)})"
    what = "the forward's output" if target == Target.FORWARD else f"{target.replace('_', ' ')} (the first result that fails)"
    return (f"--explain-cell {asked} is not a cell of {what}, which is "
            f"{'x'.join(map(str, user_shape))} in your layout: give {axes}{why}, "
            f"each below its axis size ({first} to {last})")


def _explain(explain, op, target, outcome, cell):
    """Run the bilinear prober on the user's function and the reference, then map to the user's layout."""
    d, geom = outcome.draws[0], outcome.problem.geom
    zero_b = None if d.b is None else np.zeros_like(d.b)
    if target == Target.FORWARD:
        user = lambda a, b: op.forward(a, b, zero_b, geom)
        ref = lambda a, b: reference.forward(a, b, geometry=geom)
        shapes, maps = (d.x.shape, d.w.shape), ("act", "w")
    elif target == Target.GRAD_INPUT:
        user = lambda a, b: op.grad_input(a, d.x, b, zero_b, geom)
        ref = lambda a, b: reference.grad_input(a, b, d.x.shape, geometry=geom)
        shapes, maps = (d.dout.shape, d.w.shape), ("act", "w")
    else:
        user = lambda a, b: op.grad_filter(a, b, d.w, zero_b, geom)
        ref = lambda a, b: reference.grad_filter(a, b, d.w.shape, geometry=geom)
        shapes, maps = (d.dout.shape, d.x.shape), ("act", "act")
    ex = explain.explain_cell(target, user, ref, shapes[0], shapes[1], cell, budget=EXPLAIN_BUDGET)
    L = op.layout
    to_user = {"act": L.act_index, "w": L.w_index}

    def terms(ts):
        return tuple(replace(t, input_index=to_user[maps[0]](t.input_index),
                             filter_index=to_user[maps[1]](t.filter_index)) for t in ts)
    return replace(ex, cell=op.user_index(target, ex.cell), user_terms=terms(ex.user_terms),
                   expected_terms=terms(ex.expected_terms))


def _cell(op, target, t, bad, cfg, asked=None):
    """The canonical index to explain: the requested one (of the `asked` target), or the worst mismatch.

    A requested index that is not in that result comes back as a CellExplanation
    with only a note (which shape the result has, what a valid index looks like)."""
    shape = t.expected[0].shape
    if cfg.explain_cell and target == asked:
        want = tuple(cfg.explain_cell)
        for idx in np.ndindex(*shape):
            if op.user_index(target, idx) == want:
                return idx
        return CellExplanation(target, want, (), (), note=_not_a_cell(want, op.user_shape(target, shape), target))
    with np.errstate(invalid="ignore"):
        diff = np.where(bad, np.abs(t.user[0] - t.expected[0]), -1.0)
    if np.isfinite(diff[bad]).any():          # a finite wrong cell shows its terms; a NaN one has none
        diff = np.where(np.isfinite(diff), diff, -1.0)
        nonzero = bad & np.isfinite(diff) & (t.user[0] != 0)
        if nonzero.any():                     # a cell where the user's code sums something shows more
            diff = np.where(nonzero, diff, -1.0)
    else:
        diff = np.nan_to_num(diff, nan=1.0, posinf=1.0)
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), shape))
