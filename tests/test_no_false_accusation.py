"""No false accusation (issue 14): correct implementations, run zero-config through the real CLI, pass.

A sample of the generated corpus (tests/correct_impls.py) runs here: every family (loop orders,
slicing, einsum, im2col/col2im, sliding_window_view, lists, objects; functional, cs231n, holberton,
layer; hw, 1-D, NCHW, NHWC, flat; Python and JavaScript), at the default check (stride 2, pad 1,
non-square sizes) and at stride 3 / pad 2. The full corpus over the sweep grid is
benchmarks/bench_no_false_accusation.py.
"""
from __future__ import annotations

import pytest

from correct_impls import generate, sample

SAMPLE = sample(26)


def test_the_corpus_is_large_and_varied():
    names = [n for n, _ in generate()]
    assert len(names) >= 200 and len(set(names)) == len(names)
    families = {n.rsplit("_", 1)[0] for n in names}
    assert {"py_hw", "py_lists", "py_cs231n", "py_holberton", "py_layer", "py_tf", "py_flat", "js_hw",
            "js_flat", "js_layer"} <= families
    assert {n for n, _ in SAMPLE} and {n.rsplit("_", 1)[0] for n, _ in SAMPLE} == families


@pytest.mark.parametrize("name,source", SAMPLE, ids=[n for n, _ in SAMPLE])
def test_correct_code_passes_zero_config(cli, name, source, tmp_path):
    path = tmp_path / name
    path.write_text(source)
    flags = [[]] + ([["--stride", "3", "--pad", "2"]] if sum(map(ord, name)) % 2 == 0 else [])
    for extra in flags:
        proc, doc = cli.run_json("run", path, *extra)
        bad = [(c["target"], c["against"], c.get("message") or c.get("mismatches"))
               for c in doc.get("checks", []) if c["status"] != "pass"]
        assert proc.returncode == 0, (extra, doc.get("error") or bad, doc.get("conclusion"))


# Gradients that take the size of what they return as two ints (H, W / KH, KW), on nested arrays:
# the extents size the result, they do not make the arrays flat (a fresh user's report).
SIZED_BY_EXTENTS = {
    "sized_grads.py": '''
import numpy as np

def conv(x, k, s, p):
    xp = np.pad(np.asarray(x, float), p)
    kh, kw = np.shape(k)
    oh, ow = (xp.shape[0] - kh) // s + 1, (xp.shape[1] - kw) // s + 1
    return [[float(np.sum(xp[r*s:r*s+kh, c*s:c*s+kw] * k)) for c in range(ow)] for r in range(oh)]

def conv_grad_kernel(dout, x, s, p, kh, kw):
    xp = np.pad(np.asarray(x, float), p)
    d = np.asarray(dout, float)
    return [[float(np.sum(d * xp[a:a + s*(d.shape[0]-1) + 1:s, b:b + s*(d.shape[1]-1) + 1:s]))
             for b in range(kw)] for a in range(kh)]

def conv_grad_input(dout, k, s, p, height, width):
    k, d = np.asarray(k, float), np.asarray(dout, float)
    g = np.zeros((height + 2*p, width + 2*p))
    for r in range(d.shape[0]):
        for c in range(d.shape[1]):
            g[r*s:r*s + k.shape[0], c*s:c*s + k.shape[1]] += d[r, c] * k
    return g[p:p + height, p:p + width].tolist()
''',
    "sized_grads.js": '''
function conv(x, k, s, p) {
  const H = x.length, W = x[0].length, KH = k.length, KW = k[0].length;
  const OH = Math.floor((H + 2*p - KH) / s) + 1, OW = Math.floor((W + 2*p - KW) / s) + 1;
  const at = (r, c) => (r >= 0 && r < H && c >= 0 && c < W) ? x[r][c] : 0;
  return Array.from({length: OH}, (_, r) => Array.from({length: OW}, (_, c) => {
    let t = 0;
    for (let a = 0; a < KH; a++) for (let b = 0; b < KW; b++) t += at(r*s + a - p, c*s + b - p) * k[a][b];
    return t; }));
}
function convGradKernel(dout, x, s, p, KH, KW) {
  const H = x.length, W = x[0].length;
  const g = Array.from({length: KH}, () => new Array(KW).fill(0));
  dout.forEach((row, r) => row.forEach((v, c) => {
    for (let a = 0; a < KH; a++) for (let b = 0; b < KW; b++) {
      const y = r*s + a - p, z = c*s + b - p;
      if (y >= 0 && y < H && z >= 0 && z < W) g[a][b] += v * x[y][z]; } }));
  return g;
}
function convGradInput(dout, k, s, p, H, W) {
  const g = Array.from({length: H}, () => new Array(W).fill(0));
  dout.forEach((row, r) => row.forEach((v, c) => {
    for (let a = 0; a < k.length; a++) for (let b = 0; b < k[0].length; b++) {
      const y = r*s + a - p, z = c*s + b - p;
      if (y >= 0 && y < H && z >= 0 && z < W) g[y][z] += v * k[a][b]; } }));
  return g;
}
module.exports = { conv, convGradKernel, convGradInput };
''',
}


@pytest.mark.parametrize("name", sorted(SIZED_BY_EXTENTS))
def test_gradients_sized_by_extent_parameters_take_nested_arrays(cli, name, tmp_path):
    path = tmp_path / name
    path.write_text(SIZED_BY_EXTENTS[name])
    proc, doc = cli.run_json("run", path)
    assert proc.returncode == 0, (doc.get("error"), doc.get("conclusion"))
    assert {c["target"] for c in doc["checks"]} == {"forward", "grad_input", "grad_filter"}
    assert doc["config"]["layout"] == "hw"
