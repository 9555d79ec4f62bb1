"""Autograd Functions: `forward(ctx, x, w, [b,] stride, pad)` and `backward(ctx, grad) -> grads`.

Two engines, one binding.  A torch.autograd.Function is called as in training:
`Cls.apply` on float64 tensors that require grad, then autograd runs the user's
backward, so `ctx.save_for_backward`, `ctx.saved_tensors` and
`ctx.needs_input_grad` are torch's own.  A from-scratch Function (tinygrad-style,
NumPy arrays) gets a context object of the same shape from corrcheck.  Either
way each gradient is what `backward` returned for that forward argument, by
position, exactly how autograd pairs them.
"""
from __future__ import annotations

import inspect

import numpy as np

from .conventions import assign_roles, build_call, role_values, split_by_shape
from .frameworks import CTX_NAMES, is_torch_function, torch
from ..vocab import Convention
from ..errors import UnusableOutput
from ..loader.functions import UserFunction, python_params

ROLE_TARGET = {"input": "grad_input", "filter": "grad_filter", "bias": "grad_bias"}
TENSOR_ROLES = ("input", "filter", "bias")


class Ctx:
    """The context a from-scratch Function expects: save_for_backward / saved_tensors /
    needs_input_grad, and any attribute the forward sets (ctx.stride = stride)."""

    def __init__(self, needs_input_grad=()):
        self.saved_tensors = ()
        self.needs_input_grad = tuple(needs_input_grad)

    def save_for_backward(self, *tensors):
        self.saved_tensors = tuple(tensors)

    @property
    def saved_variables(self):          # the older torch name
        return self.saved_tensors


def method_params(cls, name: str):
    """A method's parameters without ctx (static methods keep it in the signature)."""
    raw = inspect.getattr_static(cls, name)
    fn = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
    params = python_params(fn)
    if params and params[0].name in CTX_NAMES + ("self", "cls"):
        params = params[1:]
    return params


class FunctionImpl:
    """See module doc.  `device` places the tensors (torch only)."""

    convention = Convention.TORCH_FUNCTION

    def __init__(self, cls: UserFunction, device: str = "cpu"):
        self.cls = cls
        self.klass = cls.call
        self.device = device
        self.torch = is_torch_function(self.klass)
        self.bwd_name = "backward" if inspect.getattr_static(self.klass, "backward", None) is not None else "vjp"
        params = method_params(self.klass, "forward")
        if self.torch and "setup_context" not in vars(self.klass) and params == python_params(self.klass.forward):
            params = params[1:]              # torch passes the ctx first, whatever the parameter is called
        self.fwd = UserFunction(name=f"{cls.name}.forward", params=params, call=None, file=cls.file,
                                source=cls.source)
        has_bias = any(p.name.lower() in ("b", "bias", "biases") for p in params)
        self.roles = assign_roles(self.fwd, "forward", has_bias=has_bias)
        self.has_bias = "bias" in self.roles.values()
        self._casts: dict[str, tuple[str, str]] = {}
        how = f"{cls.name}.apply" if self.torch else f"{cls.name}.forward(ctx, ...)"
        self.binding_notes = [
            f"{how}: " + ", ".join(f"{p} = {r.replace('_', ' ')}" for p, r in self.roles.items())
            + f"; gradients are what {cls.name}.{self.bwd_name} returns for them"
            + (" (float64 tensors on " + device + ", through autograd)" if self.torch else " (NumPy arrays, "
               "with a ctx offering save_for_backward / saved_tensors / needs_input_grad)")]

    def takes(self, role: str) -> bool:
        return role in self.roles.values()

    @property
    def targets(self):
        return ("forward", "grad_input", "grad_filter") + (("grad_bias",) if self.has_bias else ())

    @property
    def names(self):
        d = {"forward": f"{self.cls.name}.forward"}
        d.update({t: f"{self.cls.name}.{self.bwd_name}" for t in self.targets if t != "forward"})
        return d

    # ---- values ----------------------------------------------------------------
    def _values(self, args):
        values = role_values(args, "forward")
        if self.torch:
            t = torch()
            dtype = t.float32 if self.device == "mps" else t.float64
            for role in TENSOR_ROLES:
                if values.get(role) is not None:
                    values[role] = t.as_tensor(np.asarray(values[role], dtype=np.float64)).to(
                        device=self.device, dtype=dtype).requires_grad_(True)
        else:
            for role in TENSOR_ROLES:
                if values.get(role) is not None:
                    values[role] = np.array(values[role], dtype=np.float64)
        return values

    def _call_args(self, args):
        values = self._values(args)
        a, kw = build_call(self.fwd, self.roles, values)
        if kw:                               # apply takes positional arguments only
            a = a + [kw[p.name] for p in self.fwd.params if p.name in kw]
        return a, values

    def _forward_fn(self, ctx=None) -> UserFunction:
        if self.torch:
            call = self.klass.apply
        else:
            def call(*a):
                return self.klass.forward(ctx, *a)
        return UserFunction(name=f"{self.cls.name}.forward", params=self.fwd.params, call=call, file=self.cls.file)

    # ---- calls -------------------------------------------------------------------
    def forward(self, args, caller):
        a, _ = self._call_args(args)
        out = caller("forward")(self._forward_fn(Ctx([isinstance(v, np.ndarray) for v in a])), *a)
        return out[0] if isinstance(out, tuple) and out else out

    def gradients(self, target, args, caller):
        a, _ = self._call_args(args)
        if self.torch:
            raw = self._torch_backward(a, args, caller)
        else:
            raw = self._ctx_backward(a, args, caller)
        return self._by_position(raw, a, args)

    def _torch_backward(self, a, args, caller):
        t = torch()
        out = caller("forward")(self._forward_fn(), *a)
        if isinstance(out, tuple) and out:
            out = out[0]
        if not isinstance(out, t.Tensor):
            raise UnusableOutput(f"{self.cls.name}.apply returned a {type(out).__name__}, not a tensor")
        if out.grad_fn is None:
            raise UnusableOutput(f"{self.cls.name}.apply returned a tensor that autograd does not track "
                                 f"(no grad_fn), so {self.bwd_name} is never called")
        grad = t.as_tensor(np.asarray(args.dout, dtype=np.float64)).to(device=out.device, dtype=out.dtype)
        if tuple(grad.shape) != tuple(out.shape):
            raise UnusableOutput(f"{self.cls.name}.apply returned shape {tuple(out.shape)}, expected "
                                 f"{tuple(args.out_shape)}", got_shape=tuple(out.shape))
        captured = []
        klass, name = self.klass, self.bwd_name
        original = inspect.getattr_static(klass, name)
        user_backward = getattr(klass, name)

        def recording(ctx, *grads):         # what backward returned, before autograd casts it
            value = user_backward(ctx, *grads)
            captured.append(value)
            return value

        leaves = [v for v in a if isinstance(v, t.Tensor) and v.requires_grad]

        def run_backward(output, g):
            t.autograd.grad(output, leaves, g, allow_unused=True)

        setattr(klass, name, staticmethod(recording))
        try:
            caller("grad_input")(UserFunction(name=f"{self.cls.name}.{name}", params=(), call=run_backward,
                                              file=self.cls.file), out, grad)
        finally:
            setattr(klass, name, original)
        if not captured:
            raise UnusableOutput(f"autograd never called {self.cls.name}.{name} (the output does not depend on "
                                 f"the inputs through {self.cls.name})")
        return captured[-1]

    def _ctx_backward(self, a, args, caller):
        ctx = Ctx([isinstance(v, np.ndarray) for v in a])
        out = caller("forward")(self._forward_fn(ctx), *a)
        backward = getattr(self.klass, self.bwd_name)
        fn = UserFunction(name=f"{self.cls.name}.{self.bwd_name}", params=(), file=self.cls.file,
                          call=lambda g: backward(ctx, g))
        return caller("grad_input")(fn, np.array(args.dout, dtype=np.float64))

    def _by_position(self, raw, a, args):
        """Gradient i belongs to forward argument i (autograd's rule); a from-scratch Function may
        return one per array argument only; anything else is read by shape."""
        items = list(raw) if isinstance(raw, (tuple, list)) else [raw]
        positions = {}                                   # target -> index into the call's arguments
        params = [p for p in self.fwd.params if p.kind == "positional"]
        for i, p in enumerate(params[:len(a)]):
            role = self.roles.get(p.name)
            if role in ROLE_TARGET:
                positions[ROLE_TARGET[role]] = i
        wanted = [t for t in self.targets if t != "forward"]
        name = self.names["grad_input"]
        if len(items) < max(positions.values()) + 1:
            arrays = sorted(positions.values())
            if not self.torch and len(items) == len(arrays):     # one gradient per array argument
                positions = {t: arrays.index(i) for t, i in positions.items()}
            else:
                return split_by_shape(raw, {"grad_input": args.x_shape, "grad_filter": args.w_shape,
                                            "grad_bias": (args.filters,)}, wanted, name)
        out = {}
        for target in wanted:
            i = positions[target]
            value = items[i]
            pname = params[i].name
            if value is None:
                out[target] = UnusableOutput(
                    f"{name} returned None for `{pname}` (position {i}), whose gradient is needed "
                    f"(ctx.needs_input_grad[{i}] is True)")
                continue
            self._note_tensor(value, pname, target, a[i])
            out[target] = value
        return out

    def _note_tensor(self, value, pname, target, given) -> None:
        """Remember a returned gradient autograd quietly casts (a non-contiguous one is fine: autograd
        accepts any strides, and the values are what is compared)."""
        t = torch() if self.torch else None
        if t is not None and isinstance(value, t.Tensor) and isinstance(given, t.Tensor) and value.dtype != given.dtype:
            self._casts[target] = (str(value.dtype).replace("torch.", ""), str(given.dtype).replace("torch.", ""))

    @property
    def call_notes(self) -> list[str]:
        """One sentence for all the casts: which gradients came back in which dtype."""
        if not self._casts:
            return []
        got = sorted({g for g, _ in self._casts.values()})
        given = sorted({w for _, w in self._casts.values()})
        what = ", ".join(t.replace("_", " ") for t in self._casts)
        return [f"{self.cls.name}.{self.bwd_name} returns {' / '.join(got)} gradients ({what}) for "
                f"{' / '.join(given)} arguments: autograd casts them back, but the precision is "
                f"{' / '.join(got)}'s (checked at that tolerance)"]
