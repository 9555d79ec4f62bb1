"""Recognising PyTorch and JAX objects without importing either library.

corrcheck never imports torch or jax itself: they are what the user's file already
imported (so they are in sys.modules), or they are not involved at all.  Every
test here reads sys.modules first, so a NumPy-only run pays nothing.
"""
from __future__ import annotations

import inspect
import sys

from ..errors import UsageError

DEVICES = ("cpu", "cuda", "mps")
CTX_NAMES = ("ctx", "context")


def torch():
    """The torch module when the user's code imported it, else None."""
    return sys.modules.get("torch")


def jax():
    return sys.modules.get("jax")


def is_torch_function(cls) -> bool:
    """A torch.autograd.Function subclass (not Function itself)."""
    t = torch()
    if t is None or not inspect.isclass(cls):
        return False
    base = getattr(getattr(t, "autograd", None), "Function", None)
    return base is not None and cls is not base and issubclass(cls, base)


def is_torch_module(cls) -> bool:
    t = torch()
    if t is None or not inspect.isclass(cls):
        return False
    base = getattr(getattr(t, "nn", None), "Module", None)
    return base is not None and issubclass(cls, base) and cls.__module__.split(".")[0] != "torch"


def first_param(cls, method: str) -> str | None:
    raw = inspect.getattr_static(cls, method, None)
    fn = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
    if fn is None or not callable(fn):
        return None
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return None
    if isinstance(raw, classmethod) or (not isinstance(raw, staticmethod) and params[:1] == ["self"]):
        params = params[1:]
    return params[0] if params else None


def is_ctx_function(cls) -> bool:
    """The autograd-Function shape in any framework: static forward(ctx, ...) and backward(ctx, grad)
    (tinygrad-style NumPy code, or torch's own)."""
    if not inspect.isclass(cls):
        return False
    if is_torch_function(cls):
        return True
    back = "backward" if inspect.getattr_static(cls, "backward", None) is not None else None
    return back is not None and first_param(cls, "forward") in CTX_NAMES and first_param(cls, back) in CTX_NAMES


def jax_rule(obj) -> str | None:
    """'custom_vjp' / 'custom_jvp' for a jax function with a custom derivative rule, else None."""
    t = type(obj)
    if t.__module__.split(".")[0] != "jax":
        return None
    return t.__name__ if t.__name__ in ("custom_vjp", "custom_jvp") else None


def check_device(device: str, framework: str | None, convention: str) -> None:
    """--device names a device this machine has, for a convention that has devices (one sentence otherwise)."""
    if device not in DEVICES:
        raise UsageError(f"--device must be one of {', '.join(DEVICES)}, not {device!r}")
    if device == "cpu":
        return
    if framework == "torch":
        t = torch()
        ok = t is not None and (t.cuda.is_available() if device == "cuda" else
                                bool(getattr(getattr(t.backends, "mps", None), "is_available", lambda: False)()))
        if not ok:
            raise UsageError(f"--device {device}: torch sees no {device.upper()} device on this machine; "
                             f"use --device cpu (the default)")
        return
    if framework == "jax":
        j = jax()
        try:
            ok = device == "cuda" and bool(j.devices("gpu"))
        except Exception:                   # noqa: BLE001 - jax raises RuntimeError when no backend exists
            ok = False
        if not ok:
            raise UsageError(f"--device {device}: jax sees no {'GPU' if device == 'cuda' else device.upper()} "
                             f"device on this machine; use --device cpu (the default)")
        return
    raise UsageError(f"--device {device} applies to torch and jax code only; the {convention} code "
                     f"here works on NumPy arrays or lists, which live on the CPU")
