"""Explain one output cell term by term: which products A[a]·B[b] the user's code sums there.

The forward is bilinear in (input, filter), grad_input in (dout, filter) and
grad_filter in (dout, input), so one black-box prober serves all three, for the
user's function and for the reference alike (one mechanism, two runs).

The prober tags entries with powers of two, which add up exactly in float64:
with B all ones and A[a] = 2^(w*i) on a chunk of A, the cell's value spells in
base 2^w how often each A entry is used (its support); the same with the roles
swapped gives B's support; then A[a_i] = 2^(w*i), B[b_j] = 2^(w*p*j) puts the
coefficient of every pair (a_i, b_j) in its own digit. A random call verifies
the recovered terms; carries (coefficients >= 2^w) or float32 arithmetic
fail that check and the prober retries with wider digits or fewer bits.
"""
from __future__ import annotations

import numpy as np

from .result import CellExplanation, CellTerm

__all__ = ["bilinear_terms", "explain_cell", "OPERANDS"]

DEFAULT_BUDGET = 200
# (bits the output keeps exactly, bits per digit): float64 first, then wider digits, then float32
ATTEMPTS = ((52, 1), (52, 2), (23, 1), (23, 2))
OPERANDS = {"forward": ("I", "F"), "grad_input": ("dO", "F"), "grad_filter": ("dO", "I")}


class _Stop(Exception):
    """Probing cannot go on; the message is the note shown to the user."""


class _Undecodable(Exception):
    """A probe value is not a sum of the tags: retry with other digits."""


class _Prober:
    def __init__(self, fn, a_shape, b_shape, cell, budget):
        self.fn, self.a_shape, self.b_shape = fn, tuple(a_shape), tuple(b_shape)
        self.cell, self.budget, self.calls = tuple(cell), budget, 0

    def value(self, a, b) -> float:
        if self.calls >= self.budget:
            raise _Stop(f"explaining this cell needs more than {self.budget} calls; raise the budget to see it")
        self.calls += 1
        try:
            out = np.asarray(self.fn(a, b), dtype=float)
            v = float(out[self.cell])
        except IndexError:
            raise _Stop(f"cell {list(self.cell)} is outside the function's output") from None
        except Exception as exc:      # the user's code raised: say so in one sentence
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            raise _Stop(f"the function failed while probing this cell ({message})") from None
        if np.isnan(v):
            raise _Stop("this cell is NaN: the code reads outside an array there (undefined in JavaScript)")
        return v

    def support(self, tags_on_a: bool, bits: int, width: int) -> list[tuple[int, ...]]:
        """Indices of the operand whose entries reach the cell, with the other operand all ones."""
        shape = self.a_shape if tags_on_a else self.b_shape
        other = np.ones(self.b_shape if tags_on_a else self.a_shape)
        flat = list(np.ndindex(*shape))
        per_call, found = bits // width, []
        for start in range(0, len(flat), per_call):
            chunk = flat[start:start + per_call]
            tagged = np.zeros(shape)
            for i, idx in enumerate(chunk):
                tagged[idx] = 2.0 ** (width * i)
            v = self.value(tagged, other) if tags_on_a else self.value(other, tagged)
            found += [chunk[i] for i, digit in enumerate(_digits(v, width, len(chunk))) if digit]
        return found

    def pairs(self, a_sup, b_sup, bits: int, width: int) -> list[tuple[tuple, tuple, float]]:
        """Coefficient of every (a, b) pair of the supports, one digit per pair."""
        slots = bits // width
        p = min(len(a_sup), slots)
        q = max(1, slots // p)
        terms = []
        for a0 in range(0, len(a_sup), p):
            a_chunk = a_sup[a0:a0 + p]
            a = np.zeros(self.a_shape)
            for i, idx in enumerate(a_chunk):
                a[idx] = 2.0 ** (width * i)
            for b0 in range(0, len(b_sup), q):
                b_chunk = b_sup[b0:b0 + q]
                b = np.zeros(self.b_shape)
                for j, idx in enumerate(b_chunk):
                    b[idx] = 2.0 ** (width * p * j)
                digits = _digits(self.value(a, b), width, p * len(b_chunk))
                terms += [(a_chunk[s % p], b_chunk[s // p], float(d))
                          for s, d in enumerate(digits) if d and s % p < len(a_chunk)]
        return terms

    def verify(self, terms, rng, bits: int) -> bool:
        a, b = rng.standard_normal(self.a_shape), rng.standard_normal(self.b_shape)
        want = sum(c * a[ai] * b[bi] for ai, bi, c in terms)
        got = self.value(a, b)
        scale = sum(abs(c * a[ai] * b[bi]) for ai, bi, c in terms) + 1.0
        return abs(got - want) <= (1e-9 if bits > 23 else 1e-4) * scale


def _digits(v: float, width: int, count: int) -> list[int]:
    """Base-2^width digits of a probe value that must be a whole number below 2^(width*count)."""
    if v < 0 or v != np.floor(v) or v >= 2.0 ** (width * count):
        raise _Undecodable
    n, base, out = int(v), 1 << width, []
    for _ in range(count):
        n, d = divmod(n, base)
        out.append(d)
    return out


def bilinear_terms(fn, a_shape, b_shape, cell, *, budget: int = DEFAULT_BUDGET, seed: int = 0):
    """(terms, calls, note): the products coefficient·A[a]·B[b] that fn(A, B)[cell] sums.

    terms is a sorted list of (a_index, b_index, coefficient), or None when the
    cell could not be explained (budget, NaN, an exception, not bilinear);
    note then says why in one sentence.
    """
    prober = _Prober(fn, a_shape, b_shape, cell, budget)
    rng = np.random.default_rng(seed)
    try:
        for bits, width in ATTEMPTS:
            try:
                a_sup = prober.support(True, bits, width)
                b_sup = prober.support(False, bits, width)
                terms = prober.pairs(a_sup, b_sup, bits, width) if a_sup and b_sup else []
            except _Undecodable:
                continue
            if prober.verify(terms, rng, bits):
                return sorted(terms), prober.calls, None
    except _Stop as stop:
        return None, prober.calls, str(stop)
    return None, prober.calls, ("the cell is not a sum of input-times-filter products with small whole "
                                "coefficients (a bias or a scale factor?), so it cannot be listed term by term")


def explain_cell(target: str, user_fn, reference_fn, a_shape, b_shape, cell, *,
                 budget: int = DEFAULT_BUDGET) -> CellExplanation:
    """The user's terms next to the expected ones for one output cell (canonical indices).

    user_fn and reference_fn take the two bilinear operands (A, B) of `target`:
    (x, w) for forward, (dout, w) for grad_input, (dout, x) for grad_filter,
    with the bias left out.
    """
    left, right = OPERANDS.get(target, ("A", "B"))
    cell = tuple(int(i) for i in cell)
    if target not in OPERANDS:
        return CellExplanation(target, cell, (), (), note=f"{target} is not a product of two arrays, "
                               "so it has no terms to list", left_name=left, right_name=right)
    user, _, user_note = bilinear_terms(user_fn, a_shape, b_shape, cell, budget=budget)
    expected, _, ref_note = bilinear_terms(reference_fn, a_shape, b_shape, cell, budget=budget)
    note = user_note or ref_note
    if note is None and user == expected:
        note = "the user's code sums exactly the expected products in this cell"
    return CellExplanation(target, cell, _cell_terms(user), _cell_terms(expected), note=note,
                           left_name=left, right_name=right)


def _cell_terms(terms) -> tuple[CellTerm, ...]:
    return tuple(CellTerm(tuple(int(i) for i in a), tuple(int(i) for i in b), c) for a, b, c in terms or ())
