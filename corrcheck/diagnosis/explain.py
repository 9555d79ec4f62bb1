"""Explain one output cell term by term: which products A[a]·B[b] the user's code sums there.

The forward is bilinear in (input, filter), grad_input in (dout, filter) and
grad_filter in (dout, input), so one black-box prober serves all three, for the
user's function and for the reference alike (one mechanism, two runs).

The prober tags entries with powers of two, which add up exactly in float64.
One call with both operands all ones gives T, the sum of all coefficients.
With B all ones and A[a] = 2^(w*i) on a chunk of A, the cell's value spells
how often each A entry is used (its support); a carry would make the digits
sum to less than T, and then the digits are widened to bit_length(T) bits,
which cannot carry. The same with the roles swapped gives B's support. An
entry used once is paired by giving the other operand the values 1, 2, 3...:
its digit is then the partner's number. Entries used more often get one digit
per pair: A[a_i] = 2^(w*i), B[b_j] = 2^(w*p*j). The coefficients must again
sum to T, and a random call verifies the terms; float32 arithmetic fails that
check and the prober retries with fewer bits per call.
"""
from __future__ import annotations

import numpy as np

from ..result import CellExplanation, CellTerm

__all__ = ["bilinear_terms", "explain_cell", "OPERANDS"]

DEFAULT_BUDGET = 200
# bits a probe value keeps exactly: float64 first, then float32
ATTEMPTS = (52, 23)
OPERANDS = {"forward": ("I", "F"), "grad_input": ("dO", "F"), "grad_filter": ("dO", "I")}


class _Stop(Exception):
    """Probing cannot go on; the message is the note shown to the user."""


class _Undecodable(Exception):
    """A probe value is not a sum of the tags: retry with other digits."""


class _Carry(_Undecodable):
    """A digit overflowed past the last tag: the digits are too narrow."""


class _Prober:
    def __init__(self, fn, a_shape, b_shape, cell, budget):
        self.fn, self.shapes = fn, (tuple(a_shape), tuple(b_shape))
        self.cell, self.budget, self.calls = tuple(cell), budget, 0

    def value(self, a, b) -> float:
        """One call of the user's function, reading the explained cell; counts against the call budget."""
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

    def side_value(self, side: int, mine, other) -> float:
        """The cell's value with operand `side` (0: A, 1: B) set to `mine` and the other to `other`."""
        return self.value(mine, other) if side == 0 else self.value(other, mine)

    def tagged(self, side: int, keys, width: int, start: int = 0):
        """An operand with powers of two at `keys`, so one call separates each key's coefficient."""
        arr = np.zeros(self.shapes[side])
        for i, idx in enumerate(keys):
            arr[idx] = 2.0 ** (width * (start + i))
        return arr

    def support(self, side: int, bits: int, total: int) -> dict[tuple[int, ...], int]:
        """{index: how often it is used} for one operand, the other all ones.

        One-bit digits first; a carry always lowers the digit sum below the
        total, and then the digits are widened so that none can carry.
        """
        keys = list(np.ndindex(*self.shapes[side]))
        ones = np.ones(self.shapes[1 - side])
        for width in sorted({1, max(1, total.bit_length())}):
            found = {}
            try:
                for chunk in _chunks(keys, bits // width):
                    v = self.side_value(side, self.tagged(side, chunk, width), ones)
                    found.update((chunk[i], d) for i, d in enumerate(_digits(v, width, len(chunk))) if d)
            except _Carry:
                continue
            if sum(found.values()) == total:
                return found
        raise _Undecodable

    def used_once(self, side: int, keys, partners, bits: int):
        """Pairs for keys used exactly once: the partner side holds index + 1, one digit per key."""
        width = len(partners).bit_length()
        other = np.zeros(self.shapes[1 - side])
        for j, idx in enumerate(partners):
            other[idx] = j + 1
        pairs = []
        for chunk in _chunks(keys, bits // width):
            v = self.side_value(side, self.tagged(side, chunk, width), other)
            for key, d in zip(chunk, _digits(v, width, len(chunk))):
                if not 1 <= d <= len(partners):
                    raise _Undecodable
                pairs.append((key, partners[d - 1], 1.0))
        return pairs

    def positional(self, side: int, keys, partners, bits: int, width: int):
        """Coefficient of every (key, partner) pair, one digit each: key i, partner j -> digit i + p*j."""
        slots = bits // width
        p = min(len(keys), slots)
        q = max(1, slots // p)
        pairs = []
        for k_chunk in _chunks(keys, p):
            mine = self.tagged(side, k_chunk, width)
            for o_chunk in _chunks(partners, q):
                other = np.zeros(self.shapes[1 - side])
                for j, idx in enumerate(o_chunk):
                    other[idx] = 2.0 ** (width * p * j)
                digits = _digits(self.side_value(side, mine, other), width, p * len(o_chunk))
                pairs += [(k_chunk[s % p], o_chunk[s // p], float(d))
                          for s, d in enumerate(digits) if d and s % p < len(k_chunk)]
        return pairs

    def terms(self, a_sup: dict, b_sup: dict, bits: int, total: int):
        """(a, b, coefficient) for every pair, probing from the side with more once-used entries."""
        sides = (a_sup, b_sup)
        side = 0 if sum(c == 1 for c in a_sup.values()) >= sum(c == 1 for c in b_sup.values()) else 1
        keys, partners = sides[side], list(sides[1 - side])
        once = [k for k, c in keys.items() if c == 1]
        more = [k for k, c in keys.items() if c > 1]
        pairs = self.used_once(side, once, partners, bits) if once else []
        if more:
            width = max(1, min(max(keys[k] for k in more), max(sides[1 - side].values())).bit_length())
            pairs += self.positional(side, more, partners, bits, width)
        if sum(c for _, _, c in pairs) != total:
            raise _Undecodable
        return [(k, o, c) if side == 0 else (o, k, c) for k, o, c in pairs]

    def verify(self, terms, rng, bits: int) -> bool:
        """Whether the recovered terms predict the function on a random input (the bilinear model holds)."""
        a, b = rng.standard_normal(self.shapes[0]), rng.standard_normal(self.shapes[1])
        want = sum(c * a[ai] * b[bi] for ai, bi, c in terms)
        got = self.value(a, b)
        scale = sum(abs(c * a[ai] * b[bi]) for ai, bi, c in terms) + 1.0
        return abs(got - want) <= (1e-9 if bits > 23 else 1e-4) * scale


def _chunks(items, size):
    size = max(1, size)
    return [items[i:i + size] for i in range(0, len(items), size)]


def _digits(v: float, width: int, count: int) -> list[int]:
    """Base-2^width digits of a probe value that must be a whole number below 2^(width*count)."""
    n, base, out = _whole(v), 1 << width, []
    for _ in range(count):
        n, d = divmod(n, base)
        out.append(d)
    if n:
        raise _Carry
    return out


def _whole(v: float, bits: int | None = None) -> int:
    """A probe value as an exact whole number (below 2^bits when given)."""
    if not np.isfinite(v) or v < 0 or v != np.floor(v) or (bits is not None and v >= 2.0 ** bits):
        raise _Undecodable
    return int(v)


def bilinear_terms(fn, a_shape, b_shape, cell, *, budget: int = DEFAULT_BUDGET, seed: int = 0):
    """(terms, calls, note): the products coefficient·A[a]·B[b] that fn(A, B)[cell] sums.

    terms is a sorted list of (a_index, b_index, coefficient), or None when the
    cell could not be explained (budget, NaN, an exception, not bilinear);
    note then says why in one sentence.
    """
    prober = _Prober(fn, a_shape, b_shape, cell, budget)
    rng = np.random.default_rng(seed)
    try:
        total = prober.value(np.ones(prober.shapes[0]), np.ones(prober.shapes[1]))
        for bits in ATTEMPTS:
            try:
                t = _whole(total, bits)
                terms = []
                if t:
                    terms = prober.terms(prober.support(0, bits, t), prober.support(1, bits, t), bits, t)
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
