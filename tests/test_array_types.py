"""Whatever array type the user's code returns is read as numbers, through the real CLI.

Every file in py_files/array_types returns the values of one correct correlation
(conv_values.py) as a different type, so a verdict other than pass means corrcheck
misread the type; integer and flipped files are the controls that must still fail.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = ROOT / "tests" / "py_files" / "array_types"
FLAGS = ("--stride", "2", "--pad", "1")
SLOW_IMPORT = ("--timeout", "60")     # `import torch` alone takes 4-5 s on a busy 2-core machine


@pytest.fixture()
def run(cli):
    """run(name, *extra) -> (proc, doc): `corrcheck run` on one array-type file, no traceback at all."""
    def run(name: str, *extra: str):
        proc, doc = cli.run_json("run", FILES / name, *FLAGS, *extra)
        cli.assert_no_internal_traceback(proc)
        assert proc.stderr.count("Traceback") == 0, proc.stderr
        return proc, doc
    return run


def statuses(doc) -> dict:
    return {(c["target"], c["against"]): c["status"] for c in doc["checks"]}


def loosened(doc) -> list[str]:
    return [n for n in doc.get("notes", []) if "tolerances loosened" in n]


def assert_passes(proc, doc, precision: str | None):
    """Exit 0, both targets checked against the reference, and a tolerance note exactly when expected."""
    assert (proc.returncode, doc["verdict"]) == (0, "pass"), doc["checks"]
    got = statuses(doc)
    assert got[("forward", "reference")] == "pass" and got[("grad_filter", "reference")] == "pass"
    assert got[("grad_filter", "finite_differences")] == "pass"
    notes = loosened(doc)
    if precision is None:
        assert notes == [], notes
    else:
        assert notes and all(f"returned {precision}:" in n for n in notes), doc["notes"]


# ------------------------------------------------------------------ numpy and plain Python

@pytest.mark.parametrize("name, precision", [
    ("as_float64.py", None),
    ("as_float32.py", "float32"),
    ("as_float16.py", "float16"),
    ("nested_lists.py", None),
    ("numpy_scalars.py", None),
    ("float32_scalars.py", "float32"),
    ("array_protocol.py", None),
    ("cupy_fake.py", None),
    ("tuples.py", None),
])
def test_type_is_read_as_numbers(name, precision, run):
    assert_passes(*run(name), precision)


def test_float32_note_is_in_the_human_report_too(cli):
    proc = cli.run_cli("run", FILES / "as_float32.py", *FLAGS)
    assert proc.returncode == 0, proc.stdout
    text = " ".join(proc.stdout.split())          # the report wraps long lines
    assert "returned float32: tolerances loosened" in text


@pytest.mark.parametrize("name, dtype", [("int_truncated.py", "int64"), ("int32_truncated.py", "int32")])
def test_integer_output_fails_and_says_it_truncates(name, dtype, run):
    proc, doc = run(name)
    assert (proc.returncode, doc["verdict"]) == (1, "fail")
    assert statuses(doc)[("forward", "reference")] == "fail"
    notes = [n for n in doc["notes"] if n.startswith("forward returned integer")]
    assert notes and dtype in notes[0] and "truncated" in notes[0], doc["notes"]
    forward = next(c for c in doc["checks"] if c["target"] == "forward" and c["against"] == "reference")
    assert forward["worst"]
    for cell in forward["worst"]:     # the mismatch is the truncation itself, nothing else
        assert cell["actual"] == np.trunc(cell["expected"]) != cell["expected"]


def test_loose_half_precision_tolerances_still_catch_a_flipped_filter(run):
    proc, doc = run("float16_flipped.py")
    assert (proc.returncode, doc["verdict"]) == (1, "fail")
    assert statuses(doc)[("forward", "reference")] == "fail"
    assert [d["bug"] for d in doc["diagnoses"] if d["target"] == "forward"] == ["filter-flipped"]


def test_an_array_protocol_that_raises_is_one_sentence_about_the_users_object(run):
    proc, doc = run("broken_array_protocol.py")
    assert (proc.returncode, doc["verdict"]) == (1, "fail")
    forward = next(c for c in doc["checks"] if c["target"] == "forward")
    assert forward["status"] == "error"
    assert "could not be read as numbers" in forward["message"]
    assert "grid was never materialised" in forward["message"]
    assert statuses(doc)[("grad_filter", "reference")] == "pass"


# ------------------------------------------------------------------ torch, jax

@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("name, precision", [
    ("torch_tensor.py", None),
    ("torch_requires_grad.py", "float32"),
    ("torch_scalar_lists.py", None),
    ("torch_float16.py", "float16"),
    ("torch_bfloat16.py", "bfloat16"),
    ("torch_cuda_fake.py", None),
    ("torch_out_cache.py", None),
])
def test_torch_tensor_is_read_as_numbers(torch, name, precision, run):
    assert_passes(*run(name, *SLOW_IMPORT), precision)


def test_a_meta_tensor_is_a_clear_failure(torch, run):
    proc, doc = run("torch_meta.py", *SLOW_IMPORT)
    assert (proc.returncode, doc["verdict"]) == (1, "fail")
    messages = [c["message"] for c in doc["checks"] if c["status"] == "error"]
    assert len(messages) == 2
    assert all("'meta' device" in m and "no values" in m for m in messages), messages


def test_jax_array_is_read_as_numbers(run):
    pytest.importorskip("jax")
    assert_passes(*run("jax_array.py", *SLOW_IMPORT), "float32")


# ------------------------------------------------------------------ no heavy imports of our own

PROBE = """
import sys
import corrcheck
result = corrcheck.check(sys.argv[1], stride=2, pad=1, timeout=60)
assert result.passed, result.to_dict()["checks"]
print(",".join(m for m in ("torch", "jax", "cupy") if m in sys.modules))
"""


@pytest.mark.parametrize("name, imported", [
    ("as_float64.py", ""),
    ("cupy_fake.py", ""),                 # a class that only looks like cupy's
    ("torch_tensor.py", "torch"),         # the control: the probe does see a user's import
])
def test_only_the_users_code_imports_array_libraries(name, imported):
    if imported:
        pytest.importorskip(imported)
    proc = subprocess.run([sys.executable, "-c", PROBE, str(FILES / name)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == imported
