"""What the user asked for: one RunConfig, validated once, shared by the CLI and the Python API."""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field, replace

from .geometry import ALL_OPS, ConfigError, parse_pad, per_axis

CONVENTIONS = ("auto", "functional", "cs231n", "holberton", "layer")
LAYOUTS = ("auto", "w", "hw", "chw", "nchw", "nhwc", "dhw", "ncdhw")
# spatial axes, has channel axis, has batch axis, channels last
LAYOUT_AXES = {
    "w": (1, False, False, False),
    "hw": (2, False, False, False),
    "dhw": (3, False, False, False),
    "chw": (2, True, False, False),
    "nchw": (2, True, True, False),
    "nhwc": (2, True, True, True),
    "ncdhw": (3, True, True, False),
}

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class RunConfig:
    """Raw options as given (strings allowed); `resolve_sizes` turns them into numbers per layout."""

    files: tuple[str, ...] = ()
    forward: str | None = None
    grad_input: str | None = None
    grad_filter: str | None = None
    grad_bias: str | None = None
    convention: str = "auto"
    layout: str = "auto"
    stride: object = None              # None: chosen after binding (see runner.default_geometry)
    pad: object = None
    dilation: object = 1
    input_size: object = None          # None: defaults chosen per layout (non-square)
    filter_size: object = None
    channels: int | None = None
    filters: int | None = None
    batch: int | None = None
    op: str = "correlate"
    groups: int | None = None          # None: 1, or what the user's names and filter shape say
    output_padding: object = None      # transpose only
    ceil_mode: bool = False            # pooling only
    count_include_pad: bool = False    # avgpool only
    seed: int = 0
    rtol: float | None = None
    atol: float | None = None
    sweep: bool = False
    jobs: int | None = None
    exhaustive: bool = False
    explain_cell: tuple[int, ...] | None = None
    fix: bool = False
    timeout: float = DEFAULT_TIMEOUT
    # Callables given directly through the Python API instead of files.
    callables: dict = field(default_factory=dict, compare=False)

    def replace(self, **changes) -> "RunConfig":
        return replace(self, **changes)

    def validate(self) -> "RunConfig":
        """Catch option errors before any user code runs; each raises ConfigError with one sentence."""
        if self.convention not in CONVENTIONS:
            raise ConfigError(f"--convention must be one of {', '.join(CONVENTIONS)}, not {self.convention!r}")
        if self.layout not in LAYOUTS:
            raise ConfigError(f"--layout must be one of {', '.join(LAYOUTS)}, not {self.layout!r}")
        if self.op not in ALL_OPS:
            raise ConfigError(f"--op must be one of {', '.join(ALL_OPS)}, not {self.op!r}")
        if self.groups is not None and (isinstance(self.groups, bool) or self.groups < 1):
            raise ConfigError(f"--groups must be at least 1, got {self.groups!r}")
        if self.output_padding is not None:
            per_axis(self.output_padding, _axes_of(self.output_padding), "output padding", 0)
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or self.seed < 0:
            raise ConfigError(f"--seed must be a whole number of at least 0, got {self.seed!r}")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"--timeout must be positive, got {self.timeout}")
        for name in ("channels", "filters", "batch"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ConfigError(f"--{name} must be at least 1, got {v}")
        for name in ("rtol", "atol"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ConfigError(f"--{name} must not be negative, got {v}")
        # Syntax of the geometry options (axis count is checked once the layout is known).
        for name in ("stride", "dilation"):
            if getattr(self, name) is not None:
                per_axis(getattr(self, name), _axes_of(getattr(self, name)), name, 1)
        if isinstance(self.pad, str):
            parse_pad(self.pad, _axes_of(self.pad))
        for name in ("input_size", "filter_size"):
            v = getattr(self, name)
            if v is not None:
                per_axis(v, _axes_of(v), name.replace("_", " "), 1)
        return self

    def window_options(self, op: str | None = None) -> dict:
        """The issue-18 options as make_geometry keywords (parsed there, once)."""
        return {"groups": self.groups or 1, "output_padding": self.output_padding or 0,
                "ceil_mode": self.ceil_mode, "count_include_pad": self.count_include_pad}


def _axes_of(value) -> int:
    """How many axes a per-axis option spells (1 for a plain number)."""
    if isinstance(value, str):
        if value.strip().lower() in ("same", "valid"):
            return 1
        return max(1, len([p for p in value.lower().replace("×", "x").split("x") if p]))
    if isinstance(value, (list, tuple)):
        return max(1, len(value))
    return 1
