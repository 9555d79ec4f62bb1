"""Regressions found by a new-user trial: each test names the behaviour the user saw go wrong."""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from corrcheck.loader import guard
from corrcheck.errors import UserRaised


FUNCTIONAL_OK = """\
import numpy as np

def corre(x, w, stride, pad):
    x = np.pad(x, pad)
    kh, kw = w.shape
    oh = (x.shape[0] - kh) // stride + 1
    ow = (x.shape[1] - kw) // stride + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[i, j] = (x[i * stride:i * stride + kh, j * stride:j * stride + kw] * w).sum()
    return out
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


# ---------------------------------------------------------------- 1. os._exit in user code

def _must_not_be_reached(*args):
    raise AssertionError("the real os._exit/os.abort was reached")


def test_os_exit_in_a_call_is_reported_and_does_not_end_the_process(tmp_path, monkeypatch):
    # A stand-in for the real os._exit, so a regression fails here instead of ending pytest with 0.
    monkeypatch.setattr(os, "_exit", _must_not_be_reached)
    path = write(tmp_path, "quitter.py", "import os\n\ndef quit_now(code):\n    os._exit(code)\n")
    namespace = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    with pytest.raises(UserRaised) as info:
        guard.call_user(namespace["quit_now"], (0,), timeout=2.0, what="quit_now", user_files=[path])
    assert info.value.message.startswith("quit_now called os._exit(0) (at quitter.py line 4")
    assert os._exit is _must_not_be_reached        # put back for corrcheck's own use


def test_os_abort_in_a_call_is_reported(monkeypatch):
    monkeypatch.setattr(os, "abort", _must_not_be_reached)
    with pytest.raises(UserRaised, match=r"^aborter called os\.abort\(\)"):
        guard.call_user(lambda: os.abort(), timeout=2.0, what="aborter")
    assert os.abort is _must_not_be_reached


def test_os_exit_inside_forward_fails_with_one_sentence(tmp_path, cli):
    path = write(tmp_path, "exits.py", "import os\n\ndef corre(x, w, stride, pad):\n    os._exit(0)\n")
    proc = cli.run_cli("run", path, "-q")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "corre called os._exit(0)" in proc.stdout
    cli.assert_no_internal_traceback(proc)


def test_os_exit_at_import_is_a_load_error(tmp_path, cli):
    path = write(tmp_path, "exits_at_import.py", "import os\nos._exit(0)\n\ndef corre(x, w, s, p):\n    return x\n")
    proc = cli.run_cli("run", path, "--json")
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    assert doc["error"]["kind"] == "load"
    assert "exits_at_import.py called os._exit(0) at import" in doc["error"]["message"]


# ---------------------------------------------------------------- 5. wording

def test_article_follows_the_spoken_number():
    from corrcheck.checks.problem import article

    assert [article(w) for w in ("8x8", "11x5", "18x3", "80", "11000", "input")] == ["an"] * 6
    assert [article(w) for w in ("7x6", "1x1", "110", "180", "square")] == ["a"] * 5


def test_probe_note_says_an_8x8_input():
    from corrcheck.geometry import make_geometry
    from corrcheck.checks.problem import Problem

    geom = make_geometry(ndim=2, in_spatial=(8, 8), k_spatial=(3, 3), stride=1, pad=0)
    assert Problem(geom, (8, 8), (3, 3), 1, 1, 1, label="probe").note == "on an 8x8 input"
    geom = make_geometry(ndim=2, in_spatial=(7, 6), k_spatial=(3, 3), stride=1, pad=0)
    assert Problem(geom, (7, 6), (3, 3), 1, 1, 1, label="probe").note == "on a 7x6 input"


def test_reproduce_command_keeps_the_checking_options():
    from corrcheck.config import DEFAULT_TIMEOUT, RunConfig
    from corrcheck.rerun import reproduce_command

    given = RunConfig(files=("conv.py",), timeout=3.0, exhaustive=True, rtol=1e-5, atol=1e-9)
    words = reproduce_command(given).split()
    for flag, value in (("--timeout", "3"), ("--rtol", "1e-05"), ("--atol", "1e-09")):
        assert words[words.index(flag) + 1] == value
    assert "--exhaustive" in words
    plain = reproduce_command(RunConfig(files=("conv.py",), timeout=DEFAULT_TIMEOUT)).split()
    assert not {"--timeout", "--exhaustive", "--rtol", "--atol"} & set(plain)


def test_rerun_line_of_a_real_run_has_the_timeout(tmp_path, cli):
    path = write(tmp_path, "ok.py", FUNCTIONAL_OK)
    proc = cli.run_cli("run", path, "--stride", "2", "--pad", "1", "--timeout", "7")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rerun = [ln for ln in proc.stdout.splitlines() if ln.startswith("rerun:")]
    assert rerun and "--timeout 7" in rerun[0]


# ---------------------------------------------------------------- 6. --explain-cell outside the output

@pytest.mark.parametrize("cell, needle", [("5,0", "(0,0 to 4,3)"), ("1,2,3", "give 2 indices (you gave 3)")])
def test_explain_cell_outside_the_output_says_why(tmp_path, cell, needle, cli):
    from importlib.resources import files

    import jsonschema

    path = write(tmp_path, "ok.py", FUNCTIONAL_OK)
    args = ["run", path, "--stride", "2", "--pad", "1", "--input-size", "9x6", "--filter-size", "3x2",
            "--explain-cell", cell]
    proc = cli.run_cli(*args, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, json.loads(files("corrcheck").joinpath("report.schema.json").read_text()))
    (explanation,) = doc["explanations"]
    assert explanation["user_terms"] == [] and explanation["cell"] == [int(i) for i in cell.split(",")]
    note = explanation["note"]
    assert note.startswith(f"--explain-cell {cell} is not a cell of the forward's output, which is 5x4")
    assert needle in note
    human = cli.run_cli(*args).stdout
    assert f"--explain-cell {cell} is not a cell" in " ".join(human.split())


def test_explain_cell_inside_the_output_is_still_explained(tmp_path, cli):
    path = write(tmp_path, "ok.py", FUNCTIONAL_OK)
    proc = cli.run_cli("run", path, "--stride", "2", "--pad", "1", "--input-size", "9x6", "--filter-size", "3x2",
                   "--explain-cell", "4,3", "--json")
    (explanation,) = json.loads(proc.stdout)["explanations"]
    assert explanation["cell"] == [4, 3] and len(explanation["user_terms"]) == len(explanation["expected_terms"]) > 0
    assert "is not a cell" not in explanation.get("note", "")


def _with_temporaries(dx_line: str, dw_line: str) -> str:
    """The common cs231n backward that names the window's corner (hs = i * stride) first."""
    correct = (Path(__file__).parent / "fixtures" / "trust" / "cs231n_one_int_pad.py").read_text()
    old = ("                    dw[f] += xp[n, :, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]\n"
           "                    dxp[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]\n")
    assert old in correct
    return correct.replace(old, dw_line + "\n" + dx_line + "\n")


@pytest.mark.parametrize("which, bug", [("dx", "grad-input-stride-ignored"), ("dw", "grad-filter-stride-ignored")])
def test_stride_left_out_beside_hs_temporaries_is_located_and_fixed(tmp_path, cli, which, bug):
    """`hs = i * stride` made the stride rule flag the correct line that uses hs (hs + HH has no
    product of its own) and miss the one that forgot the stride; --fix then found nothing."""
    good_dw = "                    dw[f] += xp[n, :, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]"
    good_dx = "                    dxp[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]"
    bad_dw = "                    dw[f] += xp[n, :, i:i + HH, j:j + WW] * dout[n, f, i, j]"
    bad_dx = "                    dxp[n, :, i:i + HH, j:j + WW] += w[f] * dout[n, f, i, j]"
    text = _with_temporaries(bad_dx if which == "dx" else good_dx, bad_dw if which == "dw" else good_dw)
    path = write(tmp_path, "layers.py", text)
    wrong_line = text.splitlines().index((bad_dx if which == "dx" else bad_dw)) + 1
    proc, doc = cli.run_json("run", path, "--stride", "2", "--pad", "1", "--fix", cwd=tmp_path, timeout=300)
    top = doc["diagnoses"][0]
    assert top["bug"] == bug and top["location"]["line"] == wrong_line, doc["diagnoses"]
    assert doc["fix"]["verified"], doc["fix"]


# ---------------------------------------------------------------- a true convolution checked as a correlation

CONVOLUTION = """\
import numpy as np

def convolve2d(image, kernel, stride=1, padding=0):
    img = np.pad(np.asarray(image, dtype=float), padding)
    k = np.asarray(kernel, dtype=float)
    kh, kw = k.shape
    out = np.zeros(((img.shape[0] - kh) // stride + 1, (img.shape[1] - kw) // stride + 1))
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            for j in range(kh):
                for i in range(kw):
                    out[y, x] += img[y * stride + j, x * stride + i] * k[kh - 1 - j, kw - 1 - i]
    return out

def convolve2d_backward(dout, image, kernel, stride=1, padding=0):
    image = np.asarray(image, dtype=float)
    img = np.pad(image, padding)
    k = np.asarray(kernel, dtype=float)
    kh, kw = k.shape
    d_img, d_k = np.zeros_like(img), np.zeros_like(k)
    for y in range(dout.shape[0]):
        for x in range(dout.shape[1]):
            for j in range(kh):
                for i in range(kw):
                    d_img[y * stride + j, x * stride + i] += dout[y, x] * k[kh - 1 - j, kw - 1 - i]
                    d_k[kh - 1 - j, kw - 1 - i] += dout[y, x] * img[y * stride + j, x * stride + i]
    H, W = image.shape
    return d_img[padding:padding + H, padding:padding + W], d_k
"""


def test_a_consistent_convolution_is_told_its_flag_and_its_gradients_follow_the_forward(tmp_path, cli):
    path = write(tmp_path, "conv.py", CONVOLUTION)
    proc, doc = cli.run_json("run", path, "--stride", "2", "--pad", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr       # asked: correlation; the filter is flipped
    by_target = {d["target"]: d for d in doc["diagnoses"]}
    assert by_target["forward"]["bug"] == "filter-flipped"
    # the filter gradient is the exact gradient of the flipped forward: no mistake of its own
    assert by_target["grad_filter"]["follows"] == "forward" and by_target["grad_filter"]["bug"] is None
    assert "every check passes with --op convolve" in doc["conclusion"]
    proc = cli.run_cli("run", path, "--stride", "2", "--pad", "1")
    assert "grad_filter: follows from the forward" in proc.stdout
    proc = cli.run_cli("run", path, "--stride", "2", "--pad", "1", "--op", "convolve")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_flipped_forward_whose_backward_disagrees_gets_no_other_flag(tmp_path, cli):
    # the filter gradient left unflipped: not a convolution either, so no flag would make it pass
    path = write(tmp_path, "conv.py", CONVOLUTION.replace("d_k[kh - 1 - j, kw - 1 - i] +=", "d_k[j, i] +="))
    proc, doc = cli.run_json("run", path, "--stride", "2", "--pad", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "--op convolve" not in doc["conclusion"]
    assert not any(d.get("follows") for d in doc["diagnoses"] if d["target"] == "grad_filter")


# ---------------------------------------------------------------- fourth new-user trial (files the trial wrote)

TRIAL4 = Path(__file__).parent / "fixtures" / "trial4"


def _trial(name, *flags):
    from corrcheck.config import RunConfig
    from corrcheck.runner import run
    options = dict(flags)
    return run(RunConfig(files=(str(TRIAL4 / name),), **options))


def _targets(result):
    return {(d.target, d.bug) for d in result.diagnoses}


@pytest.mark.parametrize("name, options", [
    ("f25_border_param.py", [("stride", "2"), ("pad", "1")]),   # the pad named `border`
    ("f22_layer_grads_dict.py", []),                             # grads['kernels'] beside self.kernels
    ("f24_zero_grad.py", []),                                    # accumulates until zero_grad(), as torch does
    ("f06_tf_same_nhwc.py", []),                                 # pads 'SAME' itself, takes no pad
])
def test_correct_code_the_trial_wrote_passes(name, options):
    result = _trial(name, *options)
    assert result.verdict == "pass", (result.conclusion, [c.to_dict() for c in result.checks if c.status != "pass"])


def test_code_that_pads_same_itself_is_checked_at_same_and_its_slip_still_fails():
    good = _trial("f06_tf_same_nhwc.py")
    assert good.config["pad"] != [[0, 0], [0, 0]] and any("pad 'same' themselves" in n for n in good.notes)
    bad = _trial("f07_tf_same_nhwc_buggy.py")          # the odd padding row put before instead of after
    assert bad.verdict == "fail" and "returned shape" not in bad.conclusion


def test_an_output_size_wrong_only_where_the_stride_divides_evenly_is_caught():
    result = _trial("leo_layers.py", ("convention", "cs231n"), ("stride", "2"), ("pad", "1"))
    assert result.verdict == "fail"
    assert ("forward", "output-size") in _targets(result)
    assert any("divides the padded input exactly" in n for n in result.notes)


def test_a_wrong_stride_one_branch_is_caught_when_no_stride_was_given():
    result = _trial("f23_fastpath.py")
    assert result.verdict == "fail"
    assert ("grad_input", "grad-input-filter-not-flipped") in _targets(result)
    assert _trial("f23_fastpath.py", ("stride", "2"), ("pad", "1")).verdict == "pass"   # asked: stride 2 only


def test_one_dimensional_batched_channels_layout_is_detected():
    result = _trial("f04_conv1d_audio.py")
    assert result.config["layout"] == "ncw"
    assert ("grad_input", "grad-input-stride-ignored") in _targets(result)
    assert _trial("f04_conv1d_audio.py", ("layout", "ncw")).config["layout"] == "ncw"


def test_filter_extents_after_a_size_are_not_a_dilation():
    result = _trial("f11_nested.js")          # convBackwardFilter(dout, img, stride, padding, K, L)
    assert result.config["dilation"] == [1, 1]
    assert _targets(result) == {("grad_filter", "grad-filter-stride-ignored")}


def test_float32_typed_arrays_get_float32_tolerances():
    result = _trial("f26_typed_f32.js")
    assert result.verdict == "pass", [c.to_dict() for c in result.checks if c.status != "pass"]


def test_a_missing_backward_is_said_and_fails_the_grade(tmp_path):
    from corrcheck.grade.worker import _incomplete
    result = _trial("judy_layers.py", ("convention", "cs231n"), ("stride", "2"), ("pad", "1"))
    assert result.verdict == "pass"
    assert any(n.startswith("not checked: no backward function found") for n in result.notes)
    graded = _incomplete(result)
    assert graded.verdict == "fail" and graded.conclusion.startswith("Incomplete: no backward function was found")
    complete = _trial("f22_layer_grads_dict.py")
    assert _incomplete(complete) is complete


def test_api_module_class_from_a_module_outside_sys_modules_sets_its_bias():
    import importlib.util
    import json as _json

    pytest.importorskip("torch")
    import corrcheck
    spec = importlib.util.spec_from_file_location("trial4_mod_unfold", TRIAL4 / "mod_unfold.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)                   # not in sys.modules: inspect cannot find the class
    result = corrcheck.check(forward=module.UnfoldConv2d, stride=2, pad=1)
    assert result.verdict == "pass" and "grad_bias" in result.bound
    doc = result.to_dict()
    assert type(doc["verdict"]) is str and type(doc["checks"][0]["status"]) is str
    assert _json.loads(_json.dumps(doc)) == doc


def test_max_pool_reading_zero_outside_the_input_is_located_and_fixed():
    result = _trial("f21_maxpool_pad.js", ("fix", True))
    (d,) = result.diagnoses
    assert d.bug == "ceil-mode-window-outside" and ": 0;" in d.location.code
    assert result.fix.verified and "-Infinity" in result.fix.diff


def test_a_wrong_output_shape_on_the_shape_where_the_forward_runs_is_named():
    # the forward crashes on a non-square filter; on a square one it runs, one row short
    result = _trial("f12_outsize.py")
    (d,) = [d for d in result.diagnoses if d.target == "forward"]
    assert d.bug == "output-size" and "diagnosed on" in d.explanation
    assert d.location is not None and "// stride" in d.location.code


def test_grade_summary_keeps_calls_that_hung_apart_from_unnamed_mistakes():
    from corrcheck.grade.summary import summarize
    hung = {"verdict": "fail", "checks": [{"target": "grad_input", "status": "error", "timed_out": True}],
            "diagnoses": []}
    unnamed = {"verdict": "fail", "checks": [{"target": "forward", "status": "fail"}], "diagnoses": []}
    s = summarize([("ivan", hung), ("zoe", unnamed)])
    assert s["timed_out"] == ["ivan"] and s["unexplained_failures"] == ["zoe"]
