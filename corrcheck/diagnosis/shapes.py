"""Name the mistake behind a wrong output shape: the size formula that produces it.

A shape is a number per axis, and the learner's formula leaves a signature in
it: floor((n+2p-k)/s) + 1 rounded instead of floored, without the +1, with the
extents swapped, or a padded gradient cropped by a fixed amount or on one side
only. Each fit is checked on every axis and explained with the numbers.
"""
from __future__ import annotations

from ..geometry import Geometry
from ..result import Diagnosis
from .catalogue import by_id, out_size
from ..vocab import Target

__all__ = ["diagnose_shape", "SIZE_FORMULAS", "rounded_size"]

SIZE_FORMULAS = {
    "no_plus_one": "missing +1",
    "ceil": "ceil instead of floor",
    "round": "rounded instead of floored (Math.round / round)",
    "no_pad": "padding left out of the formula",
    "no_stride": "stride left out",
    "no_dilation": "dilation left out",
}


def rounded_size(n, k, s, pad, d, half_even=False) -> int:
    """floor((n + pads - span)/s + 0.5) + 1: Math.round (half up), or Python's round (half even)."""
    span, total = d * (k - 1) + 1, pad[0] + pad[1]
    q, r = divmod(n + total - span, s)
    if 2 * r > s or (2 * r == s and (not half_even or q % 2 == 1)):
        q += 1
    return q + 1


def _size(n, k, s, p, d, key):
    if key == "round":
        return rounded_size(n, k, s, p, d)
    if key == "round_even":
        return rounded_size(n, k, s, p, d, half_even=True)
    return out_size(n, k, s, p, d, key)


def diagnose_shape(target: str, got_shape, expected_shape, in_spatial, k_spatial,
                   geom: Geometry, more=()) -> Diagnosis | None:
    """Name the mistake behind a wrong output shape, or None when no catalogued one fits.

    `more` holds further observations (got spatial shape, in_spatial, k_spatial, geom) of the
    same function at other sizes: a formula must produce every one of them."""
    if got_shape is None or expected_shape is None:
        return None
    got, exp, nd = tuple(got_shape), tuple(expected_shape), geom.ndim
    if got == exp or len(got) < nd:
        return None
    g_sp, e_sp = got[-nd:], exp[-nd:]
    if target == Target.FORWARD:
        return _forward_shape(got, exp, g_sp, tuple(in_spatial), tuple(k_spatial), geom, more)
    if target == Target.GRAD_INPUT and got[:-nd] == exp[:-nd]:
        if any(n == 0 for n in g_sp) and all(n == 0 for n, (pb, _) in zip(g_sp, geom.pad) if pb == 0):
            m = by_id("grad-input-unpad-empty-at-pad0")
            return Diagnosis(target, m.id, 0.95, m.explanation)
        return _crop_shape(g_sp, e_sp, geom)
    if target == Target.GRAD_FILTER and got[:-nd] == exp[:-nd] and nd >= 2 and g_sp == _swap2(e_sp) != e_sp:
        m = by_id("grad-filter-transposed")
        return Diagnosis(target, m.id, 0.8, m.explanation)
    if target == Target.GRAD_BIAS and len(exp) == 1:
        f = exp[0]
        if got[:1] == (f,) or got[1:2] == (f,):
            m = by_id("grad-bias-not-summed")
            return Diagnosis(target, m.id, 0.9,
                             f"The bias gradient has shape {_fmt(got)} instead of ({f},): " + _lower(m.explanation))
    return None


def _produces(key, g_sp, S, K, geom):
    return tuple(_size(n, k, s, p, d, key) for n, k, s, p, d
                 in zip(S, K, geom.stride, geom.pad, geom.dilation)) == tuple(g_sp)


def _forward_shape(got, exp, g_sp, S, K, geom, more=()):
    m = by_id("output-size")
    if got[:-geom.ndim] != exp[:-geom.ndim]:
        return None
    advice = _lower(m.explanation)
    if any(d != 1 for d in geom.dilation):     # the catalogue's sentence is the undilated formula
        advice = "compute the output size as floor((n + 2p - d*(k - 1) - 1) / s) + 1."
    e_sp = exp[-geom.ndim:]
    head = f"The output is {_fmt(g_sp)} but should be {_fmt(e_sp)}"
    if geom.ndim >= 2 and g_sp == _swap2(e_sp):
        return Diagnosis("forward", m.id, 0.9, f"{head}: the output extents are swapped (rows and columns "
                         f"exchanged in the size), so {advice}")
    keys = list(SIZE_FORMULAS) + ["round_even"]
    fits = [key for key in keys if _produces(key, g_sp, S, K, geom)
            and all(_produces(key, *obs) for obs in more)]
    if "round" in fits and "round_even" in fits:
        fits.remove("round_even")
    labels = [SIZE_FORMULAS.get(k, "rounded instead of floored (round)") for k in fits]
    if not fits:
        return Diagnosis("forward", m.id, 0.6, f"{head}: {advice}")
    why = _numbers(fits[0], g_sp, e_sp, S, K, geom) if len(fits) == 1 else ""
    if more and len(fits) == 1:
        why += f" and at {len(more) + 1} input sizes the shapes follow that formula"
    return Diagnosis("forward", m.id, 0.9 if len(fits) == 1 else 0.8,
                     f"{head}, which fits the formula with {' or '.join(labels)}{why}: {advice}")


def _numbers(key, g_sp, e_sp, S, K, geom):
    """' ((9 + 2*1 - 3)/3 = 2.67 rounds to 3, floor gives 2)' on the first axis that differs."""
    for a, (g, e) in enumerate(zip(g_sp, e_sp)):
        if g != e:
            (pb, pa), s, d = geom.pad[a], geom.stride[a], geom.dilation[a]
            span = d * (K[a] - 1) + 1
            num = S[a] + pb + pa - span
            if key in ("round", "round_even", "ceil"):
                return (f" (axis {a}: ({S[a]} + {pb + pa} - {span})/{s} = {num / s:.3g}, which floor makes "
                        f"{num // s}, plus 1 is {e}; the code gets {g - 1}, plus 1 is {g})")
            return f" (axis {a}: {g} instead of {e})"
    return ""


def _crop_shape(g_sp, e_sp, geom):
    """A padded input gradient cropped by a fixed amount, on one side only, or not at all."""
    m = by_id("grad-input-padding-offset")
    padded = tuple(n + pb + pa for n, (pb, pa) in zip(e_sp, geom.pad))
    cut = [pd - g for pd, g in zip(padded, g_sp)]
    head = f"The input gradient is {_fmt(g_sp)} but should be {_fmt(e_sp)}"
    if all(c == 0 for c in cut):
        return Diagnosis("grad_input", m.id, 0.85, f"{head}: the padded gradient ({_fmt(padded)}) is returned "
                         f"without removing the padding; {_lower(m.explanation)}")
    if all(c % 2 == 0 and c > 0 for c in cut) and len({c // 2 for c in cut}) == 1:
        c = cut[0] // 2
        pads = sorted({pb for pb, _ in geom.pad})
        return Diagnosis("grad_input", m.id, 0.9, f"{head}: the padded gradient ({_fmt(padded)}) is cropped by a "
                         f"fixed {c} on each side, not by the padding {pads[0] if len(pads) == 1 else pads} "
                         f"(right only at pad {c}); {_lower(m.explanation)}")
    if all(c == pb for c, (pb, _) in zip(cut, geom.pad)) or all(c == pa for c, (_, pa) in zip(cut, geom.pad)):
        return Diagnosis("grad_input", m.id, 0.85, f"{head}: the padding is cropped on one side only "
                         f"({_fmt(padded)} minus {_fmt(tuple(cut))}); {_lower(m.explanation)}")
    return None


def _swap2(shape):
    return shape[:-2] + shape[-2:][::-1]


def _fmt(shape):
    return "x".join(str(n) for n in shape) if shape else "()"


def _lower(sentence):
    return sentence[:1].lower() + sentence[1:]
