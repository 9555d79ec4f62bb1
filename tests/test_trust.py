"""Never accuse correct code (issue 14): each class of false verdict, on our own learner-style files."""
from __future__ import annotations

import re
from pathlib import Path

import pytest


HERE = Path(__file__).resolve().parent / "fixtures" / "trust"


def _lines_of(source: str, name: str) -> range:
    """Line numbers (1-based) of one top-level def."""
    lines = source.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(f"def {name}("))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("def ")), len(lines))
    return range(start + 1, end + 1)


# ---- 1. only a function with a failing check is blamed -------------------------------------

def test_conclusion_blames_only_the_failing_gradient(cli):
    proc, doc = cli.run_json("run", HERE / "separate_backward_filter_scaled.py")
    assert proc.returncode == 1
    failing = {c["target"] for c in doc["checks"] if c["status"] != "pass"}
    assert failing == {"grad_filter"}
    assert "correlate_backward_filter" in doc["conclusion"]
    assert "correlate_backward_input" not in doc["conclusion"]


def test_fix_never_edits_the_passing_function(cli, tmp_path):
    src = (HERE / "separate_backward_filter_stride_ignored.py").read_text()
    f = tmp_path / "learner.py"
    f.write_text(src)
    proc, doc = cli.run_json("run", f, "--fix", timeout=300)
    assert proc.returncode == 1
    assert "correlate_backward_input" not in doc["conclusion"]
    fix = doc["fix"]
    assert fix["verified"], fix
    touched = set()
    for m in re.finditer(r"^@@ -(\d+),(\d+)", fix["diff"], flags=re.M):
        start = int(m.group(1))
        body = fix["diff"][m.end():].split("\n@@")[0].splitlines()[1:]
        line = start
        for row in body:
            if row.startswith("-"):
                touched.add(line)
            if not row.startswith("+"):
                line += 1
    assert touched and touched <= set(_lines_of(src, "correlate_backward_filter"))


# ---- 2. nothing conv-like is a bind error, not a FAIL ---------------------------------------

@pytest.mark.parametrize("name", ["helpers_no_conv", "helpers_forward_by_position", "dense_pair"])
def test_no_convolution_is_a_bind_error_naming_what_was_seen(cli, name):
    proc, doc = cli.run_json("run", HERE / f"{name}.py", "--stride", "2", "--pad", "1")
    assert proc.returncode == 2, doc.get("conclusion")
    assert doc["error"]["kind"] == "bind"
    msg = doc["error"]["message"]
    assert "looks like a convolution" in msg and "looked for" in msg
    assert "cross_entropy" in msg or "dense_forward" in msg          # the functions it saw
    assert msg.count(". ") == 0                                     # one sentence


def test_a_positional_binding_earns_it_by_behaving_like_a_convolution(cli):
    proc, doc = cli.run_json("run", HERE / "plain_names_conv.py")
    assert proc.returncode == 0, doc
    assert doc["bound"]["forward"] == "apply"


# ---- 4. free sizes are chosen so no two extents coincide --------------------------------------

@pytest.mark.parametrize("flags", [["--input-size", "8x6", "--pad", "1"], [], ["--stride", "1", "--pad", "0"],
                                   ["--stride", "3", "--pad", "1"], ["--stride", "2", "--pad", "2"]])
def test_a_transposed_output_cannot_pass_by_equal_extents(cli, flags):
    proc, doc = cli.run_json("run", HERE / "forward_output_transposed.py", *flags)
    assert proc.returncode == 1, doc.get("notes")


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("pad", [0, 1, 2])
def test_free_extents_are_pairwise_distinct(stride, pad):
    from corrcheck.binding.layouts import LAYOUTS
    from corrcheck.checks.problem import build_problem, extents_equal, pad0_variant
    from corrcheck.config import RunConfig
    for layout in ("hw", "nchw", "nhwc", "ncdhw"):
        cfg = RunConfig(files=("x.py",), stride=stride, pad=pad).validate()
        p = build_problem(cfg, LAYOUTS[layout].spatial, LAYOUTS[layout])
        assert extents_equal(p.in_spatial, p.k_spatial, p.geom) == [], (layout, p.describe())
        p0 = pad0_variant(p)
        if p0 is not None:
            assert len(set(p0.out_spatial)) == len(p0.out_spatial)
        if LAYOUTS[layout].batch:
            assert len({p.batch, p.channels, p.filters}) == 3
    cfg = RunConfig(files=("x.py",), stride=stride, pad=pad, channels=2, filters=3).validate()
    p = build_problem(cfg, 2, LAYOUTS["nchw"])
    assert (p.channels, p.filters) == (2, 3) and p.batch not in (2, 3)


def test_sizes_the_user_forces_equal_get_a_note(cli):
    proc, doc = cli.run_json("run", HERE / "forward_output_transposed.py", "--input-size", "7x7", "--filter-size", "3x3")
    assert proc.returncode == 0
    note = next(n for n in doc["notes"] if "cannot show" in n)
    # a swapped read (x[j][i]) still shows on square sizes; a size used for the wrong axis does not
    assert "input's height used for its width" in note and "filter's height used for its width" in note
    assert "input-transposed" not in note


# ---- 7. a group-testing count is exact, or said to be a lower bound ---------------------------

def test_group_testing_count_is_exact_when_affordable(cli):
    proc, doc = cli.run_json("run", HERE / "layer_grad_input_scaled.py")
    assert proc.returncode == 1
    by = {(c["target"], c["against"]): c for c in doc["checks"]}
    ref, fd = by[("grad_input", "reference")], by[("grad_input", "finite_differences")]
    assert fd["mismatches"] == ref["mismatches"] > 200
    assert not fd.get("mismatches_lower_bound")


def test_group_testing_count_is_a_lower_bound_when_it_stops_early(monkeypatch):
    import corrcheck.checks.suite as suite
    from corrcheck.api import check
    from corrcheck.report.sections import _failure_words, _check_details  # noqa: F401
    monkeypatch.setattr(suite, "EXACT_SECONDS", 0.0)
    res = check(str(HERE / "layer_grad_input_scaled.py"))
    ref = next(c for c in res.checks if c.target == "grad_input" and c.against == "reference")
    fd = next(c for c in res.checks if c.target == "grad_input" and c.against == "finite_differences")
    assert fd.mismatches < ref.mismatches
    assert fd.mismatches_lower_bound and isinstance(fd.mismatches, int)
    assert f"at least {fd.mismatches}" in fd.message
    doc = res.to_dict()
    row = next(c for c in doc["checks"] if c["target"] == "grad_input" and c["against"] == "finite_differences")
    assert row["mismatches_lower_bound"] is True and isinstance(row["mismatches"], int)
    assert f"at least {fd.mismatches} / {fd.total}" in _failure_words(fd)


# ---- 6. a raise that another admissible calling form avoids is corrcheck's, not the user's ----

@pytest.mark.parametrize("flags", [[], ["--layout", "nhwc"], ["--stride", "1", "--pad", "0"],
                                   ["--stride", "3", "--pad", "2", "--input-size", "9x7"]])
def test_tensorflow_style_nhwc_hwio_with_int_strides_passes(cli, flags):
    proc, doc = cli.run_json("run", HERE / "tf_style_nhwc.py", *flags)
    assert proc.returncode == 0, [c.get("message") for c in doc.get("checks", [])] or doc.get("error")
    assert doc["config"]["layout"] == "nhwc"
    assert set(doc["bound"]) == {"forward", "grad_input", "grad_filter"}


def test_tensorflow_style_bug_is_still_found(cli):
    proc, doc = cli.run_json("run", HERE / "tf_style_nhwc_grad_filter_transposed.py")
    assert proc.returncode == 1
    failing = {c["target"] for c in doc["checks"] if c["status"] != "pass"}
    assert failing == {"grad_filter"}
    assert "conv2d_nhwc_backprop_input" not in doc["conclusion"]


# ---- 5. flat row-major arrays with explicit extents ------------------------------------------

JS = Path(__file__).resolve().parent / "js_files" / "trust"


@pytest.mark.parametrize("path", [HERE / "flat_extents.py", JS / "flat_extents.js"])
def test_flat_arrays_with_extents_bind_as_a_flat_layout(cli, path):
    proc, doc = cli.run_json("run", path, "--stride", "2", "--pad", "1")
    assert proc.returncode == 0, doc.get("conclusion") or doc.get("error")
    assert doc["config"]["layout"] == "hw"
    assert any("flat row-major" in n for n in doc["notes"])
    assert set(doc["bound"]) == {"forward", "grad_input", "grad_filter"}


def test_flat_arrays_read_the_wrong_way_fail(cli):
    proc, doc = cli.run_json("run", HERE / "flat_extents_column_major_read.py", "--stride", "1", "--pad", "0")
    assert proc.returncode == 1
    assert {c["target"] for c in doc["checks"] if c["status"] != "pass"} >= {"forward"}


def test_flat_parameter_that_cannot_be_placed_is_named(cli):
    proc, doc = cli.run_json("run", JS / "flat_unplaceable.js")
    assert proc.returncode == 2 and doc["error"]["kind"] == "bind"
    assert "blend" in doc["error"]["message"] and "could not place" in doc["error"]["message"]


# ---- 3. objects that carry the numbers -------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("flags", [[], ["--forward", "ConvLayer"], ["--stride", "1", "--pad", "0"],
                                   ["--stride", "3", "--pad", "2"]])
def test_volume_object_library_is_read_natively(cli, flags):
    proc, doc = cli.run_json("run", JS / "convnet_lib.js", *flags)
    assert proc.returncode == 0, doc.get("error") or doc.get("conclusion")
    assert doc["bound"]["forward"] == "convnet.ConvLayer.forward"
    assert {"grad_input", "grad_filter", "grad_bias"} <= set(doc["bound"])
    if not flags:
        assert any("picked among" in n and "FullyConnLayer" in n for n in doc["notes"])


def test_volume_object_library_bug_is_found_in_the_filter_gradient(cli):
    proc, doc = cli.run_json("run", JS / "convnet_lib_bug.js")
    assert proc.returncode == 1
    assert {c["target"] for c in doc["checks"] if c["status"] != "pass"} == {"grad_filter"}


@pytest.mark.parametrize("flags", [[], ["--forward", "ConvLayer"]])
def test_the_example_volume_library_needs_no_adapter(cli, flags):
    proc, doc = cli.run_json("run", ROOT / "examples" / "adapters" / "vol_library.js", *flags)
    assert proc.returncode == 0, doc.get("error") or doc.get("conclusion")


def test_data_shape_records_and_data_wrappers_are_read(cli):
    proc, doc = cli.run_json("run", HERE / "records_data_shape.py")
    assert proc.returncode == 0, doc.get("error") or doc.get("conclusion")
    assert set(doc["bound"]) == {"forward", "grad_input"}


@pytest.mark.parametrize("path", [HERE / "returns_opaque_object.py", JS / "returns_record.js"])
def test_an_unreadable_result_object_is_exit_2_not_a_fail(cli, path):
    proc, doc = cli.run_json("run", path, "--stride", "2", "--pad", "1")
    assert proc.returncode == 2 and doc["error"]["kind"] == "bind"
    msg = doc["error"]["message"]
    assert "cannot read" in msg and "Your code has another shape?" in msg


@pytest.mark.parametrize("flags", [("--pad", "same"), ("--pad", "same", "--stride", "1")])
def test_same_padding_never_accuses_code_that_takes_one_pad(cli, flags):
    """'same' at the default 3x2 filter is a pad per axis or side; code taking one int cannot be
    handed that, so the check moves to sizes whose 'same' pad is one number, and says so."""
    proc, doc = cli.run_json("run", HERE / "cs231n_one_int_pad.py", *flags)
    assert proc.returncode == 0 and doc["verdict"] == "pass", doc.get("conclusion")
    assert any("'same' padding at input" in n and "takes one pad" in n for n in doc["notes"]), doc["notes"]


ONE_KERNEL_SIZE = '''
import numpy as np

class Conv:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.weight = np.zeros((out_channels, in_channels, kernel_size, kernel_size))
        self.bias = np.zeros(out_channels)
        self.stride, self.padding = stride, padding

    def forward(self, x):
        self.x = x
        s, p, k = self.stride, self.padding, self.weight.shape[2]
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        oh, ow = (xp.shape[2] - k) // s + 1, (xp.shape[3] - k) // s + 1
        win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, ::s][:, :, :oh, :ow]
        return np.einsum("nchwij,fcij->nfhw", win, self.weight) + self.bias[None, :, None, None]

    def backward(self, dout):
        s, p, k = self.stride, self.padding, self.weight.shape[2]
        xp = np.pad(self.x, ((0, 0), (0, 0), (p, p), (p, p)))
        dxp = np.zeros_like(xp)
        self.dW = np.zeros_like(self.weight)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                patch = xp[:, :, i * s:i * s + k, j * s:j * s + k]
                self.dW += np.einsum("nf,ncij->fcij", dout[:, :, i, j], patch)
                dxp[:, :, i * s:i * s + k, j * s:j * s + k] += np.einsum("nf,fcij->ncij", dout[:, :, i, j], self.weight)
        self.db = dout.sum(axis=(0, 2, 3))
        return dxp[:, :, p:p + self.x.shape[2], p:p + self.x.shape[3]]
'''


def test_a_layer_built_from_one_int_kernel_size_is_checked_with_a_square_filter(cli, tmp_path):
    """A tuple kernel_size it cannot take is its interface, not a slip: square filter, also in the sweep."""
    path = tmp_path / "one_kernel_size.py"
    path.write_text(ONE_KERNEL_SIZE)
    proc, doc = cli.run_json("run", path, "--sweep")
    assert proc.returncode == 0, (doc.get("conclusion"), doc.get("notes"))
    assert any("takes one kernel size" in n for n in doc["notes"])
    k = doc["config"]["filter_shape"][2:]
    assert k[0] == k[1] and doc["config"]["input_shape"][2] != doc["config"]["input_shape"][3]
    assert doc["sweep"]["failed"] == 0


def test_a_layer_right_only_on_square_inputs_is_not_told_it_will_descend(cli, tmp_path):
    path = tmp_path / "square_only.py"
    path.write_text("import numpy as np\n\n"
                    "def correlate(x, w, stride, pad):\n"
                    "    x = np.pad(np.asarray(x, float), pad)\n"
                    "    n, k = len(x), len(w)                      # one size for both axes\n"
                    "    o = (n - k) // stride + 1\n"
                    "    return np.array([[np.sum(x[i*stride:i*stride+k, j*stride:j*stride+k] * w)\n"
                    "                      for j in range(o)] for i in range(o)])\n")
    proc, doc = cli.run_json("run", path)
    assert proc.returncode == 1
    assert "right on square inputs" in doc["conclusion"] and "will descend" not in doc["conclusion"]


DILATED = '''
import numpy as np

def atrous(x, w, stride, pad, dilation):
    x = np.pad(np.asarray(x, float), pad)
    kh, kw = w.shape
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    oh, ow = (x.shape[0] - span_h) // stride + 1, (x.shape[1] - span_w) // stride + 1
    return np.array([[np.sum(x[i*stride:i*stride+span_h:dilation, j*stride:j*stride+span_w:dilation] * w)
                      for j in range(ow)] for i in range(oh)])

def atrous_grad_filter(dout, x, stride, pad, dilation, filter_size):
    x = np.pad(np.asarray(x, float), pad)
    dout = np.asarray(dout, float)
    kh, kw = filter_size
    return np.array([[np.sum(dout * x[a*TAP:a*TAP + stride*(dout.shape[0]-1) + 1:stride,
                                       b*TAP:b*TAP + stride*(dout.shape[1]-1) + 1:stride])
                      for b in range(kw)] for a in range(kh)])
'''


@pytest.mark.parametrize("tap,verdict", [("dilation", 0), ("1", 1)])
def test_code_that_takes_a_dilation_is_checked_at_dilation_2(cli, tmp_path, tap, verdict):
    """Like the stride: at dilation 1 a filter gradient that ignores the dilation cannot show."""
    path = tmp_path / "atrous.py"
    path.write_text(DILATED.replace("TAP", tap))
    proc, doc = cli.run_json("run", path)
    assert proc.returncode == verdict, doc.get("conclusion")
    assert doc["config"]["dilation"] == [2, 2]
    assert any("checked at dilation 2" in n for n in doc["notes"])
    assert cli.run_json("run", path, "--dilation", "1")[0].returncode == 0      # what was asked, exactly


def test_a_gradient_accumulated_across_calls_is_said_so_not_called_a_scale_factor(cli, tmp_path):
    path = tmp_path / "accumulates.py"
    src = ONE_KERNEL_SIZE.replace("self.dW = np.zeros_like(self.weight)",
                                  "self.dW = getattr(self, 'dW', np.zeros_like(self.weight))")
    assert src != ONE_KERNEL_SIZE
    path.write_text(src)
    proc, doc = cli.run_json("run", path)
    assert proc.returncode == 1
    said = [d["explanation"] for d in doc["diagnoses"] if d["target"] == "grad_filter"]
    assert said and "keeps state between calls" in said[0] and "scale factor" not in said[0]
    assert "right on square inputs" not in doc["conclusion"]
    assert not [e for e in doc.get("explanations", []) if e.get("target") == "grad_filter"]


HOLBERTON_STRINGS = '''
import numpy as np

def conv_forward(A_prev, W, b, activation, padding="same", stride=(1, 1)):
    m, h, w, c = A_prev.shape
    kh, kw, _, nc = W.shape
    sh, sw = stride
    ph, pw = (((h - 1) * sh + kh - h) // 2, ((w - 1) * sw + kw - w) // 2) if padding == "same" else (0, 0)
    A = np.pad(A_prev, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    Z = np.zeros((m, oh, ow, nc))
    for i in range(oh):
        for j in range(ow):
            Z[:, i, j, :] = np.tensordot(A[:, i*sh:i*sh+kh, j*sw:j*sw+kw, :], W, axes=3)
    return activation(Z + b)

def conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1)):
    m, h, w, c = A_prev.shape
    kh, kw, _, nc = W.shape
    sh, sw = stride
    ph, pw = (((h - 1) * sh + kh - h) // 2, ((w - 1) * sw + kw - w) // 2) if padding == "same" else (0, 0)
    A = np.pad(A_prev, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    dA, dW = np.zeros_like(A), np.zeros_like(W)
    for i in range(dZ.shape[1]):
        for j in range(dZ.shape[2]):
            dW += np.tensordot(A[:, i*sh:i*sh+kh, j*sw:j*sw+kw, :], dZ[:, i, j, :], axes=([0], [0]))
            dA[:, i*sh:i*sh+kh, j*sw:j*sw+kw, :] += np.tensordot(dZ[:, i, j, :], W, axes=([1], [3]))
    return dA[:, ph:ph + h, pw:pw + w, :], dW, dZ.sum(axis=(0, 1, 2), keepdims=True)
'''


def test_holberton_padding_is_a_mode_by_default_and_in_the_sweep(cli, tmp_path):
    """Holberton's CNN layers take 'same' or 'valid' only: a tuple reads as valid in correct code."""
    path = tmp_path / "holberton_cnn.py"
    path.write_text(HOLBERTON_STRINGS)
    proc, doc = cli.run_json("run", path, "--convention", "holberton", "--sweep")
    assert proc.returncode == 0, (doc.get("conclusion"), doc.get("sweep"))
    assert doc["config"]["convention"] == "holberton" and doc["sweep"]["failed"] == 0
    assert any("'same' and 'valid'" in n for n in doc["notes"])
    pads = {str(row["config"]["pad"]) for row in doc["sweep"]["rows"]} if "rows" in doc["sweep"] else set()
    assert len(pads) != 1


def test_holberton_same_with_plus_one_is_recognised_not_accused(cli, tmp_path):
    path = tmp_path / "holberton_plus_one.py"
    src = HOLBERTON_STRINGS.replace("((h - 1) * sh + kh - h) // 2, ((w - 1) * sw + kw - w) // 2)",
                                    "((h - 1) * sh + kh - h) // 2 + 1, ((w - 1) * sw + kw - w) // 2 + 1)")
    assert src.count("// 2 + 1") == 4
    path.write_text(src)
    proc, doc = cli.run_json("run", path, "--convention", "holberton", "--sweep")
    assert proc.returncode == 0, (doc.get("conclusion"), doc.get("sweep"))
    assert any("one more than the other Holberton formula" in n for n in doc["notes"])


def test_a_layer_keeping_its_weights_in_a_params_dict_is_bound(cli, tmp_path):
    """tinynn style: self.params['w'] / self.params['b'] set, self.grads['w'] / ['b'] read."""
    src = (ONE_KERNEL_SIZE.replace("self.weight = np.zeros", "self.params = {}\n        self.params['w'] = np.zeros")
           .replace("self.bias = np.zeros(out_channels)", "self.params['b'] = np.zeros(out_channels)")
           .replace("self.weight", "self.params['w']").replace("self.bias", "self.params['b']")
           .replace("self.dW = np.zeros_like(self.params['w'])", "self.grads = {'w': np.zeros_like(self.params['w'])}")
           .replace("self.dW +=", "self.grads['w'] +=").replace("self.db =", "self.grads['b'] ="))
    assert "self.weight" not in src and "self.dW" not in src
    path = tmp_path / "params_dict.py"
    path.write_text(src)
    proc, doc = cli.run_json("run", path)
    assert proc.returncode == 0, (doc.get("error"), doc.get("conclusion"))
    assert any("params['w']" in n and "grads['w']" in n for n in doc["notes"])
    assert {c["target"] for c in doc["checks"]} >= {"grad_filter", "grad_bias"}


def test_a_wrong_forward_does_not_make_the_probe_hand_lists_to_an_array_backward(cli, tmp_path):
    """A true convolution checked as a correlation is wrong in any container; each attempt draws its
    own inputs, so a smaller error on lists is luck, and the backward (arrays only) must still run."""
    path = tmp_path / "true_convolution.py"
    path.write_text("import numpy as np\n\n"
                    "def convolve(image, kernel, stride, pad):\n"
                    "    x, k = np.pad(np.asarray(image, float), pad), np.asarray(kernel, float)[::-1, ::-1]\n"
                    "    oh, ow = (x.shape[0] - k.shape[0]) // stride + 1, (x.shape[1] - k.shape[1]) // stride + 1\n"
                    "    return np.array([[np.sum(x[i*stride:i*stride+k.shape[0], j*stride:j*stride+k.shape[1]] * k)\n"
                    "                      for j in range(ow)] for i in range(oh)])\n\n"
                    "def convolve_grad_filter(dout, image, stride, pad, filter_size):\n"
                    "    x, (kh, kw) = np.pad(np.asarray(image, float), pad), filter_size\n"
                    "    oh, ow = dout.shape                       # arrays only\n"
                    "    g = np.array([[np.sum(dout * x[a:a + stride*(oh-1) + 1:stride, b:b + stride*(ow-1) + 1:stride])\n"
                    "                   for b in range(kw)] for a in range(kh)])\n"
                    "    return g[::-1, ::-1]\n")
    proc, doc = cli.run_json("run", path, "--seed", "3")
    assert proc.returncode == 1
    assert "is the exact gradient of your forward" in doc["conclusion"], doc["conclusion"]
    assert cli.run_json("run", path, "--op", "convolve")[0].returncode == 0


@pytest.mark.parametrize("flags", [[], ["--filter-size", "3"]])
def test_a_layer_whose_weights_cannot_be_found_is_exit_2_not_a_fail(cli, tmp_path, flags):
    path = tmp_path / "weights_in_a_list.py"
    path.write_text("import numpy as np\n\nclass Conv2D:\n"
                    "    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):\n"
                    "        self.store = [np.zeros((out_channels, in_channels, kernel_size, kernel_size))]\n"
                    "        self.stride, self.padding = stride, padding\n\n"
                    "    def forward(self, x):\n        return x\n\n"
                    "    def backward(self, d):\n        return d\n")
    proc, doc = cli.run_json("run", path, *flags)
    assert proc.returncode == 2, doc.get("conclusion")
    assert doc["error"]["kind"] == "bind" and "made no weight attribute" in doc["error"]["message"]


def test_a_stride_slip_is_fixed_with_each_axis_stride_when_the_code_unpacks_them(cli, tmp_path):
    """sh, sw = stride: the fix multiplies i by sh and j by sw, not by the tuple."""
    path = tmp_path / "holberton_stride_slip.py"
    src = HOLBERTON_STRINGS.replace("dA[:, i*sh:i*sh+kh, j*sw:j*sw+kw, :] +=", "dA[:, i:i+kh, j:j+kw, :] +=")
    assert src != HOLBERTON_STRINGS
    path.write_text(src)
    proc, doc = cli.run_json("run", path, "--convention", "holberton", "--fix")
    assert proc.returncode == 1
    assert "grad-input-stride-ignored" in [d["bug"] for d in doc["diagnoses"]]
    assert doc["fix"]["verified"] and "i * sh" in doc["fix"]["diff"] and "j * sw" in doc["fix"]["diff"]
