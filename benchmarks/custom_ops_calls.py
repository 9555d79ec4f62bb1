"""User calls: corrcheck vs torch.autograd.gradcheck on the same torch.autograd.Function.

Both tools get the same layer (examples/torch_function_*.py), the same shapes
(corrcheck's default problem: x 2x3x8x7, w 4x3x3x2, stride 2, pad 1) and the same
counting: a wrapper around the Function's own forward and backward staticmethods.

    python benchmarks/custom_ops_calls.py
"""
from __future__ import annotations

import functools
import importlib.util
import sys
import time
from pathlib import Path

import torch

import corrcheck

ROOT = Path(__file__).resolve().parent.parent


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def counted(cls):
    """Count calls of cls.forward / cls.backward (the user's code), whoever calls apply."""
    counts = {"forward": 0, "backward": 0}
    for name in counts:
        original = getattr(cls, name)

        @functools.wraps(original)
        def wrapper(ctx, *args, _original=original, _name=name):
            counts[_name] += 1
            return _original(ctx, *args)
        setattr(cls, name, staticmethod(wrapper))
    return counts


def gradcheck_calls(path):
    cls = load(path).StridedConv2d
    counts = counted(cls)
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    t0 = time.perf_counter()
    try:
        verdict = torch.autograd.gradcheck(lambda *t: cls.apply(*t, 2, 1), (x, w, b))
    except RuntimeError as exc:
        verdict = str(exc).splitlines()[0]
    return counts, verdict, time.perf_counter() - t0


def corrcheck_calls(path):
    cls = load(path).StridedConv2d
    counts = counted(cls)
    t0 = time.perf_counter()
    result = corrcheck.check(forward=cls.apply, stride=2, pad=1, timeout=60)
    return counts, result, time.perf_counter() - t0


def main():
    for name in ("torch_function_fixed.py", "torch_function_buggy.py"):
        path = ROOT / "examples" / name
        g, verdict, gs = gradcheck_calls(path)
        c, result, cs = corrcheck_calls(path)
        print(f"{name}")
        print(f"  gradcheck : forward {g['forward']:4d}  backward {g['backward']:3d}  {gs:6.2f} s  -> {verdict}")
        print(f"  corrcheck : forward {c['forward']:4d}  backward {c['backward']:3d}  {cs:6.2f} s  -> {result.verdict}"
              f" (JSON calls: {result.calls})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
