"""No false accusation (issue 14): correct implementations, run zero-config through the real CLI, pass.

A sample of the generated corpus (tests/correct_impls.py) runs here: every family (loop orders,
slicing, einsum, im2col/col2im, sliding_window_view, lists, objects; functional, cs231n, holberton,
layer; hw, 1-D, NCHW, NHWC, flat; Python and JavaScript), at the default check (stride 2, pad 1,
non-square sizes) and at stride 3 / pad 2. The full corpus over the sweep grid is
benchmarks/bench_no_false_accusation.py.
"""
from __future__ import annotations

import pytest

from clihelp import run_json
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
def test_correct_code_passes_zero_config(name, source, tmp_path):
    path = tmp_path / name
    path.write_text(source)
    flags = [[]] + ([["--stride", "3", "--pad", "2"]] if sum(map(ord, name)) % 2 == 0 else [])
    for extra in flags:
        proc, doc = run_json("run", path, *extra)
        bad = [(c["target"], c["against"], c.get("message") or c.get("mismatches"))
               for c in doc.get("checks", []) if c["status"] != "pass"]
        assert proc.returncode == 0, (extra, doc.get("error") or bad, doc.get("conclusion"))
