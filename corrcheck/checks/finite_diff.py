"""Gradients of the user's OWN forward, by finite differences, at a cost that does not grow with size.

For L(x, w, b) = <G, forward(x, w, b)>, the gradient the user's backward
returns for G must equal dL. Central differences per entry (exhaustive) cost
two forward calls per entry; a random direction v costs one or two calls and
checks <grad, v> against the directional derivative (torch gradcheck's fast
mode, PyLops' dottest). When a direction disagrees, group testing with
directions supported on halves, quarters, ... of the entries finds the wrong
entries with O(wrong * log size) calls.
"""
from __future__ import annotations

import time

import numpy as np

from .draw import Draw
from ..geometry import Geometry
from .tolerances import Tolerance

ARGS = {"grad_input": "x", "grad_filter": "w", "grad_bias": "b"}


class Objective:
    """L(θ) = <G, user_forward(...)> with one argument perturbed; counts nothing itself (BoundOp does)."""

    def __init__(self, op, draw: Draw, geom: Geometry, target: str, tol: Tolerance, base=None,
                 L0: float | None = None):
        self.op, self.draw, self.geom, self.tol = op, draw, geom, tol
        self.arg = ARGS[target]
        self.base_value = getattr(draw, self.arg)
        self.h = tol.fd_step
        # the forward's output at the draw itself, when the caller already has it: saves a call
        self._L0 = L0 if base is None else inner(draw.dout, base)

    def L(self, delta: np.ndarray | None, owned: bool = False) -> float:
        """The scalar sum(dout * forward) with one argument moved by delta: its derivative is the gradient.

        owned: delta is the caller's temporary, so the perturbed values are written into it."""
        d = self.draw
        vals = {"x": d.x, "w": d.w, "b": d.b}
        if delta is not None:
            delta = delta.reshape(self.base_value.shape)
            if owned and delta.dtype == self.base_value.dtype:
                vals[self.arg] = np.add(delta, self.base_value, out=delta)   # one array the size of x, not two
            else:
                vals[self.arg] = self.base_value + delta
        out = self.op.forward(vals["x"], vals["w"], vals["b"], self.geom,
                              scratch_x=owned and delta is not None and self.arg == "x")
        return inner(d.dout, out)

    @property
    def L0(self) -> float:
        """L at the unperturbed inputs, computed once."""
        if self._L0 is None:
            self._L0 = self.L(None)
        return self._L0

    def noise(self, *values) -> float:
        """Rounding noise of a difference quotient, from the magnitudes of the L values."""
        eps = 1e-6 if self.tol.rtol >= 1e-4 else 1e-13
        return eps * (abs(self.L0) + sum(abs(v) for v in values) + 1.0) / self.h

    def central(self, v: np.ndarray) -> float:
        """The directional derivative of L along v by a central difference."""
        return (self.L(self.h * v, owned=True) - self.L(-self.h * v, owned=True)) / (2 * self.h)


def inner(a: np.ndarray, b: np.ndarray) -> float:
    """<a, b> without a product array the size of the output (50 MB at large shapes)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return float(np.sum(a * b))  # broadcasting, as before
    if a.strides == b.strides:
        return float(np.dot(a.ravel(order="K"), b.ravel(order="K")))  # same memory order: views, no copy
    return float(np.vdot(a, b))


def exhaustive(obj: Objective) -> np.ndarray:
    """Per-entry central differences: the full gradient of the user's forward."""
    n = obj.base_value.size
    g = np.empty(n)
    e = np.zeros(n)
    for i in range(n):
        e[i] = 1.0
        g[i] = obj.central(e)
        e[i] = 0.0
    return g.reshape(obj.base_value.shape)


def directional(obj: Objective, grad: np.ndarray, rng: np.random.Generator, *, directions: int = 1,
                budget: int = 400, seconds: float | None = None) -> tuple[bool, dict[int, float], bool]:
    """Check grad along random directions; on failure localise the wrong entries.

    Returns (passed, {flat index: true derivative} for wrong entries, complete)
    where complete is False when the call budget stopped the localisation.
    """
    g = grad.reshape(-1)
    n = g.size
    affine = True
    for k in range(directions):
        v = rng.uniform(-1.0, 1.0, n)      # any zero-mean direction will do; uniform draws cost 1/3 of normal ones
        plus, minus = obj.L(obj.h * v, owned=True), obj.L(-obj.h * v, owned=True)
        if k == 0:
            curvature = abs(plus + minus - 2 * obj.L0)
            affine = curvature <= 10 * obj.noise(plus, minus) * obj.h
        fd = (plus - minus) / (2 * obj.h)
        if not _agrees(float(g @ v), fd, np.abs(g * v).sum(), obj, plus, minus):
            deadline = None if seconds is None else time.perf_counter() + seconds
            wrong, complete = _localise(obj, g, rng, affine, budget, deadline)
            return False, wrong, complete
    return True, {}, True


def _agrees(lhs, rhs, mag, obj, *values) -> bool:
    return abs(lhs - rhs) <= obj.tol.rtol * mag + obj.tol.atol * max(1.0, mag) * 1e-2 + obj.noise(*values)


def _localise(obj: Objective, g: np.ndarray, rng, affine: bool, budget: int, deadline: float | None = None):
    """Bisect the index set, keeping only halves whose random direction disagrees."""
    calls = 0
    wrong: dict[int, float] = {}

    def derivative(v):
        nonlocal calls
        if affine:
            calls += 1
            val = obj.L(obj.h * v, owned=True)
            return (val - obj.L0) / obj.h, (val,)
        calls += 2
        p, m = obj.L(obj.h * v, owned=True), obj.L(-obj.h * v, owned=True)
        return (p - m) / (2 * obj.h), (p, m)

    def dirty(idx: np.ndarray) -> tuple[bool, float]:
        v = np.zeros(g.size)
        v[idx] = 1.0 if idx.size == 1 else rng.standard_normal(idx.size)
        d, vals = derivative(v)
        return not _agrees(float(g[idx] @ v[idx]), d, np.abs(g[idx] * v[idx]).sum(), obj, *vals), d

    stack = [np.arange(g.size)]           # known-dirty groups
    while stack:
        if calls >= budget or (deadline is not None and time.perf_counter() > deadline):
            return _confirmed(obj, g, wrong), False
        group = stack.pop()
        if group.size == 1:
            _, d = dirty(group)            # the singleton's direction gives the true derivative
            wrong[int(group[0])] = d
            continue
        left, right = group[: group.size // 2], group[group.size // 2:]
        left_dirty, _ = dirty(left)
        if left_dirty:
            stack.append(left)
            right_dirty, _ = dirty(right)
            if right_dirty:
                stack.append(right)
        else:
            stack.append(right)           # the parent is dirty and the left half is clean
    return _confirmed(obj, g, wrong), True


def _confirmed(obj, g, wrong):
    """Singletons reached through "the left half was clean" were never compared: keep the real ones."""
    return {i: d for i, d in wrong.items() if not _agrees(float(g[i]), d, abs(g[i]), obj, obj.L0)}
