"""The configurations a run checks: the user's, plus the variants that expose common mistakes.

Defaults are chosen to make bugs visible: non-square inputs and filters
(H/W swaps), N >= 2 and C != F (batch and channel sums), a nonzero bias, and
input sizes where the stride does not divide evenly (output-size formulas).
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace

from ..errors import ConfigError
from ..geometry import Geometry, make_geometry

DEFAULT_INPUT = {1: (11,), 2: (7, 6), 3: (5, 6, 4)}
DEFAULT_FILTER = {1: (3,), 2: (3, 2), 3: (3, 2, 2)}
SQUARE_INPUT = {1: (11,), 2: (7, 7), 3: (5, 5, 5)}
SQUARE_FILTER = {1: (3,), 2: (3, 3), 3: (3, 3, 3)}


@dataclass(frozen=True)
class Problem:
    """One configuration to check: the user's, or a variant (pad 0, square) that shows a mistake the main one hides."""

    geom: Geometry
    in_spatial: tuple[int, ...]
    k_spatial: tuple[int, ...]
    batch: int
    channels: int
    filters: int
    label: str = "main"            # main | pad0 | even | stride1 | square | probe

    @property
    def out_spatial(self):
        """The spatial output size the geometry gives this input and filter."""
        return self.geom.out_shape(self.in_spatial, self.k_spatial)

    @property
    def note(self) -> str | None:
        """How a failure on this variant is labelled next to the main config's."""
        shape = "x".join(map(str, self.in_spatial))
        return {"main": None, "pad0": "at pad 0", "square": f"on a square {shape} input",
                "probe": f"on {article(shape)} {shape} input", "even": f"on {article(shape)} {shape} input",
                "stride1": "at stride 1"}.get(self.label, self.label)

    def describe(self) -> str:
        """Sizes and geometry in words, for report headings."""
        shape = "x".join(map(str, self.in_spatial))
        fshape = "x".join(map(str, self.k_spatial))
        return f"input {shape}, filter {fshape}, {self.geom.describe()}"


def article(word: str) -> str:
    """'a' or 'an' for a word or a number as spoken: an 8x8, an 11x5, an 18, an 80; a 7x6, a 110."""
    digits = re.match(r"\d+", word)
    if digits:
        d = digits.group()
        vowel = d[0] == "8" or (len(d) % 3 == 2 and d[:2] in ("11", "18"))    # eight…, eleven/eighteen thousand
    else:
        vowel = word[:1].lower() in "aeiou"
    return "an" if vowel else "a"


def _uneven(sizes, k_spatial, geom_args, ndim, square: bool = False):
    """Grow each input axis until the stride does not divide the span evenly (when stride > 1).
    The square problem exists for code that takes one size and one pad, so there every axis keeps
    the first axis' rule and 'same' stays one number."""
    sizes = list(sizes)
    for axis in range(ndim):
        for _ in range(4):
            try:
                g = make_geometry(ndim=ndim, in_spatial=tuple(sizes), k_spatial=tuple(k_spatial), **geom_args)
            except ConfigError:
                break
            if g.mode == "same":
                # 'same' padding: keep some padding before on the first axis, or reads at negative
                # indices go untested; on the others an odd total, so a split with the extra row
                # before instead of after (or halved evenly) shows
                before, after = g.pad[axis]
                if k_spatial[axis] == 1 or (before > 0 if axis == 0 or square else before != after):
                    break
            elif g.stride[axis] == 1 or g.leftover(sizes, k_spatial)[axis]:
                break
            sizes[axis] += 1
    return tuple(sizes)


def build_problem(cfg, ndim: int, layout, *, square: bool = False, same_rule: str = "tf") -> Problem:
    """The main problem for one layout, from the user's options (parsed once by the config) and
    the defaults above."""
    opts = cfg.geometry_options
    geom_args = {"stride": opts.stride, "pad": opts.pad, "op": cfg.op,
                 "dilation": opts.dilation if opts.dilation is not None else 1,
                 "same_rule": same_rule}
    k = opts.on_axes("filter_size", ndim) or (SQUARE_FILTER if square else DEFAULT_FILTER)[ndim]
    n = opts.on_axes("input_size", ndim)
    if n is None:
        base = (SQUARE_INPUT if square else DEFAULT_INPUT)[ndim]
        dilation = opts.on_axes("dilation", ndim) or (1,) * ndim
        span = tuple(max(b, d * (kk - 1) + 2) for b, kk, d in zip(base, k, dilation))
        n = _uneven(span, k, geom_args, ndim, square)
    if not square and ndim > 1:
        n, k = distinct_sizes(n, k, geom_args, ndim, free_n=opts.on_axes("input_size", ndim) is None,
                              free_k=opts.on_axes("filter_size", ndim) is None)
    geom = make_geometry(ndim=ndim, in_spatial=n, k_spatial=k, **geom_args)
    batch, channels, filters = distinct_counts(cfg, layout)
    if not layout.channels and (channels, filters) != (1, 1):
        raise ConfigError(f"layout {layout.name} has no channel axis, so --channels/--filters must be 1")
    if not layout.batch and batch != 1:
        raise ConfigError(f"layout {layout.name} has no batch axis, so --batch must be 1")
    return Problem(geom, tuple(n), tuple(k), batch, channels, filters, "square" if square else "main")


ALT_FILTERS = {2: ((3, 2), (2, 3), (3, 4), (4, 3), (4, 2), (5, 3)), 3: ((3, 2, 1), (3, 1, 2), (2, 3, 1))}


def extents_equal(n, k, geom) -> list[str]:
    """Which extents of a check coincide (H=W, KH=KW, OH=OW, also at pad 0): a mistake that swaps
    two equal extents changes nothing, so such a check cannot see it."""
    def dup(t):
        return len(set(t)) < len(t)
    out = []
    if dup(n):
        out.append("input")
    if dup(k):
        out.append("filter")
    for g, label in ((geom, "output"), (geom.with_pad(0) if geom.mode is None else None, "output at pad 0")):
        if g is None:
            continue
        try:
            if dup(g.out_shape(n, k)):
                out.append(label)
        except ConfigError:
            pass
    return out


def distinct_sizes(n, k, geom_args, ndim, *, free_n: bool, free_k: bool):
    """Free sizes chosen so every extent of the check differs (H != W, KH != KW, OH != OW at the pad
    asked for and at pad 0), staying close to the defaults and keeping the stride remainder; sizes
    the user gave stay as given (runner notes then say what equal extents leave unseen)."""
    n, k = tuple(n), tuple(k)

    def ok(nn, kk):
        try:
            g = make_geometry(ndim=ndim, in_spatial=nn, k_spatial=kk, **geom_args)
            g.out_shape(nn, kk)
        except ConfigError:
            return None
        return g

    g = ok(n, k)
    if g is None or not extents_equal(n, k, g) or not (free_n or free_k):
        return n, k
    ks = [k] + ([kk for kk in ALT_FILTERS.get(ndim, ()) if kk != k] if free_k else [])
    best = None
    for kk in ks:
        ns = [n]
        if free_n:
            ranges = [range(max(2, a - 1), a + 7) for a in n]
            ns = [tuple(c) for c in _product(ranges)]
        for nn in ns:
            gg = ok(nn, kk)
            if gg is None or extents_equal(nn, kk, gg):
                continue
            uneven = _uneven(nn, kk, geom_args, ndim) == tuple(nn)
            cost = sum(abs(a - b) for a, b in zip(nn, n)) + 3 * (kk != k) + (0 if uneven else 4)
            if best is None or cost < best[0]:
                best = (cost, nn, kk)
    return (best[1], best[2]) if best else (n, k)


def _product(ranges):
    return itertools.product(*ranges)


COUNT_PREFERENCE = {"batch": (2, 3, 5, 4), "channels": (3, 2, 5, 4), "filters": (4, 5, 2, 3)}


def distinct_counts(cfg, layout) -> tuple[int, int, int]:
    """N, C and F differ from each other where the layout has those axes (a batch/channel/filter axis
    mix-up is invisible when two of them are equal); the user's own values are kept."""
    given = {"batch": cfg.batch, "channels": cfg.channels, "filters": cfg.filters}
    has = {"batch": layout.batch, "channels": layout.channels, "filters": layout.channels}
    out = {}
    taken = {v for r, v in given.items() if v and has[r]}
    for role in ("batch", "channels", "filters"):
        if given[role]:
            out[role] = given[role]
        elif not has[role]:
            out[role] = 1
        else:
            out[role] = next((v for v in COUNT_PREFERENCE[role] if v not in taken), COUNT_PREFERENCE[role][0])
            taken.add(out[role])
    return out["batch"], out["channels"], out["filters"]


def pad0_variant(p: Problem) -> Problem | None:
    """The same problem at pad 0 (un-padding with [p:-p] is empty there), when that fits."""
    if all(b == 0 and a == 0 for b, a in p.geom.pad):
        return None
    g = p.geom.with_pad(0)
    try:
        g.out_shape(p.in_spatial, p.k_spatial)
    except ConfigError:
        return None
    return replace(p, geom=g, label="pad0")


def even_variant(p: Problem) -> Problem | None:
    """The same problem on the next larger input where the stride divides the padded span exactly:
    the main problem's sizes leave a remainder (so a window past the end shows), and an output size
    off by one only where nothing is left over ((H + p - K) // s + 1, a - 1 too many) shows here."""
    if p.geom.mode is not None or all(s == 1 for s in p.geom.stride):
        return None
    grown = tuple(n + next(extra for extra in range(s) if not (left + extra) % s) if s > 1 else n
                  for n, s, left in zip(p.in_spatial, p.geom.stride, p.geom.leftover(p.in_spatial, p.k_spatial)))
    if grown == tuple(p.in_spatial):
        return None
    return replace(p, in_spatial=grown, label="even")


def stride1_variant(p: Problem) -> Problem | None:
    """The same problem at stride 1, for a stride nobody chose (code may take another path there)."""
    if all(s == 1 for s in p.geom.stride) or p.geom.mode is not None:
        return None
    g = replace(p.geom, stride=(1,) * p.geom.ndim)
    try:
        g.out_shape(p.in_spatial, p.k_spatial)
    except ConfigError:
        return None
    return replace(p, geom=g, label="stride1")


def probe_variants(p: Problem) -> list[Problem]:
    """Shapes where mistakes that crash on the main problem still produce values to diagnose:
    square input and filter, and an input sized so the output is exactly the filter's size
    (a forward reading f[y][x] survives only there)."""
    out = []
    ndim = p.geom.ndim
    k = tuple(p.k_spatial)
    sq_k = (max(k),) * ndim
    sq_n = (max(p.in_spatial),) * ndim
    for n, kk in ((sq_n, sq_k),):
        try:
            p.geom.out_shape(n, kk)
            out.append(replace(p, in_spatial=n, k_spatial=kk, label="probe"))
        except ConfigError:
            pass
    # output size == filter size (a forward reading f[y][x] survives only there)
    n_eq = p.geom.in_shape_for(sq_k, sq_k)
    try:
        if p.geom.out_shape(n_eq, sq_k) == sq_k:
            out.append(replace(p, in_spatial=n_eq, k_spatial=sq_k, label="probe"))
    except ConfigError:
        pass
    return out
