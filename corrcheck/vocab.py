"""The fixed words of corrcheck, each defined once: targets, what a check is against, statuses,
verdicts, ops, layout and convention names.

Each is a str-valued Enum: a member equals its plain string ("forward" == Target.FORWARD,
same hash), so strings from the CLI, the Python API or a JSON document stay valid, and a
member is written (JSON, f-strings, str()) as its bare value, so output does not change.
Adding a value here (a convention, say) is the whole change: config, the CLI's choices and
the checks read these lists.
"""
from __future__ import annotations

from enum import Enum


class Word(str, Enum):
    """A str-valued Enum member that prints as its value ('forward', not 'Target.FORWARD')."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(str.__str__(self), spec)


class Target(Word):
    """What a user function computes: the forward or one gradient."""

    FORWARD = "forward"
    GRAD_INPUT = "grad_input"
    GRAD_FILTER = "grad_filter"
    GRAD_BIAS = "grad_bias"


TARGETS = tuple(Target)
GRADS = (Target.GRAD_INPUT, Target.GRAD_FILTER, Target.GRAD_BIAS)
# Outputs shaped like the activations (input layout), as opposed to the filter or the bias.
ACTIVATION_TARGETS = (Target.FORWARD, Target.GRAD_INPUT)


class Against(Word):
    """What a user's output is compared with."""

    REFERENCE = "reference"
    FINITE_DIFFERENCES = "finite_differences"


class Status(Word):
    """The outcome of one check."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


FAILING = (Status.FAIL, Status.ERROR)      # statuses that make a check (and the run) fail


class Verdict(Word):
    """The outcome of a whole run (exit 0, 1, 2)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


class LayoutName(Word):
    """Axis orders of the user's arrays (binding/layouts.py describes each)."""

    W = "w"
    HW = "hw"
    CHW = "chw"
    NCHW = "nchw"
    NHWC = "nhwc"
    DHW = "dhw"
    NCDHW = "ncdhw"
    NCW = "ncw"          # 1-D with batch and channels (audio, sequences): torch's conv1d
    NWC = "nwc"          # the same, channels last: Keras' Conv1D


class Convention(Word):
    """How the user's functions are shaped (binding/conventions.py, binding/layer.py)."""

    FUNCTIONAL = "functional"
    CS231N = "cs231n"
    HOLBERTON = "holberton"
    LAYER = "layer"
    TORCH_FUNCTION = "torch-function"     # binding/torch_function.py
    TORCH_MODULE = "torch-module"         # binding/torch_module.py
    JAX = "jax"                           # binding/jax_vjp.py


class Op(Word):
    """What the forward computes (--op): the dense convolution's two readings and the other
    strided-window ops of issue 18 (geometry.py owns their output sizes)."""

    CORRELATE = "correlate"
    CONVOLVE = "convolve"
    TRANSPOSE = "transpose"               # transposed convolution ("deconvolution")
    MAXPOOL = "maxpool"
    AVGPOOL = "avgpool"


DENSE_OPS = (Op.CORRELATE, Op.CONVOLVE)    # the dense convolution: checks/, diagnosis/catalogue.py
POOL_OPS = (Op.MAXPOOL, Op.AVGPOOL)        # no filter: --filter-size is the window
WINDOW_OPS = (Op.TRANSPOSE, *POOL_OPS)     # window_runner.py and its modules
OP_CHOICES = tuple(o.value for o in Op)
DEMO_OP_CHOICES = (Op.CORRELATE.value, Op.TRANSPOSE.value, Op.MAXPOOL.value)   # demo.py has code for these


class Device(Word):
    """Where torch / jax tensors live (binding/frameworks.py checks the machine has it)."""

    CPU = "cpu"
    CUDA = "cuda"
    MPS = "mps"


AUTO = "auto"                              # --layout / --convention: detect it
LAYOUT_CHOICES = (AUTO, *(l.value for l in LayoutName))
CONVENTION_CHOICES = (AUTO, *(c.value for c in Convention))
DEVICE_CHOICES = tuple(d.value for d in Device)

__all__ = ["Word", "Target", "TARGETS", "GRADS", "ACTIVATION_TARGETS", "Against", "Status", "FAILING", "Verdict",
           "LayoutName", "Convention", "Op", "DENSE_OPS", "POOL_OPS", "WINDOW_OPS", "OP_CHOICES", "Device", "AUTO", "LAYOUT_CHOICES", "CONVENTION_CHOICES",
           "DEVICE_CHOICES"]
