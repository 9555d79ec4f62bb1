"""One random draw of canonical arrays: what a user function and every mutant see together.

Diagnosis compares the user's output with each catalogued mistake on the same
draw, so the draw is a plain frozen value that can be handed around.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..geometry import Geometry

__all__ = ["Draw", "Draws", "random_draw", "deferred_draw", "remade_draw"]


@dataclass(frozen=True)
class Draw:
    """x (N,C,*S), w (F,C,*K), b (F,) or None, dout (N,F,*O): canonical float64 arrays."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    dout: np.ndarray
    recipe: object = field(default=None, compare=False, repr=False)  # makes the same draw again, if known

    def without_bias(self) -> "Draw":
        """The same draw for functions that take no bias."""
        return replace(self, b=None)


def random_draw(rng: np.random.Generator, geom: Geometry, *, batch: int, channels: int, filters: int,
                in_spatial, k_spatial, bias: bool = True) -> Draw:
    """Standard-normal arrays of the given sizes; dout has the geometry's output shape."""
    in_spatial, k_spatial = tuple(in_spatial), tuple(k_spatial)
    out_spatial = geom.out_shape(in_spatial, k_spatial)
    x = rng.standard_normal((batch, channels) + in_spatial)
    w = rng.standard_normal((filters, channels) + k_spatial)
    b = rng.standard_normal(filters) if bias else None
    dout = rng.standard_normal((batch, filters) + out_spatial)
    return Draw(x, w, b, dout)


_CHUNK = 1 << 20  # normals per step when only advancing the stream: 8 MB at a time, never the whole draw


def _shapes(geom: Geometry, batch, channels, filters, in_spatial, k_spatial, bias):
    in_spatial, k_spatial = tuple(in_spatial), tuple(k_spatial)
    out_spatial = geom.out_shape(in_spatial, k_spatial)
    return [(batch, channels) + in_spatial, (filters, channels) + k_spatial] + ([(filters,)] if bias else []) + \
        [(batch, filters) + out_spatial]


class _Deferred:
    """A draw not made yet: the generator state it starts from and its sizes."""

    def __init__(self, rng: np.random.Generator, geom: Geometry, kwargs: dict, advance: bool = True):
        self.state = rng.bit_generator.state
        self.kind = type(rng.bit_generator)
        self.geom, self.kwargs = geom, kwargs
        for shape in _shapes(geom, **kwargs) if advance else ():  # advance the stream as random_draw would
            left = int(np.prod(shape))
            while left > 0:
                rng.standard_normal(min(left, _CHUNK))
                left -= _CHUNK

    def make(self) -> Draw:
        bits = self.kind()
        bits.state = self.state
        return random_draw(np.random.Generator(bits), self.geom, **self.kwargs)


def deferred_draw(rng: np.random.Generator, geom: Geometry, **kwargs) -> _Deferred:
    """What random_draw(rng, geom, **kwargs) would give, made only when first used.

    The stream advances now, so everything drawn after it is the same as with
    an eager draw; until then it holds no arrays (at 32x64x56x56 a draw is 100 MB,
    and draws made only for a diagnosis that a passing check never runs cost that
    for the whole run)."""
    return _Deferred(rng, geom, kwargs)


def remade_draw(rng: np.random.Generator, geom: Geometry, **kwargs):
    """random_draw now, plus the recipe that makes it again: (Draw, recipe) for Draws."""
    recipe = _Deferred(rng, geom, kwargs, advance=False)
    return replace(random_draw(rng, geom, **kwargs), recipe=recipe), recipe


class Draws(Sequence):
    """A problem's draws, some deferred: indexing makes a deferred draw once and keeps it.

    Items are Draws, deferred draws, or (Draw, recipe) pairs; release() lets go
    of every array that its recipe can make again."""

    def __init__(self, items):
        self._items, self._recipes = [], []
        for item in items:
            draw, recipe = item if isinstance(item, tuple) else (item, item if isinstance(item, _Deferred)
                                                                  else getattr(item, "recipe", None))
            self._items.append(draw)
            self._recipes.append(recipe)

    def release(self) -> None:
        self._items = [r if r is not None else d for d, r in zip(self._items, self._recipes)]

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self._items)))]
        item = self._items[i]
        if isinstance(item, _Deferred):
            item = self._items[i] = item.make()
        return item

    def __setitem__(self, i: int, draw: Draw) -> None:
        self._items[i], self._recipes[i] = draw, getattr(draw, "recipe", None)
