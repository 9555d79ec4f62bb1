"""Stride, padding, dilation and output size: the one place that owns the index arithmetic.

Every other module (reference, mutants, checks, sweep) asks this module for
output shapes and resolved paddings, so the formula exists once:

    out = floor((n + before + after - d*(k-1) - 1) / s) + 1

and, for the other strided-window ops (issue 18):

    transpose  out = (n - 1)*s - before - after + d*(k-1) + output_padding + 1
    pooling    as above, or with ceil instead of floor (ceil_mode), dropping a last
               window that would start inside the padding after the input (torch's rule)

Option text ('2x1', '1,0', 'same') is parsed here once, by `parse_options` (the
config calls it); everything after works on the parsed per-axis values.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

from .errors import ConfigError
from .vocab import DENSE_OPS as OPS, OP_CHOICES as ALL_OPS, POOL_OPS, WINDOW_OPS, Op  # noqa: F401 (the reference reads Op here)

PAD_MODES = ("same", "valid")


@dataclass(frozen=True)
class Geometry:
    """Resolved per-axis geometry of one convolution (no symbolic 'same'/'valid' left)."""

    stride: tuple[int, ...]
    pad: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    op: str = "correlate"
    mode: str | None = field(default=None, compare=False)  # 'same'/'valid' when the pad came from a mode
    groups: int = 1                                  # grouped convolution (depthwise: groups = channels)
    output_padding: tuple[int, ...] = ()             # transpose only: extra rows after, () means 0
    ceil_mode: bool = False                          # pooling only: ceil instead of floor
    count_include_pad: bool = False                  # avgpool only: padded zeros count in the divisor

    @property
    def is_pool(self) -> bool:
        return self.op in POOL_OPS

    @property
    def ndim(self) -> int:
        """Spatial axes only: batch and channel axes are not part of the geometry."""
        return len(self.stride)

    def out_shape(self, in_spatial, k_spatial) -> tuple[int, ...]:
        """Output spatial shape; raises ConfigError when the filter does not fit."""
        in_spatial, k_spatial = tuple(in_spatial), tuple(k_spatial)
        if self.op == Op.TRANSPOSE:
            return transposed_out_shape(in_spatial, k_spatial, self)
        if self.is_pool:
            return pool_out_shape(in_spatial, k_spatial, self)
        out = []
        for axis, (n, k, s, (pb, pa), d) in enumerate(
            zip(in_spatial, k_spatial, self.stride, self.pad, self.dilation)
        ):
            span = d * (k - 1) + 1
            padded = n + pb + pa
            if span > padded:
                raise ConfigError(
                    f"the filter spans {span} (size {k}, dilation {d}) on axis {axis} "
                    f"but the padded input is only {padded} wide ({n} + {pb} + {pa})"
                )
            out.append(out_length(n, k, s, (pb, pa), d))
        return tuple(out)

    def leftover(self, in_spatial, k_spatial) -> tuple[int, ...]:
        """Per axis, the padded input positions after the last window's start that no further
        stride reaches ((padded - span) % s): nonzero where the stride does not divide evenly."""
        return tuple((n + pb + pa - (d * (k - 1) + 1)) % s for n, k, s, (pb, pa), d in
                     zip(in_spatial, k_spatial, self.stride, self.pad, self.dilation))

    def in_shape_for(self, out_spatial, k_spatial) -> tuple[int, ...]:
        """The smallest input sizes (at least 1) whose output is `out_spatial`: the formula inverted."""
        return tuple(max(1, (o - 1) * s + d * (k - 1) + 1 - pb - pa) for o, k, s, (pb, pa), d in
                     zip(out_spatial, k_spatial, self.stride, self.pad, self.dilation))

    @property
    def symmetric_pad(self) -> tuple[int, ...] | None:
        """One pad per axis when before == after everywhere, else None."""
        if all(b == a for b, a in self.pad):
            return tuple(b for b, _ in self.pad)
        return None

    def with_pad(self, pad) -> "Geometry":
        """The same geometry with another padding (the sweep and the pad-0 problem use it)."""
        return replace(self, pad=pad_pairs(pad, self.ndim), mode=None)

    def describe(self) -> str:
        """Stride, pad and the non-default dilation and op, as the report writes them."""
        return (
            f"stride {format_axes(self.stride)}, pad {format_pad(self.pad)}"
            + ("" if all(d == 1 for d in self.dilation) else f", dilation {format_axes(self.dilation)}")
            + ("" if self.op == "correlate" else f", op {self.op}")
            + ("" if self.groups == 1 else f", groups {self.groups}")
            + ("" if not any(self.output_padding) else f", output padding {format_axes(self.output_padding)}")
            + (", ceil mode" if self.ceil_mode else "")
            + (", count include pad" if self.count_include_pad and self.op == Op.AVGPOOL else "")
        )


def transposed_out_shape(in_spatial, k_spatial, g: Geometry) -> tuple[int, ...]:
    """Transposed convolution: the input size of the correlation whose gradient it is."""
    out = []
    op_pad = g.output_padding or (0,) * g.ndim
    for axis, (n, k, s, (pb, pa), d, a) in enumerate(
            zip(in_spatial, k_spatial, g.stride, g.pad, g.dilation, op_pad)):
        if a >= max(s, d):
            raise ConfigError(f"output padding {a} on axis {axis} must be smaller than the stride ({s}) "
                              f"or the dilation ({d})")
        size = (n - 1) * s - pb - pa + d * (k - 1) + a + 1
        if size < 1:
            raise ConfigError(f"the transposed output on axis {axis} would be {size} wide: the padding "
                              f"{pb} + {pa} crops more than the {size + pb + pa} the input {n} spreads to")
        out.append(size)
    return tuple(out)


def pool_out_shape(in_spatial, k_spatial, g: Geometry) -> tuple[int, ...]:
    """Pooling windows (torch's rule): floor or ceil, and with ceil no window starting in the after-padding."""
    out = []
    for axis, (n, k, s, (pb, pa), d) in enumerate(zip(in_spatial, k_spatial, g.stride, g.pad, g.dilation)):
        span = d * (k - 1) + 1
        if max(pb, pa) * 2 > k:
            raise ConfigError(f"pooling padding {max(pb, pa)} on axis {axis} must be at most half the "
                              f"window ({k}), or a window could hold only padding")
        padded = n + pb + pa
        if span > padded:
            raise ConfigError(f"the window spans {span} (size {k}, dilation {d}) on axis {axis} "
                              f"but the padded input is only {padded} wide ({n} + {pb} + {pa})")
        count = (padded - span + (s - 1 if g.ceil_mode else 0)) // s + 1
        if g.ceil_mode and (count - 1) * s >= n + pb:
            count -= 1
        out.append(count)
    return tuple(out)
def out_length(n: int, k: int, s: int, pad: tuple[int, int], d: int) -> int:
    """The output length on one axis: the formula, unchecked (Geometry.out_shape checks the fit)."""
    return (n + pad[0] + pad[1] - (d * (k - 1) + 1)) // s + 1


def format_axes(values) -> str:
    """One number when every axis agrees, else the per-axis values joined by x (2x1)."""
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else "x".join(str(v) for v in values)


def format_pad(pad) -> str:
    """Padding as the --pad option writes it: 1, 2x1, or before,after per axis."""
    if all(b == a for b, a in pad):
        return format_axes([b for b, _ in pad])
    return "x".join(f"{b},{a}" for b, a in pad)


def per_axis(value, ndim: int, name: str, minimum: int) -> tuple[int, ...]:
    """An int, a sequence of ints, or a string like '2' or '2x1' -> one int per axis."""
    if isinstance(value, str):
        parts = [p for p in re.split(r"[x×,]", value.strip().lower()) if p]
        if not parts:
            raise ConfigError(f"{name} must be a whole number or one per axis like 2x1, not {value!r}")
        try:
            value = [int(p) for p in parts]
        except ValueError:
            raise ConfigError(f"{name} must be a whole number or one per axis like 2x1, not {value!r}") from None
    if isinstance(value, (int,)) and not isinstance(value, bool):
        values = (int(value),) * ndim
    else:
        try:
            values = tuple(int(v) for v in value)
        except TypeError:
            raise ConfigError(f"{name} must be a whole number or one per axis, not {value!r}") from None
        if len(values) == 1:
            values = values * ndim
    if len(values) != ndim:
        raise ConfigError(f"{name} has {len(values)} values but the input has {ndim} spatial axes")
    for v in values:
        if v < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {v}")
    return values


def pad_pairs(pad, ndim: int) -> tuple[tuple[int, int], ...]:
    """int | per-axis ints | per-axis (before, after) -> ((before, after), ...)."""
    if isinstance(pad, (int,)) and not isinstance(pad, bool):
        pairs = ((int(pad), int(pad)),) * ndim
    else:
        items = list(pad)
        if len(items) == 2 and ndim == 1 and all(isinstance(i, int) for i in items):
            items = [tuple(items)]
        if len(items) == 1 and ndim > 1:
            items = items * ndim
        if len(items) != ndim:
            raise ConfigError(f"pad has {len(items)} values but the input has {ndim} spatial axes")
        pairs = tuple(
            (int(i), int(i)) if isinstance(i, (int,)) else (int(i[0]), int(i[1])) for i in items
        )
    for b, a in pairs:
        if b < 0 or a < 0:
            raise ConfigError(f"pad must not be negative, got {format_pad(pairs)}")
    return pairs


def parse_pad(text: str, ndim: int):
    """'1', '1x2', '1,0x1,0', 'same', 'valid' -> pairs or the symbolic mode string."""
    text = str(text).strip().lower()
    if text in ("same", "valid"):
        return text
    axes = [a for a in re.split(r"[x×]", text) if a]
    pairs = []
    try:
        for a in axes:
            nums = [int(v) for v in a.split(",")]
            if len(nums) == 1:
                pairs.append((nums[0], nums[0]))
            elif len(nums) == 2:
                pairs.append((nums[0], nums[1]))
            else:
                raise ValueError
    except ValueError:
        raise ConfigError(
            f"pad must be a whole number, one per axis (1x2), before,after per axis (1,0x1,0), "
            f"'same' or 'valid', not {text!r}"
        ) from None
    if len(pairs) == 1:
        pairs = pairs * ndim
    return pad_pairs(pairs, ndim)


def same_pad(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow/PyTorch 'same': output ceil(n/s), extra padding after when odd."""
    span = d * (k - 1) + 1
    out = math.ceil(n / s)
    total = max((out - 1) * s + span - n, 0)
    return total // 2, total - total // 2


def holberton_same_pad(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """The Holberton curriculum's 'same': symmetric ((n - 1)*s + k - n) // 2 on both sides."""
    p = max(((n - 1) * s + d * (k - 1) + 1 - n) // 2, 0)
    return p, p


def holberton_same_pad_plus_one(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """The other 'same' of Holberton solutions: ((n - 1)*s + k - n) // 2 + 1 on both sides."""
    p = holberton_same_pad(n, k, s, d)[0] + 1
    return p, p


SAME_RULES = {"tf": same_pad, "holberton": holberton_same_pad, "holberton_plus_one": holberton_same_pad_plus_one}


@dataclass(frozen=True)
class GeometryOptions:
    """Stride, pad, dilation and sizes as the user gave them, parsed once into numbers.

    The axis count is known only once the layout is, so a single value still stands for
    every axis here; `make_geometry` broadcasts and checks the count. A pad is (before,
    after) pairs, 'same'/'valid', or a non-text value kept as given (an int or a sequence,
    whose meaning for one axis, [1, 2] = before 1 after 2, depends on the axis count).
    """

    stride: tuple[int, ...] | None = None
    pad: object = None
    dilation: tuple[int, ...] | None = None
    input_size: tuple[int, ...] | None = None
    filter_size: tuple[int, ...] | None = None

    def on_axes(self, name: str, ndim: int) -> tuple[int, ...] | None:
        """stride, dilation, input_size or filter_size on `ndim` axes (one value serves every axis);
        None when not given; ConfigError when the count does not match."""
        value = getattr(self, name)
        return None if value is None else per_axis(value, ndim, name.replace("_", " "), 1)


def parse_options(stride=None, pad=None, dilation=None, input_size=None, filter_size=None) -> GeometryOptions:
    """Option values (text like '2x1', '1,0x1,0', 'same', or numbers) -> GeometryOptions; a
    value that cannot work raises ConfigError with one sentence."""
    def axes(value, name):
        return None if value is None else per_axis(value, _axes_of(value), name, 1)

    stride_t, dilation_t = axes(stride, "stride"), axes(dilation, "dilation")
    if isinstance(pad, str):
        pad = parse_pad(pad, _axes_of(pad))
    elif isinstance(pad, list):
        pad = tuple(tuple(p) if isinstance(p, list) else p for p in pad)
    return GeometryOptions(stride_t, pad, dilation_t, axes(input_size, "input size"), axes(filter_size, "filter size"))


def _axes_of(value) -> int:
    """How many axes a per-axis option spells (1 for a plain number)."""
    if isinstance(value, str):
        if value.strip().lower() in PAD_MODES:
            return 1
        return max(1, len([p for p in value.lower().replace("×", "x").split("x") if p]))
    if isinstance(value, (list, tuple)):
        return max(1, len(value))
    return 1


def make_geometry(stride=1, pad=0, dilation=1, op: str = "correlate", ndim: int = 2,
                  in_spatial=None, k_spatial=None, same_rule: str = "tf") -> Geometry:
    """Validate and resolve a user-facing configuration into a Geometry (the dense ops only:
    the other strided-window ops go through window_geometry, so a dense caller cannot get one)."""
    if op not in OPS:
        raise ConfigError(f"op must be correlate or convolve, not {op!r}")
    stride_t = per_axis(stride, ndim, "stride", 1)
    dil_t = per_axis(dilation, ndim, "dilation", 1)
    if isinstance(pad, str) and pad.strip().lower() in ("same", "valid"):
        mode = pad.strip().lower()
        if mode == "valid":
            pairs = ((0, 0),) * ndim
        else:
            if in_spatial is None or k_spatial is None:
                raise ConfigError("pad 'same' needs the input and filter sizes")
            rule = SAME_RULES[same_rule]
            pairs = tuple(rule(n, k, s, d) for n, k, s, d in zip(in_spatial, k_spatial, stride_t, dil_t))
        geom = Geometry(stride_t, pairs, dil_t, op, mode)
        geom.out_shape(in_spatial, k_spatial) if in_spatial is not None and k_spatial is not None else None
        return geom
    elif isinstance(pad, str):
        pairs = parse_pad(pad, ndim)
    else:
        pairs = pad_pairs(pad, ndim)
    geom = Geometry(stride_t, pairs, dil_t, op)
    if in_spatial is not None and k_spatial is not None:
        geom.out_shape(in_spatial, k_spatial)  # raises ConfigError if the filter does not fit
    return geom


def window_geometry(stride=1, pad=0, dilation=1, op: str = "correlate", ndim: int = 2, in_spatial=None,
                    k_spatial=None, *, groups=1, output_padding=0, ceil_mode=False,
                    count_include_pad=False) -> Geometry:
    """A Geometry for any strided-window op: grouped correlate/convolve, transpose, maxpool, avgpool."""
    if op not in ALL_OPS:
        raise ConfigError(f"op must be one of {', '.join(ALL_OPS)}, not {op!r}")
    dil_t = per_axis(dilation, ndim, "dilation", 1)
    extra = _window_options(op, ndim, dil_t, groups, output_padding, ceil_mode, count_include_pad)
    base_op = op if op in OPS else "correlate"
    geom = make_geometry(stride, pad, dilation, base_op, ndim, in_spatial if op in OPS else None,
                         k_spatial if op in OPS else None)
    if geom.mode == "same" and op not in OPS:
        raise ConfigError(f"pad 'same' is for correlations; give --op {op} a number")
    geom = replace(geom, op=op, **extra) if extra else geom
    if in_spatial is not None and k_spatial is not None:
        geom.out_shape(in_spatial, k_spatial)
    return geom


def _window_options(op, ndim, dil_t, groups, output_padding, ceil_mode, count_include_pad) -> dict:
    """The options of issue 18 as Geometry fields; {} when they are all at the dense defaults."""
    groups = int(groups)
    if groups < 1:
        raise ConfigError(f"groups must be at least 1, got {groups}")
    op_pad = per_axis(output_padding, ndim, "output padding", 0)
    if any(op_pad) and op != Op.TRANSPOSE:
        raise ConfigError("output padding belongs to --op transpose")
    if ceil_mode and op not in POOL_OPS:
        raise ConfigError("ceil mode belongs to --op maxpool or avgpool")
    if count_include_pad and op != Op.AVGPOOL:
        raise ConfigError("count include pad belongs to --op avgpool")
    if groups > 1 and op in POOL_OPS:
        raise ConfigError("pooling has no groups (every channel is pooled on its own)")
    if op == Op.AVGPOOL and any(d != 1 for d in dil_t):
        raise ConfigError("average pooling has no dilation")
    if op in ("correlate", "convolve") and groups == 1:
        return {}
    return {"groups": groups, "output_padding": op_pad if any(op_pad) else (),
            "ceil_mode": bool(ceil_mode), "count_include_pad": bool(count_include_pad)}
