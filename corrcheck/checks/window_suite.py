"""Checks of a grouped, transposed or pooling layer: reference_ops and finite differences.

The same three questions as checks/suite.py asks of a dense correlation, on
draws shaped for the op: forward vs the reference, each gradient vs the
reference, each gradient vs central differences of the user's own forward
along random directions. Max pooling draws inputs without near-ties (distinct
values at least 1/size apart), so a finite-difference step never moves a
window's maximum to another cell.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import reference_ops as R
from ..errors import UserCallError, UserTimeout
from ..geometry import Geometry
from ..result import CheckResult
from ..vocab import POOL_OPS, Against, Convention, Op, Status
from .compare import compare
from .tolerances import tolerance_for

FD_DIRECTIONS = 3
FD_STEP = 1e-4


@dataclass(frozen=True)
class WindowDraw:
    """Canonical arrays: x (N,C,*S); w per op (None for pooling); b; dout (N,F,*O); the pooling window."""

    x: np.ndarray
    w: np.ndarray | None
    b: np.ndarray | None
    dout: np.ndarray
    window: tuple = ()


def make_draw(rng, op: str, geom: Geometry, *, batch, channels, filters, in_spatial, k_spatial, bias=True):
    x_shape = (batch, channels) + tuple(in_spatial)
    if op in POOL_OPS:
        size = int(np.prod(x_shape))
        x = (rng.permutation(size).reshape(x_shape) - size / 2) * (4.0 / size)   # no near-ties
        x = x + rng.uniform(0, 0.1 / size, x_shape)
        out = geom.out_shape(in_spatial, k_spatial)
        return WindowDraw(x, None, None, rng.standard_normal((batch, channels) + out), tuple(k_spatial))
    x = rng.standard_normal(x_shape)
    if op == Op.TRANSPOSE:
        w = rng.standard_normal((channels, filters // geom.groups) + tuple(k_spatial))
    else:
        w = rng.standard_normal((filters, channels // geom.groups) + tuple(k_spatial))
    out = geom.out_shape(in_spatial, k_spatial)
    b = rng.standard_normal(filters) if bias else None
    return WindowDraw(x, w, b, rng.standard_normal((batch, filters) + out), tuple(k_spatial))


def expected(op: str, target: str, d: WindowDraw, geom: Geometry) -> np.ndarray:
    if op in POOL_OPS:
        if target == "forward":
            return R.pool_forward(d.x, d.window, geometry=geom)
        return R.pool_grad_input(d.dout, d.x, d.window, geometry=geom)
    if target == "grad_bias":
        return R.grad_bias(d.dout)
    if op == Op.TRANSPOSE:
        fn = {"forward": lambda: R.transpose_forward(d.x, d.w, d.b, geometry=geom),
              "grad_input": lambda: R.transpose_grad_input(d.dout, d.w, d.x.shape, geometry=geom),
              "grad_filter": lambda: R.transpose_grad_filter(d.dout, d.x, d.w.shape, geometry=geom)}
    else:
        fn = {"forward": lambda: R.conv_forward(d.x, d.w, d.b, geometry=geom),
              "grad_input": lambda: R.conv_grad_input(d.dout, d.w, d.x.shape, geometry=geom),
              "grad_filter": lambda: R.conv_grad_filter(d.dout, d.x, d.w.shape, geometry=geom)}
    return fn[target]()


def _shape_fail(target, against, got, want, note=None) -> CheckResult:
    return CheckResult(target=target, against=against, status=Status.FAIL, total=int(np.prod(want)),
                       message=f"returned shape {tuple(got)}, expected {tuple(want)}", config_note=note)


def check(op_obj, geom: Geometry, d: WindowDraw, rng, cfg) -> tuple[list[CheckResult], dict]:
    """All checks on one draw; returns (checks, {target: user array or None})."""
    tol = tolerance_for(None, cfg.rtol, cfg.atol)
    checks, user = [], {}
    op = op_obj.op
    hung = raised = None
    try:
        user["forward"] = op_obj.forward(d.x, d.w, d.b)
    except UserCallError as err:
        user["forward"] = None
        hung = err if isinstance(err, UserTimeout) else None
        raised = err
        checks.append(CheckResult(target="forward", against=Against.REFERENCE, status=Status.ERROR, message=err.message,
                                  traceback=err.traceback, timed_out=hung is not None))
    skipped = None
    try:
        if hung is not None:               # a backward runs the forward first: it would hang again
            raise UserTimeout(f"not run: the forward it needs first did not return ({hung.message})")
        if raised is not None and op_obj.needs_forward:
            # a cache or a layer's state comes from the forward: the backward never runs, so it is not judged
            skipped = f"not run: the backward needs the forward's cache or state, and {raised.message}"
            raise UserCallError(skipped)
        grads = op_obj.grads(d.dout, d.x, d.w, d.b) if len(op_obj.targets) > 1 else {}
        grad_error = None
    except UserCallError as err:
        grads, grad_error = {}, err
    for target in op_obj.targets:
        if target == "forward":
            got = user["forward"]
        else:
            got = grads.get(target)
            user[target] = got
            if got is None and grad_error is None and op_obj.convention == Convention.LAYER and target != "grad_input":
                continue            # this layer keeps no such gradient attribute: nothing to check
            if got is None:
                msg = grad_error.message if grad_error else f"the backward returned no {target.replace('_', ' ')}"
                checks.append(CheckResult(target=target, against=Against.REFERENCE,
                                          status=Status.SKIPPED if skipped else Status.ERROR, message=msg,
                                          traceback=getattr(grad_error, "traceback", None),
                                          timed_out=isinstance(grad_error, UserTimeout)))
                continue
        if got is None:
            continue
        want = expected(op, target, d, geom)
        if got.shape != want.shape:
            checks.append(_shape_fail(target, Against.REFERENCE, got.shape, want.shape))
            continue
        checks.append(compare(target, Against.REFERENCE, got, want, tol, mode="direct"))
    if user.get("forward") is not None:
        checks += _finite_differences(op_obj, d, user, tol, rng)
    return checks, user


def _finite_differences(op_obj, d: WindowDraw, user: dict, tol, rng) -> list[CheckResult]:
    """<grad, v> against (L(a + hv) - L(a - hv)) / 2h, L = sum(dout * forward), along random v."""
    out = []
    if user["forward"].shape != d.dout.shape:
        return out
    for target, arg in (("grad_input", "x"), ("grad_filter", "w"), ("grad_bias", "b")):
        g = user.get(target)
        base = getattr(d, arg)
        if g is None or base is None or g.shape != base.shape:
            continue
        worst, bad = 0.0, 0
        for _ in range(FD_DIRECTIONS):
            v = rng.standard_normal(base.shape)
            vals = []
            for sign in (1, -1):
                moved = {"x": d.x, "w": d.w, "b": d.b}
                moved[arg] = base + sign * FD_STEP * v
                try:
                    y = op_obj.forward(moved["x"], moved["w"], moved["b"])
                except UserCallError:
                    return out
                vals.append(float(np.sum(d.dout * y)))
            fd = (vals[0] - vals[1]) / (2 * FD_STEP)
            an = float(np.sum(g * v))
            err = abs(fd - an)
            worst = max(worst, err)
            if err > 1e-5 * max(1.0, abs(fd)) + tol.atol * 100:
                bad += 1
        out.append(CheckResult(target=target, against=Against.FINITE_DIFFERENCES, status=Status.FAIL if bad else Status.PASS,
                               max_abs_error=worst, mismatches=bad, total=FD_DIRECTIONS, mode="directional",
                               message=(f"{bad} of {FD_DIRECTIONS} random-direction derivatives of your forward "
                                        f"disagree with this gradient") if bad else None))
    return out
