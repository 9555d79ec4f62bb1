"""Grouped, transposed and pooling layers end to end: learner-style files, zero config, named mistakes.

Each buggy file differs from its fixed twin by one learner mistake; the run must
fail, name that mistake and point at the changed line, and the twin must pass.
Three conventions (functional, cs231n, layer), Python and JavaScript.
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from corrcheck.config import RunConfig
from corrcheck.runner import run
from corrcheck.vocab import Status

ROOT = Path(__file__).resolve().parents[1]
FILES = Path(__file__).resolve().parent / "window_files"   # learner files written for these tests
EXAMPLES = ROOT / "examples" / "ops"                          # the examples users read, tested as they are


def window_file(name: str) -> Path:
    """A test's own file, or the example of that name (one copy of each learner file)."""
    return FILES / name if (FILES / name).exists() else EXAMPLES / name
SCHEMA = json.loads((ROOT / "corrcheck" / "report.schema.json").read_text())

# fixed twin, buggy file, op, convention, mistake id, text on the located line
PAIRS = [
    ("cs231n_maxpool_fixed.py", "cs231n_maxpool_buggy.py", "maxpool", "cs231n", "pool-gradient-wrong-cell",
     "i + r"),
    ("maxpool_fixed.js", "maxpool_buggy.js", "maxpool", "functional", "pool-gradient-wrong-cell", "bi = i + a"),
    ("avgpool_fixed.py", "avgpool_buggy.py", "avgpool", "functional", "avgpool-wrong-divisor", "count = kh * kw"),
    ("transpose_fixed.py", "transpose_buggy.py", "transpose", "functional", "transpose-padding-added",
     "ki + pad"),
    ("depthwise_fixed.py", "depthwise_buggy.py", "correlate", "functional", "depth-multiplier-swapped",
     "f = m * C + c"),
    ("grouped_layer_fixed.py", "grouped_layer_buggy.py", "correlate", "layer", "group-offset-wrong", "c0 = g * Fg"),
]


def _run(name, **options):
    return run(RunConfig(files=(str(window_file(name)),), **options))


@pytest.mark.parametrize("fixed,buggy,op,convention,bug,code", PAIRS, ids=[p[1] for p in PAIRS])
def test_buggy_file_names_its_mistake_and_fixed_twin_passes(fixed, buggy, op, convention, bug, code):
    good = _run(fixed)
    assert good.verdict == "pass", [c.to_dict() for c in good.checks]
    assert good.config["op"] == op and good.config["convention"] == convention
    bad = _run(buggy)
    assert bad.verdict == "fail"
    named = [d for d in bad.diagnoses if d.bug == bug]
    assert named, [d.to_dict() for d in bad.diagnoses]
    assert code in named[0].location.code
    for result in (good, bad):
        jsonschema.validate(result.to_dict(), SCHEMA)


def test_gradients_checked_against_finite_differences_of_the_users_forward():
    bad = _run("cs231n_maxpool_buggy.py")
    fd = [c for c in bad.checks if c.against == "finite_differences"]
    assert fd and all(c.status == "fail" for c in fd)
    good = _run("cs231n_maxpool_fixed.py")
    assert [c.status for c in good.checks if c.against == "finite_differences"] == ["pass"]


def test_gradient_with_the_forwards_mistake_is_named_as_its_mirror():
    """The transposed backward repeats the forward's +pad: the adjoint of the same mutant names it."""
    bad = _run("transpose_buggy.py")
    assert {d.target for d in bad.diagnoses if d.bug == "transpose-padding-added"} == \
        {"forward", "grad_input", "grad_filter"}


def test_mytorch_zero_insertion_form_is_recognised_not_blamed():
    res = _run("mytorch_transpose.py")
    assert res.verdict == "pass", [c.to_dict() for c in res.checks]
    assert res.config["parameterisation"] == "mytorch"
    assert any("mytorch" in n for n in res.notes)
    torch_form = _run("transpose_fixed.py")
    assert torch_form.config["parameterisation"] == "torch"


def test_ceil_mode_ignored_is_named():
    res = _run("avgpool_fixed.py", ceil_mode=True, input_size="8x7", stride="2", pad="1")
    assert res.verdict == "fail"
    assert [d.bug for d in res.diagnoses if d.target == "forward"] == ["ceil-mode-window-outside"]


def test_groups_flag_on_a_plain_grouped_layer():
    res = _run("grouped_layer_fixed.py", groups=3)
    assert res.verdict == "pass" and res.config["groups"] == 3


def test_a_class_named_group_conv_is_grouped_not_an_up_convolution():
    """'GroupConv2D' holds 'upConv': the name is read word by word, so it is a grouped layer."""
    res = _run("group_conv_class_fixed.py")
    assert res.verdict == "pass" and res.config["op"] == "correlate" and res.config["groups"] > 1


@pytest.mark.parametrize("name,op", [("global_avgpool_fixed.py", "avgpool"),
                                     ("global_avgpool_layer_fixed.py", "avgpool"),
                                     ("global_maxpool_fixed.py", "maxpool")])
def test_a_global_pooling_is_checked_with_the_whole_input_as_its_window(name, op):
    """(N, C) or (N, C, 1, 1) back from a pooling told no window: the window is the input, not 3x3."""
    res = _run(name)
    assert res.verdict == "pass" and res.config["op"] == op
    assert res.config["filter_shape"] == res.config["input_shape"][2:]


def test_a_global_average_pooling_that_forgets_to_divide_fails_its_backward_only(tmp_path):
    src = window_file("global_avgpool_fixed.py").read_text().replace(" / (H * W)", "")
    (tmp_path / "gap.py").write_text(src)
    res = run(RunConfig(files=(str(tmp_path / "gap.py"),)))
    assert res.verdict == "fail"
    assert {c.target for c in res.checks if c.status == Status.FAIL} == {"grad_input"}


def test_a_suffixed_filter_name_one_per_channel_with_one_kernel_size_passes():
    """w_dw (C, K, K), unpacked `_, K, _`: the name is a filter's, and the form that runs is found
    among every combination (one per channel AND square), not one retry at a time."""
    res = _run("depthwise_named_w_dw.py")
    assert res.verdict == "pass" and res.config["groups"] == 3
    assert any("one per channel" in n for n in res.notes) and any("square" in n for n in res.notes)


@pytest.mark.parametrize("name,role", [("w_dw", "w"), ("x_in", "x"), ("input_tensor", "x"), ("bias_pw", "b"),
                                       ("weights_depthwise", "w"), ("w_shape", None), ("x_size", None),
                                       ("w_grad", None), ("dw", None)])
def test_array_names_with_a_qualifier_keep_their_role(name, role):
    from corrcheck.binding.window_ops import role_of
    assert role_of(name, False) == role


def test_options_the_code_takes_are_checked_where_their_mistakes_show():
    """A transposed layer taking dilation and output_padding is checked at 2 and 1 (stride 2), and
    one whose size formula leaves output_padding out is named zero-config."""
    res = _run("transpose_dilation_outpad_fixed.py")
    assert res.verdict == "pass"
    assert res.config["dilation"] == [2, 2] and res.config["output_padding"] == [1, 1]
    assert "--dilation 2" in res.command and "--output-padding 1" in res.command


def test_an_output_padding_left_out_of_the_size_is_named_zero_config(tmp_path):
    src = window_file("transpose_dilation_outpad_fixed.py").read_text().replace(" + 1 + op\n", " + 1\n")
    (tmp_path / "t.py").write_text(src)
    res = run(RunConfig(files=(str(tmp_path / "t.py"),), fix=True))
    assert [d.bug for d in res.diagnoses if d.target == "forward"] == ["transpose-output-padding-missing"]
    # the name the function reads output_padding into (s, p, op, d = stride, padding, output_padding, ...),
    # not padding, which has the same value here
    added = [ln for ln in res.fix.diff.splitlines() if ln.startswith("+ ")]
    assert res.fix.verified and added and all(ln.endswith("+ 1 + op") for ln in added)


def test_window_extents_read_from_the_stride_key_are_fixed_per_axis():
    res = _run("avgpool_cs231n_stride_keys_buggy.py", fix=True)
    assert {d.bug for d in res.diagnoses} == {"pool-stride-as-window"}
    added = [ln[1:].strip() for ln in res.fix.diff.splitlines() if ln.startswith("+ ")]
    assert res.fix.verified and "WW = pool_param['pool_width']" in added


def test_a_ceil_mode_taken_but_ignored_is_named_and_fixed_only_when_asked():
    """ceil_mode in the signature: checked in ceil mode; the fix keeps floor when ceil_mode is False."""
    res = _run("maxpool_ceil_ignored.py", fix=True)
    assert res.verdict == "fail" and res.config["ceil_mode"] is True
    assert [d.bug for d in res.diagnoses if d.target == "forward"] == ["ceil-mode-window-outside"]
    assert "No forward was bound" not in res.conclusion
    added = [ln for ln in res.fix.diff.splitlines() if ln.startswith("+ ")]
    assert res.fix.verified and added and all("if ceil_mode else" in ln for ln in added)
    floor = _run("maxpool_ceil_ignored.py", ceil_mode=False)
    assert floor.verdict == "pass" and "--no-ceil-mode" in floor.command


def test_depthwise_with_a_multiplier_of_one_passes_and_its_slip_is_named():
    """w (C, 1, KH, KW): the form whose output has the expected shape wins over merely running ones."""
    res = _run("depthwise_multiplier_one.py")
    assert res.verdict == "pass" and res.config["filter_shape"][:2] == [3, 1]
    bad = _run("depthwise_multiplier_one_summed.py")
    assert [(d.bug, d.location.line) for d in bad.diagnoses if d.target == "forward"] == \
        [("groups-channels-summed", 16)]


def test_a_ceil_window_starting_in_the_after_padding_is_caught_named_and_capped():
    """Ceil mode that keeps a last window starting past n + p: the first sizes cannot show it, so a
    size (and window) where torch drops that window is checked too; the mistake is named by shape."""
    res = _run("maxpool_ceil_keeps_padding_window.py", fix=True)
    assert res.verdict == "fail" and any("checked again" in n for n in res.notes)
    assert [(d.bug, d.location.line) for d in res.diagnoses if d.target == "forward"] == \
        [("ceil-mode-window-outside", 8)]
    added = [ln for ln in res.fix.diff.splitlines() if ln.startswith("+ ")]
    assert res.fix.verified and all("+ padding - 1) // stride + 1)" in ln for ln in added)


@pytest.mark.parametrize("name", ["depthwise_kernels_chw.js", "depthwise_named_w_dw.py", "global_avgpool_fixed.py",
                                  "maxpool_ceil_ignored.py", "transpose_dilation_outpad_fixed.py"])
def test_the_rerun_command_reproduces_the_verdict(cli, name):
    """The printed rerun line carries every choice made (layout, filter form, dilation, ceil mode)."""
    import shlex
    first = _run(name)
    args = shlex.split(first.command)[2:]
    proc, doc = cli.run_json("run", *args, timeout=300)
    assert doc["verdict"] == first.verdict, (first.command, doc.get("conclusion"))


@pytest.mark.parametrize("op", [None, "avgpool"])
def test_holberton_pooling_with_tuple_options_and_a_mode_passes(op):
    """pool_forward(A_prev, kernel_shape, stride=(1, 1), mode='max'), NHWC: a bare 'pool' name is
    pooling, stride is unpacked (sh, sw = stride) so every option goes as a tuple, mode follows --op."""
    res = _run("holberton_pool_fixed.py", **({"op": op} if op else {}))
    assert res.verdict == "pass" and res.config["layout"] == "nhwc"
    assert res.config["op"] == (op or "maxpool")
    assert any(f"mode={'avg' if op else 'max'!r}" in n for n in res.notes)


@pytest.mark.parametrize("slip,target,line,added", [
    (("dflipped.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]", "dflipped.transpose(1, 0, 2, 3)"), "grad_filter", 52,
     "dkernel = dflipped[..., ::-1, ::-1].transpose(1, 0, 2, 3)"),
    (("flipped = kernel[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)   #", "flipped = kernel.transpose(1, 0, 2, 3)   #"),
     "forward", 31,
     "flipped = kernel[..., ::-1, ::-1].transpose(1, 0, 2, 3)"),
])
def test_a_mistake_is_looked_for_where_its_result_is_made(slip, target, line, added, tmp_path):
    """One backward returning (dx, dw): dw's slip is found on the lines dw depends on (not on dx's
    loop above), a forward's on the lines its result depends on; the fix flips where it swaps."""
    fixed = _run("upconv_zero_insertion_fixed.py")
    assert fixed.verdict == "pass" and fixed.config["parameterisation"] == "torch"
    src = window_file("upconv_zero_insertion_fixed.py").read_text()
    assert src.count(slip[0]) == 1
    (tmp_path / "upconv.py").write_text(src.replace(*slip))
    res = run(RunConfig(files=(str(tmp_path / "upconv.py"),), fix=True))
    assert [(d.bug, d.location.line) for d in res.diagnoses if d.target == target] == \
        [("transpose-filter-not-flipped", line)]
    assert res.fix.verified and added in res.fix.diff


def test_lines_shared_by_two_gradients_are_found_for_both():
    """grad_input and grad_filter of one grouped backward both read the wrong group offset."""
    res = _run("grouped_offset_functional_buggy.py")
    assert {(d.target, d.location.line) for d in res.diagnoses} == \
        {("forward", 16), ("grad_input", 35), ("grad_filter", 35)}


@pytest.mark.parametrize("name,line", [("maxpool_unravel_swapped.js", 30), ("maxpool_unravel_swapped.py", 12),
                                       ("maxpool_layer_no_stride_cell.py", 32)])
def test_a_max_routed_to_the_wrong_cell_is_named_located_and_fixed(name, line):
    """The argmax's row and column swapped (JavaScript, Python), the window offset added to the output
    index in a layer that keeps self.stride: one id, the unravel/routing line, a verified edit."""
    res = _run(name, fix=True)
    assert [(d.bug, d.location.line) for d in res.diagnoses] == [("pool-gradient-wrong-cell", line)]
    assert res.fix.verified, res.fix


def test_flat_pooling_with_its_extents_is_refused_in_one_sentence_that_says_why(cli, tmp_path):
    src = ("function maxPoolForward(input, width, height, size, stride) {\n"
           "  const out = [];\n  for (let i = 0; i + size <= height; i += stride)\n"
           "    for (let j = 0; j + size <= width; j += stride) {\n      let m = -Infinity;\n"
           "      for (let a = 0; a < size; a++) for (let b = 0; b < size; b++)\n"
           "        m = Math.max(m, input[(i + a) * width + j + b]);\n      out.push(m);\n    }\n"
           "  return out;\n}\nmodule.exports = { maxPoolForward };\n")
    (tmp_path / "flat.js").write_text(src)
    proc, doc = cli.run_json("run", str(tmp_path / "flat.js"), timeout=120)
    assert proc.returncode == 2
    message = doc["error"]["message"]
    assert "'width'" in message and "flat" in message and "name the parameters like" not in message


def test_an_op_spelled_out_wins_over_the_names(cli):
    """--op correlate on a file whose names say transposed: checked as the correlation asked for (not
    rerouted by names or shapes); on a pooling layer, which takes no filter: exit 2, one sentence."""
    proc, doc = cli.run_json("run", str(window_file("transpose_dilation_outpad_fixed.py")), "--op", "correlate",
                             timeout=300)
    assert doc["config"].get("op", "correlate") == "correlate" and "transpose" not in json.dumps(doc["config"])
    proc, doc = cli.run_json("run", str(window_file("global_maxpool_fixed.py")), "--op", "correlate", timeout=120)
    assert proc.returncode == 2 and "--op maxpool" in doc["error"]["message"]


def test_a_second_layer_in_the_file_is_named_as_not_checked(tmp_path):
    """depthwise + pointwise in one file: one layer per run, and the other is said, never silently
    passed over; the backward bound is the one named after the forward."""
    pointwise = ("\n\ndef pointwise_conv(x, w):\n    return np.einsum('nchw,fc->nfhw', x, w)\n\n\n"
                 "def pointwise_conv_backward(dout, x, w):\n    return np.einsum('nfhw,fc->nchw', dout, w), "
                 "np.einsum('fhw,chw->fc', dout[0], x[0])\n")
    src = window_file("depthwise_named_w_dw.py").read_text() + pointwise
    (tmp_path / "block.py").write_text(src)
    res = run(RunConfig(files=(str(tmp_path / "block.py"),)))
    assert res.bound["grad_input"] == "depthwise_conv_backward"
    assert any(n.startswith("not checked: pointwise_conv, pointwise_conv_backward") for n in res.notes)


def test_a_window_block_assigned_instead_of_added_is_named_located_and_fixed(tmp_path):
    """A mask layer writing each window's block with =: zeros of a later window erase earlier maxima."""
    assert _run("maxpool_mask_layer_fixed.py").verdict == "pass"
    src = window_file("maxpool_mask_layer_fixed.py").read_text()
    slip = ("dx[:, :, i * s:i * s + k, j * s:j * s + k] +=", "dx[:, :, i * s:i * s + k, j * s:j * s + k] =")
    assert src.count(slip[0]) == 1
    (tmp_path / "pool.py").write_text(src.replace(*slip))
    res = run(RunConfig(files=(str(tmp_path / "pool.py"),), fix=True))
    assert [(d.bug, d.location.line) for d in res.diagnoses] == [("grad-input-overwrite-not-accumulate", 33)]
    assert res.fix.verified


def test_an_output_size_slip_no_entry_describes_is_output_size_on_its_line(tmp_path):
    """A transposed layer cropping one padding instead of two: the shape says output-size, the line is
    the one computing an output extent (not 'compare the cells', when there are no cells to compare)."""
    assert _run("transpose_col2im_fixed.py").verdict == "pass"
    src = window_file("transpose_col2im_fixed.py").read_text()
    (tmp_path / "t.py").write_text(src.replace("full_h - 2 * padding", "full_h - padding")
                                   .replace("full_w - 2 * padding", "full_w - padding"))
    res = run(RunConfig(files=(str(tmp_path / "t.py"),)))
    [d] = [d for d in res.diagnoses if d.target == "forward"]
    assert d.bug == "output-size" and d.location.code.startswith("Ho =")
    assert "(n - 1)*s - 2p" in d.explanation and "compare" not in d.explanation


def test_a_non_square_size_for_code_that_takes_one_is_refused_in_one_sentence(cli):
    proc, doc = cli.run_json("run", str(window_file("maxpool_mask_layer_fixed.py")), "--filter-size", "3x2",
                             timeout=120)
    assert proc.returncode == 2 and "--filter-size 3" in doc["error"]["message"]


def test_a_backward_that_needs_a_forward_which_raised_is_skipped_not_blamed(tmp_path):
    """A layer whose forward raises: its backward never runs, so it is skipped, and the conclusion
    blames the forward alone."""
    src = window_file("maxpool_mask_layer_fixed.py").read_text()
    (tmp_path / "pool.py").write_text(src.replace("        N, C, H, W = x.shape\n        k, s = self.pool_size",
                                                  "        N, C, H, W = x.shape[5]\n        k, s = self.pool_size", 1))
    res = run(RunConfig(files=(str(tmp_path / "pool.py"),)))
    statuses = {c.target: c.status for c in res.checks}
    assert statuses == {"forward": Status.ERROR, "grad_input": Status.SKIPPED}
    assert "backward" not in res.conclusion


def test_exit_codes_and_json_from_the_real_cli(cli, tmp_path):
    bad = cli.run_cli("run", window_file("depthwise_buggy.py"), "--json")
    assert bad.returncode == 1
    doc = json.loads(bad.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["config"]["groups"] == 3 and doc["diagnoses"][0]["bug"] == "depth-multiplier-swapped"
    assert cli.run_cli("run", window_file("depthwise_fixed.py")).returncode == 0
    wrong = cli.run_cli("run", FILES / "transpose_fixed.py", "--output-padding", "2", "--stride", "2")
    said = wrong.stdout + wrong.stderr
    assert wrong.returncode == 2 and "output padding" in said and "Traceback" not in said
    pooled_groups = cli.run_cli("run", window_file("avgpool_fixed.py"), "--op", "avgpool", "--groups", "2")
    assert pooled_groups.returncode == 2


def test_help_describes_the_new_options(cli):
    out = cli.run_cli("run", "--help", env={"COLUMNS": "200"}).stdout
    for option in ("--groups", "--output-padding", "--ceil-mode", "--count-include-pad", "transpose", "maxpool",
                   "avgpool"):
        assert option in out


def test_dense_examples_stay_on_the_dense_path():
    res = run(RunConfig(files=(str(ROOT / "examples" / "seed_fixed.py"),), stride="2", pad="1"))
    assert res.verdict == "pass" and set(res.config) == {"op", "stride", "pad", "dilation", "layout",
                                                         "convention", "input_shape", "filter_shape", "seed"}


@pytest.mark.parametrize("fixed,buggy,op,convention,bug,code", PAIRS, ids=[p[1] for p in PAIRS])
def test_fix_is_verified_and_restores_the_fixed_twin(fixed, buggy, op, convention, bug, code, tmp_path):
    res = _run(buggy, fix=True)
    assert res.fix is not None and res.fix.verified, res.fix
    # applying the diff gives a file that passes on its own (not only in corrcheck's copy)
    source = window_file(buggy).read_text()
    patched = _apply(source, res.fix.diff)
    target = tmp_path / buggy
    target.write_text(patched)
    assert run(RunConfig(files=(str(target),))).verdict == "pass"
    assert window_file(buggy).read_text() == source        # the user's file is never written


def _apply(source: str, diff: str) -> str:
    """Apply a unified diff of whole-line replacements (what the fix search produces)."""
    lines = source.splitlines(keepends=True)
    out, i = [], 0
    hunks = diff.split("\n@@")[1:]
    for h in hunks:
        head, *body = h.split("\n")
        start = int(head.split()[0].split(",")[0].lstrip("-")) - 1
        out += lines[i:start]
        i = start
        for row in body:
            if row.startswith(" "):
                out.append(lines[i]); i += 1
            elif row.startswith("-"):
                i += 1
            elif row.startswith("+"):
                out.append(row[1:] + "\n")
    return "".join(out + lines[i:])


def test_sweep_covers_strides_and_pads_the_code_takes():
    good = _run("cs231n_maxpool_fixed.py", sweep=True)
    assert good.verdict == "pass" and good.sweep.configs >= 6 and good.sweep.failed == 0
    # cs231n pooling reads no 'pad': the sweep does not blame it for ignoring one
    assert {tuple(map(tuple, r[0]["pad"])) for r in good.sweep.rows} == {((0, 0), (0, 0))}
    bad = _run("cs231n_maxpool_buggy.py", sweep=True)
    assert bad.verdict == "fail" and bad.sweep.failed >= 1
    assert bad.sweep.smallest_failing["failing"] == ["grad_input"]
    assert {r[0]["stride"][0] for r in bad.sweep.rows if r[1]} == {1}      # stride 1 hides the slip


def test_transposed_layer_found_by_shapes_when_names_say_nothing(tmp_path):
    plain = tmp_path / "layer.py"
    plain.write_text((ROOT / "corrcheck" / "demo_files" / "transpose_fixed.py").read_text()
                     .replace("def conv_transpose_forward", "def forward")
                     .replace("def conv_transpose_backward", "def backward"))
    res = run(RunConfig(files=(str(plain),)))
    assert res.verdict == "pass" and res.config["op"] == "transpose"
    assert "larger than its input" in res.notes[0]
    # a wrong correlation is not passed off as a transposed convolution
    seed = run(RunConfig(files=(str(ROOT / "examples" / "seed_buggy.py"),), stride="2", pad="1"))
    assert seed.verdict == "fail" and seed.config["op"] == "correlate"


@pytest.mark.parametrize("names,params,keys,want", [
    (["deconv_forward"], [], (), ("transpose", None)),
    (["ConvTranspose2d"], [], (), ("transpose", None)),
    (["upconv"], [], (), ("transpose", None)),
    (["maxpool_forward"], [], (), ("maxpool", None)),
    (["max_pool_backward_naive"], [], (), ("maxpool", None)),
    (["avg_pool_forward"], [], (), ("avgpool", None)),
    (["depthwise_conv"], [], (), ("correlate", 0)),
    (["conv"], ["x", "w", "groups"], (), ("correlate", 2)),
    (["conv"], ["x", "w", "depth_multiplier"], (), ("correlate", 0)),
    (["conv_forward_naive"], ["x", "w", "b", "conv_param"], ("stride", "pad", "groups"), ("correlate", 2)),
    (["layer_forward"], ["x", "pool_param"], (), ("maxpool", None)),
    (["forward"], ["x", "w", "output_padding"], (), ("transpose", None)),
    (["corre", "backprop_filter"], ["a", "f", "s", "p"], (), (None, None)),
    (["filter_transposed", "conv_forward"], ["x", "w"], (), (None, None)),
    # 'up' inside a word is not an up-convolution: GroupConv2D and group_conv are grouped
    (["GroupConv2D.forward"], ["x"], (), ("correlate", 2)),
    (["group_conv_forward"], ["x", "w", "groups"], (), ("correlate", 2)),
    (["Decoder.UpConv2d.forward"], ["x"], (), ("transpose", None)),
    (["DWConv.forward"], ["x"], (), ("correlate", 0)),
    (["backup_conv"], ["x", "w"], (), (None, None)),
])
def test_op_read_from_names(names, params, keys, want):
    from corrcheck.binding.window_ops import detect_op
    assert detect_op(names, params, keys) == want


# every buggy/fixed pair of examples/ops (Python and JavaScript) and the mistake its README names
EXAMPLE_PAIRS = [
    ("transpose", "py", "transpose", "transpose-stride-wrong-side"),
    ("transpose", "js", "transpose", "transpose-stride-wrong-side"),
    ("maxpool", "py", "maxpool", "pool-gradient-wrong-cell"),
    ("maxpool", "js", "maxpool", "pool-gradient-wrong-cell"),
    ("avgpool", "py", "avgpool", "avgpool-wrong-divisor"),
    ("avgpool", "js", "avgpool", "avgpool-wrong-divisor"),
    ("depthwise", "py", "correlate", "depth-multiplier-swapped"),
    ("depthwise", "js", "correlate", "depth-multiplier-swapped"),
    ("depthwise_layer", "py", "correlate", "groups-channels-summed"),
]


def test_every_example_pair_is_listed():
    stems = {p.name.rsplit("_", 1)[0] + p.suffix for p in EXAMPLES.glob("*_buggy.*")}
    assert stems == {f"{stem}.{ext}" for stem, ext, *_ in EXAMPLE_PAIRS}


@pytest.mark.parametrize("stem,ext,op,bug", EXAMPLE_PAIRS, ids=[f"{p[0]}.{p[1]}" for p in EXAMPLE_PAIRS])
def test_examples_zero_config_from_the_real_cli(cli, stem, ext, op, bug):
    """No option at all: the names (or the filter a layer makes) say which op it is; exit 0 / 1."""
    good = cli.run_cli("run", EXAMPLES / f"{stem}_fixed.{ext}", "--json")
    assert good.returncode == 0, good.stdout + good.stderr
    doc = json.loads(good.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["verdict"] == "pass" and doc["config"]["op"] == op
    bad = cli.run_cli("run", EXAMPLES / f"{stem}_buggy.{ext}", "--json")
    assert bad.returncode == 1
    doc = json.loads(bad.stdout)
    jsonschema.validate(doc, SCHEMA)
    named = [d for d in doc["diagnoses"] if d["bug"] == bug]
    assert named and named[0]["location"]["file"].endswith(f"{stem}_buggy.{ext}")
    assert "Traceback" not in bad.stdout + bad.stderr


def test_fix_of_a_javascript_example_from_the_cli(cli):
    proc = cli.run_cli("run", EXAMPLES / "transpose_buggy.js", "--fix", "--json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and doc["fix"]["verified"]
    assert "+                var rr = i * stride + ki - pad;" in doc["fix"]["diff"]


def test_group_count_read_from_the_filter_a_layer_makes():
    """ChannelConv2d says nothing about groups in its names; its W is (C * M, 1, K, K): depthwise."""
    res = run(RunConfig(files=(str(EXAMPLES / "depthwise_layer_fixed.py"),)))
    assert res.verdict == "pass" and res.config["convention"] == "layer"
    c = res.config["input_shape"][1]
    assert res.config["groups"] == c and res.config["filter_shape"][:2] == [2 * c, 1]
    assert any("filter ChannelConv2d makes" in n for n in res.notes)
    # the rerun command reproduces the same check on its own
    assert "--groups" in res.command and "--channels" in res.command
    # the sweep varies what the layer takes (stride, padding), not the dense defaults chosen before
    swept = run(RunConfig(files=(str(EXAMPLES / "depthwise_layer_buggy.py"),), sweep=True))
    assert swept.verdict == "fail" and swept.sweep.configs > 6
    assert {r[0]["stride"][0] for r in swept.sweep.rows} == {1, 2, 3}


@pytest.mark.parametrize("shape,channels,want", [
    ((6, 1, 3, 3), 6, 6),          # depthwise
    ((12, 1, 3), 6, 6),            # depthwise, multiplier 2, 1-D
    ((8, 3, 3, 3), 6, 2),          # two groups
    ((8, 6, 3, 3), 6, None),       # dense
    ((8, 4, 3, 3), 6, None),       # 4 does not divide 6
    ((3, 2, 3, 3), 6, 3),          # three groups of two channels, one filter each
    ((5, 3, 3, 3), 6, None),       # 5 filters do not split into 2 groups
    (None, 6, None), ((6, 1), 6, None),
])
def test_groups_from_weight_shape(shape, channels, want):
    from corrcheck.binding.window_ops import groups_from_weight
    assert groups_from_weight(shape, channels) == want


def test_code_corrcheck_cannot_understand_is_exit_2_with_one_sentence(cli, tmp_path):
    weird = tmp_path / "pool.py"
    weird.write_text("def max_pool_forward(q, zz, yy):\n    return q\n")
    proc = cli.run_cli("run", weird, "--json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 2 and doc["error"]["kind"] == "bind"
    assert doc["error"]["message"].count(". ") == 0 and "Traceback" not in proc.stderr


def test_op_flags_meet_the_names():
    """--groups on a file named as pooling is refused (exit 2), not checked as a convolution; --groups G
    on a layer named depthwise picks G channels; a helper such as at(arr, i, j) is never bound as the
    forward when a function whose parameters all have roles is there."""
    pooled = run(RunConfig(files=(str(EXAMPLES / "maxpool_fixed.py"),), groups=2))
    assert pooled.verdict == "error" and "no groups" in pooled.error.message
    depthwise = run(RunConfig(files=(str(EXAMPLES / "depthwise_fixed.py"),), groups=4))
    assert depthwise.verdict == "pass" and depthwise.config["input_shape"][1] == 4
    seed = run(RunConfig(files=(str(ROOT / "examples" / "seed_fixed.py"),), op="transpose"))
    assert seed.verdict == "fail" and seed.bound["forward"] == "corre"


def test_groups_read_from_parameter_names_zero_config_from_the_cli(cli, tmp_path):
    """Neutral function names; only a `groups` or `depth_multiplier` parameter says grouped."""
    grouped = tmp_path / "block.py"
    grouped.write_text((FILES / "grouped_fixed.py").read_text().replace("def grouped_conv_forward", "def conv_forward"))
    proc = cli.run_cli("run", grouped, "--json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 0 and doc["config"]["groups"] > 1 and doc["bound"]["forward"] == "conv_forward"
    multiplier = tmp_path / "mobile.py"
    multiplier.write_text((EXAMPLES / "depthwise_fixed.py").read_text()
                          .replace("def depthwise_conv_forward(x, w, b, stride, pad):",
                                   "def conv_forward(x, w, b, stride, pad, depth_multiplier):")
                          .replace("M = F // C", "M = depth_multiplier"))
    proc = cli.run_cli("run", multiplier, "--json")
    doc = json.loads(proc.stdout)
    c = doc["config"]["input_shape"][1]
    assert proc.returncode == 0 and doc["config"]["groups"] == c and doc["config"]["filter_shape"][0] == 2 * c
    js = tmp_path / "block.js"
    js.write_text((EXAMPLES / "depthwise_fixed.js").read_text()
                  .replace("function depthwiseConvForward(x, w, b, stride, pad)",
                           "function convForward(x, w, b, stride, pad, depth_multiplier)"))
    proc = cli.run_cli("run", js, "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["config"]["groups"] > 1


def test_what_the_code_takes_decides_bias_axes_and_binding(tmp_path):
    """No bias parameter: checked without a bias (no grad_bias target); a deconv1d runs on one axis only:
    checked on one; a layer with __call__ instead of forward is bound; none of them blamed."""
    no_bias = tmp_path / "nob.py"
    no_bias.write_text((EXAMPLES / "transpose_fixed.py").read_text()
                       .replace("def conv_transpose_forward(x, w, b, stride, pad):",
                                "def conv_transpose_forward(x, w, stride, pad):")
                       .replace("return out + b.reshape(1, -1, 1, 1)", "return out"))
    res = run(RunConfig(files=(str(no_bias),)))
    assert res.verdict == "pass" and "grad_bias" not in {c.target for c in res.checks}
    one_axis = run(RunConfig(files=(str(FILES / "deconv1d_fixed.py"),)))
    assert one_axis.verdict == "pass" and len(one_axis.config["input_shape"]) == 3
    assert any("1 spatial axis" in n for n in one_axis.notes)
    called = tmp_path / "pool.py"
    called.write_text((FILES / "avgpool_layer_fixed.py").read_text().replace("def forward(", "def __call__("))
    assert run(RunConfig(files=(str(called),))).verdict == "pass"


def test_a_group_offset_left_out_is_named(tmp_path):
    src = (FILES / "grouped_fixed.py").read_text()
    assert "c = g * Cg + cc" in src
    bad = tmp_path / "grouped.py"
    bad.write_text(src.replace("c = g * Cg + cc", "c = cc"))
    res = run(RunConfig(files=(str(bad),)))
    assert res.verdict == "fail" and [d.bug for d in res.diagnoses] == ["group-offset-wrong"]


def test_pooling_without_a_stride_parameter_steps_by_its_window():
    """torch's and Keras' default: checking such code at stride 1 would call its design a mistake."""
    zero = _run("pool_by_window.py")
    assert zero.verdict == "pass", [c.to_dict() for c in zero.checks]
    assert zero.config["op"] == "maxpool" and zero.config["stride"] == zero.config["filter_shape"]
    assert {c.target for c in zero.checks} == {"forward", "grad_input"}
    assert any("takes no stride" in n for n in zero.notes)
    one = _run("pool_by_window.py", filter_size="2")        # one number: every axis, still 2-D
    assert one.verdict == "pass" and one.config["filter_shape"] == [2, 2] and one.config["stride"] == [2, 2]
    asked = _run("pool_by_window.py", stride="2")           # stride 2 with a 3x3 window: the code cannot
    assert asked.verdict == "fail"
    assert any("no bound function takes a stride" in n for n in asked.notes)


@pytest.mark.parametrize("name,layout,op", [("pool_lists_hw.py", "hw", "maxpool"), ("deconv_chw.py", "chw", "transpose")])
def test_one_sample_or_one_channel_arrays_are_detected_and_pass(name, layout, op):
    """Window ops written for one image (C, H, W) or one channel (H, W): correct code passes zero-config."""
    res = _run(name)
    assert res.verdict == "pass", ([c.to_dict() for c in res.checks], res.notes)
    assert res.config["layout"] == layout and res.config["op"] == op
    assert len(res.config["input_shape"]) == len(layout)
    assert any(f"takes {layout.upper()} arrays" in n for n in res.notes)
    assert "grad_input" in {c.target for c in res.checks}
    given = _run(name, layout=layout)                     # the same when the layout is given
    assert given.verdict == "pass" and given.config["layout"] == layout
    swept = _run(name, sweep=True)
    assert swept.verdict == "pass" and swept.sweep.configs >= 4 and swept.sweep.failed == 0


def test_a_slip_in_a_one_sample_layer_is_still_found_and_blamed_on_the_backward(tmp_path):
    source = (FILES / "deconv_chw.py").read_text()
    buggy = source.replace("dw += np.einsum", "dw = np.einsum")     # the filter gradient overwritten
    assert buggy != source
    path = tmp_path / "deconv_chw_buggy.py"
    path.write_text(buggy)
    res = run(RunConfig(files=(str(path),)))
    assert res.verdict == "fail" and res.config["layout"] == "chw"
    failing = {c.target for c in res.checks if c.status == "fail"}
    assert failing == {"grad_filter"}
    assert "deconv computes the right values" in res.conclusion and "Fix deconv_backward" in res.conclusion


def test_a_layout_without_channels_refuses_groups():
    res = _run("pool_lists_hw.py", layout="hw", channels=3)
    assert res.verdict == "error" and "no channel axis" in res.error.message


def test_groups_on_code_without_a_channel_axis_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "plain.py"
    path.write_text("import numpy as np\n\n"
                    "def correlate(img, kernel, stride, pad):\n"
                    "    img = np.pad(np.asarray(img, float), pad)\n"
                    "    kh, kw = np.shape(kernel)\n"
                    "    oh, ow = (img.shape[0] - kh) // stride + 1, (img.shape[1] - kw) // stride + 1\n"
                    "    return np.array([[np.sum(img[i*stride:i*stride+kh, j*stride:j*stride+kw] * kernel)\n"
                    "                      for j in range(ow)] for i in range(oh)])\n")
    assert run(RunConfig(files=(str(path),))).verdict == "pass"
    res = run(RunConfig(files=(str(path),), groups=2))
    assert res.verdict == "error"
    assert res.error.message == "--groups 2 needs a channel axis, but correlate takes HW arrays (one channel)"


@pytest.mark.parametrize("name,op", [("depthwise_fixed.py", "maxpool"), ("transpose_fixed.py", "avgpool")])
def test_pooling_asked_of_a_convolution_is_refused_not_failed(name, op):
    """A forward that takes a filter is a convolution: --op maxpool cannot make it one (exit 2, not 1)."""
    res = _run(name, op=op)
    assert res.verdict == "error" and "so it is not a pooling layer" in res.error.message


@pytest.mark.parametrize("name", ["depthwise_chan_filters.py", "depthwise_chan_filters.js"])
def test_depthwise_filters_stored_one_per_channel_pass(name):
    """w (C, K, K), the natural depthwise layout without a multiplier axis: correct code passes."""
    res = _run(name)
    assert res.verdict == "pass", ([c.to_dict() for c in res.checks], res.notes)
    assert any("one per channel" in n for n in res.notes)
    assert res.config["groups"] == res.config["input_shape"][1] > 1


def test_a_slip_in_one_per_channel_depthwise_is_still_found(tmp_path):
    source = (FILES / "depthwise_chan_filters.py").read_text()
    path = tmp_path / "depthwise_chan_filters_buggy.py"
    path.write_text(source.replace("dw += np.einsum", "dw = np.einsum"))
    res = run(RunConfig(files=(str(path),)))
    assert res.verdict == "fail" and {c.target for c in res.checks if c.status == "fail"} == {"grad_filter"}


def test_a_depthwise_layer_keeping_its_weights_in_a_params_dict_passes():
    # self.params["W"] (C, 1, K, K) made for C channels: read there, so no channel multiplier is forced on it
    result = _run("depthwise_params_dict.py")
    assert result.verdict == "pass", [c.to_dict() for c in result.checks]
    assert result.config["groups"] == result.config["input_shape"][1]


def test_a_dense_mistake_in_every_group_is_named_located_and_fixed(tmp_path):
    """A grouped layer is G dense layers: the dense catalogue's ids hold per group, and the dense
    rewrites fix them (here the stride left out of the window corner, hs, ws = i, j)."""
    fixed = window_file("grouped_einsum_fixed.py").read_text()
    good = "                hs, ws = i * stride, j * stride\n"
    assert good in fixed
    path = tmp_path / "grouped.py"
    path.write_text(fixed.replace(good, "                hs, ws = i, j\n"))
    result = run(RunConfig(files=(str(path),), fix=True))
    assert result.verdict == "fail"
    named = {d.target: d for d in result.diagnoses}
    assert named["grad_input"].bug == "grad-input-stride-ignored"
    assert named["grad_filter"].bug == "grad-filter-stride-ignored"
    assert named["grad_input"].location.code.strip() == "hs, ws = i, j"
    assert result.fix.verified and "+                hs, ws = i * stride, j * stride" in result.fix.diff
    assert _run("grouped_einsum_fixed.py").verdict == "pass"


def test_a_dense_mistake_in_a_depthwise_params_dict_layer_is_fixed(tmp_path):
    text = window_file("depthwise_params_dict.py").read_text()
    good = "                win = xp[:, :, i * s:i * s + k, j * s:j * s + k]\n                g = dout"
    assert good in text
    path = tmp_path / "dw.py"
    path.write_text(text.replace(good, "                win = xp[:, :, i:i + k, j:j + k]\n                g = dout"))
    result = run(RunConfig(files=(str(path),), fix=True))
    assert [(d.target, d.bug) for d in result.diagnoses] == [("grad_filter", "grad-filter-stride-ignored")]
    assert result.fix.verified, result.fix.message


def test_a_mistake_that_another_flag_describes_is_told_that_flag():
    # torch's avg_pool2d default divides by k*k at the border too: under corrcheck's default that is
    # avgpool-wrong-divisor, and the report says the flag with which every check passes
    result = _run("avgpool_counts_padding.py")
    assert result.verdict == "fail"
    assert any(d.bug == "avgpool-wrong-divisor" for d in result.diagnoses)
    assert "every check passes with --count-include-pad" in result.conclusion
    assert _run("avgpool_counts_padding.py", count_include_pad=True).verdict == "pass"
    # a mistake no flag describes gets no such sentence
    assert "every check passes with" not in _run("cs231n_maxpool_buggy.py").conclusion


def test_a_square_window_reaches_code_that_unpacks_a_pair():
    # kh, kw = kernel_size: a square --filter-size must not arrive as one int and crash correct code
    assert _run("avgpool_fixed.py", filter_size="3x3").verdict == "pass"
    assert _run("avgpool_fixed.py", filter_size="3").verdict == "pass"
