"""Every catalogue_ops entry named on learner-style files in two styles, with the line located.

Each case takes a passing file, makes one learner slip in it (a textual edit, written
here), and expects the run to fail with that mistake id, located on an edited line.
The passing originals are checked too, so an entry cannot match a correct file.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from corrcheck.config import RunConfig
from corrcheck.diagnosis import catalogue_ops
from corrcheck.runner import run

FILES = Path(__file__).resolve().parent / "window_files"
DEMO = Path(__file__).resolve().parents[1] / "corrcheck" / "demo_files"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "ops"

# (id, style, file, [(old, new), ...], run options)
CASES = [
    ("groups-channels-summed", "layer", FILES / "grouped_layer_fixed.py",
     [("xp[:, c0:c0 + Cg,", "xp[:, :,"), ("patch * self.W[f]", "patch * np.concatenate([self.W[f]] * G)")], {}),
    ("groups-channels-summed", "layer making its own weights", EXAMPLES / "depthwise_layer_fixed.py",
     [("window = xp[n, c, i", "window = xp[n, :, i")], {}),
    ("groups-channels-summed", "functional depthwise", EXAMPLES / "depthwise_fixed.py",
     [("patch = xp[n, c,", "patch = xp[n, :,")], {}),
    ("group-offset-wrong", "layer", FILES / "grouped_layer_fixed.py", [("c0 = g * Cg", "c0 = g * Fg")], {}),
    ("group-offset-wrong", "functional loops", FILES / "grouped_fixed.py", [("c = g * Cg + cc", "c = g * Fg + cc")],
     {}),
    ("group-offset-wrong", "cs231n conv_param", FILES / "cs231n_grouped_fixed.py",
     [("g * Cg:(g + 1) * Cg", "g * Fg:g * Fg + Cg")], {}),
    ("depth-multiplier-swapped", "functional numpy", EXAMPLES / "depthwise_fixed.py",
     [("f = c * M + m", "f = m * C + c"), ("w[f, 0]) + b[f]", "w[c * M + m, 0]) + b[c * M + m]")], {}),
    ("depth-multiplier-swapped", "javascript", FILES / "depthwise_fixed.js",
     [("maps[f] = plane", "maps[m * C + c] = plane")], {}),
    ("depth-multiplier-swapped", "javascript, filters numbered m*C + c", EXAMPLES / "depthwise_fixed.js",
     [("var f = c * M + m;", "var f = m * C + c;")], {}),
    ("transpose-stride-wrong-side", "functional loops", FILES / "transpose_fixed.py",
     [("r = i * stride + ki - pad", "r = i + ki * stride - pad"),
      ("c = j * stride + kj - pad", "c = j + kj * stride - pad")], {}),
    ("transpose-stride-wrong-side", "functional matmul", DEMO / "transpose_fixed.py",
     [("i * stride + ki - pad, j * stride + kj - pad", "i + ki * stride - pad, j + kj * stride - pad")], {}),
    ("transpose-stride-wrong-side", "javascript", EXAMPLES / "transpose_fixed.js",
     [("var rr = i * stride + ki - pad;", "var rr = i + ki * stride - pad;"),
      ("var cc = j * stride + kj - pad;", "var cc = j + kj * stride - pad;")], {}),
    ("transpose-padding-added", "functional loops", FILES / "transpose_fixed.py",
     [("ki - pad", "ki + pad"), ("kj - pad", "kj + pad")], {}),
    ("transpose-padding-added", "functional matmul", DEMO / "transpose_fixed.py",
     [("ki - pad, j * stride + kj - pad", "ki + pad, j * stride + kj + pad")], {}),
    ("transpose-padding-added", "never cropped, loops", FILES / "transpose_fixed.py",
     [("ki - pad", "ki"), ("kj - pad", "kj")], {}),
    ("transpose-padding-added", "never cropped, javascript", EXAMPLES / "transpose_fixed.js",
     [("var rr = i * stride + ki - pad;", "var rr = i * stride + ki;"),
      ("var cc = j * stride + kj - pad;", "var cc = j * stride + kj;")], {}),
    ("transpose-filter-not-flipped", "zero insertion, einsum", FILES / "transpose_einsum_fixed.py",
     [("w[..., ::-1, ::-1])", "w)")], {}),
    ("transpose-filter-not-flipped", "zero insertion", FILES / "transpose_upsample_fixed.py",
     [("w[:, :, K - 1 - a, K - 1 - e]", "w[:, :, a, e]")], {}),
    ("transpose-filter-not-flipped", "scatter loops", FILES / "transpose_fixed.py",
     [("w[ci, co, ki, kj]", "w[ci, co, KH - 1 - ki, KW - 1 - kj]")], {}),
    ("transpose-output-padding-missing", "functional loops", FILES / "transpose_fixed.py",
     [("KH + output_padding", "KH"), ("KW + output_padding", "KW")], {"output_padding": "1"}),
    ("transpose-output-padding-missing", "functional matmul", DEMO / "transpose_fixed.py", [],
     {"output_padding": "1"}),
    ("transpose-output-padding-missing", "cs231n conv_param", FILES / "cs231n_transpose_fixed.py",
     [("- 2 * p + KH + opad\n", "- 2 * p + KH\n"), ("- 2 * p + KW + opad\n", "- 2 * p + KW\n")],
     {"output_padding": "1"}),
    ("pool-gradient-wrong-cell", "cs231n", FILES / "cs231n_maxpool_fixed.py",
     [("i * stride + r, j * stride + s]", "i + r, j + s]")], {}),
    ("pool-gradient-wrong-cell", "javascript", EXAMPLES / "maxpool_fixed.js",
     [("bi = i * s + a; bj = j * s + b;", "bi = i + a; bj = j + b;")], {}),
    ("grad-input-overwrite-not-accumulate", "cs231n max pool", FILES / "cs231n_maxpool_fixed.py",
     [("j * stride + s] += dout", "j * stride + s] = dout")], {"filter_size": "3x3", "stride": "2"}),
    ("grad-input-overwrite-not-accumulate", "javascript max pool", EXAMPLES / "maxpool_fixed.js",
     [("dx[n][c][bi][bj] += dout", "dx[n][c][bi][bj] = dout")], {"filter_size": "3x3", "stride": "2"}),
    ("grad-input-overwrite-not-accumulate", "functional average pool", EXAMPLES / "avgpool_fixed.py",
     [("dx[:, :, r0:r1, c0:c1] += dout", "dx[:, :, r0:r1, c0:c1] = dout")], {"filter_size": "3x3", "stride": "2"}),
    ("avgpool-wrong-divisor", "functional", EXAMPLES / "avgpool_fixed.py",
     [("count = (r1 - r0) * (c1 - c0)", "count = kh * kw")], {}),
    ("avgpool-wrong-divisor", "layer", FILES / "avgpool_layer_fixed.py",
     [("cells = (r1 - r0) * (c1 - c0)", "cells = self.k * self.k")], {}),
    ("avgpool-wrong-divisor", "javascript", EXAMPLES / "avgpool_fixed.js",
     [("var count = (r1 - r0) * (c1 - c0);", "var count = k * k;")], {}),
    ("avgpool-wrong-divisor", "inline divisor", FILES / "avgpool_inline_fixed.py",
     [("/ ((bottom - top) * (right - left))", "/ (k * k)")], {}),
    ("pool-stride-as-window", "cs231n", FILES / "cs231n_maxpool_fixed.py",
     [("ph, pw = pool_param['pool_height'], pool_param['pool_width']",
       "ph, pw = pool_param['stride'], pool_param['stride']")], {}),
    ("pool-stride-as-window", "javascript", EXAMPLES / "maxpool_fixed.js",
     [("x[n][c][i * s + a][j * s + b]);", "x[n][c][i * k + a][j * k + b]);"),
      ("Math.floor((H - k) / s) + 1, Wo = Math.floor((W - k) / s) + 1", "Math.floor(H / k), Wo = Math.floor(W / k)")],
     {}),
    ("ceil-mode-window-outside", "functional", EXAMPLES / "avgpool_fixed.py", [],
     {"ceil_mode": True, "input_size": "8x7"}),
    ("ceil-mode-window-outside", "cs231n", FILES / "cs231n_maxpool_fixed.py", [],
     {"ceil_mode": True, "input_size": "8x7"}),
    ("ceil-mode-window-outside", "functional, zero padding", DEMO / "maxpool_fixed.py",
     [("(pad, pad)), constant_values=-np.inf)\n    Ho", "(pad, pad)))\n    Ho")], {}),
]


def _mutated(path: Path, edits, tmp_path) -> Path:
    text = path.read_text()
    for old, new in edits:
        assert old in text, f"{old!r} not in {path.name}"
        text = text.replace(old, new)
    out = tmp_path / path.name
    out.write_text(text)
    return out


@pytest.mark.parametrize("bug,style,path,edits,options", CASES, ids=[f"{c[0]}[{c[1]}]" for c in CASES])
def test_mistake_is_named_and_located(bug, style, path, edits, options, tmp_path):
    original = run(RunConfig(files=(str(path),)))
    assert original.verdict == "pass", [c.to_dict() for c in original.checks if c.status != "pass"]
    target = _mutated(path, edits, tmp_path)
    res = run(RunConfig(files=(str(target),), **options))
    assert res.verdict == "fail"
    named = [d for d in res.diagnoses if d.bug == bug]
    assert named, [d.to_dict() for d in res.diagnoses]
    loc = named[0].location
    assert loc is not None and loc.line >= 1
    if edits:
        edited = {line.strip() for _, new in edits for line in new.splitlines() if line.strip()}
        # summing over every channel leaves no single wrong line in the depthwise loop: the channel loop is shown
        assert any(e in loc.code or loc.code in e for e in edited) or style == "functional depthwise", loc


def test_every_entry_has_two_styles():
    styles = {}
    for bug, style, *_ in CASES:
        styles.setdefault(bug, set()).add(style)
    assert set(styles) == set(catalogue_ops.ids())
    assert all(len(s) >= 2 for s in styles.values()), styles


# entries whose slip is a token edit of one line (or of its copies on the other axis / in the backward):
# --fix must find it and prove it on two shapes
FIXED_BY_EDIT = {("group-offset-wrong", "layer"), ("group-offset-wrong", "functional loops"),
                 ("depth-multiplier-swapped", "functional numpy"), ("depth-multiplier-swapped", "javascript"),
                 ("transpose-stride-wrong-side", "functional loops"), ("transpose-stride-wrong-side", "functional matmul"),
                 ("transpose-padding-added", "functional loops"), ("transpose-padding-added", "functional matmul"),
                 ("transpose-padding-added", "never cropped, loops"),
                 ("transpose-padding-added", "never cropped, javascript"),
                 ("transpose-filter-not-flipped", "zero insertion"), ("transpose-filter-not-flipped", "scatter loops"),
                 ("transpose-filter-not-flipped", "zero insertion, einsum"),
                 ("transpose-output-padding-missing", "functional loops"),
                 ("transpose-output-padding-missing", "cs231n conv_param"),
                 ("pool-gradient-wrong-cell", "cs231n"), ("pool-gradient-wrong-cell", "javascript"),
                 # rewrites keyed by id (locate/window_fix.RULES), not token swaps
                 ("groups-channels-summed", "layer making its own weights"),
                 ("groups-channels-summed", "functional depthwise"), ("group-offset-wrong", "cs231n conv_param"),
                 ("depth-multiplier-swapped", "javascript, filters numbered m*C + c"),
                 ("transpose-stride-wrong-side", "javascript"),
                 ("avgpool-wrong-divisor", "functional"), ("avgpool-wrong-divisor", "layer"),
                 ("avgpool-wrong-divisor", "javascript"), ("avgpool-wrong-divisor", "inline divisor"),
                 ("pool-stride-as-window", "cs231n"),
                 ("pool-stride-as-window", "javascript"),
                 ("grad-input-overwrite-not-accumulate", "cs231n max pool"),
                 ("grad-input-overwrite-not-accumulate", "javascript max pool"),
                 ("grad-input-overwrite-not-accumulate", "functional average pool"),
                 ("ceil-mode-window-outside", "cs231n"), ("ceil-mode-window-outside", "functional"),
                 ("ceil-mode-window-outside", "functional, zero padding")}
FIX_CASES = [c for c in CASES if (c[0], c[1]) in FIXED_BY_EDIT]


@pytest.mark.parametrize("bug,style,path,edits,options", FIX_CASES, ids=[f"{c[0]}[{c[1]}]" for c in FIX_CASES])
def test_fix_is_found_and_verified(bug, style, path, edits, options, tmp_path):
    target = _mutated(path, edits, tmp_path)
    before = target.read_text()
    res = run(RunConfig(files=(str(target),), fix=True, **options))
    assert res.fix.verified, res.fix
    assert res.fix.diff.startswith("---") and "\n+" in res.fix.diff
    assert target.read_text() == before


def test_every_entry_has_a_verified_fix_in_two_styles():
    styles = {}
    for bug, style in FIXED_BY_EDIT:
        styles.setdefault(bug, set()).add(style)
    assert set(styles) == set(catalogue_ops.ids())
    assert all(len(s) >= 2 for s in styles.values()), styles


NOT_BY_EDIT = [c for c in CASES if (c[0], c[1]) not in FIXED_BY_EDIT]


@pytest.mark.parametrize("bug,style,path,edits,options", NOT_BY_EDIT, ids=[f"{c[0]}[{c[1]}]" for c in NOT_BY_EDIT])
def test_a_fix_that_is_no_line_edit_is_said_so(bug, style, path, edits, options, tmp_path):
    """Where the slip spans several lines (a size formula and its indices, a missing parameter),
    no candidate is claimed verified, and the message says what the edit is."""
    target = _mutated(path, edits, tmp_path)
    res = run(RunConfig(files=(str(target),), fix=True, **options))
    assert not res.fix.verified and res.fix.diff == ""
    assert "not a one-line edit here" in res.fix.message



def test_a_backward_alone_that_never_crops_is_named_located_and_fixed(tmp_path):
    """The forward crops the padding, its backward forgets to: the mirrored entry names the backward."""
    source = (FILES / "transpose_fixed.py").read_text()
    head, back = source.split("def conv_transpose_backward")
    path = tmp_path / "transpose_backward_uncropped.py"
    path.write_text(head + "def conv_transpose_backward" + back.replace("ki - pad", "ki").replace("kj - pad", "kj"))
    res = run(RunConfig(files=(str(path),), fix=True))
    named = {d.target: d for d in res.diagnoses if d.bug == "transpose-padding-added"}
    assert {"grad_input", "grad_filter"} <= set(named) and "forward" not in named
    assert named["grad_input"].location.code.strip() == "r = i * stride + ki"
    assert res.fix.verified and "+                                r = i * stride + ki - pad" in res.fix.diff
    assert "conv_transpose_forward computes the right values" in res.conclusion
