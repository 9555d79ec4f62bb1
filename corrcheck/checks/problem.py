"""The configurations a run checks: the user's, plus the variants that expose common mistakes.

Defaults are chosen to make bugs visible: non-square inputs and filters
(H/W swaps), N >= 2 and C != F (batch and channel sums), a nonzero bias, and
input sizes where the stride does not divide evenly (output-size formulas).
"""
from __future__ import annotations

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
    geom: Geometry
    in_spatial: tuple[int, ...]
    k_spatial: tuple[int, ...]
    batch: int
    channels: int
    filters: int
    label: str = "main"            # main | pad0 | square | probe

    @property
    def out_spatial(self):
        """The spatial output size the geometry gives this input and filter."""
        return self.geom.out_shape(self.in_spatial, self.k_spatial)

    @property
    def note(self) -> str | None:
        """How a failure on this variant is labelled next to the main config's."""
        shape = "x".join(map(str, self.in_spatial))
        return {"main": None, "pad0": "at pad 0", "square": f"on a square {shape} input",
                "probe": f"on {article(shape)} {shape} input"}.get(self.label, self.label)

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


def _uneven(sizes, k_spatial, geom_args, ndim):
    """Grow each input axis until the stride does not divide the span evenly (when stride > 1)."""
    sizes = list(sizes)
    for axis in range(ndim):
        for _ in range(4):
            try:
                g = make_geometry(ndim=ndim, in_spatial=tuple(sizes), k_spatial=tuple(k_spatial), **geom_args)
            except ConfigError:
                break
            uneven = g.stride[axis] == 1 or g.leftover(sizes, k_spatial)[axis]
            # 'same' padding: keep some padding before, or reads at negative indices go untested
            padded_before = g.mode != "same" or g.pad[axis][0] > 0 or k_spatial[axis] == 1
            if uneven and padded_before:
                break
            sizes[axis] += 1
    return tuple(sizes)


def build_problem(cfg, ndim: int, layout, *, square: bool = False, same_rule: str = "tf") -> Problem:
    """The main problem for one layout, from the user's options (parsed once by the config) and
    the defaults above."""
    opts = cfg.geometry_options
    geom_args = {"stride": opts.stride, "pad": opts.pad, "dilation": opts.dilation, "op": cfg.op,
                 "same_rule": same_rule}
    k = opts.on_axes("filter_size", ndim) or (SQUARE_FILTER if square else DEFAULT_FILTER)[ndim]
    n = opts.on_axes("input_size", ndim)
    if n is None:
        base = (SQUARE_INPUT if square else DEFAULT_INPUT)[ndim]
        dilation = opts.on_axes("dilation", ndim) or (1,) * ndim
        span = tuple(max(b, d * (kk - 1) + 2) for b, kk, d in zip(base, k, dilation))
        n = _uneven(span, k, geom_args, ndim)
    geom = make_geometry(ndim=ndim, in_spatial=n, k_spatial=k, **geom_args)
    channels = cfg.channels or (3 if layout.channels else 1)
    filters = cfg.filters or (4 if layout.channels else 1)
    batch = cfg.batch or (2 if layout.batch else 1)
    if not layout.channels and (channels, filters) != (1, 1):
        raise ConfigError(f"layout {layout.name} has no channel axis, so --channels/--filters must be 1")
    if not layout.batch and batch != 1:
        raise ConfigError(f"layout {layout.name} has no batch axis, so --batch must be 1")
    return Problem(geom, tuple(n), tuple(k), batch, channels, filters, "square" if square else "main")


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
