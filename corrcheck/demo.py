"""`corrcheck demo`: the forum question's bug, found and explained, next to its fix and a training run.

The example is a Python port of the question's JavaScript (corrcheck/demo_files):
the forward reads the filter at the output position and puts the stride on the
tap, while the filter gradient is right. corrcheck shows the mismatches and the
diagnosis, then the corrected file passing, then what each does to gradient
descent: the buggy pair does not descend, the fixed one converges.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from . import reference
from .binding.layouts import LAYOUTS
from .checks.problem import build_problem
from .runner import run
from .errors import UsageError
from .vocab import DEMO_OP_CHOICES, Op

DEMO_DIR = Path(__file__).parent / "demo_files"
BUGGY, FIXED = DEMO_DIR / "seed_buggy.py", DEMO_DIR / "seed_fixed.py"
STEPS = 60


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(f"_corrcheck_demo_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _demo_config(cfg, path: Path):
    return cfg.replace(files=(str(path),), forward="corre", grad_filter="backprop_filter", convention="functional",
                       layout="hw")


def loss_curve(path: Path, cfg, steps: int = STEPS) -> list[float]:
    """Fit a filter to a target made by the reference, with the file's own forward and filter gradient."""
    mod = _module(path)
    problem = build_problem(cfg.replace(layout="hw"), 2, LAYOUTS["hw"])
    geom = problem.geom
    rng = np.random.default_rng(cfg.seed + 7)
    inp = rng.uniform(-1, 1, problem.in_spatial)
    wanted = rng.uniform(-1, 1, problem.k_spatial)
    target = reference.forward(inp[None, None], wanted[None, None], geometry=geom)[0, 0]
    # step size 1/L from the reference's own Jacobian, so the correct gradient converges
    k = int(np.prod(problem.k_spatial))
    cols = np.stack([reference.forward(inp[None, None], e.reshape((1, 1) + problem.k_spatial), geometry=geom).ravel()
                     for e in np.eye(k)], axis=1)
    lr = 1.0 / max(np.linalg.norm(cols, 2) ** 2, 1e-12)
    s, p = geom.stride[0], geom.pad[0][0]
    fs = problem.k_spatial if len(set(problem.k_spatial)) > 1 else problem.k_spatial[0]
    f = np.zeros(problem.k_spatial)
    losses = []
    for _ in range(steps):
        out = np.asarray(mod.corre(inp.tolist(), f.tolist(), s, p), dtype=float)
        if out.shape != target.shape:
            break
        d_o = out - target
        losses.append(float(0.5 * np.sum(d_o ** 2)))
        d_f = np.asarray(mod.backprop_filter(fs, d_o.tolist(), inp.tolist(), s, p), dtype=float)
        f = f - lr * d_f
        if not np.all(np.isfinite(f)) or losses[-1] > 1e12:
            break
    return losses


OP_DEMOS = {
    # op: (file stem, what the learner wrote, what slipped)
    Op.TRANSPOSE: ("transpose", "a decoder's hand-written transposed convolution",
                  "the stride multiplies the filter tap instead of the input position"),
    Op.MAXPOOL: ("maxpool", "a hand-written max pooling layer",
                "the backward routes each gradient to the window offset without the stride"),
}


def run_op_demo(cfg, fixed_only: bool = False):
    """`corrcheck demo --op transpose|maxpool`: a learner's layer with one mistake, named, located,
    fixed by a verified edit; then the corrected file passing."""
    stem, what, slip = OP_DEMOS[cfg.op]
    buggy, fixed = DEMO_DIR / f"{stem}_buggy.py", DEMO_DIR / f"{stem}_fixed.py"
    sections = []
    if not fixed_only:
        sections.append((f"{what}, with a slip: {slip} ({buggy.name})",
                         run(cfg.replace(files=(str(buggy),), fix=True))))
    sections.append((f"the same code with the slip fixed ({fixed.name})", run(cfg.replace(files=(str(fixed),)))))
    return sections


def run_demo(cfg, fixed_only: bool = False):
    """Titled sections for the report: the buggy run, the fixed run, and the loss curves."""
    if cfg.op in OP_DEMOS:
        return run_op_demo(cfg, fixed_only)
    if cfg.op != Op.CORRELATE:          # the forum question's code is a correlation
        raise UsageError(f"the demo has no --op {cfg.op} variant (it has {', '.join(DEMO_OP_CHOICES)}); "
                         f"examples/ops has a buggy/fixed pair per op to run instead")
    sections = []
    if not fixed_only:
        # the buggy run also searches for the verified fix: the diff the learner would apply
        sections.append(("the forum question's code (seed_buggy.py)", run(_demo_config(cfg, BUGGY).replace(fix=True))))
    sections.append(("the same code with the two slips fixed (seed_fixed.py)", run(_demo_config(cfg, FIXED))))
    if not fixed_only:
        sections.append(("gradient descent: fit a filter to a target, lr = 1/L",
                         {"buggy forward + true gradient": loss_curve(BUGGY, cfg),
                          "fixed forward + true gradient": loss_curve(FIXED, cfg)}))
    return sections
