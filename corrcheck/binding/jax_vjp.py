"""JAX functions with a custom derivative rule (`jax.custom_vjp` / `jax.custom_jvp`).

The forward is the decorated function called on float64 arrays (corrcheck turns
on `jax_enable_x64`, as a float64 check needs); the gradients are `jax.vjp` of it,
which runs the user's fwd/bwd pair (or transposes the user's jvp rule).  Stride
and padding are passed as Python numbers, closed over, so they are static whether
or not the rule lists them in `nondiff_argnums`.
"""
from __future__ import annotations

import numpy as np

from .conventions import assign_roles, build_call, role_values
from .frameworks import jax
from ..vocab import Convention
from ..errors import UnusableOutput
from ..loader.functions import UserFunction

ROLE_TARGET = {"input": "grad_input", "filter": "grad_filter", "bias": "grad_bias"}


class JaxImpl:
    convention = Convention.JAX
    compiles = True            # first calls at a new shape compile (bound.py allows them longer)

    def __init__(self, fn: UserFunction, device: str = "cpu"):
        self.fn = fn
        self.rule = fn.extra.get("jax_rule") or "custom_vjp"
        self.device = device
        has_bias = any(p.name.lower() in ("b", "bias", "biases") for p in fn.params)
        self.roles = assign_roles(fn, "forward", has_bias=has_bias)
        self.has_bias = "bias" in self.roles.values()
        self.binding_notes = [
            f"{fn.name} ({self.rule}): " + ", ".join(f"{p} = {r.replace('_', ' ')}" for p, r in self.roles.items())
            + "; gradients by jax.vjp through its custom rule, float64 (jax_enable_x64)"]

    def takes(self, role: str) -> bool:
        return role in self.roles.values()

    @property
    def targets(self):
        return ("forward", "grad_input", "grad_filter") + (("grad_bias",) if self.has_bias else ())

    @property
    def names(self):
        rule = "bwd" if self.rule == "custom_vjp" else "jvp"
        d = {"forward": self.fn.name}
        d.update({t: f"{self.fn.name} ({rule} rule)" for t in self.targets if t != "forward"})
        return d

    def _jax(self):
        j = jax()
        if not j.config.jax_enable_x64:
            j.config.update("jax_enable_x64", True)
        return j

    def _call(self, args):
        """Positional arguments with jnp float64 arrays for input/filter/bias; the array roles' positions."""
        j = self._jax()
        values = role_values(args, "forward")
        dev = j.devices("gpu")[0] if self.device == "cuda" else j.devices("cpu")[0]
        for role in ROLE_TARGET:
            if values.get(role) is not None:
                values[role] = j.device_put(np.asarray(values[role], dtype=np.float64), dev)
        a, kw = build_call(self.fn, self.roles, values)
        names = [p.name for p in self.fn.params if p.kind == "positional"][:len(a)]
        diff = {ROLE_TARGET[self.roles[n]]: i for i, n in enumerate(names) if self.roles.get(n) in ROLE_TARGET}
        return a, kw, diff

    def forward(self, args, caller):
        a, kw, _ = self._call(args)
        return caller("forward")(self.fn, *a, **kw)

    def gradients(self, target, args, caller):
        j = self._jax()
        a, kw, diff = self._call(args)
        order = list(diff)
        fn = self.fn.call

        def closed(*arrays):
            full = list(a)
            for t, v in zip(order, arrays):
                full[diff[t]] = v
            return fn(*full, **kw)

        def linearize(*arrays):
            return j.vjp(closed, *arrays)

        out, vjp_fn = caller("forward")(UserFunction(name=self.fn.name, params=(), call=linearize, file=self.fn.file),
                                        *[a[diff[t]] for t in order])
        shape = tuple(getattr(out, "shape", ()))
        if shape != tuple(args.out_shape):
            raise UnusableOutput(f"{self.fn.name} returned shape {shape}, expected {tuple(args.out_shape)}",
                                 got_shape=shape)
        g = j.numpy.asarray(np.asarray(args.dout, dtype=np.float64), dtype=out.dtype)
        grads = caller("grad_input")(UserFunction(name=self.names["grad_input"], params=(), call=vjp_fn,
                                                  file=self.fn.file), g)
        return {t: (v if v is not None else UnusableOutput(f"{self.names[t]} gave no {t.replace('_', ' ')}"))
                for t, v in zip(order, grads)}
