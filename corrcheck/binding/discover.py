"""Which of the user's functions to check, and under which convention.

Discovery reads names and signatures (roles.py); explicit --forward/--grad-*
flags win; ambiguity is an error that lists the candidates and the flag.
The result is a BindPlan: a convention, an impl factory and the layouts worth
trying (the runner picks the layout by probing, see probe.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .conventions import Cs231nImpl, FunctionalImpl, HolbertonImpl
from ..errors import BindError
from . import frameworks
from .layer import BACKWARD_METHODS, FORWARD_METHODS, LayerImpl, find_method
from ..loader.functions import UserFunction
from .roles import conv_evidence, function_kind, param_role
from ..vocab import Convention, GRADS, TARGETS, Target
from . import volumes

LAYOUT_CANDIDATES = {
    "functional_plain": ("hw", "w", "dhw", "chw", "nchw", "nhwc", "ncdhw", "ncw", "nwc"),
    "functional_batched": ("nchw", "nhwc", "chw", "ncdhw", "hw", "w", "ncw", "nwc"),
    "cs231n": ("nchw", "ncdhw", "nhwc", "ncw"),
    "holberton": ("nhwc",),
    "layer": ("nchw", "nhwc", "ncdhw", "chw", "hw", "w", "ncw", "nwc"),
    "torch-function": ("nchw", "ncdhw", "nhwc", "chw", "hw", "w", "ncw"),
    "torch-module": ("nchw", "ncdhw", "nhwc", "chw", "hw", "w", "ncw"),
    "jax": ("nchw", "nhwc", "ncdhw", "chw", "hw", "w", "ncw", "nwc"),
}
FRAMEWORKS = (Convention.TORCH_FUNCTION, Convention.TORCH_MODULE, Convention.JAX)


@dataclass
class BindPlan:
    """Discovery's decision from names and signatures alone; probe.py then calls make_impl() per layout to pick one."""

    convention: str
    make_impl: object                      # () -> impl
    layouts: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    # bound by position only: nothing in the names or parameters says convolution, so the forward
    # must return a convolution's output shape (probe.py) before its mismatches are the user's bug
    weak: bool = False
    seen: str = ""
    framework: str | None = None           # "torch" / "jax" when the bound code runs on their tensors


def has_evidence(f: UserFunction) -> bool:
    """Whether the name or parameters (a class's methods too) speak of convolution: without any,
    a failed binding reads "no convolution here" and a positional one must earn its place (weak)."""
    names = [p.name for p in f.params]
    if f.is_class:
        names += [m for m in f.methods]
    return conv_evidence(f.name, names)


def seen_functions(ns) -> str:
    """The user's functions and classes, as signatures, for a message that says what was there."""
    shown = [f.signature() for k, f in ns.items() if not k.startswith("_") and "." not in k
             and not f.extra.get("imported")]
    text = ", ".join(shown)
    return text if len(text) <= 400 else text[:400].rsplit(", ", 1)[0] + ", ..."


def no_convolution(ns) -> BindError:
    """The exit-2 error for files with nothing convolution-like, naming what the files do hold."""
    return no_convolution_seen(seen_functions(ns))


def no_convolution_seen(seen: str, tried: dict | None = None) -> BindError:
    """Exit 2, one sentence: what corrcheck looked for, what it tried, and what the files hold."""
    tried_names = sorted(set((tried or {}).values()))
    tried_text = (f" ({', '.join(tried_names)} returned no convolution-shaped output in any layout)"
                  if tried_names else "")
    return BindError("nothing here looks like a convolution: corrcheck looked for a function or layer class "
                     "named like conv/correlate, or taking stride/padding/kernel parameters, whose output has a "
                     f"convolution's shape{tried_text}, and saw " + (seen or "no functions")
                     + "; name yours with --forward NAME (and --grad-input/--grad-filter NAME)")


def _lookup(ns: dict[str, UserFunction], name: str, flag: str) -> UserFunction:
    if name in ns:
        return ns[name]
    matches = [k for k in ns if k.endswith("." + name) or k.lower() == name.lower()]
    if len(matches) == 1:
        return ns[matches[0]]
    near = sorted(k for k in ns if not k.startswith("_"))
    raise BindError(f"--{flag.replace('_', '-')} {name}: no such function in the file"
                    + (f" (found: {', '.join(near[:12])})" if near else " (no functions found)"))


def _free_functions(ns):
    """Functions that are not methods: top-level ones, and members of namespace objects
    (a browser script's `mlib.conv.forward`), but not `Cls.method`."""
    classes = {k for k, f in ns.items() if f.is_class}

    def free(k, f):
        if f.is_class or f.extra.get("imported") or f.extra.get("method_of"):
            return False
        parts = k.split(".")
        if any(p.startswith("_") for p in parts) or "prototype" in parts:
            return False
        return not any(".".join(parts[:i]) in classes for i in range(1, len(parts)))
    return {k: f for k, f in ns.items() if free(k, f)}


def _classes(ns):
    return {k: f for k, f in ns.items() if f.is_class and not k.startswith("_")}


# ---- candidates per convention ---------------------------------------------------

def _holberton(ns):
    funcs = _free_functions(ns)
    fwd = [f for f in funcs.values() if {"activation", "a_prev"} & {p.name.lower() for p in f.params}
           and function_kind(f.name)[0] == "forward"]
    bwd = [f for f in funcs.values() if function_kind(f.name)[0] in ("backward", "grad_input")
           and {p.name.lower() for p in f.params} >= {"a_prev"} and any(p.name.lower() in ("dz", "dout", "da", "dy")
                                                                         for p in f.params)]
    if not fwd and not bwd:
        return None
    return fwd, bwd


def _cs231n(ns):
    funcs = _free_functions(ns)
    fwd = [f for f in funcs.values() if function_kind(f.name)[0] == "forward"
           and any(p.name.lower() in ("conv_param", "conv_params") for p in f.params)]
    bwd = [f for f in funcs.values() if function_kind(f.name)[0] in ("backward",)
           and [p.name.lower() for p in f.params][1:2] == ["cache"]]
    if not fwd:
        return None
    return fwd, bwd


def _pair_cs231n(fwd, bwd):
    """conv_forward_naive goes with conv_backward_naive: match by the name's suffix."""
    pairs = []
    for f in fwd:
        suffix = f.name.lower().split("forward", 1)[-1]
        partner = [b for b in bwd if b.name.lower().split("backward", 1)[-1] == suffix]
        pairs.append((f, partner[0] if partner else (bwd[0] if len(bwd) == 1 else None)))
    return pairs


def _layers(ns):
    """Layer classes (forward and backward methods); those named like a convolution first. The
    namespace a class lives in (convnetjs.FullyConnLayer) says nothing about the class itself."""
    out = []
    for name, cls in _classes(ns).items():
        if frameworks.is_ctx_function(cls.call) or _autograd_module(cls):
            continue                      # the torch-function / torch-module conventions
        if find_method(cls, FORWARD_METHODS) and find_method(cls, BACKWARD_METHODS):
            low = name.rsplit(".", 1)[-1].lower()
            score = 2 if any(w in low for w in ("conv", "corr", "filter")) else 1
            out.append((score, cls))
    out.sort(key=lambda t: -t[0])
    return [c for s, c in out if s == out[0][0]] if out else []


def _all_layers(ns) -> list[str]:
    return [cls.name for cls in _classes(ns).values()
            if find_method(cls, FORWARD_METHODS) and find_method(cls, BACKWARD_METHODS)]


def layer_plan(cls, ns) -> BindPlan:
    """A layer class: volume-object layers (options object + a volume class) natively, else LayerImpl."""
    if volumes.option_param(cls) is not None and volumes.volume_class(ns) is not None:
        if not volumes.fits(cls, ns):
            raise BindError(f"{cls.name} takes an options object whose keys corrcheck cannot map to a filter size "
                            f"and a filter count (read: {', '.join(volumes.option_keys(cls, volumes.option_param(cls))) or 'none'}); "
                            f"wrap it in a small adapter file (README: \"Your code has another shape?\")")
        vol = volumes.volume_class(ns)
        fwd, bwd = find_method(cls, FORWARD_METHODS), find_method(cls, BACKWARD_METHODS)
        return BindPlan(Convention.LAYER, lambda: volumes.VolumeLayerImpl(cls, vol, fwd, bwd), ("chw",))
    return BindPlan(Convention.LAYER, lambda: LayerImpl(cls), LAYOUT_CANDIDATES["layer"])


def _functional(ns):
    funcs = _free_functions(ns)
    by_kind: dict[str, list[tuple[int, UserFunction]]] = {}
    for f in funcs.values():
        kind, score = function_kind(f.name)
        if kind is None:
            continue
        in_grad = kind != "forward"
        roles = {param_role(p.name, in_grad) for p in f.params}
        if kind == "forward":
            if not ({"input", "filter"} <= roles) and len([p for p in f.params if not p.has_default]) < 2:
                continue
            score += 2 if {"input", "filter"} <= roles else 0
        elif "dout" not in roles and len(f.params) < 2:
            continue
        by_kind.setdefault(kind, []).append((score, f))
    return by_kind


def _best(cands, what, flag):
    if not cands:
        return None
    cands = sorted(cands, key=lambda t: -t[0])
    top = [f for s, f in cands if s == cands[0][0]]
    if len(top) > 1:
        raise BindError(f"several functions could be the {what}: {', '.join(f.signature() for f in top)}; "
                        f"choose one with {flag} NAME")
    return top[0]


def plan(ns: dict[str, UserFunction], cfg) -> BindPlan:
    """Decide the convention and the functions (see module doc); say what stays unchecked."""
    explicit = any(getattr(cfg, t) for t in TARGETS)
    try:
        p = _plan(ns, cfg)
    except BindError:
        if not explicit and not any(has_evidence(f) for k, f in ns.items() if not f.extra.get("imported")):
            raise no_convolution(ns) from None
        raise
    if not explicit:
        bound = _bound_functions(p.make_impl())
        if bound and not any(has_evidence(f) for f in bound):
            p.weak, p.seen = True, seen_functions(ns)
    p.notes.extend(_unbound_notes(ns, p))
    frameworks.check_device(_device(cfg), p.framework, p.convention)
    return p


def _bound_functions(impl) -> list[UserFunction]:
    fns = [getattr(impl, a, None) for a in ("forward_fn", "backward_fn", "cls")]
    fns += list(getattr(impl, "grads", {}).values())
    return [f for f in fns if isinstance(f, UserFunction)]


def _device(cfg) -> str:
    return getattr(cfg, "device", None) or "cpu"


# ---- torch / jax objects (binding/frameworks.py says how they are recognised) -----

def _framework_candidates(ns) -> dict[str, list[UserFunction]]:
    """Autograd Function classes, nn.Module classes, functions with a jax custom rule."""
    found: dict[str, list[UserFunction]] = {}
    classes = [c for c in _classes(ns).values() if not c.extra.get("imported")]
    fns = [c for c in classes if frameworks.is_ctx_function(c.call)]
    fns = [c for c in fns if not any(o is not c and issubclass(o.call, c.call) for o in fns)]   # not a base
    if fns:
        found["torch-function"] = _conv_named_first(fns)
    mods = [c for c in classes if _autograd_module(c)]
    if mods:
        found["torch-module"] = _conv_named_first(mods)
    rules = [f for f in _free_functions(ns).values() if frameworks.jax_rule(f.call)]
    if rules:
        found["jax"] = _conv_named_first(rules)
    return found


def _autograd_module(cls: UserFunction) -> bool:
    """An nn.Module whose gradients come from autograd; one with its own backward(dout) method
    (a learner's layer that happens to subclass nn.Module) stays a layer-convention class."""
    return (frameworks.is_torch_module(cls.call) and "forward" in cls.methods
            and not find_method(cls, BACKWARD_METHODS))


def _conv_named_first(cands):
    """Among several candidates, the ones named like a convolution (as for layer classes)."""
    def score(c):
        return 2 if any(w in c.name.lower() for w in ("conv", "corr", "filter")) else 1
    top = max(score(c) for c in cands)
    return [c for c in cands if score(c) == top]


def _framework_plan(conv: str, cands, cfg) -> BindPlan:
    from .jax_vjp import JaxImpl                     # lazy: the torch/jax conventions load only for their objects
    from .torch_function import FunctionImpl
    from .torch_module import ModuleImpl
    if len(cands) > 1:
        raise BindError(f"several {conv} candidates: {', '.join(c.name for c in cands)}; "
                        f"choose one with --forward NAME")
    obj, device = cands[0], _device(cfg)
    if conv == "jax":
        obj.extra.setdefault("jax_rule", frameworks.jax_rule(obj.call))
    make = {"torch-function": FunctionImpl, "torch-module": ModuleImpl, "jax": JaxImpl}[conv]
    framework = "jax" if conv == "jax" else (
        "torch" if conv == "torch-module" or frameworks.is_torch_function(obj.call) else None)
    return BindPlan(conv, lambda: make(obj, device), LAYOUT_CANDIDATES[conv], framework=framework)


def _framework_of(f: UserFunction) -> str | None:
    if f.is_class and frameworks.is_ctx_function(f.call):
        return "torch-function"
    if f.is_class and _autograd_module(f):
        return "torch-module"
    if frameworks.jax_rule(f.call):
        return "jax"
    return None


def _rule_parts(cands) -> set[str]:
    """Names of the functions a jax rule is made of (its fwd/bwd/jvp), so they are not bound again."""
    out = set()
    for c in cands:
        for attr in ("fwd", "bwd", "jvp"):
            part = getattr(c.call, attr, None)
            if part is not None:
                out.add(getattr(part, "__name__", ""))
    return out


def _unbound_notes(ns, p: BindPlan) -> list[str]:
    """A gradient nobody recognised is not silently skipped: name it and the flag that binds it."""
    impl = p.make_impl()
    if p.convention != Convention.FUNCTIONAL:
        # the other conventions bind one backward for every gradient, or none
        return [] if Target.GRAD_INPUT in impl.targets else [
            "not checked: no backward function found, so only the forward was checked (bind one with "
            "--grad-input / --grad-filter NAME)"]
    bound = {getattr(f, "name", None) for f in [getattr(impl, "forward_fn", None), *getattr(impl, "grads", {}).values()]}
    others = [f.name for f in _free_functions(ns).values()
              if f.name not in bound and len([q for q in f.params if not q.has_default]) >= 2]
    notes = []
    for target in (Target.GRAD_INPUT, Target.GRAD_FILTER):
        if target not in impl.targets:
            flag = "--" + target.replace("_", "-")
            notes.append(f"not checked: no {target.replace('_', ' ')} function recognised"
                         + (f" (other functions: {', '.join(others[:6])})" if others else "")
                         + f"; bind one with {flag} NAME")
    return notes


def _plan(ns: dict[str, UserFunction], cfg) -> BindPlan:
    explicit = {t: getattr(cfg, t) for t in TARGETS if getattr(cfg, t)}
    conv = cfg.convention
    if explicit:
        return _plan_explicit(ns, explicit, conv, cfg)
    fw = _framework_candidates(ns)
    if conv in FRAMEWORKS:
        if conv not in fw:
            what = ", ".join(sorted(k for k in ns if not k.startswith("_"))[:15]) or "nothing callable"
            kind = {"torch-function": "torch.autograd.Function (or ctx-style Function) class",
                    "torch-module": "nn.Module class with a forward", "jax": "function with jax.custom_vjp or custom_jvp"}
            raise BindError(f"found no {kind[conv]} (found: {what}); try --convention auto or name it with --forward NAME")
        return _framework_plan(conv, fw[conv], cfg)
    if fw and conv == "auto":
        return _auto_framework(ns, fw, cfg)
    found = {}
    hb = _holberton(ns)
    if hb and (hb[0] or hb[1]):
        found["holberton"] = hb
    cs = _cs231n(ns)
    if cs:
        found["cs231n"] = cs
    layers = _layers(ns)
    if layers:
        found["layer"] = layers
    fn = _functional(ns)
    if fn.get("forward") or any(k in fn for k in ("grad_input", "grad_filter", "backward")):
        found["functional"] = fn
    if conv != "auto":
        if conv not in found:
            what = ", ".join(sorted(k for k in ns if not k.startswith("_"))[:15]) or "nothing callable"
            raise BindError(f"found no {conv}-style functions (found: {what}); "
                            f"try --convention auto or name them with --forward/--grad-input/--grad-filter")
        return _make(conv, found[conv], ns)
    if not found:
        raise no_convolution(ns)
    for specific in (Convention.HOLBERTON, Convention.CS231N, Convention.LAYER):
        if specific in found:
            others = [k for k in found if k not in (specific, "functional")]
            if "functional" in found and _separate_functional(found["functional"], found[specific]):
                others.append("functional")
            if others:
                raise BindError(f"this file fits several conventions ({', '.join(sorted([specific] + others))}); "
                                f"choose one with --convention")
            p = _make(specific, found[specific], ns)
            p.notes.append(f"convention {specific} (picked automatically)")
            return p
    p = _make("functional", found["functional"], ns)
    p.notes.append("convention functional (picked automatically)")
    return p


def _auto_framework(ns, fw, cfg) -> BindPlan:
    """A Function, a Module or a jax rule in the file: that is what the author means to check.

    A Function beats a Module (the module's gradients come from it when it wraps it);
    torch and jax candidates together, or another convention's pair beside them, are ambiguous."""
    convs = [c for c in FRAMEWORKS if c in fw]
    if "torch-function" in convs and "torch-module" in convs:
        convs.remove("torch-module")
    used = {c.name for cands in fw.values() for c in cands} | _rule_parts(fw.get("jax", []))
    others = []
    hb, cs = _holberton(ns), _cs231n(ns)
    if hb and (hb[0] or hb[1]):
        others.append("holberton")
    if cs:
        others.append("cs231n")
    if _layers(ns):
        others.append("layer")
    by_kind = {k: [(sc, f) for sc, f in v if f.name not in used and f.name.split(".")[0] not in used]
               for k, v in _functional(ns).items()}
    if _separate_functional(by_kind, []):
        others.append("functional")
    if len(convs) > 1 or others:
        raise BindError(f"this file fits several conventions ({', '.join(sorted(convs + others))}); "
                        f"choose one with --convention")
    p = _framework_plan(convs[0], fw[convs[0]], cfg)
    p.notes.append(f"convention {convs[0]} (picked automatically)")
    if convs[0] == "torch-function" and "torch-module" in fw:
        p.notes.append(f"{', '.join(c.name for c in fw['torch-module'])} (an nn.Module) can be checked too, "
                       f"with --convention torch-module")
    return p


def _separate_functional(by_kind, specific_found) -> bool:
    """Free functions that form a forward + gradient pair of their own, besides the specific convention's."""
    used = set()
    for item in (specific_found if isinstance(specific_found, (list, tuple)) else [specific_found]):
        for f in (item if isinstance(item, (list, tuple)) else [item]):
            used.add(getattr(f, "name", None))
    fwd = [f for _, f in by_kind.get("forward", []) if f.name not in used]
    grads = [f for k in ("grad_input", "grad_filter", "backward") for _, f in by_kind.get(k, []) if f.name not in used]
    return bool(fwd and grads)


def _make(conv, found, ns) -> BindPlan:
    if conv == Convention.HOLBERTON:
        fwd, bwd = found
        if len(fwd) > 1 or len(bwd) > 1:
            raise BindError(f"several holberton-style functions: {', '.join(f.name for f in fwd + bwd)}; "
                            f"choose with --forward NAME --grad-input NAME")
        f, b = (fwd[0] if fwd else None), (bwd[0] if bwd else None)
        return BindPlan(Convention.HOLBERTON, lambda: HolbertonImpl(f, b), LAYOUT_CANDIDATES["holberton"])
    if conv == Convention.CS231N:
        pairs = _pair_cs231n(*found)
        if len(pairs) > 1:
            names = ", ".join(f"{f.name}/{b.name if b else '-'}" for f, b in pairs)
            raise BindError(f"several cs231n-style pairs: {names}; choose one with --forward NAME --grad-input NAME")
        f, b = pairs[0]
        return BindPlan(Convention.CS231N, lambda: Cs231nImpl(f, b), LAYOUT_CANDIDATES["cs231n"])
    if conv == Convention.LAYER:
        if len(found) > 1:
            raise BindError(f"several layer classes: {', '.join(c.name for c in found)}; "
                            f"choose one with --forward CLASS")
        cls = found[0]
        p = layer_plan(cls, ns)
        others = [n for n in _all_layers(ns) if n != cls.name]
        if others:
            p.notes.append(f"layer class {cls.name} picked among {', '.join([cls.name] + others)}: the only one "
                           f"named like a convolution (choose another with --forward CLASS)")
        return p
    by_kind = found
    fwd = _best(by_kind.get("forward", []), "forward", "--forward")
    grads = {}
    for t in GRADS:
        g = _best(by_kind.get(t, []), t.replace("_", " "), "--" + t.replace("_", "-"))
        if g:
            grads[t] = g
    if not grads.get("grad_input") or not grads.get("grad_filter"):
        combined = _best(by_kind.get("backward", []), "backward", "--grad-input NAME --grad-filter")
        if combined:
            for t in (Target.GRAD_INPUT, Target.GRAD_FILTER):
                grads.setdefault(t, combined)
    return _functional_plan(fwd, grads)


def _functional_plan(fwd, grads) -> BindPlan:
    if fwd is None and not grads:
        raise BindError("no forward or gradient function recognised; name them with --forward NAME")
    has_bias = fwd is not None and any(param_role(p.name, False) == "bias" for p in fwd.params)
    fns = [f for f in [fwd, *grads.values()] if f is not None]
    batched = has_bias or any(param_role(p.name, False) == "conv_param" for f in fns for p in f.params)
    # one backward returning (dx, dw, db) when the forward has a bias
    if has_bias:
        combined = [f for t, f in grads.items() if t != Target.GRAD_BIAS]
        if combined and all(c is combined[0] for c in combined):
            grads.setdefault("grad_bias", combined[0])
    layouts = LAYOUT_CANDIDATES["functional_batched" if batched else "functional_plain"]
    impl = FunctionalImpl(fwd, grads, has_bias)
    if impl.flat_first:  # flat arrays with extents: a 2-D grid, with channels when a channel count is passed
        layouts = ("chw", "hw") if impl.flat_channels else ("hw",)
    return BindPlan(Convention.FUNCTIONAL, lambda: FunctionalImpl(fwd, grads, has_bias), layouts)


def _plan_explicit(ns, explicit, conv, cfg=None) -> BindPlan:
    explicit = {t: (n[:-len(".apply")] if n.endswith(".apply") and n not in ns and n[:-len(".apply")] in ns else n)
                for t, n in explicit.items()}             # --forward MyConv.apply: torch's apply, the user's class
    chosen = {t: _lookup(ns, n, t) for t, n in explicit.items()}
    fwd_obj = chosen.get("forward")
    if fwd_obj is not None and fwd_obj.name.endswith((".apply", ".forward")) and not fwd_obj.is_class:
        owner = ns.get(fwd_obj.name.rsplit(".", 1)[0])       # --forward MyConv.apply names the Function
        if owner is not None and _framework_of(owner):
            fwd_obj = owner
    kind = _framework_of(fwd_obj) if fwd_obj is not None else None
    if conv in FRAMEWORKS or kind:
        if fwd_obj is None or (conv in FRAMEWORKS and kind != conv):
            raise BindError(f"--convention {conv} needs --forward naming a "
                            + {"torch-function": "torch.autograd.Function class", "torch-module": "nn.Module class",
                               "jax": "function with jax.custom_vjp / custom_jvp"}.get(conv, "function")
                            + (f"; {fwd_obj.name} is not one" if fwd_obj is not None else ""))
        return _framework_plan(kind, [fwd_obj], cfg)
    # A class named for --forward: the layer convention.
    classes = [f for f in chosen.values() if f.is_class]
    if classes or conv == Convention.LAYER:
        cls = classes[0] if classes else None
        if cls is None:
            owner = explicit.get("forward", "").rsplit(".", 1)[0]
            if owner in ns and ns[owner].is_class:
                cls = ns[owner]
        if cls is None:
            raise BindError("--convention layer needs a class: name it with --forward CLASS")
        return layer_plan(cls, ns)
    fwd = chosen.get("forward")
    if conv == Convention.HOLBERTON or (conv == "auto" and fwd is not None and
                               {"activation", "a_prev"} & {p.name.lower() for p in fwd.params}):
        bwd = chosen.get("grad_input") or chosen.get("grad_filter") or chosen.get("grad_bias")
        return BindPlan(Convention.HOLBERTON, lambda: HolbertonImpl(fwd, bwd), LAYOUT_CANDIDATES["holberton"])
    bwd_any = next((chosen[t] for t in GRADS if t in chosen), None)
    if conv == Convention.CS231N or (conv == "auto" and bwd_any is not None and
                            [p.name.lower() for p in bwd_any.params][1:2] == ["cache"]):
        if fwd is None:
            raise BindError("the cs231n convention needs the forward too (it makes the cache): add --forward NAME")
        return BindPlan(Convention.CS231N, lambda: Cs231nImpl(fwd, bwd_any), LAYOUT_CANDIDATES["cs231n"])
    grads = {t: f for t, f in chosen.items() if t != Target.FORWARD}
    # Targets not named on the command line are still discovered (naming one function
    # should not silently drop the others).
    by_kind = _functional(ns)
    used = {f.name for f in chosen.values()}
    if fwd is None:
        cands = [(sc, f) for sc, f in by_kind.get("forward", []) if f.name not in used]
        fwd = _best(cands, "forward", "--forward") if cands else None
    for t in (Target.GRAD_INPUT, Target.GRAD_FILTER):
        if t not in grads:
            cands = [(sc, f) for sc, f in by_kind.get(t, []) if f.name not in used]
            if cands:
                grads[t] = _best(cands, t.replace("_", " "), "--" + t.replace("_", "-"))
    return _functional_plan(fwd, grads)
