"""Mistakes as relations: how the user's term structure differs from the reference's.

Every term of a convolution or its gradients is one event (o, k, x): output
position o, filter tap k and input position x, with sample n, filter f and
channel c. The reference's events are x = o*s + k*d - p over all in-range
pairs. A mistake is a relation between the user's event set and that one,
which holds or not whatever the loop order, language, layout or squareness:

- the same set under other index rules (a catalogue entry's knobs read as a
  rule: stride on the tap, tap at the output position, axes swapped, shifted
  by +p or 0, wrapped negatives), single or two at once; a swapped filter
  index is checked with the taps ranging over the swapped extents, so a 3x2
  filter whose gradient is written dk[i][j] with the reads swapped is named;
- a proper subset with one surviving (o, k) per output cell, the last one in
  some fixed order of the loop variables: '=' instead of '+=' (col2im too);
- the right spatial set but one channel, one filter or one sample only.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from itertools import combinations, permutations

import numpy as np

from .catalogue import READ, Spec, axis_table, by_id, entries_for
from ..geometry import Geometry
from ..result import Diagnosis

__all__ = ["Events", "events_of", "spec_events", "relate", "SPATIAL_KNOBS"]

SPATIAL_KNOBS = {"out_mult", "tap_mult", "offset", "flip", "by_output", "swap_x", "swap_w", "oob"}


class Events:
    """The user's terms as events: integer columns n, f, c and (E, nd) arrays o, k, x."""

    def __init__(self, target, structure, nd):
        out, a, b = structure.unravel()
        if target == "forward":            # out (n,f,*o)  A x (n,c,*x)  B w (f,c,*k)
            n1, n2, f1, f2, c1, c2 = out[:, 0], a[:, 0], out[:, 1], b[:, 0], a[:, 1], b[:, 1]
            o, x, k = out[:, 2:], a[:, 2:], b[:, 2:]
            self.cell = out
        elif target == "grad_input":       # out (n,c,*x)  A dout (n,f,*o)  B w (f,c,*k)
            n1, n2, f1, f2, c1, c2 = out[:, 0], a[:, 0], a[:, 1], b[:, 0], out[:, 1], b[:, 1]
            o, x, k = a[:, 2:], out[:, 2:], b[:, 2:]
            self.cell = out
        else:                              # out (f,c,*k)  A dout (n,f,*o)  B x (n,c,*x)
            n1, n2, f1, f2, c1, c2 = a[:, 0], b[:, 0], out[:, 0], a[:, 1], out[:, 1], b[:, 1]
            o, x, k = a[:, 2:], b[:, 2:], out[:, 2:]
            self.cell = out
        A, B = structure.a_shape, structure.b_shape
        self.sizes = ({"n": A[0], "c": A[1], "f": B[0]} if target == "forward" else
                      {"n": A[0], "f": A[1], "c": B[1]})
        self.consistent = bool(np.all(n1 == n2) and np.all(f1 == f2) and np.all(c1 == c2))
        self.n, self.f, self.c = n1, f1, c1
        self.o, self.k, self.x = o, k, x
        self.coef = structure.coef
        self.nd = nd
        self.undefined_cells = {tuple(int(i) for i in idx) for idx in np.argwhere(structure.undefined)}

    def spatial(self) -> frozenset:
        """The (o, k, x) triples alone, the form spec_events gives the reference's, so the two compare as sets."""
        return frozenset(map(tuple, np.concatenate([self.o, self.k, self.x], axis=1).tolist()))


def events_of(target, structure, nd) -> Events:
    """The user's term structure (structure.py) read as events, the input `relate` takes."""
    return Events(target, structure, nd)


@lru_cache(maxsize=1024)
def spec_events(spec: Spec, geom: Geometry, in_spatial, k_spatial, out_spatial, zero_too: bool = False):
    """The (o, k, x) events a convolution written with the knobs of `spec` reads (READ ones; with
    zero_too also the padding reads, x marked None), as a frozenset of tuples.

    A swapped index (swap_w/swap_x) means the loops run over the swapped extents and the
    array is indexed the other way round, so it exists for non-square shapes too."""
    nd = geom.ndim
    K = tuple(k_spatial)[::-1] if spec.swap_w else tuple(k_spatial)
    S = tuple(in_spatial)[::-1] if spec.swap_x else tuple(in_spatial)
    if spec.swap_x or spec.swap_w:
        if nd < 2:
            return frozenset()
    tables = [axis_table(out_spatial[a], K[a], S[a], a, spec, geom) for a in range(nd)]
    grids = np.meshgrid(*[np.arange(n) for n in out_spatial], *[np.arange(n) for n in K], indexing="ij")
    o = np.stack(grids[:nd], -1).reshape(-1, nd)
    kk = np.stack(grids[nd:], -1).reshape(-1, nd)
    pos = np.stack([tables[a][0][o[:, a], kk[:, a]] for a in range(nd)], -1)
    state = np.stack([tables[a][1][o[:, a], kk[:, a]] for a in range(nd)], -1)
    tap = np.stack([tables[a][2][o[:, a], kk[:, a]] for a in range(nd)], -1)
    if spec.swap_w:
        tap = tap[:, ::-1]
    if spec.swap_x:
        pos = pos[:, ::-1]
    inside_w = np.all((tap >= 0) & (tap < np.asarray(k_spatial)), axis=1)
    inside_x = np.all((pos >= 0) & (pos < np.asarray(in_spatial)), axis=1)
    read = np.all(state == READ, axis=1) & inside_w & inside_x
    zero = np.any(state != READ, axis=1) & inside_w
    rows = [tuple(v) for v in np.concatenate([o, tap, pos], 1)[read].tolist()]
    if zero_too:
        rows += [tuple(v[:2 * nd]) + (None,) * nd for v in np.concatenate([o, tap, pos], 1)[zero].tolist()]
    return frozenset(rows)


@lru_cache(maxsize=None)
def _rules(target):
    """(ids, spec) for the spatial catalogue variants of `target`, then their pairs."""
    singles = [((m.id,), v.knobs) for m in entries_for(target) for v in m.variants
               if v.custom is None and v.knobs and set(v.knobs) <= SPATIAL_KNOBS]
    pairs = [(a[0] + b[0], {**a[1], **b[1]}) for a, b in combinations(singles, 2)
             if a[0] != b[0] and not set(a[1]) & set(b[1])]
    return tuple((ids, replace(Spec(), **knobs)) for ids, knobs in singles + pairs)


def relate(target: str, ev: Events, geom: Geometry, in_spatial, k_spatial, out_spatial) -> list[Diagnosis]:
    """The catalogue ids whose relation the user's events satisfy (empty: none, or correct)."""
    nd = geom.ndim
    args = (geom, tuple(in_spatial), tuple(k_spatial), tuple(out_spatial))
    if not ev.consistent or np.any(ev.coef != 1):
        return []
    user = _defined(ev.spatial(), ev, target, nd)
    ref = _defined(spec_events(Spec(), *args), ev, target, nd)
    if user == ref:
        return _channels(target, ev)
    if user < ref:
        order = _overwrite_order(target, user, args, nd, ev)
        if order is not None:
            bug = "overwrite-not-accumulate" if target == "forward" else "grad-input-overwrite-not-accumulate"
            if bug in {m.id for m in entries_for(target)}:
                probe = "x".join(map(str, in_spatial))
                return [_said(target, bug, 0.9, f"each entry keeps the products of one (output position, tap) pair, "
                                                f"the last written in the loop order {order}; on the {probe} probe input "
                                                f"{len(user)} of {len(ref)} pairs survive")]
    hits = [ids for ids, spec in _rules(target) if _defined(spec_events(spec, *args), ev, target, nd) == user]
    if not hits:
        return []
    best = min(len(ids) for ids in hits)
    hits = [ids for ids in hits if len(ids) == best]
    conf = (0.92 if best == 1 else 0.87) / len(hits)
    out, seen = [], set()
    for ids in hits:
        for i in ids:
            if i in seen:
                continue
            seen.add(i)
            partner = [j for j in ids if j != i]
            note = f"the products it sums follow this index rule{' together with ' + partner[0] if partner else ''}"
            out.append(_said(target, i, round(conf, 4), note))
    return out


def _defined(events: frozenset, ev: Events, target, nd) -> frozenset:
    """Drop events landing on output cells the user's function left NaN (undefined reads)."""
    if not ev.undefined_cells:
        return events
    spatial_cells = {c[-nd:] for c in ev.undefined_cells}
    part = {"forward": slice(0, nd), "grad_input": slice(2 * nd, 3 * nd), "grad_filter": slice(nd, 2 * nd)}[target]
    return frozenset(e for e in events if tuple(e[part]) not in spatial_cells)


def _overwrite_order(target, user, args, nd, ev):
    """The loop order in which the surviving term of every cell is the last one written, or None.

    Survivors are either the last in-range term (a bounds-checked loop) or the last term of
    the whole window, which reads padding (0) for some cells: those cells keep nothing."""
    part = {"forward": slice(0, nd), "grad_input": slice(2 * nd, 3 * nd), "grad_filter": slice(nd, 2 * nd)}[target]
    full = spec_events(Spec(), *args, zero_too=True)
    cells: dict = {}
    for e in full:
        if e[2 * nd] is None and target == "grad_input":
            continue                     # a padding write has no input cell
        cells.setdefault(tuple(e[part]), []).append(e)
    if not any(len([e for e in es if e[2 * nd] is not None]) > 1 for es in cells.values()):
        return None                      # nothing overlaps: an overwrite would be invisible
    names = [f"o{i}" for i in range(nd)] + [f"k{i}" for i in range(nd)]
    for perm in sorted(permutations(range(2 * nd)), key=lambda q: _unnatural(q, nd)):
        for inside in (True, False):
            want = set()
            for es in cells.values():
                pool = [e for e in es if e[2 * nd] is not None] if inside else es
                if pool:
                    last = max(pool, key=lambda e: tuple(e[i] for i in perm))
                    if last[2 * nd] is not None:
                        want.add(last)
            if want == set(user):
                return "(" + ", ".join(names[i] for i in perm) + ")"
    return None


def _unnatural(perm, nd):
    """Loop orders a learner writes first: axes in order, output loops and tap loops each together."""
    inverted = sum(1 for i in range(len(perm)) for j in range(i + 1, len(perm))
                   if perm[i] % nd > perm[j] % nd and (perm[i] < nd) == (perm[j] < nd))
    kinds = [q < nd for q in perm]
    switches = sum(1 for a, b in zip(kinds, kinds[1:]) if a != b)
    return (inverted, switches, perm)


def _channels(target, ev: Events) -> list[Diagnosis]:
    """The spatial terms are right; a channel, filter or sample sum is missing."""
    if target == "forward":
        cs, total = set(ev.c.tolist()), _axis_len(ev, "c")
        if total > 1 and len(cs) == 1:
            return [_said(target, "channels-not-summed", 0.9, f"only input channel {cs.pop()} of {total} is summed")]
    if target == "grad_input":
        fs, total = set(ev.f.tolist()), _axis_len(ev, "f")
        if total > 1 and len(fs) == 1:
            return [_said(target, "grad-input-overwrite-not-accumulate", 0.9,
                          f"only filter {fs.pop()} of {total} contributes: the gradient is reset or assigned "
                          f"inside the loop over filters")]
    if target == "grad_filter":
        ns, total = set(ev.n.tolist()), _axis_len(ev, "n")
        if total > 1 and len(ns) == 1:
            return [_said(target, "grad-filter-not-summed-over-batch", 0.9,
                          f"only sample {ns.pop()} of {total} contributes")]
    return []


def _axis_len(ev, which):
    return int(ev.sizes[which])


def _said(target, bug, conf, note) -> Diagnosis:
    m = by_id(bug)
    return Diagnosis(target, bug, conf, f"{m.explanation.rstrip('.')} (term structure: {note}).")
