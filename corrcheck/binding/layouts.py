"""Axis orders: moving arrays between the canonical layout and the user's.

Canonical (PyTorch's): x (N, C, *S), w (F, C, *K), out (N, F, *O), b (F,).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..vocab import POOL_OPS, LayoutName


@dataclass(frozen=True)
class Layout:
    """One axis order (how many spatial axes, whether batch and channel axes exist, where channels sit),
    so a single object converts every array between it and the canonical layout."""

    name: str
    spatial: int
    channels: bool
    batch: bool
    channels_last: bool = False

    # ---- user -> canonical -------------------------------------------------
    def x_from_user(self, a: np.ndarray) -> np.ndarray:
        """A user-layout input as canonical (N, C, *S)."""
        return self._act_from_user(a)

    def out_from_user(self, a: np.ndarray) -> np.ndarray:
        """A user-layout output (or output gradient) as canonical (N, F, *O)."""
        return self._act_from_user(a)

    def w_from_user(self, a: np.ndarray) -> np.ndarray:
        """A user-layout filter as canonical (F, C, *K)."""
        if not self.channels:
            return a.reshape((1, 1) + a.shape)
        if self.channels_last:                       # (*K, C, F) -> (F, C, *K)
            return np.moveaxis(a, (-1, -2), (0, 1))
        return a

    # ---- canonical -> user -------------------------------------------------
    def x_to_user(self, a: np.ndarray) -> np.ndarray:
        """A canonical (N, C, *S) input in the user's layout."""
        return self._act_to_user(a)

    def out_to_user(self, a: np.ndarray) -> np.ndarray:
        """A canonical (N, F, *O) output (or output gradient) in the user's layout."""
        return self._act_to_user(a)

    def w_to_user(self, a: np.ndarray) -> np.ndarray:
        """A canonical (F, C, *K) filter in the user's layout."""
        if not self.channels:
            return a[0, 0]
        if self.channels_last:                       # (F, C, *K) -> (*K, C, F)
            return np.moveaxis(a, (0, 1), (-1, -2))
        return a

    # ---- shapes ------------------------------------------------------------
    def x_shape(self, n, c, spatial) -> tuple[int, ...]:
        """The user-layout shape of N inputs with C channels of this spatial size."""
        return self._act_shape(n, c, spatial)

    def out_shape(self, n, f, spatial) -> tuple[int, ...]:
        """The user-layout shape of N outputs with F channels of this spatial size."""
        return self._act_shape(n, f, spatial)

    def w_shape(self, f, c, kernel) -> tuple[int, ...]:
        """The user-layout shape of F filters over C channels with this kernel size."""
        if not self.channels:
            return tuple(kernel)
        if self.channels_last:
            return tuple(kernel) + (c, f)
        return (f, c) + tuple(kernel)

    def act_index(self, canonical: tuple[int, ...]) -> tuple[int, ...]:
        """Canonical (n, c, *s) index -> the user's index of the same entry."""
        n, c, *s = canonical
        if not self.channels:
            return tuple(s)
        if not self.batch:
            return (c, *s)
        if self.channels_last:
            return (n, *s, c)
        return (n, c, *s)

    def w_index(self, canonical: tuple[int, ...]) -> tuple[int, ...]:
        """A canonical filter index (f, c, *k) in the user's layout."""
        f, c, *k = canonical
        if not self.channels:
            return tuple(k)
        if self.channels_last:
            return (*k, c, f)
        return (f, c, *k)

    # ---- helpers -----------------------------------------------------------
    def _act_from_user(self, a):
        if not self.channels:
            return a.reshape((1, 1) + a.shape)
        if not self.batch:
            return a[None]
        if self.channels_last:
            return np.moveaxis(a, -1, 1)
        return a

    def _act_to_user(self, a):
        if not self.channels:
            return a[0, 0]
        if not self.batch:
            return a[0]
        if self.channels_last:
            return np.moveaxis(a, 1, -1)
        return a

    def _act_shape(self, n, c, spatial):
        spatial = tuple(spatial)
        if not self.channels:
            return spatial
        if not self.batch:
            return (c,) + spatial
        if self.channels_last:
            return (n,) + spatial + (c,)
        return (n, c) + spatial


LAYOUTS = {layout.name: layout for layout in (
    Layout(LayoutName.W, 1, False, False),
    Layout(LayoutName.HW, 2, False, False),
    Layout(LayoutName.DHW, 3, False, False),
    Layout(LayoutName.CHW, 2, True, False),
    Layout(LayoutName.NCHW, 2, True, True),
    Layout(LayoutName.NHWC, 2, True, True, channels_last=True),
    Layout(LayoutName.NCDHW, 3, True, True),
    Layout(LayoutName.NCW, 1, True, True),
    Layout(LayoutName.NWC, 1, True, True, channels_last=True),
)}


def spatial_sizes(config: dict) -> tuple[tuple, tuple]:
    """(input spatial size, window or filter spatial size) of a window op result's config, in any of
    its layouts: a LAYOUTS name, or (N, C, *S) with (F, C/G, *K) otherwise ('ncw', 'ncdhw')."""
    layout = LAYOUTS.get(config.get("layout"))
    shape, k = tuple(config.get("input_shape", [])), tuple(config.get("filter_shape", []))
    pool = config.get("op") in POOL_OPS
    if layout is None or (layout.batch and layout.channels and not layout.channels_last):
        return shape[2:], (k if pool else k[2:])
    n = shape[1:-1] if layout.channels_last else shape[len(shape) - layout.spatial:]
    return n, (k if pool or not layout.channels else (k[:-2] if layout.channels_last else k[2:]))
