"""--fix on the forms the structure names: every diagnosis carries a line, every fix is verified."""
import json
from pathlib import Path

import pytest


FIXTURES = Path(__file__).parent / "fixtures"
MANIFEST = {e["files"][0]: e for e in json.loads((FIXTURES / "manifest.json").read_text())}

CASES = {   # fixture -> a line the verified diff must add
    "struct/col2im_overwrite.py": "xp[:, :, i:i_end:stride, j:j_end:stride] += cols[:, :, i, j, :, :]",
    "struct/grad_filter_swapped_reads.js": "const r = y * s + i - p;",
    "struct/crop_fixed_one.py": "dx = dxp[:, :, pad:pad + H, pad:pad + W]",
    "struct/round_size.py": "return int(((n + 2 * p - k) // (s))) + 1",
    "struct/grad_reset_in_filter_loop.js": "dx = zeros3(C, H, W);",
    "struct/swapped_extents.py": "out = np.zeros((N, F, OH, OW))",
}


@pytest.fixture(scope="module")
def tree(cli, tmp_path_factory):
    return cli.copy_tree(FIXTURES, tmp_path_factory.mktemp("forms") / "fixtures")


@pytest.mark.parametrize("name", sorted(CASES))
def test_named_located_and_fixed(cli, name, tree):
    entry = MANIFEST[name]
    proc, doc = cli.run_json("run", str(tree / name), *entry["flags"], "--fix", cwd=tree, timeout=300)
    assert doc["verdict"] == "fail"
    top = [d for d in doc["diagnoses"] if d["target"] == entry["target"]][0]
    assert top["bug"] == entry["bug"]
    assert top.get("location", {}).get("line"), top
    assert doc["fix"]["verified"] is True, doc["fix"]
    added = [l[1:].strip() for l in doc["fix"]["diff"].splitlines() if l.startswith("+") and not l.startswith("+++")]
    assert CASES[name] in added, added


@pytest.mark.parametrize("imports,added", [
    ("correlate2d, convolve2d", "dx[n, c] += convolve2d(dout[n, f], self.weights[f, c], mode=\"full\")"),
    ("correlate2d", "dx[n, c] += correlate2d(dout[n, f], self.weights[f, c][::-1, ::-1], mode=\"full\")"),
])
def test_a_library_correlation_in_a_layer_backward_is_located_and_mirrored(tmp_path, imports, added):
    """scipy's correlate2d(dout, self.weights[f, c], 'full') for dx: the plane read of the layer's own
    weight attribute is the filter (not the dweights line above it), and the fix is the call's
    mirror when it is imported, else the plane rotated."""
    from corrcheck.config import RunConfig
    from corrcheck.runner import run
    src = (FIXTURES / "struct" / "scipy_layer_unflipped.py").read_text()
    path = tmp_path / "layer.py"
    path.write_text(src.replace("correlate2d, convolve2d", imports))
    res = run(RunConfig(files=(str(path),), fix=True))
    top = [d for d in res.diagnoses if d.target == "grad_input"][0]
    assert top.bug == "grad-input-filter-not-flipped"
    assert "self.weights[f, c]" in top.location.code and "dweights" not in top.location.code
    assert res.fix.verified
    assert added in [ln[1:].strip() for ln in res.fix.diff.splitlines() if ln.startswith("+ ")]


def test_a_col2im_helper_writing_windows_with_assignment_is_located_and_fixed(tmp_path):
    """col2im's xp[:, :, y*stride:y*stride + kh, ...] = cols[...] in a helper of the backward:
    overlapping windows, so = keeps the last; the helper's line is found and += verified."""
    from corrcheck.config import RunConfig
    from corrcheck.runner import run
    src = (FIXTURES / "struct" / "im2col_window_writes.py").read_text()
    assert run(RunConfig(files=(str(FIXTURES / "struct" / "im2col_window_writes.py"),))).verdict == "pass"
    slip = ("x_ * stride + kw] += cols[:, y, x_]", "x_ * stride + kw] = cols[:, y, x_]")
    assert src.count(slip[0]) == 1
    (tmp_path / "conv.py").write_text(src.replace(*slip))
    res = run(RunConfig(files=(str(tmp_path / "conv.py"),), fix=True))
    top = [d for d in res.diagnoses if d.target == "grad_input"][0]
    assert top.bug == "grad-input-overwrite-not-accumulate" and top.location.line == 26
    assert res.fix.verified and "+= cols[:, y, x_]" in res.fix.diff


def test_an_add_through_an_index_array_is_located_explained_and_fixed_with_add_at(tmp_path):
    """dxp[:, :, idx] += dframes with idx = arange(T)[:, None] * s + arange(K): += of fancy indexing
    adds each repeated index once; the line is found, the sentence says why, np.add.at is verified."""
    from corrcheck.config import RunConfig
    from corrcheck.runner import run
    path = FIXTURES / "struct" / "conv1d_index_array_layer.py"
    assert run(RunConfig(files=(str(path),))).verdict == "pass"
    src = path.read_text()
    assert "np.add.at(dxp, (slice(None), slice(None), idx), dframes)" in src
    (tmp_path / "layer.py").write_text(src.replace("np.add.at(dxp, (slice(None), slice(None), idx), dframes)",
                                                   "dxp[:, :, idx] += dframes"))
    res = run(RunConfig(files=(str(tmp_path / "layer.py"),), fix=True))
    top = [d for d in res.diagnoses if d.target == "grad_input"][0]
    assert top.bug == "grad-input-overwrite-not-accumulate" and "+=" in top.location.code
    assert "np.add.at" in top.explanation
    assert res.fix.verified and "+        np.add.at(dxp, (slice(None), slice(None), idx), dframes)" in res.fix.diff


def test_flat_javascript_with_extents_is_located_and_fixed(tmp_path):
    """conv2d(input, H, W, kernel, KH, KW, stride, pad) on flat Float32Arrays: W beside H is a width,
    not the weights, so the position lines are found and the sign of the padding is fixed on both."""
    from corrcheck.config import RunConfig
    from corrcheck.runner import run
    path = FIXTURES / "struct" / "flat_f32_extents.js"
    assert run(RunConfig(files=(str(path),))).verdict == "pass"
    src = path.read_text()
    # the forward's two position lines (the first of each; the backward has its own, left right)
    (tmp_path / "conv.js").write_text(src.replace("ky - pad;", "ky + pad;", 1).replace("kx - pad;", "kx + pad;", 1))
    res = run(RunConfig(files=(str(tmp_path / "conv.js"),), fix=True))
    top = [d for d in res.diagnoses if d.target == "forward"][0]
    assert top.bug == "padding-wrong-sign" and "+ pad" in top.location.code
    assert res.fix.verified and res.fix.diff.count("- pad;") == 2
