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


class _Deferred:
    """A draw not made yet: the generator state it starts from and its sizes."""

    def __init__(self, rng: np.random.Generator, geom: Geometry, kwargs: dict):
        self.state = rng.bit_generator.state
        self.kind = type(rng.bit_generator)
        self.geom, self.kwargs = geom, kwargs

    def make(self) -> Draw:
        bits = self.kind()
        bits.state = self.state
        return random_draw(np.random.Generator(bits), self.geom, **self.kwargs)


def deferred_draw(rng: np.random.Generator, geom: Geometry, **kwargs) -> _Deferred:
    """A draw from a generator spawned off rng, made only when first used.

    Spawning leaves rng's stream where it was, so everything drawn after does not
    depend on whether this draw is ever made, and deferring costs nothing: until it
    is used it holds no arrays (at 32x64x56x56 a draw is 100 MB, and generating it
    only to advance the stream took 0.2 s) and a passing check never uses it."""
    return _Deferred(rng.spawn(1)[0], geom, kwargs)


def remade_draw(rng: np.random.Generator, geom: Geometry, **kwargs):
    """random_draw now, plus the recipe that makes it again: (Draw, recipe) for Draws."""
    recipe = _Deferred(rng, geom, kwargs)
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

    def release(self, start: int = 0) -> None:
        """Let go of the arrays of draws start, start+1, ... that a recipe can make again."""
        self._items = self._items[:start] + [r if r is not None else d for d, r in
                                             zip(self._items[start:], self._recipes[start:])]

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
