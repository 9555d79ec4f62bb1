"""Say in one sentence what a mismatch looks like when no catalogued mistake matched.

The shape of the wrong region is often the best clue: only the border (the
padding width), every s-th row (the stride), whole rows (one index), one
corner, a constant factor, a transposition or a shift. Works on canonical
arrays; the spatial part is the last geom.ndim axes.
"""
from __future__ import annotations

from itertools import combinations, product

import numpy as np

from ..geometry import Geometry

__all__ = ["describe"]

SPATIAL_NAMES = {1: ("position",), 2: ("row", "column"), 3: ("slice", "row", "column")}
LEADING_NAMES = ("sample", "channel")
RTOL, ATOL = 1e-6, 1e-9


def describe(error_map, geom: Geometry, expected, actual, axis_names=None) -> str:
    """One sentence about where and how `actual` differs from `expected`."""
    expected, actual = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    if expected.shape != actual.shape:
        return f"The result has shape {_shape(actual.shape)} instead of {_shape(expected.shape)}."
    wrong = np.asarray(error_map, dtype=bool) if error_map is not None else ~_close(actual, expected)
    nd = min(geom.ndim, actual.ndim)
    names = _names(actual.ndim, nd, axis_names)
    if np.isnan(actual).any():
        nan = np.isnan(actual)
        first = [int(i) for i in np.argwhere(nan)[0]]
        where = _region(nan, nd, names, geom)
        return (f"{nan.sum()} of {nan.size} entries are NaN (the first at {first}): the code reads outside "
                f"an array there{'; ' + where if where else ''}.")
    if not wrong.any():
        return "No entry differs."
    for check in (_factor, _offset, _transposed, _shifted):
        sentence = check(expected, actual, nd, names)
        if sentence:
            return sentence
    lead = _leading(wrong, nd, names)
    where = _region(wrong, nd, names, geom) or f"{int(wrong.sum())} of {wrong.size} entries are wrong"
    return where[:1].upper() + where[1:] + (f", {lead}" if lead else "") + "."


# ----------------------------------------------------------------------------- whole-array relations

def _close(a, b):
    return np.abs(a - b) <= ATOL + RTOL * np.abs(b)


def unmatched(error_map, geom: Geometry, expected, actual, axis_names=None) -> str:
    """The diagnosis sentence of a mistake no catalogue entry names: describe's sentence after it."""
    said = describe(error_map, geom, expected, actual, axis_names)
    return "no known mistake matched; " + said[:1].lower() + said[1:]


def scale_factor(expected, actual) -> float | None:
    """c when actual is c times expected in every entry (c by least squares), else None."""
    expected, actual = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    denom = float(np.vdot(expected, expected))
    if denom == 0.0 or expected.shape != actual.shape:
        return None
    c = float(np.vdot(expected, actual)) / denom
    return c if _close(actual, c * expected).all() else None


def _factor(expected, actual, nd, names):
    c = scale_factor(expected, actual)
    if c is None or abs(c - 1.0) < 1e-9:
        return None
    if abs(c) < 1e-12:
        return "Every entry is zero."
    shown = f"{round(c)}" if abs(c - round(c)) < 1e-9 else f"{c:.4g}"
    return f"Every entry is {shown} times the expected value (actual = {shown} x expected): a scale factor, not an index."


def _offset(expected, actual, nd, names):
    """The same amount added everywhere, or per index of the second axis (a bias per filter)."""
    diff = actual - expected
    tol = ATOL + RTOL * np.abs(expected)
    c = float(diff.mean())
    if abs(c) > ATOL and (np.abs(diff - c) <= tol).all():
        return f"Every entry is off by the same amount, {c:+.4g}: a constant added or missing, not an index."
    if actual.ndim - nd >= 2:
        per = diff.mean(axis=tuple(a for a in range(diff.ndim) if a != 1), keepdims=True)
        if (np.abs(per) > ATOL).any() and (np.abs(diff - per) <= tol).all():
            return (f"Every entry is off by an amount that depends only on the {names[1]}: "
                    f"a bias added twice or missing, not an index.")
    return None


def _transposed(expected, actual, nd, names):
    if nd < 2 or expected.shape[-1] != expected.shape[-2] or _close(expected, np.swapaxes(expected, -1, -2)).all():
        return None
    if _close(actual, np.swapaxes(expected, -1, -2)).all():
        return (f"The result is the expected one transposed: {names[-2]}s and {names[-1]}s are swapped.")
    return None


def _shifted(expected, actual, nd, names):
    """actual[i] == expected[i + k] (k per spatial axis, small) wherever both exist."""
    axes = range(actual.ndim - nd, actual.ndim)
    ranges = [range(-min(2, actual.shape[a] // 2), min(2, actual.shape[a] // 2) + 1) for a in axes]
    for ks in sorted(product(*ranges), key=lambda k: sum(map(abs, k))):
        if not any(ks):
            continue
        a_sl, e_sl = [slice(None)] * actual.ndim, [slice(None)] * actual.ndim
        for axis, k in zip(axes, ks):
            n = actual.shape[axis]
            a_sl[axis], e_sl[axis] = slice(max(0, -k), min(n, n - k)), slice(max(0, k), min(n, n + k))
        a, e = actual[tuple(a_sl)], expected[tuple(e_sl)]
        if a.size and _close(a, e).all() and not _close(a, expected[tuple(a_sl)]).all():
            moved = [f"{k} {names[axis]}{'s' if abs(k) > 1 else ''}" for axis, k in zip(axes, ks) if k]
            here = ", ".join(_var(j, nd) for j in range(nd))
            there = ", ".join(f"{_var(j, nd)}{k:+d}" if k else _var(j, nd) for j, k in enumerate(ks))
            return (f"The result is the expected one shifted by {' and '.join(moved)}: "
                    f"actual [{here}] holds expected [{there}].")
    return None


def _var(j, nd):
    return ("i", "j", "k")[j] if nd <= 3 else f"i{j}"


# ----------------------------------------------------------------------------- where the errors are

def _leading(wrong, nd, names):
    """'only for channel 0' when the errors sit in some indices of the leading axes."""
    parts = []
    for axis in range(wrong.ndim - nd):
        others = tuple(a for a in range(wrong.ndim) if a != axis)
        hit = np.flatnonzero(wrong.any(axis=others))
        if 0 < len(hit) < wrong.shape[axis]:
            parts.append(f"{_plural(names[axis], hit)} {_list(hit)}")
    return ("only in " + " and ".join(parts)) if parts else ""


def _region(mask, nd, names, geom):
    """Describe the spatial footprint of `mask` (any over the leading axes), or '' when nothing fits."""
    m = mask.reshape((-1,) + mask.shape[mask.ndim - nd:]).any(axis=0) if nd else mask.reshape(-1)
    sp_names = names[len(names) - nd:]
    if nd == 0 or not m.any():
        return ""
    if m.all():
        return "every position is affected"
    for describe_fn in (_corner, _edges, _interior, _lines, _strided):
        text = describe_fn(m, sp_names, geom)
        if text:
            return text
    cells = [list(map(int, c)) for c in np.argwhere(m)[:3]]
    return f"{int(m.sum())} of {m.size} positions are affected, e.g. {', '.join(map(str, cells))}"


def _corner(m, names, geom):
    """All wrong cells in a box touching one corner and covering at most half of each axis."""
    if m.ndim != 2:
        return ""
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    (r0, r1), (c0, c1), (h, w) = (rows[[0, -1]]), (cols[[0, -1]]), m.shape
    v = "top" if r0 == 0 and 2 * (r1 + 1) <= h else "bottom" if r1 == h - 1 and 2 * (h - r0) <= h else None
    u = "left" if c0 == 0 and 2 * (c1 + 1) <= w else "right" if c1 == w - 1 and 2 * (w - c0) <= w else None
    if v and u:
        return (f"only the {v}-{u} corner is affected ({names[0]}s {_span(r0, r1)}, "
                f"{names[1]}s {_span(c0, c1)})")
    return ""


def _edges(m, names, geom):
    """Only the border (all sides: likely the padding), or only some sides."""
    nd = m.ndim
    grids = np.indices(m.shape)
    for width in range(1, (min(m.shape) + 1) // 2):        # an interior must remain
        bands = {(a, side): (grids[a] < width) if side == 0 else (grids[a] >= m.shape[a] - width)
                 for a in range(nd) for side in (0, 1)}
        if (m & ~np.logical_or.reduce(list(bands.values()))).any():
            continue
        for size in range(1, 2 * nd + 1):                   # the fewest sides that cover every wrong cell
            for sides in combinations(bands, size):
                cover = np.logical_or.reduce([bands[s] for s in sides])
                if (m & ~cover).any():
                    continue
                if m.sum() * 2 < cover.sum():               # sparse: a stride pattern says more
                    return ""
                if size == 2 * nd:
                    pads = {pb for pb, _ in geom.pad} | {pa for _, pa in geom.pad}
                    note = ", the padding width" if pads == {width} else ""
                    return (f"only a border {width} wide is affected{note}: "
                            f"check how the code handles the padded edge")
                verb = "is" if size == 1 and width == 1 else "are"
                return "only " + " and ".join(_side_name(a, side, width, names) for a, side in sides) + f" {verb} affected"
    return ""


def _interior(m, names, geom):
    """Everything but a border is wrong: the border itself is right."""
    grids = np.indices(m.shape)
    for width in range(1, (min(m.shape) + 1) // 2):
        inner = np.logical_and.reduce([(g >= width) & (g < n - width) for g, n in zip(grids, m.shape)])
        if (m == inner).all():
            return f"only the interior is affected; the border {width} wide is right"
    return ""


def _side_name(axis, side, width, names):
    which = ("first", "last")[side]
    return f"the {which} {width} {names[axis]}{'s' if width > 1 else ''}" if width > 1 else \
        f"the {which} {names[axis]}"


def _span(a, b):
    return f"{a}" if a == b else f"{a}-{b}"


def _lines(m, names, geom):
    """Whole rows (or columns): the mistake is in that one index."""
    if m.ndim < 2:
        return ""
    for axis in range(m.ndim):
        proj = m.any(axis=tuple(a for a in range(m.ndim) if a != axis))
        full = np.broadcast_to(proj.reshape([-1 if a == axis else 1 for a in range(m.ndim)]), m.shape)
        if (m == full).all():
            hit = np.flatnonzero(proj)
            text = (f"whole {_plural(names[axis], hit)} {_list(hit)} {'are' if len(hit) > 1 else 'is'} affected, "
                    f"so the mistake is in the {names[axis]} index")
            step = _step(hit, m.shape[axis])
            if step:
                text += f": every {_nth(step)} {names[axis]}{_stride_note(step, axis, geom)}"
            return text
    return ""


def _strided(m, names, geom):
    for axis in range(m.ndim):
        hit = np.flatnonzero(m.any(axis=tuple(a for a in range(m.ndim) if a != axis)))
        step = _step(hit, m.shape[axis])
        if step:
            where = []
            for other in range(m.ndim):
                other_hit = np.flatnonzero(m.any(axis=tuple(a for a in range(m.ndim) if a != other)))
                if other != axis and len(other_hit) < m.shape[other]:
                    where.append(f"{_plural(names[other], other_hit)} {_list(other_hit)}")
            return (f"only every {_nth(step)} {names[axis]} ({_list(hit)}) is affected"
                    f"{_stride_note(step, axis, geom)}{', in ' + ' and '.join(where) if where else ''}")
    return ""


def _step(hit, n):
    """The step of an arithmetic progression of >= 2 indices with gaps, else 0."""
    if len(hit) < 2 or len(hit) == n:
        return 0
    steps = set(np.diff(hit).tolist())
    return steps.pop() if len(steps) == 1 and min(steps) > 1 else 0


def _stride_note(step, axis, geom):
    return f" (the stride is {step})" if axis < len(geom.stride) and geom.stride[axis] == step else ""


def _plural(name, idx):
    return name + ("s" if len(idx) > 1 else "")


def _nth(k):
    return {2: "2nd", 3: "3rd"}.get(k, f"{k}th")


def _list(idx):
    idx = [int(i) for i in idx]
    return ", ".join(map(str, idx)) if len(idx) <= 6 else ", ".join(map(str, idx[:5])) + ", ..."


def _names(ndim, nd, axis_names):
    if axis_names is not None and len(axis_names) == ndim:
        return tuple(axis_names)
    lead = ndim - nd
    leading = LEADING_NAMES[:lead] if lead <= len(LEADING_NAMES) else tuple(f"axis {i}" for i in range(lead))
    return tuple(leading) + SPATIAL_NAMES.get(nd, tuple(f"axis {i}" for i in range(lead, ndim)))


def _shape(shape):
    return "(" + ", ".join(map(str, shape)) + ")"
