"""The `corrcheck run ...` command line that reproduces one check on its own (shown in every report)."""
from __future__ import annotations

import shlex

from .config import DEFAULT_TIMEOUT, RunConfig
from .geometry import format_axes, format_pad
from .vocab import TARGETS


def reproduce_command(cfg: RunConfig, problem=None) -> str:
    """The options of `cfg`; with `problem`, its resolved geometry and sizes instead of the given ones."""
    parts = ["corrcheck", "run", *cfg.files]
    for flag in TARGETS:
        if getattr(cfg, flag):
            parts += [f"--{flag.replace('_', '-')}", getattr(cfg, flag)]
    if cfg.convention != "auto":
        parts += ["--convention", cfg.convention]
    if cfg.layout != "auto":
        parts += ["--layout", cfg.layout]
    if cfg.device != "cpu":
        parts += ["--device", cfg.device]
    if problem is not None:
        g = problem.geom
        parts += ["--stride", format_axes(g.stride)]
        parts += ["--pad", g.mode if g.mode else format_pad(g.pad)]
        if any(d != 1 for d in g.dilation):
            parts += ["--dilation", format_axes(g.dilation)]
        parts += ["--input-size", "x".join(map(str, problem.in_spatial)),
                  "--filter-size", "x".join(map(str, problem.k_spatial))]
    else:
        for opt in ("stride", "pad", "dilation"):
            if getattr(cfg, opt) is not None:
                parts += [f"--{opt}", str(getattr(cfg, opt))]
    for opt in ("channels", "filters", "batch"):
        if getattr(cfg, opt):
            parts += [f"--{opt}", str(getattr(cfg, opt))]
    if cfg.op != "correlate":
        parts += ["--op", cfg.op]
    parts += ["--seed", str(cfg.seed)]
    # The checking options change the verdict too: a rerun without them could pass, or time out.
    for opt in ("rtol", "atol"):
        if getattr(cfg, opt) is not None:
            parts += [f"--{opt}", str(getattr(cfg, opt))]
    if cfg.timeout is not None and cfg.timeout != DEFAULT_TIMEOUT:
        parts += ["--timeout", f"{cfg.timeout:.12g}"]
    if cfg.exhaustive:
        parts.append("--exhaustive")
    return " ".join(shlex.quote(str(p)) for p in parts)
