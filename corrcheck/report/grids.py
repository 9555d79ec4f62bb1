"""Pictures made of characters: error maps, the sweep's stride x pad matrix, loss sparklines.

Each turns an array or a list of outcomes into a small grid a learner can read a
pattern from (a wrong border, every s-th row, a loss that climbs) without numbers.
"""
from __future__ import annotations

import re

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..geometry import format_axes, format_pad
from .console import NORMAL, VERBOSE
from ..vocab import Target

__all__ = ["OK_MARK", "BAD_MARK", "error_map", "sweep_matrix", "render_loss_curves", "sparkline", "num"]

MAP_ROWS, MAP_COLS = 24, 40    # error-map grid is cropped beyond this
MAP_SLICES_VERBOSE = 4         # leading-axis slices shown with -v (1 otherwise)
OK_MARK, BAD_MARK = "·", "✗"
SPARKS = "▁▂▃▄▅▆▇█"
LOG_SPAN = 100.0               # a positive curve spanning more than this ratio is drawn on a log scale


def num(value) -> str:
    """A number as the report prints it; None (not computed) shows as nothing."""
    return "" if value is None else f"{value:.6g}"


# ---------------------------------------------------------------- error maps

def error_map(mask, target: str = "output", verbosity: int = NORMAL) -> Group | None:
    """The wrong/ok grid of the last two axes, so patterns (border, every s-th row) are visible."""
    m = np.asarray(mask, dtype=bool)
    while m.ndim > 1 and m.shape[0] == 1:
        m = m[0]                        # batch/channel axes of size 1 say nothing: show the grid
    if m.ndim == 0 or m.size == 0:
        return None
    if m.ndim == 1:
        views = [((), m[None, :])]
    else:
        lead = m.shape[:-2]
        flat = m.reshape((-1,) + m.shape[-2:])
        indices = list(np.ndindex(*lead)) if lead else [()]
        wrong = [i for i, s in enumerate(flat) if s.any()] or [0]
        keep = wrong[: MAP_SLICES_VERBOSE if verbosity >= VERBOSE else 1]
        views = [(indices[i], flat[i]) for i in keep]
    shape = "x".join(str(n) for n in m.shape)
    name = "output" if target == Target.FORWARD else target
    parts = []
    for lead_index, grid in views:
        where = ""
        if lead_index:
            where = f", slice [{', '.join(str(i) for i in lead_index)}, :, :]"
        caption = f"error map of {name} ({shape}{where}; {BAD_MARK} wrong, {OK_MARK} ok)"
        parts.append(Text(caption, style="dim"))
        parts.append(_grid_text(grid, one_d=m.ndim == 1))
    if m.ndim > 2 and verbosity < VERBOSE:
        with_errors = sum(1 for s in m.reshape((-1,) + m.shape[-2:]) if s.any())
        if with_errors > 1:
            parts.append(Text(f"… {with_errors - 1} more slices with mismatches (use -v)", style="dim"))
    return Group(*parts)


def _grid_text(grid, one_d: bool) -> Text:
    rows, cols = grid.shape
    shown = grid[:MAP_ROWS, :MAP_COLS]
    label_w = 0 if one_d else len(str(min(rows, MAP_ROWS) - 1))
    text = Text(" " * (label_w + 1) + " ".join(str(j % 10) for j in range(shown.shape[1])) + "\n", style="dim")
    for i, row in enumerate(shown):
        if not one_d:
            text.append(str(i).rjust(label_w) + " ", style="dim")
        else:
            text.append(" ")
        for j, bad in enumerate(row):
            text.append(BAD_MARK if bad else OK_MARK, style="bold red" if bad else "green")
            if j < len(row) - 1:
                text.append(" ")
        text.append("\n")
    if rows > MAP_ROWS or cols > MAP_COLS:
        text.append(f"(cropped to {shown.shape[0]}x{shown.shape[1]} of {rows}x{cols})\n", style="dim")
    text.rstrip()
    return text


# ---------------------------------------------------------------- sweep matrix

def sweep_matrix(rows) -> Table | None:
    """stride (rows) x pad (columns); a cell says ✓, ✗, or how many of its sizes fail."""
    cells: dict = {}
    for config, passed, *_ in rows:
        if "stride" not in config or "pad" not in config:
            return None
        key = (format_axes(config["stride"]), format_pad(config["pad"]))
        cells.setdefault(key, []).append(bool(passed))
    if not cells:
        return None
    strides = sorted({k[0] for k in cells}, key=_natural)
    pads = sorted({k[1] for k in cells}, key=_natural)
    table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None)
    table.add_column("stride \\ pad", style="bold")
    for p in pads:
        table.add_column(p, justify="center")
    for s in strides:
        row = []
        for p in pads:
            results = cells.get((s, p))
            if not results:
                row.append(Text(""))
            elif all(results):
                row.append(Text("✓", style="green"))
            elif not any(results):
                row.append(Text(BAD_MARK, style="bold red"))
            else:
                row.append(Text(f"{BAD_MARK} {results.count(False)}/{len(results)}", style="red"))
        table.add_row(s, *row)
    return table


def _natural(label: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", label)]


# ---------------------------------------------------------------- loss curves

def render_loss_curves(curves: dict) -> Table:
    """Loss per training step as sparklines: a correct gradient descends, a wrong one may climb."""
    table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None,
                  title="loss during training (log scale when it spans decades)", title_justify="left")
    for name, justify in (("run", "left"), ("loss", "left"), ("first", "right"), ("last", "right")):
        table.add_column(name, justify=justify)
    for name, values in curves.items():
        values = [float(v) for v in values]
        table.add_row(Text(str(name), overflow="fold"), Text(sparkline(values), style="cyan", no_wrap=True),
                      num(values[0]) if values else "", num(values[-1]) if values else "")
    return table


def sparkline(values, width: int = 40) -> str:
    """One block character per (averaged) step; non-finite values show as '!'."""
    if not values:
        return ""
    arr = np.asarray(values, dtype=float)
    if len(arr) > width:
        arr = np.array([chunk.mean() for chunk in np.array_split(arr, width)])
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return "!" * len(arr)
    if finite.min() > 0 and finite.max() / finite.min() > LOG_SPAN:
        arr, finite = np.log10(arr), np.log10(finite)   # losses span decades: show them on a log scale
    lo, hi = finite.min(), finite.max()
    span = hi - lo or 1.0
    return "".join("!" if not np.isfinite(v) else SPARKS[int((v - lo) / span * (len(SPARKS) - 1))] for v in arr)
