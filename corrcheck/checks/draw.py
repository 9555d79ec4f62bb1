"""One random draw of canonical arrays: what a user function and every mutant see together.

Diagnosis compares the user's output with each catalogued mistake on the same
draw, so the draw is a plain frozen value that can be handed around.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..geometry import Geometry

__all__ = ["Draw", "random_draw"]


@dataclass(frozen=True)
class Draw:
    """x (N,C,*S), w (F,C,*K), b (F,) or None, dout (N,F,*O): canonical float64 arrays."""

    x: np.ndarray
    w: np.ndarray
    b: np.ndarray | None
    dout: np.ndarray

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
