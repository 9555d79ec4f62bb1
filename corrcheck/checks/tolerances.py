"""Tolerances and finite-difference steps as data, per dtype of what the user returned."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    """One precision's entry: comparisons loosen and the finite-difference step grows as the user's dtype coarsens."""

    rtol: float
    atol: float          # scaled by the magnitude of the expected values (max(1, max|expected|))
    fd_step: float       # finite-difference step in units of the (unit-variance) inputs


TOLERANCES = {
    "float64": Tolerance(rtol=1e-6, atol=1e-8, fd_step=1e-3),
    "float32": Tolerance(rtol=1e-4, atol=1e-4, fd_step=1e-1),
    "float16": Tolerance(rtol=1e-2, atol=1e-2, fd_step=0.5),
}


def tolerance_for(dtype_note: str | None, rtol: float | None = None, atol: float | None = None) -> Tolerance:
    """The table entry for the precision the user's code returned, with any user overrides."""
    key = "float64"
    if dtype_note and "float16" in dtype_note:
        key = "float16"
    elif dtype_note and "float32" in dtype_note:
        key = "float32"
    t = TOLERANCES[key]
    return Tolerance(rtol if rtol is not None else t.rtol, atol if atol is not None else t.atol, t.fd_step)
