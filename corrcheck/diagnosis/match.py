"""Name the mistake: which catalogue entry reproduces the user's output on every draw.

Diagnosing is a loop over the catalogue (catalogue.py): compute each mutant on
the same random draws the user's function saw and keep those that agree
everywhere. When no single mistake fits, pairs are tried by merging the knobs
of two entries in the engine, so a double slip (the seed's f[y][x] together
with y + j*s - p) is named without anyone writing pair entries by hand.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from itertools import combinations

import numpy as np

from .catalogue import Mistake, Spec, Variant, correct, entries_for, mutant, mutant_shape
from ..geometry import Geometry
from ..result import Diagnosis

__all__ = ["match", "diagnose_shape"]

PAIR_DISCOUNT = 0.95          # two slips at once are a little less likely than one
VACUOUS_WEIGHT = 0.5          # cells a mutant leaves undefined match anything, so they count less
GUARDED = Spec(undefined="zero")  # the same mistakes when the code reads 0 past an edge instead of NaN


def match(target: str, draws, user_outputs, geom: Geometry, *, rtol: float = 1e-6, atol: float = 1e-9,
          has_bias: bool = True) -> list[Diagnosis]:
    """Every catalogued mistake of `target` whose mutant equals the user's output on all draws, best first."""
    draws = [d if has_bias else d.without_bias() for d in draws]
    users = [_as_array(u) for u in user_outputs]
    if not draws or len(users) != len(draws) or any(u is None for u in users):
        return []
    if all(_agrees(u, correct(target, d, geom), rtol, atol) is not None for u, d in zip(users, draws)):
        return []                                      # nothing to explain
    base = 1.0 - 0.1 ** len(draws)
    found = []                                         # (score, ((mistake, variant), ...))
    for m in entries_for(target):
        for v in m.variants:
            vac = _fits(lambda d: m.compute_variant(v, d, geom), draws, users, rtol, atol)
            if vac:                                    # undefined cells filled: maybe a guard that reads 0
                vac = _better(vac, _fits(lambda d: m.compute_variant(v, d, geom, GUARDED), draws, users, rtol, atol))
            if vac is not None:
                found.append((base * (1 - VACUOUS_WEIGHT * vac), ((m, v),)))
                break
    if not found:
        found = [(base * PAIR_DISCOUNT * (1 - VACUOUS_WEIGHT * vac), pair)
                 for pair, vac in _pairs(target, draws, users, geom, rtol, atol)]
    return _diagnoses(target, found)


def _as_array(value):
    """The user's output as float64, or None when it is not a regular numeric array."""
    if value is None:
        return None
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None


def _agrees(user, mut, rtol, atol):
    """None when they differ; else the fraction of cells the mutant leaves undefined (NaN) but the user fills."""
    if mut is None or user.shape != mut.shape:
        return None
    undefined = np.isnan(mut)
    user_nan = np.isnan(user)
    with np.errstate(invalid="ignore"):
        same = (np.abs(user - mut) <= atol + rtol * np.abs(mut)) | undefined
    if not same.all():                                 # a user NaN where the mutant is defined fails here
        return None
    if undefined.size and undefined.all():
        return None                                    # nothing defined, nothing shown
    return float((undefined & ~user_nan).sum()) / max(user.size, 1)


def _fits(compute, draws, users, rtol, atol):
    """Mean vacuous fraction when `compute` agrees with the user on every draw, else None."""
    fractions = []
    for d, u in zip(draws, users):
        vac = _agrees(u, compute(d), rtol, atol)
        if vac is None:
            return None
        fractions.append(vac)
    return float(np.mean(fractions))


def _better(vac, guarded_vac):
    return vac if guarded_vac is None else min(vac, guarded_vac)


def _pairs(target, draws, users, geom, rtol, atol):
    """Compositions of two engine-expressible mistakes touching different knobs."""
    hits = []
    for (m1, v1), (m2, v2), spec in _compositions(target):
        if mutant_shape(target, spec, draws[0], geom) != users[0].shape:
            continue
        vac = _fits(lambda d: mutant(target, spec, d, geom), draws, users, rtol, atol)
        if vac:
            guarded = replace(spec, undefined="zero")
            vac = _better(vac, _fits(lambda d: mutant(target, guarded, d, geom), draws, users, rtol, atol))
        if vac is not None:
            hits.append((((m1, v1), (m2, v2)), vac))
    return hits


@lru_cache(maxsize=None)
def _compositions(target):
    """Every pair of engine-expressible variants of different mistakes touching different knobs."""
    singles = [(m, v) for m in entries_for(target) for v in m.variants if v.custom is None]
    return tuple((a, b, replace(Spec(), **a[1].knobs, **b[1].knobs)) for a, b in combinations(singles, 2)
                 if a[0].id != b[0].id and not set(a[1].knobs) & set(b[1].knobs))


def _diagnoses(target, found) -> list[Diagnosis]:
    """One Diagnosis per id; confidence shared among the alternatives that fit equally well."""
    if not found:
        return []
    share = 1.0 / len(found)
    best: dict[str, Diagnosis] = {}
    order = {m.id: i for i, m in enumerate(entries_for(target))}
    for score, group in found:
        for i, (m, v) in enumerate(group):
            partner = group[1 - i][0].id if len(group) == 2 else None
            d = Diagnosis(target, m.id, round(score * share, 4), _sentence(m, v, partner))
            if m.id not in best or d.confidence > best[m.id].confidence:
                best[m.id] = d
    return sorted(best.values(), key=lambda d: (-d.confidence, order[d.bug]))


def _sentence(m: Mistake, v: Variant, partner: str | None) -> str:
    text = m.explanation.rstrip(".")
    if len(m.variants) > 1:
        text += f" (here: {v.form})"
    if partner:
        text += f"; together with {partner} this explains every mismatch"
    return text + "."


from .shapes import diagnose_shape  # noqa: E402,F401  (re-exported: one home for shape diagnosis)
