"""The term structure of a bilinear function: which products A[a]*B[b] every output entry sums.

The forward is bilinear in (input, filter), grad_input in (dout, filter) and
grad_filter in (dout, input), so each is fully described by a set of terms
(out, a, b, coefficient). explain.py lists them for one cell with digit
tags; this module recovers them for every cell at once, which is what the
relations (relations.py) compare with the reference's.

Probing: one call per entry b of the smaller operand (the basis side) with
B = e_b and the other operand holding the code A[a] = 1 + M*(a+1). An output
entry then reads t + M*sum(c*(a+1)) with t = sum(c) < M: when t is 1 the
entry holds exactly one term, and its digit names a. Entries with several
terms for one b are tried again from the other side (one term each there in
every catalogued mistake) before the structure is declared undecodable. A
final call with random operands verifies the decoded terms, so a structure
is never guessed. Cost: entries of the basis side + 1 calls (+ the other
side's entries when the first side is ambiguous); callers probe at a small
size where that is a few dozen calls.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .explain import bilinear_terms

__all__ = ["Structure", "term_structure", "probe_calls"]

MAX_CELLS_PROBED = 12       # entries left to the one-cell prober at most (each costs a few calls)
CODE_BASE = 1024            # M: more terms than this in one entry for one b cannot be decoded


@dataclass(frozen=True)
class Structure:
    """Terms as parallel integer arrays of raveled indices, plus entries the function left NaN."""

    out_shape: tuple[int, ...]
    a_shape: tuple[int, ...]
    b_shape: tuple[int, ...]
    out: np.ndarray            # raveled output index of each term
    a: np.ndarray              # raveled A index
    b: np.ndarray              # raveled B index
    coef: np.ndarray           # whole-number coefficient
    undefined: np.ndarray      # bool over the output: NaN somewhere while probing
    calls: int

    def unravel(self):
        """(out_idx, a_idx, b_idx) as (E, ndim) integer arrays."""
        return (np.stack(np.unravel_index(self.out, self.out_shape), 1),
                np.stack(np.unravel_index(self.a, self.a_shape), 1),
                np.stack(np.unravel_index(self.b, self.b_shape), 1))


class _Fail(Exception):
    pass


def probe_calls(a_shape, b_shape) -> int:
    """Calls term_structure makes when the first side decodes (the stated budget)."""
    return min(int(np.prod(a_shape)), int(np.prod(b_shape))) + 1


def term_structure(fn, a_shape, b_shape, *, budget: int = 600, seed: int = 0) -> Structure | None:
    """The terms of fn(A, B) -> array, or None when fn raises, is not bilinear with small whole
    coefficients, or needs more than `budget` calls."""
    a_shape, b_shape = tuple(a_shape), tuple(b_shape)
    calls = [0]

    def call(a, b):
        if calls[0] >= budget:
            raise _Fail
        calls[0] += 1
        try:
            return np.asarray(fn(a, b), dtype=float)
        except Exception:          # the user's code raised: no structure at this size
            raise _Fail from None

    sides = sorted((0, 1), key=lambda s: int(np.prod((a_shape, b_shape)[s])))
    try:
        best = None
        for side in sides:
            got = _from_side(call, side, a_shape, b_shape)
            if not got[3]:
                best = got
                break
            if best is None or len(got[3]) < len(best[3]):
                best = got
        out_shape, terms, undefined, several = best
        if len(several) > MAX_CELLS_PROBED:
            return None
        if several:                      # entries with several terms per basis entry: the one-cell prober
            terms = _per_cell(fn, terms, several, out_shape, a_shape, b_shape, budget - calls[0], calls)
        if terms is not None and _verify(call, terms, out_shape, undefined, a_shape, b_shape, seed):
            o, a, b, c = (np.asarray(v) for v in zip(*terms)) if terms else (np.zeros(0, int),) * 4
            return Structure(out_shape, a_shape, b_shape, o.astype(int), a.astype(int), b.astype(int),
                             c.astype(float), undefined, calls[0])
    except _Fail:
        return None
    return None


def _per_cell(fn, terms, cells, out_shape, a_shape, b_shape, budget, calls):
    """Replace the terms of `cells` by what explain.bilinear_terms finds there (one cell at a time,
    digit-tagged probes); None when the budget runs out or a cell cannot be listed."""
    kept = [t for t in terms if t[0] not in cells]
    for cell in sorted(cells):
        if budget <= 0:
            return None
        idx = np.unravel_index(cell, out_shape)
        found, used, _ = bilinear_terms(fn, a_shape, b_shape, idx, budget=budget)
        calls[0] += used
        budget -= used
        if found is None:
            return None
        kept += [(cell, int(np.ravel_multi_index(ai, a_shape)), int(np.ravel_multi_index(bi, b_shape)), float(c))
                 for ai, bi, c in found]
    return kept


def _from_side(call, side, a_shape, b_shape):
    """Terms with side `side` (0: A, 1: B) as the basis, and the output entries (raveled) that hold
    several terms for one basis entry, whose terms are left out."""
    shapes = (a_shape, b_shape)
    basis_shape, code_shape = shapes[side], shapes[1 - side]
    code = 1.0 + CODE_BASE * (np.arange(int(np.prod(code_shape)), dtype=float) + 1)
    code = code.reshape(code_shape)
    terms, out_shape, undefined, several = [], None, None, set()
    for bi in range(int(np.prod(basis_shape))):
        e = np.zeros(int(np.prod(basis_shape)))
        e[bi] = 1.0
        e = e.reshape(basis_shape)
        out = call(code, e) if side == 1 else call(e, code)
        if out_shape is None:
            out_shape, undefined = out.shape, np.zeros(out.shape, bool)
        elif out.shape != out_shape:
            raise _Fail
        flat = out.reshape(-1)
        nan = np.isnan(flat)
        undefined.reshape(-1)[nan] = True
        v = np.where(nan, 0.0, flat)
        if not np.all(np.isfinite(v)) or np.any(v < 0) or np.any(v != np.floor(v)) or np.any(v >= 2.0 ** 52):
            raise _Fail                  # infinite, negative, fractional or inexact (float16/32 code values)
        hit = np.flatnonzero(v)
        count = np.mod(v[hit], CODE_BASE)
        index = np.floor_divide(v[hit], CODE_BASE) - 1
        one = count == 1
        several.update(int(o) for o in hit[~one])
        hit, index = hit[one], index[one]
        if np.any(index < 0) or np.any(index >= code.size):
            raise _Fail                  # not a product with the coded operand (not bilinear)
        for o, ci in zip(hit, index.astype(int)):
            terms.append((int(o), int(ci), bi, 1.0) if side == 1 else (int(o), bi, int(ci), 1.0))
    terms = [t for t in terms if t[0] not in several]
    return out_shape, terms, undefined, several


def _verify(call, terms, out_shape, undefined, a_shape, b_shape, seed) -> bool:
    """One call with random operands must equal the sum of the decoded terms (NaN entries aside)."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    got = call(a, b)
    if got.shape != out_shape:
        return False
    want = np.zeros(int(np.prod(out_shape)))
    if terms:
        o, ai, bi, c = (np.asarray(v) for v in zip(*terms))
        np.add.at(want, o.astype(int), c * a.reshape(-1)[ai.astype(int)] * b.reshape(-1)[bi.astype(int)])
    flat, skip = got.reshape(-1), undefined.reshape(-1) | np.isnan(got.reshape(-1))
    return bool(np.all(np.abs(flat - want)[~skip] <= 1e-7 * (1 + np.abs(want[~skip]))))
