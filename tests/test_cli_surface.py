"""The command-line surface: options, help, exit codes, one-sentence errors, one JSON document."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
import types
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import corrcheck
from corrcheck import cli

from test_report import error_result, failing_result, passing_result

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "corrcheck" / "report.schema.json").read_text())
RUN_OPTIONS = ["--forward", "--grad-input", "--grad-filter", "--grad-bias", "--convention", "--layout", "--stride",
               "--pad", "--dilation", "--input-size", "--filter-size", "--channels", "--filters", "--batch", "--op",
               "--seed", "--rtol", "--atol", "--sweep", "--jobs", "--exhaustive", "--explain-cell", "--fix",
               "--json", "--report", "--timeout", "--quiet", "--verbose"]


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except Exception:  # noqa: BLE001 - any failure means that part of the pipeline is not there yet
        return False
    return True


needs_runner = pytest.mark.skipif(not _importable("corrcheck.runner"), reason="corrcheck.runner is not written yet")
needs_python_loader = pytest.mark.skipif(not _importable("corrcheck.loader.python_source"),
                                         reason="the Python loader is not written yet")


@pytest.fixture
def runner():
    return CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "conv.py"
    path.write_text("def forward(x, w, s, p):\n    return x\n")
    return str(path)


def _one_sentence_error(result, *needles):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output


def fake_runner(monkeypatch, outcome):
    """Stand-in for corrcheck.runner: returns a hand-made RunResult or raises."""
    seen = {}

    def run(config, progress=None):
        seen["config"] = config
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome(config) if callable(outcome) else outcome

    module = types.ModuleType("corrcheck.runner")
    module.run = run
    monkeypatch.setitem(sys.modules, "corrcheck.runner", module)
    monkeypatch.setattr(corrcheck, "runner", module, raising=False)
    return seen


def test_version(runner):
    result = runner.invoke(cli.app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"corrcheck {corrcheck.__version__}"


def test_help_lists_commands(runner):
    result = runner.invoke(cli.app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "demo", "schema", "mistakes"):
        assert command in result.stdout
    assert "corrcheck run conv.py --stride 2 --pad 1" in result.stdout
    assert "--show-completion" in result.stdout      # Typer's shell completion stays on


def test_run_help_lists_every_contract_option_grouped_with_examples(runner):
    out = runner.invoke(cli.app, ["run", "--help"]).stdout
    for option in RUN_OPTIONS:
        assert option in out, option
    for panel in ("Binding", "Geometry", "Shapes", "Checking", "Output"):
        assert panel in out
    assert "Examples" in out and "corrcheck run conv.py --stride 2 --pad 1" in out
    assert "-q" in out and "-v" in out


def test_demo_and_schema_help_have_examples(runner):
    demo = runner.invoke(cli.app, ["demo", "--help"]).stdout
    for option in ("--stride", "--pad", "--fixed", "--json", "--report", "--seed", "--fix"):
        assert option in demo
    assert "corrcheck demo --fixed --report demo.html" in demo
    assert "corrcheck schema > corrcheck.schema.json" in runner.invoke(cli.app, ["schema", "--help"]).stdout


def test_schema_prints_the_shipped_schema(runner):
    result = runner.invoke(cli.app, ["schema"])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == SCHEMA
    jsonschema.Draft202012Validator.check_schema(printed)


@pytest.mark.parametrize("args, needle", [
    (["--stride", "0"], "stride must be at least 1, got 0"),
    (["--pad", "1,2,3"], "pad must be a whole number"),
    (["--dilation", "1.5"], "dilation must be a whole number"),
    (["--channels", "0"], "--channels must be at least 1"),
    (["--rtol", "-1"], "--rtol must not be negative"),
    (["--timeout", "0"], "--timeout must be positive"),
    (["--seed", "-1"], "--seed must be a whole number of at least 0"),
    (["--explain-cell", "1,a"], "--explain-cell must be comma-separated whole numbers"),
    (["--report", "out.pdf"], "--report must name a .html, .svg or .txt file"),
    (["-q", "-v"], "--quiet and --verbose cannot be used together"),
])
def test_bad_option_values_exit_2_with_one_sentence(runner, source, args, needle):
    result = runner.invoke(cli.app, ["run", source, *args])
    _one_sentence_error(result, needle)
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")


def test_bad_choice_is_a_usage_error(runner, source):
    result = runner.invoke(cli.app, ["run", source, "--layout", "xyz"])
    _one_sentence_error(result, "xyz")
    result = runner.invoke(cli.app, ["run", source, "--jobs", "0"])
    _one_sentence_error(result, "--jobs")


def test_bad_option_with_json_prints_an_error_document(runner, source):
    result = runner.invoke(cli.app, ["run", source, "--stride", "0", "--json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["verdict"] == "error" and doc["error"]["kind"] == "usage"
    assert doc["files"] == [source]


@pytest.mark.parametrize("args, needle", [
    (["--layout", "xyz"], "'xyz' is not one of"),
    (["--bogus"], "No such option: --bogus"),
    (["--jobs", "0"], "--jobs"),
])
def test_options_click_rejects_still_give_one_json_document(runner, source, args, needle):
    result = runner.invoke(cli.app, ["run", source, *args, "--json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["verdict"] == "error" and doc["error"]["kind"] == "usage"
    assert needle in doc["error"]["message"] and "\n" not in doc["error"]["message"]
    result = runner.invoke(cli.app, ["run", "--json"])     # --json before the missing file, too
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["message"] == "Missing argument 'FILE...'"


def test_without_json_click_errors_keep_the_usage_box(runner, source):
    result = runner.invoke(cli.app, ["run", source, "--layout", "xyz"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "Usage: corrcheck run [OPTIONS] FILE..." in result.stderr and "'xyz' is not one of" in result.stderr


def test_run_usage_line_says_one_or_more_files(runner):
    usage = runner.invoke(cli.app, ["run", "--help"]).stdout
    assert "Usage: corrcheck run [OPTIONS] FILE..." in usage and "{FILE" not in usage


def test_missing_file_is_a_load_error(runner, tmp_path):
    missing = str(tmp_path / "nope.py")
    result = runner.invoke(cli.app, ["run", missing, "--json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["error"]["kind"] == "load" and "nope.py" in doc["error"]["message"]


def test_explain_cell_takes_any_number_of_ints():
    assert cli.parse_cell("1,2") == (1, 2)
    assert cli.parse_cell(" 0, 3 ,4") == (0, 3, 4)
    assert cli.parse_cell("5") == (5,)


def test_options_reach_the_run_config(runner, monkeypatch, source):
    seen = fake_runner(monkeypatch, passing_result())
    result = runner.invoke(cli.app, ["run", source, "--stride", "2x1", "--pad", "1", "--layout", "nchw",
                                     "--convention", "cs231n", "--explain-cell", "0,1", "--seed", "7",
                                     "--forward", "mylib.conv", "--fix", "--sweep", "--jobs", "2", "-q"])
    assert result.exit_code == 0, result.output
    config = seen["config"]
    assert config.files == (source,) and config.stride == "2x1" and config.pad == "1"
    assert config.layout == "nchw" and config.convention == "cs231n" and config.explain_cell == (0, 1)
    assert config.seed == 7 and config.forward == "mylib.conv" and config.fix and config.sweep and config.jobs == 2
    assert config.timeout == cli_default_timeout()      # untouched options keep RunConfig's defaults


def cli_default_timeout():
    from corrcheck.config import DEFAULT_TIMEOUT
    return DEFAULT_TIMEOUT


@pytest.mark.parametrize("make, code, last_line", [
    (passing_result, 0, "PASS"),
    (failing_result, 1, "FAIL: forward disagrees with the reference at 7 / 9 cells"),
    (error_result, 2, "ERROR: cannot read missing.py"),
])
def test_exit_codes_follow_the_verdict(runner, monkeypatch, source, make, code, last_line):
    fake_runner(monkeypatch, make())
    result = runner.invoke(cli.app, ["run", source])
    assert result.exit_code == code
    assert result.stdout.rstrip().splitlines()[-1].startswith(last_line)
    assert "\x1b[" not in result.stdout
    quiet = runner.invoke(cli.app, ["run", source, "-q"])
    assert quiet.stdout.strip().startswith(last_line) and len(quiet.stdout.strip().splitlines()) == 1


def test_json_is_one_document_even_when_user_code_prints(runner, monkeypatch, source):
    def noisy(config):
        print("debug output from the user's forward")
        return failing_result()

    fake_runner(monkeypatch, noisy)
    result = runner.invoke(cli.app, ["run", source, "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["checks"][0]["mismatches"] == 7
    assert "debug output" in result.stderr


def test_report_file_is_written(runner, monkeypatch, source, tmp_path):
    fake_runner(monkeypatch, failing_result())
    path = tmp_path / "r.html"
    result = runner.invoke(cli.app, ["run", source, "--report", str(path), "--json"])
    assert result.exit_code == 1
    json.loads(result.stdout)
    assert "filter-indexed-by-output" in path.read_text()


def test_internal_errors_are_one_sentence(runner, monkeypatch, source):
    fake_runner(monkeypatch, RuntimeError("boom"))
    result = runner.invoke(cli.app, ["run", source])
    _one_sentence_error(result, "internal error in corrcheck: RuntimeError: boom; please report it")
    debug = runner.invoke(cli.app, ["run", source], env={"CORRCHECK_DEBUG": "1", "NO_COLOR": "1"})
    assert debug.exit_code == 2 and "Traceback" in debug.stderr
    as_json = runner.invoke(cli.app, ["run", source, "--json"])
    doc = json.loads(as_json.stdout)
    jsonschema.validate(doc, SCHEMA)                 # still valid against the published schema
    assert doc["error"]["internal"] is True and "RuntimeError: boom" in doc["error"]["message"]


def test_demo_sections_render_and_exit_by_last_section(runner, monkeypatch):
    module = types.ModuleType("corrcheck.demo")
    module.run_demo = lambda config, fixed_only: (
        [("fixed", passing_result())] if fixed_only else
        [("buggy", failing_result()), ("fixed", passing_result()), ("loss", {"buggy": [1, 2, 4], "fixed": [1, 0.5]})])
    monkeypatch.setitem(sys.modules, "corrcheck.demo", module)
    monkeypatch.setattr(corrcheck, "demo", module, raising=False)
    seen = {}
    real = module.run_demo
    module.run_demo = lambda config, fixed_only: seen.setdefault("config", config) and real(config, fixed_only)
    result = runner.invoke(cli.app, ["demo"])
    assert result.exit_code == 0, result.output
    assert (seen["config"].stride, seen["config"].pad) == ("2", "1")     # the forum question's defaults
    module.run_demo = real
    assert "filter-indexed-by-output" in result.stdout and "loss during training" in result.stdout
    doc = json.loads(runner.invoke(cli.app, ["demo", "--json"]).stdout)
    assert [s["title"] for s in doc["sections"]] == ["buggy", "fixed"]
    for section in doc["sections"]:
        jsonschema.validate(section["result"], SCHEMA)
    fixed = runner.invoke(cli.app, ["demo", "--fixed", "--json"])
    assert fixed.exit_code == 0 and json.loads(fixed.stdout)["verdict"] == "pass"


def test_help_and_version_do_not_import_heavy_modules():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "corrcheck", "--help"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert not imported & {"numpy", "scipy", "torch", "mini_racer", "py_mini_racer", "hypothesis"}


def test_python_dash_m_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "corrcheck", "--version"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"corrcheck {corrcheck.__version__}"


# ---------------------------------------------------------------- with the real runner

SEED_STYLE_OK = '''
def corre(a, f, s, p):
    n = (len(a) - len(f) + 2 * p) // s + 1
    out = [[0.0] * n for _ in range(n)]
    for y in range(n):
        for x in range(n):
            total = 0.0
            for j in range(len(f)):
                for i in range(len(f[j])):
                    r, c = y * s + j - p, x * s + i - p
                    if 0 <= r < len(a) and 0 <= c < len(a[r]):
                        total += a[r][c] * f[j][i]
            out[y][x] = total
    return out
'''


@needs_runner
@needs_python_loader
def test_real_run_passes_and_fails_with_json(runner, tmp_path):
    good = tmp_path / "good.py"
    good.write_text(SEED_STYLE_OK)
    bad = tmp_path / "bad.py"
    bad.write_text(SEED_STYLE_OK.replace("a[r][c] * f[j][i]", "a[r][c] * f[y][x]"))
    args = ["--forward", "corre", "--stride", "2", "--pad", "1", "--input-size", "5", "--filter-size", "3",
            "--layout", "hw", "--json"]
    ok = runner.invoke(cli.app, ["run", str(good), *args])
    assert ok.exit_code == 0, ok.output
    jsonschema.validate(json.loads(ok.stdout), SCHEMA)
    failed = runner.invoke(cli.app, ["run", str(bad), *args])
    assert failed.exit_code == 1, failed.output
    doc = json.loads(failed.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert any(c["target"] == "forward" and c["status"] == "fail" for c in doc["checks"])
    human = runner.invoke(cli.app, ["run", str(bad), *args[:-1]])
    assert human.exit_code == 1 and "FAIL: forward" in human.stdout and "Traceback" not in human.output


SEED_JS = '''
function corre(a, f, s, p){
  let outY = parseInt((a.length - f.length + 2 * p)/s + 1)
  let outX = parseInt((a[0].length - f[0].length + 2 * p)/s + 1)
  return new Array(outY).fill(0).map((_, y) =>
    new Array(outX).fill(0).map((__, x) => {
      let sum = 0;
      for(let j = 0; j < f.length; j++){
        for(let i = 0; i < f[j].length; i++){
          let r = y * s + j - p, c = x * s + i - p
          if(r >= 0 && r < a.length && c >= 0 && c < a[r].length)
            sum += a[r][c] * f[j][i]
        }
      }
      return sum
    }))
}
'''


@needs_runner
def test_real_run_of_seed_style_javascript(runner, tmp_path):
    pytest.importorskip("py_mini_racer", reason="the JavaScript engine is an optional extra")
    good = tmp_path / "good.js"
    good.write_text(SEED_JS)
    bad = tmp_path / "bad.js"
    bad.write_text(SEED_JS.replace("a[r][c] * f[j][i]", "a[r][c] * f[y][x]"))
    args = ["--forward", "corre", "--stride", "2", "--pad", "1", "--input-size", "5", "--filter-size", "3"]
    ok = runner.invoke(cli.app, ["run", str(good), *args, "--json"])
    assert ok.exit_code == 0, ok.output
    jsonschema.validate(json.loads(ok.stdout), SCHEMA)
    failed = runner.invoke(cli.app, ["run", str(bad), *args])
    assert failed.exit_code == 1, failed.output
    assert "Mismatched elements:" in failed.stdout and "error map of output" in failed.stdout
    assert failed.stdout.rstrip().splitlines()[-1].startswith("FAIL: forward disagrees with the reference")
    assert "Traceback" not in failed.output


@pytest.mark.parametrize("make, flags, code", [("failing_result", [], 1), ("passing_result", [], 0),
                                               ("passing_result", ["--json"], 0)])
def test_closed_pipe_is_quiet_and_keeps_the_exit_code(tmp_path, source, make, flags, code):
    script = tmp_path / "huge.py"
    script.write_text(
        "import sys, types\n"
        "sys.path.insert(0, %r)\n"
        "import test_report\n"
        "from corrcheck.result import RunResult\n"
        "module = types.ModuleType('corrcheck.runner')\n"
        "big = test_report.%s()\n"
        "module.run = lambda config, progress=None: RunResult(**{**big.__dict__, 'notes': ('x' * 90,) * 5000})\n"
        "sys.modules['corrcheck.runner'] = module\n"
        "sys.argv = ['corrcheck', 'run', %r] + %r\n"
        "from corrcheck.cli import main\n"
        "main()\n" % (str(Path(__file__).parent), make, source, flags))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT)
    assert proc.stdout.read(9).startswith((b"corrcheck", b'{"corrche'))
    proc.stdout.close()                              # like `| head -c 9`
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == code
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr and "internal error" not in stderr


@needs_runner
@needs_python_loader
@pytest.mark.skipif(not _importable("corrcheck.demo"), reason="corrcheck.demo is not written yet")
def test_real_demo(runner, tmp_path):
    result = runner.invoke(cli.app, ["demo", "--report", str(tmp_path / "demo.svg")])
    assert result.exit_code == 0, result.output
    assert "filter-indexed-by-output" in result.stdout and "loss during training" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1] != ""
    assert "filter-indexed-by-output" in (tmp_path / "demo.svg").read_text().replace("&#160;", " ")
    as_json = runner.invoke(cli.app, ["demo", "--json"])
    for section in json.loads(as_json.stdout)["sections"]:
        jsonschema.validate(section["result"], SCHEMA)


def test_demo_files_are_the_examples_users_read():
    """The demo's files ship inside the package (`pip install .` copies no examples/); the same
    learner files sit in examples/ for readers of the repository. They must not drift apart."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    shipped = sorted((root / "corrcheck" / "demo_files").glob("*_*.*"))
    assert shipped
    for demo in shipped:
        twins = [p for p in (root / "examples" / demo.name, root / "examples" / "ops" / demo.name) if p.exists()]
        assert twins, f"{demo.name} has no copy in examples/"
        assert all(t.read_bytes() == demo.read_bytes() for t in twins), f"{demo.name} differs from examples/"


def test_demo_offers_only_the_ops_it_has_code_for(runner):
    """--op convolve ran the correlation's fixed file as a convolution and failed it: not offered."""
    from corrcheck import demo
    assert set(cli.DemoOp.__members__) == {"correlate", *demo.OP_DEMOS}
    result = runner.invoke(cli.app, ["demo", "--op", "convolve"])
    assert result.exit_code == 2 and "Traceback" not in result.output and "'convolve' is not one of" in result.output
