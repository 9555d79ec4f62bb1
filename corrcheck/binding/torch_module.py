"""nn.Module layers: built from the config, weights set to corrcheck's, gradients through autograd.

The module is constructed the way nn.Conv2d is (`Cls(in_channels, out_channels,
kernel_size, stride=..., padding=...)`, names matched as for the layer
convention) or from weight tensors (`Cls(weight, bias, stride, padding)`).  A
stride or padding the constructor does not take but the module keeps as an
attribute (`self.stride`, `self.padding`, as nn.Conv2d names them) is set on the
instance.  Everything runs in float64 on the chosen device; the gradients are
autograd's through the user's forward (and through any Function it calls).
"""
from __future__ import annotations

import re

import numpy as np

from .frameworks import torch
from .layer import WEIGHT_ATTRS, BIAS_ATTRS, ctor_roles
from ..vocab import Convention
from ..errors import BindError, UnusableOutput
from ..loader.functions import UserFunction

ATTR_NAMES = {"stride": ("stride", "strides"), "pad": ("padding", "pad")}


class ModuleImpl:
    convention = Convention.TORCH_MODULE

    def __init__(self, cls: UserFunction, device: str = "cpu"):
        self.cls = cls
        self.device = device
        self.roles, self.mode = ctor_roles(cls)
        if self.mode == "arrays" and "weight" not in self.roles.values():
            raise BindError(f"cannot tell how to build {cls.signature()}: name its parameters like nn.Conv2d's "
                            f"(in_channels, out_channels, kernel_size, stride, padding) or write a small adapter")
        source = cls.source or ""
        self.attr_roles = {role: next((a for a in names if re.search(rf"self\.{a}\b", source)), None)
                           for role, names in ATTR_NAMES.items() if role not in self.roles.values()}
        self.attr_roles = {r: a for r, a in self.attr_roles.items() if a}
        ksize = next((p for p in cls.params if self.roles.get(p.name) == "kernel_size"), None)
        self.square_kernel = cls.name if ksize is not None and not isinstance(
            ksize.default if ksize.has_default else None, (tuple, list)) else None
        self.has_bias = "bias" in self.roles.values() or bool(re.search(r"\bbias\b", source))
        self._key = None
        self._module = None
        self.call_notes: list[str] = []
        ctor = ", ".join(f"{p}={r.replace('_', ' ')}" for p, r in self.roles.items())
        attrs = ", ".join(f".{a} = {r}" for r, a in self.attr_roles.items())
        self.binding_notes = [f"{cls.name}({ctor})" + (f" with {attrs}" if attrs else "")
                              + f", float64 on {device}; gradients by autograd through {cls.name}.forward"]

    def takes(self, role: str) -> bool:
        return role in self.roles.values() or role in self.attr_roles

    @property
    def targets(self):
        return ("forward", "grad_input", "grad_filter") + (("grad_bias",) if self.has_bias else ())

    @property
    def names(self):
        d = {"forward": f"{self.cls.name}.forward"}
        d.update({t: f"autograd through {self.cls.name}.forward" for t in self.targets if t != "forward"})
        return d

    # ---- building ------------------------------------------------------------------
    def _tensor(self, value, grad=False):
        t = torch()
        dtype = t.float32 if self.device == "mps" else t.float64
        out = t.as_tensor(np.asarray(value, dtype=np.float64)).to(device=self.device, dtype=dtype)
        return out.requires_grad_(grad)

    def _ctor_values(self, args):
        L = args.layout
        c = args.w_shape[-2] if L.channels_last else (args.w_shape[1] if L.channels else 1)
        k = args.w_shape[:-2] if L.channels_last else (args.w_shape[2:] if L.channels else args.w_shape)
        b = args.b if args.b is not None else np.zeros(args.filters)
        return {"weight": self._tensor(args.w), "bias": self._tensor(b), "stride": args.stride, "pad": args.pad,
                "dilation": args.dilation, "in_channels": c, "out_channels": args.filters,
                "kernel_size": k[0] if len(set(k)) == 1 else tuple(k)}

    def _module_for(self, args, caller):
        key = (tuple(args.x_shape), tuple(args.w_shape), args.geom)
        if self._module is None or self._key != key:
            vals = self._ctor_values(args)
            pos, kw = [], {}
            for p in self.cls.params:
                if p.name in self.roles:
                    v = vals[self.roles[p.name]]
                    (kw.__setitem__(p.name, v) if p.kind == "keyword_only" else pos.append(v))
                elif p.kind == "positional" and not p.has_default:
                    pos.append(None)
                elif p.kind == "positional":
                    break
            module = caller("forward")(self.cls, *pos, **kw)
            if not hasattr(module, "named_parameters"):
                raise UnusableOutput(f"{self.cls.name}(...) did not build an nn.Module")
            module = module.to(device=self.device, dtype=vals["weight"].dtype)
            for role, attr in self.attr_roles.items():
                old = getattr(module, attr, None)
                value = vals[role]
                if isinstance(old, (tuple, list)) and isinstance(value, int):
                    value = (value,) * len(old)
                setattr(module, attr, value)
            self._module, self._key = module, key
        return self._module

    def _parameters(self, module, args):
        """The module's weight and bias parameters, by name first, then by shape."""
        params = dict(module.named_parameters())
        f = args.filters

        def leaf(name):
            return name.rsplit(".", 1)[-1]
        def first(found):
            return next((p for p in found), None)
        weight = first(p for n, p in params.items() if leaf(n) in WEIGHT_ATTRS and tuple(p.shape) == tuple(args.w_shape))
        if weight is None:
            weight = first(p for p in params.values() if tuple(p.shape) == tuple(args.w_shape))
        if weight is None:
            shapes = {n: tuple(p.shape) for n, p in params.items()}
            raise UnusableOutput(f"{self.cls.name} has no parameter of the filter's shape {tuple(args.w_shape)} "
                                 f"(parameters: {shapes or 'none'}); try --layout or other --channels/--filters")
        bias = None
        if self.has_bias:
            bias = first(p for n, p in params.items() if leaf(n) in BIAS_ATTRS and p.numel() == f)
            if bias is None:
                bias = first(p for p in params.values() if p is not weight and p.numel() == f and p.dim() == 1)
        return weight, bias

    def _prepared(self, args, caller):
        t = torch()
        module = self._module_for(args, caller)
        weight, bias = self._parameters(module, args)
        with t.no_grad():
            weight.copy_(self._tensor(args.w).reshape(weight.shape))
            if bias is not None and args.b is not None:
                bias.copy_(self._tensor(args.b).reshape(bias.shape))
        return module, weight, bias

    def _forward_fn(self, module) -> UserFunction:
        return UserFunction(name=f"{self.cls.name}.forward", params=(), call=module, file=self.cls.file)

    # ---- calls -----------------------------------------------------------------------
    def forward(self, args, caller):
        module, _, _ = self._prepared(args, caller)
        t = torch()
        with t.no_grad():
            return caller("forward")(self._forward_fn(module), self._tensor(args.x))

    def gradients(self, target, args, caller):
        t = torch()
        module, weight, bias = self._prepared(args, caller)
        x = self._tensor(args.x, grad=True)
        out = caller("forward")(self._forward_fn(module), x)
        if not isinstance(out, t.Tensor) or out.grad_fn is None:
            raise UnusableOutput(f"{self.cls.name}.forward returned something autograd does not track "
                                 f"(no grad_fn), so it has no gradients")
        if tuple(out.shape) != tuple(args.out_shape):
            raise UnusableOutput(f"{self.cls.name}.forward returned shape {tuple(out.shape)}, expected "
                                 f"{tuple(args.out_shape)}", got_shape=tuple(out.shape))
        leaves = [x, weight] + ([bias] if bias is not None else [])
        grad = self._tensor(args.dout).to(dtype=out.dtype)

        def run_backward(output, g):
            return t.autograd.grad(output, leaves, g, allow_unused=True)

        grads = caller("grad_input")(UserFunction(name=f"autograd through {self.cls.name}.forward", params=(),
                                                  call=run_backward, file=self.cls.file), out, grad)
        result = {}
        for target_name, g, what in zip(("grad_input", "grad_filter", "grad_bias"), grads, ("input", "weight", "bias")):
            result[target_name] = g if g is not None else UnusableOutput(
                f"{self.cls.name}.forward's output does not depend on its {what}, so autograd gives no gradient")
        if self.has_bias and bias is None:
            result["grad_bias"] = UnusableOutput(f"{self.cls.name} has no bias parameter with {args.filters} values")
        return result
