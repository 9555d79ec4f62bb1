"""The command line: thin Typer commands that build a RunConfig, run it and hand the result to a view.

Exit codes: 0 every check passed, 1 a check failed, 2 corrcheck could not check.
Heavy modules (numpy, the runner, the report) are imported inside the commands
so `corrcheck --help` and `--version` stay instant. Every problem reaches the
user as one sentence; corrcheck's own tracebacks only with CORRCHECK_DEBUG=1.
"""
from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
import typer.core

from . import __version__
from .errors import ConfigError, CorrcheckError, LoadError, UsageError
from .vocab import CONVENTION_CHOICES, DEMO_OP_CHOICES, DEVICE_CHOICES, LAYOUT_CHOICES, OP_CHOICES, Verdict

try:                                    # Typer 0.2x ships its own copy of Click
    from typer._click.exceptions import ClickException
except ImportError:                     # older Typer runs on Click itself
    from click.exceptions import ClickException

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
EXIT_CODES = {Verdict.PASS: EXIT_PASS, Verdict.FAIL: EXIT_FAIL, Verdict.ERROR: EXIT_ERROR}
DEBUG_ENV = "CORRCHECK_DEBUG"


# Typer's choices, from the one vocabulary (a convention added there appears here by itself).
Convention = Enum("Convention", [(c, c) for c in CONVENTION_CHOICES], type=str)
Layout = Enum("Layout", [(name, name) for name in LAYOUT_CHOICES], type=str)
Device = Enum("Device", [(d, d) for d in DEVICE_CHOICES], type=str)


Op = Enum("Op", [(o, o) for o in OP_CHOICES], type=str)
DemoOp = Enum("DemoOp", [(o, o) for o in DEMO_OP_CHOICES], type=str)


BINDING, GEOMETRY, SHAPES, CHECKING, OUTPUT = "Binding", "Geometry", "Shapes", "Checking", "Output"


def _opt(*names: str, panel: str, help: str, metavar: str | None = None, **kw):
    return typer.Option(*names, help=help, rich_help_panel=panel, metavar=metavar, show_default=False, **kw)


# Options shared by `run` and `demo`, declared once.
Files = Annotated[list[str], typer.Argument(metavar="FILE...", show_default=False,
                                            help="Python (.py) or JavaScript (.js) files; several load as one namespace, in order.")]
Forward = Annotated[Optional[str], _opt("--forward", panel=BINDING, metavar="NAME",
                                        help="Bind this function as the forward (dotted names allowed: mylib.conv.forward).")]
GradInput = Annotated[Optional[str], _opt("--grad-input", panel=BINDING, metavar="NAME",
                                          help="Bind this function as the gradient w.r.t. the input.")]
GradFilter = Annotated[Optional[str], _opt("--grad-filter", panel=BINDING, metavar="NAME",
                                           help="Bind this function as the gradient w.r.t. the filter.")]
GradBias = Annotated[Optional[str], _opt("--grad-bias", panel=BINDING, metavar="NAME",
                                         help="Bind this function as the gradient w.r.t. the bias.")]
ConventionOpt = Annotated[Convention, _opt("--convention", panel=BINDING,
                                           help="How the functions are shaped. Default: auto.")]
DeviceOpt = Annotated[Device, _opt("--device", panel=BINDING,
                                   help="Where torch/jax tensors live (torch-function, torch-module, jax). Default: cpu.")]
LayoutOpt = Annotated[Layout, _opt("--layout", panel=BINDING, help="Axis order of your arrays. Default: auto.")]
Stride = Annotated[Optional[str], _opt("--stride", panel=GEOMETRY, metavar="S",
                                       help="Stride: an int, or per axis like 2x1. Default: 2 when your functions take a stride (where stride mistakes show), else 1.")]
Pad = Annotated[Optional[str], _opt("--pad", panel=GEOMETRY, metavar="P",
                                    help="Padding: an int, per axis 1x2, before,after per axis 1,0x1,0, same or valid. Default: 1 when your functions take a pad, else 0 (pad 0 is always checked too).")]
Dilation = Annotated[Optional[str], _opt("--dilation", panel=GEOMETRY, metavar="D",
                                         help="Dilation: an int, or per axis like 2x1. Default: 2 when your functions take a dilation (where dilation mistakes show), else 1.")]
DemoStride = Annotated[Optional[str], _opt("--stride", panel=GEOMETRY, metavar="S",
                                           help="Stride, int or per axis like 2x1. Default: 2, as in the forum question.")]
DemoPad = Annotated[Optional[str], _opt("--pad", panel=GEOMETRY, metavar="P",
                                        help="Padding, as for run. Default: 1, as in the forum question.")]
DEMO_DEFAULTS = {"stride": "2", "pad": "1"}   # the seed question's configuration
OpOpt = Annotated[Op, _opt("--op", panel=GEOMETRY, help="What the forward is meant to compute: a correlation, a convolution, a transposed convolution (w is in, out/groups, *K), max or average pooling (no filter: --filter-size is the window). Default: correlate, or what your function and parameter names say (deconv, conv_transpose, upconv, maxpool, avg_pool).")]
DemoOpOpt = Annotated[DemoOp, _opt("--op", panel=GEOMETRY, help="Which demo: correlate (the forum question, default), transpose (a decoder's transposed convolution) or maxpool (a max pooling backward).")]
Groups = Annotated[Optional[int], _opt("--groups", panel=GEOMETRY, metavar="G", min=1,
                                       help="Grouped convolution: channels split into G groups, filter (F, C/G, *K); depthwise is G = channels. Default: 1, or read from a groups/depth_multiplier parameter, or from the filter (F, C/G, *K) a layer class makes.")]
OutputPadding = Annotated[Optional[str], _opt("--output-padding", panel=GEOMETRY, metavar="P",
                                              help="--op transpose: extra output rows after the input's spread, int or per axis; smaller than the stride or the dilation. Default: 1 when your function takes an output_padding and the stride is above 1 (where a size formula without it shows), else 0.")]
CeilMode = Annotated[Optional[bool], _opt("--ceil-mode/--no-ceil-mode", panel=GEOMETRY,
                                          help="Pooling: count windows with ceil instead of floor (a last partial window, never one starting in the padding after the input). Default: ceil when your pooling takes a ceil_mode (where its mistakes show), else floor.")]
CountIncludePad = Annotated[bool, _opt("--count-include-pad", panel=GEOMETRY,
                                       help="--op avgpool: padded zeros count in each window's divisor. Default: divide by the input cells only.")]
InputSize = Annotated[Optional[str], _opt("--input-size", panel=SHAPES, metavar="N",
                                          help="Spatial size of the random input, per axis like 7x5. Default: chosen per layout, non-square.")]
FilterSize = Annotated[Optional[str], _opt("--filter-size", panel=SHAPES, metavar="K",
                                           help="Spatial size of the filter, per axis like 3x2.")]
Channels = Annotated[Optional[int], _opt("--channels", panel=SHAPES, metavar="C", help="Input channels.")]
Filters = Annotated[Optional[int], _opt("--filters", panel=SHAPES, metavar="F", help="Number of filters (output channels).")]
Batch = Annotated[Optional[int], _opt("--batch", panel=SHAPES, metavar="N", help="Batch size.")]
Seed = Annotated[Optional[int], _opt("--seed", panel=CHECKING, metavar="N",
                                     help="Seed of the random inputs; the same seed gives the same inputs. Default: 0.")]
Rtol = Annotated[Optional[float], _opt("--rtol", panel=CHECKING, metavar="R",
                                       help="Relative tolerance. Default suits float64, loosened for float32 results.")]
Atol = Annotated[Optional[float], _opt("--atol", panel=CHECKING, metavar="A", help="Absolute tolerance.")]
Sweep = Annotated[bool, _opt("--sweep", panel=CHECKING,
                             help="Check many configs (strides, pads, odd/even/non-square sizes) and name the smallest failing one.")]
Jobs = Annotated[Optional[int], _opt("--jobs", panel=CHECKING, metavar="N", min=1,
                                     help="Processes for --sweep. Default: number of cores.")]
Exhaustive = Annotated[bool, _opt("--exhaustive", panel=CHECKING,
                                  help="Compare every gradient entry with finite differences, whatever it costs.")]
ExplainCell = Annotated[Optional[str], _opt("--explain-cell", panel=CHECKING, metavar="I,J",
                                            help="Explain this cell term by term: of the forward's output, or of the first failing gradient when the forward is right. Default: the worst mismatch.")]
Fix = Annotated[bool, _opt("--fix", panel=CHECKING,
                           help="Search for a source edit that makes every check pass, verify it, print it as a diff (never writes your files).")]
Timeout = Annotated[Optional[float], _opt("--timeout", panel=CHECKING, metavar="SECONDS",
                                          help="Limit for one call of a user function. Default: 5.")]
JsonOut = Annotated[bool, _opt("--json", panel=OUTPUT, help="Print exactly one JSON document on stdout, nothing else.")]
ReportFile = Annotated[Optional[Path], _opt("--report", panel=OUTPUT, metavar="FILE",
                                            help="Also save the human report as .html, .svg or .txt.")]
Quiet = Annotated[bool, _opt("--quiet", "-q", panel=OUTPUT, help="Print only the verdict line.")]
Verbose = Annotated[int, _opt("--verbose", "-v", panel=OUTPUT, count=True, metavar="",
                              help="Show every check and every mismatch.")]

RUN_EXAMPLES = """\
[bold]Examples[/bold]

  corrcheck run conv.py --stride 2 --pad 1

  corrcheck run fwd.js bwd.js --forward corre --grad-filter backpropFilter

  corrcheck run layers.py --convention cs231n --batch 2 --sweep

  corrcheck run conv.py --stride 2 --pad 1 --fix --report report.html

  corrcheck run conv.py --json > result.json

  corrcheck run my_op.py --convention torch-function --stride 2 --pad 1

Exit codes: 0 every check passed, 1 a check failed, 2 corrcheck could not check.
"""
DEMO_EXAMPLES = """\
[bold]Examples[/bold]

  corrcheck demo

  corrcheck demo --stride 3 --pad 2 -v

  corrcheck demo --fixed --report demo.html

  corrcheck demo --op transpose

  corrcheck demo --op maxpool

Exit codes: 0 when the last section (the fixed code) passes, 2 when corrcheck could not run it.
"""
SCHEMA_EXAMPLES = """\
[bold]Examples[/bold]

  corrcheck schema > corrcheck.schema.json

  corrcheck run conv.py --json | check-jsonschema --schemafile corrcheck.schema.json -
"""

class _JsonAwareGroup(typer.core.TyperGroup):
    """With --json anywhere in argv, a usage error Click itself finds (a bad choice, an unknown
    flag, a value out of range) still gives one JSON document on stdout, as CI expects."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode or "--json" not in argv:
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(argv, prog_name, complete_var, False, **extra)
        except ClickException as exc:
            code = _could_not_check(_sentence(exc.format_message()), "usage", (), {"json_out": True})
        except typer.Abort:
            code = 1
        sys.exit(code or 0)


class _PlainUsageCommand(typer.core.TyperCommand):
    """Usage line `corrcheck run [OPTIONS] FILE...`: Typer braces required arguments (`{FILE}`),
    which reads like a literal set rather than "one or more files"."""

    def collect_usage_pieces(self, ctx):
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p
                for p in super().collect_usage_pieces(ctx)]


def _sentence(text: str) -> str:
    """Click's message on one line, without its trailing full stop (ours never end with one)."""
    return " ".join(text.split()).rstrip(".")


app = typer.Typer(
    cls=_JsonAwareGroup,
    name="corrcheck",
    help="Gradient checker and debugger for convolution layers with stride and padding: "
         "runs your forward/backward code on random inputs, shows where it disagrees with a "
         "reference and finite differences, and names the indexing mistake.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="[bold]Examples[/bold]\n\n  corrcheck demo\n\n  corrcheck run conv.py --stride 2 --pad 1\n\n"
           "Run [bold]corrcheck COMMAND --help[/bold] for a command's options and examples.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"corrcheck {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_version,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Gradient checker and debugger for strided, padded convolution layers."""


@app.command(cls=_PlainUsageCommand, epilog=RUN_EXAMPLES)
def run(
    files: Files,
    forward: Forward = None, grad_input: GradInput = None, grad_filter: GradFilter = None,
    grad_bias: GradBias = None, convention: ConventionOpt = Convention.auto, layout: LayoutOpt = Layout.auto,
    device: DeviceOpt = Device.cpu,
    stride: Stride = None, pad: Pad = None, dilation: Dilation = None, op: OpOpt = None,
    groups: Groups = None, output_padding: OutputPadding = None, ceil_mode: CeilMode = None,
    count_include_pad: CountIncludePad = False,
    input_size: InputSize = None, filter_size: FilterSize = None, channels: Channels = None,
    filters: Filters = None, batch: Batch = None,
    seed: Seed = None, rtol: Rtol = None, atol: Atol = None, sweep: Sweep = False, jobs: Jobs = None,
    exhaustive: Exhaustive = False, explain_cell: ExplainCell = None, fix: Fix = False, timeout: Timeout = None,
    json_out: JsonOut = False, report: ReportFile = None, quiet: Quiet = False, verbose: Verbose = 0,
) -> None:
    """Check the convolution functions defined in FILE (.py or .js)."""
    options = dict(locals())
    output = {k: options.pop(k) for k in ("json_out", "report", "quiet", "verbose")}
    raise typer.Exit(_guarded(_run, options, output, files=tuple(options.pop("files"))))


@app.command(epilog=DEMO_EXAMPLES)
def demo(
    stride: DemoStride = None, pad: DemoPad = None, dilation: Dilation = None, op: DemoOpOpt = None,
    input_size: InputSize = None, filter_size: FilterSize = None,
    seed: Seed = None, rtol: Rtol = None, atol: Atol = None, sweep: Sweep = False, jobs: Jobs = None,
    exhaustive: Exhaustive = False, explain_cell: ExplainCell = None, fix: Fix = False, timeout: Timeout = None,
    fixed: Annotated[bool, _opt("--fixed", panel=OUTPUT, help="Show only the corrected code passing.")] = False,
    json_out: JsonOut = False, report: ReportFile = None, quiet: Quiet = False, verbose: Verbose = 0,
) -> None:
    """The built-in example: the classic buggy stride/padding correlation, found, explained and fixed."""
    options = dict(locals())
    output = {k: options.pop(k) for k in ("json_out", "report", "quiet", "verbose")}
    fixed_only = options.pop("fixed")
    options.update({k: v for k, v in DEMO_DEFAULTS.items() if options.get(k) is None})
    raise typer.Exit(_guarded(_demo, options, output, fixed_only=fixed_only))


GRADE_EXAMPLES = """\
[bold]Examples[/bold]

  corrcheck grade submissions/ --files '*/layers.py' --convention cs231n --stride 2 --pad 1

  corrcheck grade cohort/ --files '*/0-conv_forward.py' --files '*/2-conv_backward.py' --convention holberton --csv grades.csv --feedback feedback/

  corrcheck grade submissions/ --files '*/conv.py' --json > class.json

Each submission runs in its own process with its own time and memory limit; results are cached
by content in ROOT/.corrcheck-cache, so a second run checks only what changed.
Exit codes: 0 the class was graded (whatever the students' verdicts), 2 corrcheck could not grade.
"""
GRADE = "Grading"
Root = Annotated[Path, typer.Argument(metavar="ROOT", show_default=False,
                                      help="The folder holding one folder per submission.")]
Globs = Annotated[list[str], _opt("--files", panel=GRADE, metavar="GLOB",
                                  help="Files of one submission, relative to ROOT, like '*/layers.py'; repeat for "
                                       "submissions in several files (loaded in this order).")]
GradeJobs = Annotated[Optional[int], _opt("--jobs", panel=GRADE, metavar="N", min=1,
                                          help="Submissions checked at once. Default: number of cores.")]
TimeLimit = Annotated[Optional[float], _opt("--time-limit", panel=GRADE, metavar="SECONDS", min=0.1,
                                            help="Wall time for the whole check of one submission; past it the "
                                                 "check is killed and reported as timed out. Default: 60.")]
MemoryLimit = Annotated[Optional[int], _opt("--memory-limit", panel=GRADE, metavar="MB", min=64,
                                            help="Address space of one check, in MB (corrcheck and NumPy take "
                                                 "about 500 of it). Default: 2048.")]
CacheDir = Annotated[Optional[Path], _opt("--cache", panel=GRADE, metavar="DIR",
                                          help="Where results are cached by content. Default: ROOT/.corrcheck-cache.")]
NoCache = Annotated[bool, _opt("--no-cache", panel=GRADE, help="Check every submission again; read and write no cache.")]
CsvFile = Annotated[Optional[Path], _opt("--csv", panel=OUTPUT, metavar="FILE",
                                         help="Write the gradebook: one row per submission.")]
ClassReport = Annotated[Optional[Path], _opt("--report", panel=OUTPUT, metavar="FILE",
                                             help="Write the class report (.html or .txt): the summary and each "
                                                  "student's report.")]
FeedbackDir = Annotated[Optional[Path], _opt("--feedback", panel=OUTPUT, metavar="DIR",
                                             help="Write one report per submission into DIR, ready to hand back.")]
FeedbackFormat = Annotated[str, _opt("--feedback-format", panel=OUTPUT, metavar="txt|html",
                                     help="Format of the --feedback files. Default: txt.")]


# run's options that are about one run's output or its own sweep, not about what is checked
RUN_ONLY = ("files", "jobs", "explain_cell", "json_out", "report", "quiet", "verbose")
GRADE_OWN = ("root", "files", "jobs", "time_limit", "memory_limit", "cache", "no_cache", "json_out", "csv",
             "report", "feedback", "feedback_format", "quiet")


def _grade_options(
    root: Root, files: Globs, *,
    jobs: GradeJobs = None, time_limit: TimeLimit = None, memory_limit: MemoryLimit = None,
    cache: CacheDir = None, no_cache: NoCache = False,
    json_out: JsonOut = False, csv: CsvFile = None, report: ClassReport = None,
    feedback: FeedbackDir = None, feedback_format: FeedbackFormat = "txt", quiet: Quiet = False,
) -> None:
    """grade's own options; `grade` takes these plus every check option `run` declares."""


def _with_run_options(command):
    """Give `command` grade's own parameters and run's check options, as declared for run.

    An option added to `run` (a new geometry or binding flag) is then a `grade` option too,
    with the same help, instead of a copy that drifts.
    """

    own = inspect.signature(_grade_options, eval_str=True).parameters
    borrowed = [p for name, p in inspect.signature(run, eval_str=True).parameters.items()
                if name not in RUN_ONLY and name not in own]
    params = [own["root"], own["files"], *borrowed, *(p for n, p in own.items() if n not in ("root", "files"))]
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


@app.command(cls=_PlainUsageCommand, epilog=GRADE_EXAMPLES)
@_with_run_options
def grade(**options) -> None:
    """Check every submission under ROOT, each in its own process, and summarise the class's mistakes."""
    grading = {k: options.pop(k) for k in GRADE_OWN}
    output = {"json_out": grading["json_out"], "report": None, "quiet": grading["quiet"], "verbose": 0}
    raise typer.Exit(_guarded(_grade, options, output, grading=grading))


@app.command(epilog=SCHEMA_EXAMPLES)
def schema(
    grade_doc: Annotated[bool, typer.Option("--grade", help="The schema of `corrcheck grade --json` instead "
                                                            "(self-contained: report.schema.json is embedded for each submission).")] = False,
) -> None:
    """Print the JSON Schema of the --json document (validate your CI against it)."""
    from importlib.resources import files                   # lazy: only `corrcheck schema` reads it

    report = files("corrcheck").joinpath("report.schema.json").read_text(encoding="utf-8")
    if not grade_doc:
        typer.echo(report.rstrip())
        return
    # one self-contained document: the report schema it refers to is embedded under its own $id,
    # so any validator resolves "report.schema.json" without a registry
    import json
    grade = json.loads(files("corrcheck").joinpath("grade.schema.json").read_text(encoding="utf-8"))
    grade.setdefault("$defs", {})["report"] = {"$id": "report.schema.json", **json.loads(report)}
    typer.echo(json.dumps(grade, indent=2))


MISTAKES_EXAMPLES = """\
[bold]Examples[/bold]

  corrcheck mistakes

  corrcheck mistakes grad-input-unpad-empty-at-pad0 filter-indexed-by-output

  corrcheck mistakes --markdown > docs/mistakes.md
"""


@app.command(epilog=MISTAKES_EXAMPLES)
def mistakes(
    ids: Annotated[Optional[list[str]], typer.Argument(metavar="[ID...]", show_default=False,
                                                       help="Show only these ids (default: all).")] = None,
    markdown: Annotated[bool, _opt("--markdown", panel=OUTPUT, help="Print the page as Markdown (docs/mistakes.md).")] = False,
    json_out: JsonOut = False,
) -> None:
    """The catalogue of mistakes corrcheck names: each id with its fix, a wrong and a right snippet."""
    from .diagnosis import catalogue_ops                  # lazy: the catalogues load NumPy, not for --help
    from .diagnosis.catalogue import NOTATION, page
    from .report import mistakes as view                  # lazy: as above

    entries = page() + catalogue_ops.page()
    unknown = sorted(set(ids or ()) - {e.id for e in entries})
    if unknown:
        raise typer.BadParameter(f"unknown id {', '.join(unknown)}; `corrcheck mistakes` lists them", param_hint="ID")
    entries = [e for e in entries if not ids or e.id in ids]
    if json_out:
        typer.echo(json.dumps(view.as_document(entries, NOTATION), indent=2))
    elif markdown:
        typer.echo(view.markdown(entries, NOTATION), nl=False)
    else:
        from .report.console import make_console        # lazy: Rich's console only for the terminal page

        view.print_mistakes(make_console(), entries, NOTATION)


def main() -> None:
    """Console-script entry point (`corrcheck`, `python -m corrcheck`)."""
    try:
        app(prog_name="corrcheck")
    except BrokenPipeError:             # help or schema piped into `head`
        _silence_stdout()
        sys.exit(EXIT_PASS)


# ---------------------------------------------------------------- command bodies

def _guarded(body, options: dict, output: dict, **extra) -> int:
    """Run a command body; every failure becomes one sentence and exit code 2, never a traceback."""
    files = extra.get("files", ())
    try:
        return body(options, output, **extra)
    except CorrcheckError as exc:
        return _could_not_check(str(exc), getattr(exc, "kind", "usage"), files, output)
    except KeyboardInterrupt:
        _stderr_line("interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one sentence, not a traceback
        if os.environ.get(DEBUG_ENV):
            import traceback                                # lazy: only with CORRCHECK_DEBUG set

            traceback.print_exc()
        message = (f"internal error in corrcheck: {type(exc).__name__}: {exc}; please report it"
                   + ("" if os.environ.get(DEBUG_ENV) else f" (set {DEBUG_ENV}=1 to see the traceback)"))
        return _could_not_check(message, "usage", files, output, internal=True)


def _run(options: dict, output: dict, files: tuple[str, ...]) -> int:
    config = _config(options, files=files)
    _check_output_options(output)
    for name in files:
        if not Path(name).is_file():
            what = "is a directory; give the .py or .js file(s)" if Path(name).is_dir() else "no such file"
            raise LoadError(f"cannot read {name}: {what}")
    from . import runner                                    # lazy: NumPy and the checks, not for --help
    from .report.sections import progress_reporter          # lazy: the report's Rich layout, not for --help

    with _protect_stdout(output["json_out"]), progress_reporter(enabled=_verbosity(output) > -1) as progress:
        result = runner.run(config, progress=progress)
    return _emit([(None, result)], output)


def _demo(options: dict, output: dict, fixed_only: bool) -> int:
    config = _config(options)
    _check_output_options(output)
    from . import demo as demo_module                       # lazy: as runner above

    with _protect_stdout(output["json_out"]):
        sections = demo_module.run_demo(config, fixed_only)
    return _emit(list(sections), output)


def _grade(options: dict, output: dict, grading: dict) -> int:
    """Grade the class; exit 0 once it is graded, whatever the students' verdicts."""
    from .grade import DEFAULT_MEMORY_MB, DEFAULT_TIME_LIMIT, grade as grade_class   # lazy: not for --help
    from .report import grade as views                 # lazy: Rich's tables, not for --help

    given = {k: (v.value if isinstance(v, Enum) else v) for k, v in options.items() if v not in (None, False)}
    if grading["feedback_format"] not in views.FEEDBACK_KINDS:
        raise UsageError(f"--feedback-format must be txt or html, not {grading['feedback_format']!r}")
    if grading["report"] is not None:
        views.check_class_report_path(grading["report"])
    kinds = set()
    if grading["feedback"] is not None:
        kinds.add(grading["feedback_format"])
    if grading["report"] is not None and grading["feedback"] is None:
        kinds.add("txt")                # embedded in the class report
    views.prepare_outputs(grading["csv"], grading["report"], grading["feedback"])   # fail now, not after grading
    skip = tuple(p for p in (grading["feedback"],) if p is not None)
    with _protect_stdout(output["json_out"]), \
            views.grade_progress(enabled=not (output["json_out"] or output["quiet"])) as progress:
        result = grade_class(grading["root"], grading["files"], given, jobs=grading["jobs"],
                             time_limit=grading["time_limit"] or DEFAULT_TIME_LIMIT,
                             memory_mb=grading["memory_limit"] or DEFAULT_MEMORY_MB,
                             cache_dir=grading["cache"], use_cache=not grading["no_cache"],
                             reports=tuple(sorted(kinds)), skip=skip, progress=progress)
    if grading["csv"] is not None:
        views.write_csv(result, grading["csv"])
    if grading["feedback"] is not None:
        views.write_feedback(result, grading["feedback"], grading["feedback_format"])
    if grading["report"] is not None:
        views.write_class_report(result, grading["report"], grading["feedback"], grading["feedback_format"])
    try:
        if output["json_out"]:
            sys.stdout.write(json.dumps(result.to_dict()) + "\n")
        else:
            views.render(result, make_stdout_console(), quiet=output["quiet"])
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    return EXIT_PASS


def make_stdout_console():
    """The report's console, imported only when a report is drawn so --help stays instant."""
    from .report.sections import make_console          # lazy: Rich's console, not for --help

    return make_console()


def _config(options: dict, **extra):
    """RunConfig from the options actually given (RunConfig's own defaults for the rest), validated."""
    from .config import RunConfig                           # lazy: keeps --help to the CLI module alone

    given = {k: (v.value if isinstance(v, Enum) else v) for k, v in options.items()
             if v is not None and not (k == "count_include_pad" and v is False)}
    if "op" in given:
        given["op_given"] = True
    if "explain_cell" in given:
        given["explain_cell"] = parse_cell(given["explain_cell"])
    return RunConfig(**given, **extra).validate()


def parse_cell(text: str) -> tuple[int, ...]:
    """'1,2' -> (1, 2); any number of comma-separated whole numbers."""
    parts = [p.strip() for p in str(text).strip().strip("()[]").split(",")]
    if not parts or not all(re.fullmatch(r"\d+", p) for p in parts):
        raise ConfigError(f"--explain-cell must be comma-separated whole numbers like 1,2, not {text!r}")
    return tuple(int(p) for p in parts)


def _check_output_options(output: dict) -> None:
    if output["quiet"] and output["verbose"]:
        raise UsageError("--quiet and --verbose cannot be used together")
    if output["report"] is not None:
        from .report.sections import check_export_path      # lazy: Rich's report, not for --help

        check_export_path(output["report"])


def _verbosity(output: dict) -> int:
    return -1 if output["quiet"] else min(int(output["verbose"] or 0), 1)


@contextlib.contextmanager
def _protect_stdout(json_mode: bool):
    """With --json, whatever the user's code prints goes to stderr so stdout stays one JSON document."""
    if not json_mode:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _emit(sections: list, output: dict) -> int:
    """Show the results (JSON or the Rich report), save --report, and pick the exit code."""
    from .report import sections as report_module           # lazy: as above (`sections` is the argument)

    results = [body for _, body in sections if not isinstance(body, dict)]
    if not results or any(r.verdict == Verdict.ERROR for r in results):
        code = EXIT_ERROR
    else:
        code = EXIT_CODES.get(results[-1].verdict, EXIT_ERROR)
    if output["report"] is not None:
        report_module.export_sections(sections, output["report"], _verbosity(output))
    try:
        _show(sections, results, output, report_module)
    except BrokenPipeError:             # `corrcheck run … | head`: the reader left, the verdict stands
        _silence_stdout()
    return code


def _show(sections: list, results: list, output: dict, report_module) -> None:
    if output["json_out"]:
        if len(sections) == 1:
            document = results[0].to_dict()
        else:
            document = {"corrcheck_version": __version__,
                        "sections": [{"title": title, "result": body.to_dict()}
                                     for title, body in sections if not isinstance(body, dict)]}
        sys.stdout.write(json.dumps(document) + "\n")
    else:
        console = report_module.make_console()
        if len(sections) == 1 and sections[0][0] is None:
            report_module.render(results[0], console, verbosity=_verbosity(output))
        else:
            report_module.render_sections(sections, console, verbosity=_verbosity(output))
        sys.stdout.flush()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so Python's exit-time flush does not complain about the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _could_not_check(message: str, kind: str, files, output: dict, internal: bool = False) -> int:
    """Exit 2 with one sentence on stderr; with --json also the error document on stdout.

    The schema allows only usage/load/bind as error.kind, so a bug of corrcheck's own is
    reported as kind "usage" with an added `"internal": true`.
    """
    _stderr_line(message)
    if output.get("json_out"):
        from .result import ErrorInfo, RunResult            # lazy: only an error as JSON needs it

        doc = RunResult(__version__, "error", tuple(files), error=ErrorInfo(kind, message)).to_dict()
        if internal:
            doc["error"]["internal"] = True
        sys.stdout.write(json.dumps(doc) + "\n")
    return EXIT_ERROR


def _stderr_line(message: str) -> None:
    try:
        from .report.sections import make_console, print_error   # lazy: Rich's report, not for --help

        print_error(make_console(stderr=True), message)
    except Exception:  # noqa: BLE001 - if Rich itself fails, plain text still tells the user
        sys.stderr.write(f"error: {message}\n")
