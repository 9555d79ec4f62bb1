"""What the user asked for: one RunConfig, validated once, shared by the CLI and the Python API."""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field, replace
from functools import cached_property

from .errors import ConfigError
from .geometry import ALL_OPS, GeometryOptions, _axes_of, parse_options, per_axis
from .vocab import CONVENTION_CHOICES, DEVICE_CHOICES, LAYOUT_CHOICES

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class RunConfig:
    """Options as given (strings allowed, echoed in the rerun command); `geometry_options` holds
    the geometry parsed once, `checks.problem.build_problem` resolves it per layout."""

    files: tuple[str, ...] = ()
    forward: str | None = None
    grad_input: str | None = None
    grad_filter: str | None = None
    grad_bias: str | None = None
    convention: str = "auto"
    layout: str = "auto"
    stride: object = None              # None: chosen after binding (see runner.default_geometry)
    pad: object = None
    dilation: object = None            # None: 2 when a bound function takes a dilation, else 1 (runner)
    input_size: object = None          # None: defaults chosen per layout (non-square)
    filter_size: object = None
    channels: int | None = None
    filters: int | None = None
    batch: int | None = None
    op: str = "correlate"
    op_given: bool = False             # --op was spelled out: names in the files do not change it
    groups: int | None = None          # None: 1, or what the user's names and filter shape say
    output_padding: object = None      # transpose only
    ceil_mode: bool | None = None      # pooling only; None: ceil when the pooling takes a ceil_mode (runner)
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
    device: str = "cpu"
    # Callables given directly through the Python API instead of files.
    callables: dict = field(default_factory=dict, compare=False)

    @cached_property
    def geometry_options(self) -> GeometryOptions:
        """Stride, pad, dilation and sizes parsed once (raises ConfigError on text that cannot work)."""
        return parse_options(self.stride, self.pad, self.dilation, self.input_size, self.filter_size)

    def replace(self, **changes) -> "RunConfig":
        """A changed copy: the config is frozen, and each variant (defaults filled in, a fix's patched
        copy, the smallest failing sweep config) is a config of its own."""
        return replace(self, **changes)

    def validate(self) -> "RunConfig":
        """Catch option errors before any user code runs; each raises ConfigError with one sentence."""
        if self.convention not in CONVENTION_CHOICES:
            raise ConfigError(f"--convention must be one of {', '.join(CONVENTION_CHOICES)}, not {self.convention!r}")
        if self.device not in DEVICE_CHOICES:
            raise ConfigError(f"--device must be one of {', '.join(DEVICE_CHOICES)}, not {self.device!r}")
        if self.layout not in LAYOUT_CHOICES:
            raise ConfigError(f"--layout must be one of {', '.join(LAYOUT_CHOICES)}, not {self.layout!r}")
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
        self.geometry_options
        return self

