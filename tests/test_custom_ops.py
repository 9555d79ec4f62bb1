"""Custom ops (torch.autograd.Function, nn.Module, jax.custom_vjp): corrcheck beside gradcheck.

gradcheck compares a backward with finite differences of the same forward, so it
cannot see a forward that is wrong in the same way as its backward, and it names
nothing; these tests run both tools on the same files and assert the difference.
torch is a test extra (CI runs these); jax tests skip when jax is absent.
"""
from __future__ import annotations

import importlib.util
import json
import sys

import pytest

import corrcheck
from clihelp import ROOT, assert_no_internal_traceback, run_cli, run_json

torch = pytest.importorskip("torch", reason="torch is a test extra; install with pip install -e '.[test]'")

EXAMPLES = ROOT / "examples"
FIXTURES = ROOT / "tests" / "fixtures" / "custom_ops"
SLOW_IMPORT = ("--timeout", "60")


def load(path):
    spec = importlib.util.spec_from_file_location(f"_custom_ops_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gradcheck_each_input(apply, stride=2, pad=1):
    """gradcheck w.r.t. x, weight, bias in turn (the others held fixed): True or gradcheck's first line."""
    torch.manual_seed(0)
    args = [torch.randn(2, 3, 8, 7, dtype=torch.float64), torch.randn(4, 3, 3, 3, dtype=torch.float64),
            torch.randn(4, dtype=torch.float64)]
    verdicts = {}
    for k, what in enumerate(("x", "weight", "bias")):
        inputs = tuple(a.clone().requires_grad_(i == k) for i, a in enumerate(args))
        try:
            verdicts[what] = torch.autograd.gradcheck(lambda *t: apply(*t, stride, pad), inputs)
        except RuntimeError as exc:
            verdicts[what] = str(exc).splitlines()[0]
    return verdicts


def status(result, target, against):
    return next(c.status for c in result.checks if (c.target, c.against) == (target, against))


def bugs(result, target=None):
    return {d.bug for d in result.diagnoses if target is None or d.target == target}


# ---------------------------------------------------------------- the examples, both tools


def test_gradcheck_misses_the_consistent_forward_mistake_that_corrcheck_names():
    path = EXAMPLES / "torch_function_buggy.py"
    said = gradcheck_each_input(load(path).StridedConv2d.apply)
    # gradcheck: only the input gradient is flagged; weight and bias pass although the forward is wrong
    assert said["weight"] is True and said["bias"] is True
    assert said["x"] is not True and "input 0" in said["x"]
    result = corrcheck.check(str(path), stride=2, pad=1, timeout=60)
    assert result.verdict == "fail"
    assert status(result, "forward", "reference") == "fail"
    assert "filter-flipped" in bugs(result, "forward")
    flip = next(d for d in result.diagnoses if d.bug == "filter-flipped")
    assert flip.location is not None and "flip" in flip.location.code
    assert "grad-input-stride-ignored" in bugs(result, "grad_input")
    # the filter gradient is right for the (wrong) forward: corrcheck says which side is wrong
    assert status(result, "grad_filter", "finite_differences") == "pass"
    assert status(result, "grad_filter", "reference") == "fail"
    assert "exact gradient of your forward" in result.conclusion


def test_the_fixed_function_passes_both():
    path = EXAMPLES / "torch_function_fixed.py"
    assert set(gradcheck_each_input(load(path).StridedConv2d.apply).values()) == {True}
    result = corrcheck.check(str(path), stride=2, pad=1, timeout=60)
    assert result.passed, result.to_dict()["checks"]
    assert result.config["convention"] == "torch-function"


def test_a_module_with_a_wrong_forward_passes_gradcheck_but_not_corrcheck():
    module = load(EXAMPLES / "torch_module.py")
    layer = module.PatchConv2d(3, 4, 3, stride=2, padding=1).double()
    x = torch.randn(2, 3, 8, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,)) is True
    result = corrcheck.check(str(EXAMPLES / "torch_module.py"), timeout=60)
    assert result.config["convention"] == "torch-module"
    assert result.config["stride"] == [2, 2] and result.config["pad"] == [[1, 1], [1, 1]]
    assert "padding-ignored" in bugs(result, "forward")
    assert status(result, "grad_input", "finite_differences") == "pass"     # autograd is consistent


needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                               reason="jax is optional (not a test extra): pip install jax jaxlib")
# jax runs in subprocesses only: imported here, it would warn (and risk deadlocks) in every later
# test that forks, and its first calls compile, so they get the long limit.
JAX_SLOW = ("--timeout", "120")

CHECK_GRADS = """
import sys
import jax
from jax.test_util import check_grads
jax.config.update("jax_enable_x64", True)
sys.path.insert(0, sys.argv[1])
from jax_custom_vjp import conv2d
x = jax.random.normal(jax.random.PRNGKey(0), (1, 2, 6, 5))
w = jax.random.normal(jax.random.PRNGKey(1), (2, 2, 3, 3))
try:
    check_grads(lambda a, b: conv2d(a, b, 2, 1), (x, w), order=1, modes=("rev",))
    print("passed")
except AssertionError as exc:
    print("AssertionError", str(exc).strip().splitlines()[0])
"""


@needs_jax
def test_jax_custom_vjp_example_names_the_crop_mistake():
    proc, doc = run_json("run", EXAMPLES / "jax_custom_vjp.py", "--stride", "2", "--pad", "1", *JAX_SLOW, timeout=400)
    assert_no_internal_traceback(proc)
    assert proc.returncode == 1 and doc["config"]["convention"] == "jax"
    got = {(c["target"], c["against"]): c["status"] for c in doc["checks"]}
    assert got[("forward", "reference")] == "pass" and got[("grad_filter", "reference")] == "pass"
    assert {d["bug"] for d in doc["diagnoses"] if d["target"] == "grad_input"} == {"grad-input-padding-offset"}
    # check_grads sees that something is off, and says no more than that
    import subprocess
    out = subprocess.run([sys.executable, "-c", CHECK_GRADS, str(EXAMPLES)], capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.startswith("AssertionError"), out.stdout + out.stderr


@needs_jax
def test_a_correct_jax_custom_jvp_rule_passes():
    proc, doc = run_json("run", FIXTURES / "jax_custom_jvp.py", "--stride", "2", "--pad", "1", *JAX_SLOW, timeout=400)
    assert proc.returncode == 0, doc.get("checks")
    assert doc["config"]["convention"] == "jax" and doc["bound"]["grad_bias"] == "conv (jvp rule)"


# ---------------------------------------------------------------- binding


def test_a_function_wrapping_a_correct_kernel_passes_and_is_preferred_to_its_module():
    result = corrcheck.check(str(FIXTURES / "kernel_wrapper.py"), timeout=60)
    assert result.passed, result.to_dict()["checks"]
    assert result.config["convention"] == "torch-function"
    assert result.bound["forward"] == "KernelConv2d.forward"
    assert any("--convention torch-module" in n for n in result.notes)
    module = corrcheck.check(str(FIXTURES / "kernel_wrapper.py"), convention="torch-module", timeout=60)
    assert module.passed and module.bound["forward"] == "KernelConv.forward"


@pytest.mark.parametrize("name, verdict, sentence", [
    ("hostile_wrong_count.py", "fail", "incorrect number of gradients (expected 5, got 3)"),
    ("hostile_none_grad.py", "fail", "returned None for `kernel` (position 1), whose gradient is needed"),
    ("hostile_dtype.py", "pass", "returns float32 gradients (grad filter) for float64 arguments"),
    ("kernel_float32.py", "pass", "returned float32: tolerances loosened"),
    ("hostile_inplace_saved.py", "fail", "changes its argument `inp` in place"),
    ("hostile_noncontiguous.py", "pass", None),     # autograd takes any strides: only values matter
])
def test_hostile_backwards_get_one_sentence_each(name, verdict, sentence):
    result = corrcheck.check(str(FIXTURES / name), stride=2, pad=1, timeout=60)
    assert result.verdict == verdict, result.to_dict()["checks"]
    said = [c.message for c in result.checks if c.message] + list(result.notes)
    if sentence is not None:
        hit = [s for s in said if sentence in s]
        assert hit, said
        assert all("\n" not in s for s in hit)


def test_a_numpy_function_with_a_ctx_binds_like_torch_function():
    good = corrcheck.check(str(FIXTURES / "tinygrad_conv.py"), stride=2, pad=1)
    assert good.passed and good.config["convention"] == "torch-function"
    assert good.bound == {"forward": "Conv2D.forward", "grad_input": "Conv2D.backward", "grad_filter": "Conv2D.backward"}
    bad = corrcheck.check(str(FIXTURES / "tinygrad_buggy.py"), stride=2, pad=1)
    assert bugs(bad) == {"grad-filter-stride-ignored"}
    assert status(bad, "grad_input", "reference") == "pass"


def test_an_nn_module_with_its_own_backward_method_is_checked_as_a_layer():
    result = corrcheck.check(str(FIXTURES / "module_with_own_backward.py"), stride=2, pad=1, timeout=60)
    assert result.config["convention"] == "layer" and result.passed
    assert result.bound["grad_filter"] == "ConvLayer.backward"      # the hand-written one, not autograd


def test_notebook_objects_are_taken_directly():
    module = load(FIXTURES / "kernel_wrapper.py")
    by_apply = corrcheck.check(forward=module.KernelConv2d.apply, stride=2, pad=1, timeout=60)
    assert by_apply.passed and by_apply.config["convention"] == "torch-function"
    by_instance = corrcheck.check(forward=module.KernelConv(3, 4, 3), stride=1, pad=1, timeout=60)
    assert by_instance.passed and by_instance.config["convention"] == "torch-module"
    buggy = corrcheck.check(forward=load(EXAMPLES / "torch_function_buggy.py").StridedConv2d.apply,
                            stride=2, pad=1, timeout=60)
    assert "filter-flipped" in bugs(buggy, "forward")


def test_a_result_shows_itself_in_jupyter_as_the_html_report():
    result = corrcheck.check(str(EXAMPLES / "torch_function_buggy.py"), stride=2, pad=1, timeout=60)
    html = result._repr_html_()
    assert html.startswith("<pre") and html.rstrip().endswith("</pre>")
    assert "filter-flipped" in html and "FAIL" in html and "<script" not in html


# ---------------------------------------------------------------- the CLI surface


def test_cli_json_for_a_function_validates_and_fails_with_exit_1():
    jsonschema = pytest.importorskip("jsonschema")
    proc, doc = run_json("run", EXAMPLES / "torch_function_buggy.py", *SLOW_IMPORT)
    assert_no_internal_traceback(proc)
    assert proc.returncode == 1 and doc["config"]["convention"] == "torch-function"
    schema = json.loads((ROOT / "corrcheck" / "report.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["calls"]["forward"] > 0 and doc["calls"]["grad_input"] > 0


@pytest.mark.parametrize("args, words", [
    (("--device", "cuda"), "torch sees no CUDA device"),
    (("--convention", "jax"), "found no function with jax.custom_vjp"),
])
def test_cli_cannot_check_is_exit_2_in_one_sentence(args, words):
    if args[0] == "--device" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    proc, doc = run_json("run", FIXTURES / "kernel_wrapper.py", *args, *SLOW_IMPORT)
    assert proc.returncode == 2 and doc["verdict"] == "error"
    assert words in doc["error"]["message"] and "\n" not in doc["error"]["message"]


def test_device_on_numpy_code_is_a_usage_error():
    proc = run_cli("run", FIXTURES / "tinygrad_conv.py", "--device", "cuda")
    assert proc.returncode == 2
    assert "applies to torch and jax code only" in proc.stdout + proc.stderr
    assert_no_internal_traceback(proc)


def test_numpy_runs_still_import_neither_framework():
    code = ("import sys, corrcheck; r = corrcheck.check(sys.argv[1], stride=2, pad=1); assert r.passed; "
            "print(sorted(m for m in ('torch', 'jax') if m in sys.modules))")
    import subprocess
    out = subprocess.run([sys.executable, "-c", code, str(FIXTURES / "tinygrad_conv.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_parallel_sweep_over_torch_code_finishes():
    """Forked workers hang in torch's OpenMP pool once the parent ran an op: torch code sweeps with spawn."""
    proc, doc = run_json("run", FIXTURES / "kernel_wrapper.py", "--sweep", "--jobs", "2", *SLOW_IMPORT, timeout=280)
    assert proc.returncode == 0, doc.get("checks")
    assert doc["sweep"]["configs"] > 10 and doc["sweep"]["failed"] == 0
