"""Code as it is found, zero-config: which functions get bound, the verdict, and the call budget.

Runs the real CLI on temporary copies of tests/fixtures/shapes (and variants made here) with
only --stride/--pad, asserting the convention, the bound names and the verdict.
"""
import shutil
from pathlib import Path

import pytest

import corrcheck

ROOT = Path(__file__).resolve().parent.parent

SHAPES = ROOT / "tests" / "fixtures" / "shapes"

CASES = [
    # files, flags, convention, bound forward, verdict
    (["holberton/0-conv_forward.py", "holberton/2-conv_backward.py"], ["--stride", "2", "--pad", "1"],
     "holberton", "conv_forward", "pass"),
    (["dlfs/common/layers.py"], ["--stride", "2", "--pad", "1"], "layer", "Convolution.forward", "pass"),
    (["cs231n_tree/cs231n/layers.py"], ["--stride", "2", "--pad", "1"], "cs231n", "conv_forward_naive", "pass"),
    (["sibling/conv.py"], ["--stride", "2", "--pad", "1"], "layer", "ConvLayer.forward", "pass"),
    (["selfinit/conv2d_module.py"], ["--stride", "2", "--pad", "1"], "layer", "Conv2D.forward", "pass"),
    (["selfinit/conv2d_module_bug.py"], ["--stride", "2", "--pad", "1"], "layer", "Conv2D.forward", "fail"),
    (["selfinit/conv_layer_lazy.py"], ["--stride", "2", "--pad", "1"], "layer", "ConvLayer.forward", "pass"),
    (["js/conv_module.js"], ["--stride", "2", "--pad", "1"], "functional", "conv2d", "pass"),
    (["js/conv_module_bug.js"], ["--stride", "2", "--pad", "1"], "functional", "conv2d", "fail"),
    (["js/mlib_conv.js"], ["--stride", "2", "--pad", "1"], "functional", "mlib.conv.forward", "pass"),
    (["js/mlib_conv_bug.js"], ["--stride", "2", "--pad", "1"], "functional", "mlib.conv.forward", "fail"),
    (["js/split/corre.js", "js/split/backprop.js"], ["--stride", "2", "--pad", "1"], "functional", "corre", "pass"),
]


@pytest.fixture(scope="module")
def tree(tree_copy):
    return tree_copy(SHAPES)


@pytest.mark.parametrize("files,flags,convention,forward,verdict", CASES, ids=[c[0][0] for c in CASES])
def test_zero_config(tree, files, flags, convention, forward, verdict, cli):
    before = cli.snapshot(tree)
    proc, doc = cli.run_json("run", *[tree / f for f in files], *flags, cwd=tree)
    cli.assert_no_internal_traceback(proc)
    assert doc["verdict"] == verdict, (doc.get("error"), doc.get("checks"))
    assert proc.returncode == {"pass": 0, "fail": 1}[verdict]
    assert doc["config"]["convention"] == convention
    assert doc["bound"]["forward"] == forward
    assert {"grad_input", "grad_filter"} <= set(doc["bound"])
    assert doc["files"] == [str(tree / f) for f in files]
    assert cli.snapshot(tree) == before


def test_holberton_stride_bug_fails_with_the_forward_named(tmp_path, cli):
    src = SHAPES / "holberton"
    for f in src.iterdir():
        shutil.copy(f, tmp_path / f.name)
    fwd = tmp_path / "0-conv_forward.py"
    text = fwd.read_text()
    assert "x = i * sh" in text
    fwd.write_text(text.replace("x = i * sh", "x = i"))          # windows placed without the stride
    proc, doc = cli.run_json("run", fwd, tmp_path / "2-conv_backward.py", "--stride", "2", "--pad", "1")
    assert proc.returncode == 1
    assert doc["config"]["convention"] == "holberton"
    assert any(c["target"] == "forward" and c["status"] != "pass" for c in doc["checks"])
    assert doc["diagnoses"] and doc["diagnoses"][0]["target"] == "forward"


def test_seed_style_64x64_passes_within_twelve_calls_per_function():
    """Issue target: pure-Python list code at 64x64, 5x5 filter, stride 2, pad 2."""
    result = corrcheck.check(ROOT / "examples" / "seed_fixed.py", stride=2, pad=2, input_size=64, filter_size=5)
    assert result.passed
    assert result.calls and all(n <= 12 for n in result.calls.values()), result.calls


def test_a_dict_parameter_is_a_binding_error_with_the_adapter_hint(tmp_path, cli):
    f = tmp_path / "dictlayer.py"
    f.write_text(
        "import numpy as np\n\n"
        "def conv_layer_forward(layer, X):\n"
        "    W, s, p = layer['W'], layer['stride'], layer['pad']\n"
        "    return X\n\n"
        "def conv_layer_backward(layer, dY):\n"
        "    return dY\n")
    proc, doc = cli.run_json("run", f, "--forward", "conv_layer_forward", "--grad-input", "conv_layer_backward")
    assert proc.returncode == 2 and doc["error"]["kind"] == "bind"
    assert "layer['W']" in doc["error"]["message"] and "adapter" in doc["error"]["message"]
