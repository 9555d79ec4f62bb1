"""BoundOp: the user's functions behind one canonical signature.

Checks and diagnosis only ever see canonical float64 arrays (see
docs/ARCHITECTURE.md). This module owns the round trip: canonical -> the
user's layout and container (arrays or nested lists) -> a guarded call ->
coercion of whatever came back -> canonical again. Conventions (functional,
cs231n, holberton, layer) plug in as small "impl" objects that only know how
to call the user's code with user-space values.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from .arrays import to_float_array
from ..checks.compare import same_values
from ..errors import UnusableOutput, UserRaised, UserTimeout
from ..geometry import Geometry
from ..loader.guard import call_user
from .layouts import Layout
from ..vocab import ACTIVATION_TARGETS, Convention, Target


@dataclass(frozen=True)
class UserArgs:
    """One call's inputs in the user's layout and container, plus the numbers conventions pass."""

    x: object
    w: object
    b: object
    dout: object
    geom: Geometry
    x_shape: tuple            # user-layout shapes
    w_shape: tuple
    out_shape: tuple
    layout: Layout

    @property
    def filters(self) -> int:
        """F, the number of filters, read from the filter's shape in the user's layout."""
        if not self.layout.channels:
            return 1
        return self.w_shape[-1] if self.layout.channels_last else self.w_shape[0]

    @property
    def stride(self):
        """The stride as learners pass it: one int when every axis agrees, else a tuple."""
        s = self.geom.stride
        return s[0] if len(set(s)) == 1 else tuple(s)

    @property
    def pad(self):
        """The padding as learners pass it: an int, one per axis, or (before, after) pairs when asymmetric."""
        sym = self.geom.symmetric_pad
        if sym is None:
            return tuple(tuple(p) for p in self.geom.pad)
        return sym[0] if len(set(sym)) == 1 else tuple(sym)

    @property
    def dilation(self):
        """The dilation as learners pass it: one int when every axis agrees, else a tuple."""
        d = self.geom.dilation
        return d[0] if len(set(d)) == 1 else tuple(d)

    def size_value(self, which: str, style: str = "auto"):
        """Filter or input size as learners pass it.

        auto: an int when square (or 1-D), else a tuple; with channels, the full shape.
        tuple: always a tuple of the spatial sizes; spatial: the spatial sizes even with channels.
        """
        full = self.w_shape if which == "filter" else self.x_shape
        L = self.layout
        if L.channels:
            if style != "spatial":
                return tuple(full)
            spatial = full[:-2] if (which == "filter" and L.channels_last) else (
                full[2:] if which == "filter" else (full[1:-1] if L.channels_last else full[-L.spatial:]))
            return tuple(spatial)
        if style == "auto" and len(set(full)) == 1:
            return full[0]
        return tuple(full)

    def extents(self) -> dict[str, int]:
        """Width/height of the input, filter and output, and the channel count, for flat-array code."""
        L = self.layout
        sp = lambda full, which: (full[:-2] if which == "w" and L.channels_last else full[2:]) if (
            which == "w" and L.channels) else ((full[1:-1] if L.channels_last else full[-L.spatial:])
                                               if L.channels else full)
        xs, ks, os_ = sp(self.x_shape, "x"), sp(self.w_shape, "w"), sp(self.out_shape, "x")
        out = {"n_channels": (self.w_shape[-2] if L.channels_last else self.w_shape[1]) if L.channels else 1}
        for name, shape in (("in", xs), ("k", ks), ("out", os_)):
            if len(shape) >= 2:
                out[f"{name}_h"], out[f"{name}_w"] = int(shape[-2]), int(shape[-1])
            elif len(shape) == 1:
                out[f"{name}_h"], out[f"{name}_w"] = 1, int(shape[0])
        return out

    def size_styles(self) -> tuple[str, ...]:
        """The ways to pass a size worth trying, most common first."""
        return ("auto", "spatial") if self.layout.channels else ("auto", "tuple")


MEMO_ENTRIES = 2   # backward calls remembered: one per draw the checks use


class BoundOp:
    """Canonical-signature front of one convention implementation (see module doc); its interface is
    listed in docs/ARCHITECTURE.md, the impl protocol behind it in conventions.py."""

    def __init__(self, impl, layout: Layout, *, convention: str, container: str = "array",
                 timeout: float | None = 5.0, user_files=(), language: str = "python", same_rule: str = "tf"):
        self.impl = impl
        self.layout = layout
        self.convention = convention
        self.same_rule = same_rule          # which 'same' padding rule this binding was checked with
        self.container = container
        self.timeout = timeout
        self.user_files = tuple(user_files)
        self.language = language
        self.calls: Counter = Counter()
        self.mutations: list[str] = []
        self.dtype_notes: dict[str, str] = {}
        self.hung: dict[str, UserTimeout] = {}
        self._memo: list | None = None   # [(inputs, gradients, shapes)] of the last backward calls
        self._pristine: dict[int, tuple] = {}  # id(array handed to the user) -> (it, the values it had)
        self._compiled: set = set()

    # ---- what is bound ------------------------------------------------------
    @property
    def targets(self) -> tuple[str, ...]:
        return self.impl.targets

    @property
    def names(self) -> dict[str, str]:
        return dict(self.impl.names)

    @property
    def has_bias(self) -> bool:
        return self.impl.has_bias

    def describe_binding(self) -> list[str]:
        """Notes for the report on how the functions were bound (and which layer attributes were used)."""
        notes = list(getattr(self.impl, "binding_notes", []))
        notes += list(getattr(self.impl, "call_notes", ()))     # what calls revealed (torch's casts, layouts)
        used = getattr(self.impl, "used_attributes", None)
        if used is not None and used():
            notes.append(f"attributes used: {used()}")
        return notes

    # ---- canonical entry points ----------------------------------------------
    def forward(self, x, w, b, geom: Geometry, *, scratch_x: bool = False) -> np.ndarray:
        """The user's forward on canonical (N, C, *S) arrays, its answer made canonical again.

        scratch_x: x is the caller's temporary (a finite-difference point), so when it already is
        the array the user would get it is handed over without the protective copy (50 MB at
        large shapes); an in-place write then goes unseen, which the checks' own calls catch."""
        args, raw = self._lending(
            lambda lend: self._user_args(x, w, b, None, geom, scratch_x=scratch_x and lend, lend=lend),
            lambda a: self.impl.forward(a, self._caller))
        return self._canonical("forward", raw, args)

    def grad_input(self, dout, x, w, b, geom):
        return self._gradient("grad_input", dout, x, w, b, geom)

    def grad_filter(self, dout, x, w, b, geom):
        return self._gradient("grad_filter", dout, x, w, b, geom)

    def grad_bias(self, dout, x, w, b, geom):
        return self._gradient("grad_bias", dout, x, w, b, geom)

    def call(self, target: str, x, w, b, geom, dout=None) -> np.ndarray:
        """Any target by name, so the checks loop over targets without knowing signatures."""
        if target == Target.FORWARD:
            return self.forward(x, w, b, geom)
        return self._gradient(target, dout, x, w, b, geom)

    def served_with(self, target: str) -> set[str]:
        """Targets that one call of the function behind `target` also answers (one backward, three grads)."""
        name = self.names.get(target)
        return {t for t, n in self.names.items() if n == name and t != Target.FORWARD} | {target}

    def share(self, target: str, array: np.ndarray) -> None:
        """The newest backward answer for `target` is known equal to `array`: the memo keeps that one
        (the repeatability check holds both, 50 MB each at large shapes, and needs only one)."""
        if self._memo and isinstance(self._memo[0][1].get(target), _Canonical):
            self._memo[0][1][target] = _Canonical(array)

    def forget(self) -> None:
        """Drop the memo of the last backward call, so the next call really runs the user's code."""
        self._memo = None

    def user_index(self, target: str, canonical_index) -> tuple[int, ...]:
        """A canonical index in the user's own layout, so messages quote the user's arrays."""
        idx = tuple(int(i) for i in canonical_index)
        if target in ACTIVATION_TARGETS:
            return self.layout.act_index(idx)
        if target == Target.GRAD_FILTER:
            return self.layout.w_index(idx)
        return self.impl.bias_index(idx) if hasattr(self.impl, "bias_index") else idx

    def user_shape(self, target: str, canonical_shape) -> tuple[int, ...]:
        """A canonical shape in the user's own layout, so messages quote the user's arrays."""
        shape = tuple(canonical_shape)
        if target in ACTIVATION_TARGETS:
            n, c, *s = shape
            return self.layout.out_shape(n, c, s)
        if target == Target.GRAD_FILTER:
            f, c, *k = shape
            return self.layout.w_shape(f, c, k)
        return shape

    # ---- internals -----------------------------------------------------------
    def _gradient(self, target, dout, x, w, b, geom) -> np.ndarray:
        key = (dout, x, w, b, geom)
        hit = next((m for m in self._memo or () if target in m[1] and _same_inputs(m[0], key)), None)
        if hit is not None:
            raws, args = hit[1], hit[2]
        else:
            args, raws = self._lending(lambda lend: self._user_args(x, w, b, dout, geom, lend=lend),
                                       lambda a: dict(self.impl.gradients(target, a, self._caller)))
            # the memo needs the shapes only: dropping the argument copies frees 100 MB at large shapes;
            # two entries, because the checks visit the targets on two draws in turn
            self._memo = [(key, raws, _shapes_only(args))] + list(self._memo or ())[:MEMO_ENTRIES - 1]
        if target not in raws:
            raise UnusableOutput(f"{self.names.get(target, target)} gave no {target.replace('_', ' ')}")
        value = raws[target]
        if isinstance(value, BaseException):
            raise value
        if isinstance(value, _Canonical):
            return value.array
        array = self._canonical(target, value, args)
        # the canonical copy answers from now on: the user's raw result (often a view that keeps a
        # padded buffer alive, 50 MB at large shapes) goes; nothing writes to the arrays checks get
        raws[target] = _Canonical(array)
        return array

    @property
    def _lends(self) -> bool:
        """NumPy code in arrays gets read-only views; framework code wraps arrays in tensors, so copies."""
        return self.container == "array" and self.convention not in FRAMEWORK_CONVENTIONS

    def _lending(self, make_args, call):
        """(args, call(args)) on lent read-only views; when the code writes into them, once more on
        copies, so the in-place-write check catches it in the act."""
        args = make_args(True)
        try:
            return args, call(args)
        except UserRaised as err:
            if not self._lends or not _wrote_read_only(err):
                raise
            args = make_args(False)
            return args, call(args)

    def _user_args(self, x, w, b, dout, geom, scratch_x: bool = False, lend: bool = True) -> UserArgs:
        """The user's arguments. NumPy code gets read-only views of corrcheck's own arrays (no copy
        of 50 MB inputs per call; a write raises, and the call is then made again on copies so the
        in-place-write check names it). Framework code, which wraps arrays in tensors, and lists
        get copies."""
        L = self.layout
        ux, uw = L.x_to_user(x), L.w_to_user(w)
        udout = None if dout is None else L.out_to_user(dout)
        n, c, *s = x.shape
        f, _, *k = w.shape
        out_spatial = geom.out_shape(s, k)
        sources = [ux, uw, None if b is None else np.array(b, dtype=np.float64), udout]
        lent = lend and self._lends
        given = []
        for i, src in enumerate(sources):
            if src is None:
                given.append(None)
            elif src.dtype == np.float64 and src.flags.c_contiguous and (lent or (scratch_x and i == 0 and
                                                                                   self.container == "array")):
                view = src.view()
                view.flags.writeable = not lent      # a finite-difference point is corrcheck's scratch
                given.append(view)
            else:
                given.append(self._container(src))
        # what each copied array had before the user saw it: the in-place-write check compares with
        # these instead of copying every argument again before each call (a lent view cannot be
        # written; a flat container hands over the same values in one row-major run)
        self._pristine = {id(g): (g, src.reshape(g.shape)) for g, src in zip(given, sources)
                          if isinstance(g, np.ndarray) and not np.may_share_memory(g, src)}
        return UserArgs(
            x=given[0], w=given[1], b=given[2], dout=given[3], geom=geom,
            x_shape=tuple(ux.shape), w_shape=tuple(uw.shape),
            out_shape=L.out_shape(n, f, out_spatial), layout=L,
        )

    def _container(self, a: np.ndarray):
        if self.container == "flat":          # one row-major run of numbers (typed-array / canvas code)
            flat = np.array(a, dtype=np.float64, copy=True).reshape(-1)
            return flat.tolist() if self.language == "javascript" else flat
        return a.tolist() if self.container == "list" else np.array(a, dtype=np.float64, copy=True)

    def _caller(self, target: str):
        """A guarded call that counts, and watches the arguments for in-place writes."""
        def call(fn, *args, **kwargs):
            if fn.name in self.hung:
                raise self.hung[fn.name]          # it hung once: do not wait for it again
            self.calls[target] += 1
            before = [self._before(a) for a in args] + [self._before(v) for v in kwargs.values()]
            timeout = self.timeout
            if getattr(self.impl, "compiles", False) and timeout is not None:
                # jax compiles every primitive on its first call at each shape: that call may take
                # what an import takes (runner.import_timeout), later ones the usual limit
                shapes = (fn.name,) + tuple(tuple(getattr(a, "shape", ())) for a in args)
                if shapes not in self._compiled:
                    self._compiled.add(shapes)
                    timeout = max(30.0, 6 * timeout)
            try:
                value = call_user(fn.call, args, kwargs, timeout=timeout, what=fn.name,
                                  user_files=self.user_files)
            except UserTimeout as exc:
                self.hung[fn.name] = exc
                raise
            after = list(args) + list(kwargs.values())
            names = [p.name for p in fn.params][:len(args)] + list(kwargs)
            for i, (snap, now) in enumerate(zip(before, after)):
                if snap is not None and not _same(snap, now):
                    pname = names[i] if i < len(names) else f"#{i + 1}"
                    msg = f"{fn.name} changes its argument `{pname}` in place (this corrupts training even when the result is right)"
                    if msg not in self.mutations:
                        self.mutations.append(msg)
            return value
        return call

    def _before(self, a):
        """The values an argument has before the call: its source when we made it, else a copy."""
        known = self._pristine.get(id(a)) if isinstance(a, np.ndarray) else None
        if known is not None and known[0] is a:
            return known[1]
        if isinstance(a, np.ndarray) and not a.flags.writeable:
            return None                           # lent read-only: the call cannot change it
        return _snapshot(a)

    def _canonical(self, target: str, raw, args: UserArgs) -> np.ndarray:
        name = self.names.get(target, target)
        arr, note = to_float_array(raw, name)
        if note:
            self.dtype_notes[target] = note
        L = self.layout
        if target == Target.FORWARD:
            want = args.out_shape
        elif target == Target.GRAD_INPUT:
            want = args.x_shape
        elif target == Target.GRAD_FILTER:
            want = args.w_shape
        else:
            f = args.filters
            if arr.size == f:
                return arr.reshape(f)
            raise UnusableOutput(
                f"{name} returned shape {tuple(arr.shape)} for the bias gradient, expected {f} values (one per filter)",
                got_shape=tuple(arr.shape))
        if tuple(arr.shape) != tuple(want):
            if self.container == "flat" and arr.ndim == 1 and arr.size == int(np.prod(want)):
                arr = arr.reshape(want)
            elif arr.size == int(np.prod(want)) and arr.squeeze().shape == tuple(s for s in want if s != 1):
                arr = arr.reshape(want)
            else:
                raise UnusableOutput(
                    f"{name} returned shape {tuple(arr.shape)}, expected {tuple(want)}",
                    got_shape=tuple(arr.shape))
        if target in ACTIVATION_TARGETS:
            return L.out_from_user(arr)
        return L.w_from_user(arr)


FRAMEWORK_CONVENTIONS = (Convention.TORCH_FUNCTION, Convention.TORCH_MODULE, Convention.JAX)


def _wrote_read_only(err: UserRaised) -> bool:
    """The user's code raised because it wrote into a read-only argument (numpy's own wording)."""
    cause = err.__cause__
    return isinstance(cause, ValueError) and "read-only" in str(cause)


@dataclass(frozen=True)
class _Canonical:
    """A memoised gradient already made canonical (told apart from a raw value the user returned)."""

    array: np.ndarray


def _shapes_only(args: UserArgs) -> UserArgs:
    return replace(args, x=None, w=None, dout=None)


def _snapshot(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    if type(a).__module__.split(".")[0] == "torch" and hasattr(a, "detach"):
        return _TensorSnapshot(_tensor_values(a).copy())              # torch tensors change in place too
    if isinstance(a, list):
        return _deep_copy_lists(a)
    return None


def _deep_copy_lists(a):
    return [_deep_copy_lists(v) if isinstance(v, list) else v for v in a]


class _TensorSnapshot(np.ndarray):
    """A copy of a tensor argument's values (a subclass, so _same knows to read the tensor again)."""

    def __new__(cls, values):
        return np.asarray(values).view(cls)


def _tensor_values(t) -> np.ndarray:
    """A tensor's values as numpy (bfloat16, which numpy lacks, widened to float64)."""
    t = t.detach().cpu()
    return (t.double() if t.is_floating_point() else t).numpy()


def _same(snap, now) -> bool:
    if isinstance(snap, _TensorSnapshot):
        values = _tensor_values(now)
        return same_values(values, np.asarray(snap))
    if isinstance(snap, np.ndarray):
        return isinstance(now, np.ndarray) and same_values(now, snap)
    return snap == now


def _same_inputs(old: tuple, new: tuple) -> bool:
    """The memo's inputs again? The same canonical arrays (nothing writes to them: the user gets
    copies) answer without a pass over 100 MB; other arrays must be equal in shape and value."""
    for a, b in zip(old, new):
        if a is b:
            continue
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            if not same_values(a, b):
                return False
        elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray) or a != b:
            return False
    return True


def _digest(*arrays) -> bytes:
    """A key for small arguments (a layer's weights and bias): hashes every byte."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if a is None:
            h.update(b"none")
        elif isinstance(a, np.ndarray):
            h.update(str(a.shape).encode())
            h.update(np.ascontiguousarray(a).tobytes())
        else:
            h.update(repr(a).encode())
    return h.digest()
