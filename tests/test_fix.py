"""--fix: a verified edit for every catalogue mistake in the learner files, applied with `patch -p0`.

The end-to-end tests need the Python loader and run the real CLI; the rewrite
tests below them are pure text work and always run.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from corrcheck.locate.fix import search_fix, unified_diff
from corrcheck.locate.rewrites import apply_edits, candidates
from corrcheck.result import Diagnosis

from test_locate import LEARNER, _src

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
HAS_LOADER = importlib.util.find_spec("corrcheck.loader.python_source") is not None
needs_loader = pytest.mark.skipif(not HAS_LOADER, reason="the Python loader is not there yet")
needs_patch = pytest.mark.skipif(shutil.which("patch") is None, reason="no patch program")

OUTSIDE_CATALOGUE = _src('''
    def corre(a, f, s, p):
        out_y = (len(a) - len(f) + 2 * p) // s + 1
        out_x = (len(a[0]) - len(f[0]) + 2 * p) // s + 1
        out = [[0.0] * out_x for _ in range(out_y)]
        for y in range(out_y):
            for x in range(out_x):
                for j in range(len(f)):
                    for i in range(len(f[0])):
                        r, c = y * s + j - p, x * s + i - p
                        if 0 <= r < len(a) and 0 <= c < len(a[0]):
                            out[y][x] += a[r][c] * f[j][i] * a[r][c]
        return out
    ''')


def _cli(args, cwd):
    from typer.testing import CliRunner
    from corrcheck.cli import app
    import os
    old = os.getcwd()
    os.chdir(cwd)
    try:
        out = CliRunner().invoke(app, args)
    finally:
        os.chdir(old)
    return json.loads(out.stdout)


def _patch(diff: str, cwd: Path):
    subprocess.run(["patch", "-p0", "--quiet"], input=diff, text=True, cwd=cwd, check=True)


@needs_loader
@needs_patch
@pytest.mark.parametrize("case", LEARNER, ids=lambda c: c.bug)
def test_learner_file_gets_a_verified_fix_that_patch_applies(case, tmp_path):
    (tmp_path / "src").mkdir()
    rel = f"src/{case.name}"
    (tmp_path / rel).write_text(case.source)
    doc = _cli(["run", rel, *case.flags, "--fix", "--json"], tmp_path)
    assert doc["verdict"] == "fail"
    assert case.bug in [d["bug"] for d in doc["diagnoses"]]
    loc = next(d["location"] for d in doc["diagnoses"] if d["bug"] == case.bug)
    assert case.line_has in case.source.splitlines()[loc["line"] - 1]
    fix = doc["fix"]
    assert fix["verified"] is True, fix
    assert fix["diff"].startswith(f"--- {rel}\n+++ {rel}\n")
    assert (tmp_path / rel).read_text() == case.source            # never writes the user's file
    _patch(fix["diff"], tmp_path)
    assert _cli(["run", rel, *case.flags, "--json"], tmp_path)["verdict"] == "pass"


@needs_loader
@needs_patch
def test_seed_port_needs_both_edits_and_gets_them(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    doc = _cli(["run", "examples/seed_buggy.py", "--stride", "2", "--pad", "1", "--fix", "--json"], tmp_path)
    import jsonschema
    jsonschema.validate(doc, json.loads((ROOT / "corrcheck" / "report.schema.json").read_text()))
    fix = doc["fix"]
    assert fix["verified"] is True
    changed = [l for l in fix["diff"].splitlines() if l.startswith("+") and not l.startswith("+++")]
    assert changed == ["+                    total += at(a, y * s + j - p, x * s + i - p) * at(f, j, i)"]
    assert fix["candidates_tried"] <= 10
    _patch(fix["diff"], tmp_path)
    assert _cli(["run", "examples/seed_buggy.py", "--stride", "2", "--pad", "1", "--json"], tmp_path)["verdict"] \
        == "pass"


@needs_loader
def test_mistake_outside_the_catalogue_gets_an_honest_no(tmp_path):
    (tmp_path / "odd.py").write_text(OUTSIDE_CATALOGUE)
    doc = _cli(["run", "odd.py", "--stride", "2", "--pad", "1", "--fix", "--json"], tmp_path)
    assert doc["verdict"] == "fail"
    fix = doc["fix"]
    assert fix["verified"] is False
    assert fix["message"].startswith("no verified fix")
    assert fix["candidates_tried"] >= 0


def _corpus():
    entries = json.loads((FIXTURES / "manifest.json").read_text())
    return [e for e in entries if e.get("bug")]


@needs_patch
@pytest.mark.parametrize("entry", _corpus(), ids=lambda e: e["files"][0])
def test_corpus_fix_verifies_and_applies(entry, tmp_path):
    if not HAS_LOADER and entry["files"][0].endswith(".py"):
        pytest.skip("the Python loader is not there yet")
    shutil.copytree(FIXTURES / Path(entry["files"][0]).parts[0], tmp_path / Path(entry["files"][0]).parts[0])
    doc = _cli(["run", *entry["files"], *entry["flags"], "--fix", "--json"], tmp_path)
    if doc["verdict"] != "fail" or "fix" not in doc:
        pytest.skip(f"the run gave {doc['verdict']} here")
    if entry["bug"] not in [d["bug"] for d in doc["diagnoses"]]:
        pytest.skip(f"{entry['bug']} was not diagnosed in this run")
    assert doc["fix"]["verified"] is True, doc["fix"]
    _patch(doc["fix"]["diff"], tmp_path)
    assert _cli(["run", *entry["files"], *entry["flags"], "--json"], tmp_path)["verdict"] == "pass"


# ----------------------------------------------------------------------------- pure rewrite work

def _first(case, bug=None):
    d = Diagnosis(case.target, bug or case.bug, 0.9, "")
    return candidates([d], case.bound, {case.name: case.source}, case.layout)


@pytest.mark.parametrize("case", LEARNER, ids=lambda c: c.bug)
def test_the_diagnosed_rewrite_comes_first_and_touches_the_located_line(case):
    cands = _first(case)
    assert cands and cands[0].rule == case.bug
    new = apply_edits(case.source, cands[0].edits)
    old_lines, new_lines = case.source.splitlines(), new.splitlines()
    changed = [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b]
    assert any(case.line_has in old_lines[i] for i in changed) or len(old_lines) != len(new_lines)


def test_stride_moves_from_tap_to_output_index():
    case = next(c for c in LEARNER if c.bug == "stride-on-filter-index")
    new = apply_edits(case.source, _first(case)[0].edits)
    assert "r = a * stride + u - pad" in new and "c = b * stride + v - pad" in new


@pytest.mark.parametrize("name, new_line", [
    ("numpy_stride_as_slice_step.py", "patch = xp[r * stride:r * stride + k, c * stride:c * stride + w.shape[1]]"),
    ("lists_stride_as_range_step.py", "for j, r in enumerate(range(y * s, y * s + kh)):"),
])
def test_stride_moves_from_the_step_onto_the_window_start(name, new_line):
    case = next(c for c in LEARNER if c.name == name)
    assert new_line in apply_edits(case.source, _first(case)[0].edits)


def test_stride_as_step_in_3d_and_in_a_plain_1d_range():
    from test_locate import CONV3D_SLICE_STEP
    d = Diagnosis("forward", "stride-on-filter-index", 0.9, "")
    new = apply_edits(CONV3D_SLICE_STEP, candidates([d], {"forward": "conv3d"}, {"c.py": CONV3D_SLICE_STEP},
                                                    "ncdhw")[0].edits)
    assert "win = xp[:, :, a * s:a * s + kd, i * s:i * s + kh, j * s:j * s + kw]" in new
    src = _src('''
        def conv1d(x, w, s, p):
            xp = [0.0] * p + list(x) + [0.0] * p
            n_out = (len(xp) - len(w)) // s + 1
            y = []
            for o in range(n_out):
                t, total = 0, 0.0
                for q in range(o, o + s * len(w), s):
                    total += xp[q] * w[t]
                    t += 1
                y.append(total)
            return y
        ''')
    new = apply_edits(src, candidates([d], {"forward": "conv1d"}, {"c.py": src}, "w")[0].edits)
    assert "for q in range(o * s, o * s + len(w)):" in new


def test_subtracting_the_padding_also_bounds_an_upper_only_test_from_below():
    src = _src('''
        def grad_filter(dout, a, s, p, k):
            dk = [[0.0] * k for _ in range(k)]
            for y in range(len(dout)):
                for x in range(len(dout[0])):
                    for j in range(k):
                        for i in range(k):
                            r, c = y * s + j, x * s + i
                            if r < len(a) and c < len(a[0]):
                                dk[j][i] += dout[y][x] * a[r][c]
            return dk
        ''')
    d = Diagnosis("grad_filter", "grad-filter-padding-ignored", 0.9, "")
    cands = candidates([d], {"grad_filter": "grad_filter"}, {"g.py": src}, "hw")
    new = apply_edits(src, cands[0].edits)
    assert "r, c = y * s + j - p, x * s + i - p" in new
    assert "if 0 <= r < len(a) and 0 <= c < len(a[0]):" in new
    assert "if r < len(a)" in apply_edits(src, cands[1].edits)          # the padding alone comes next


def test_unpad_crop_uses_the_input_size_in_scope():
    case = next(c for c in LEARNER if c.bug == "grad-input-unpad-empty-at-pad0")
    new = apply_edits(case.source, _first(case)[0].edits)
    assert "dx = dxp[:, :, pad:pad + H, pad:pad + W]" in new


def test_unified_diff_headers_are_the_path_as_given():
    d = unified_diff("a/b.py", "x = 1\ny = 2\n", "x = 1\ny = 3\n")
    assert d.splitlines()[:2] == ["--- a/b.py", "+++ a/b.py"]
    assert "-y = 2" in d and "+y = 3" in d


def test_search_without_candidates_says_so(tmp_path):
    from corrcheck.config import RunConfig
    from corrcheck.result import RunResult
    from corrcheck.runner import run
    p = tmp_path / "f.py"
    p.write_text("def forward(x, w, s, p):\n    return x\n")
    res = RunResult(version="0", verdict="fail", files=(str(p),), config={"layout": "hw"},
                    bound={"forward": "forward"}, diagnoses=(Diagnosis("forward", None, 0.0, "no match"),))
    fix = search_fix(RunConfig(files=(str(p),)), res, rerun=run)
    assert fix.verified is False and fix.candidates_tried == 0 and fix.message


@needs_patch
def test_javascript_question_code_gets_the_two_edits(tmp_path):
    pytest.importorskip("tree_sitter_javascript")
    from test_locate import JS_MAP_STYLE
    (tmp_path / "q.js").write_text(JS_MAP_STYLE)
    flags = ["--stride", "2", "--pad", "1", "--input-size", "5", "--filter-size", "3"]
    doc = _cli(["run", "q.js", *flags, "--fix", "--json"], tmp_path)
    if doc["verdict"] == "error":
        pytest.skip(doc["error"]["message"])
    fix = doc["fix"]
    assert fix["verified"] is True, fix
    assert "f[j][i]" in fix["diff"] and "a[y * s + j - p][x * s + i - p]" in fix["diff"]
    _patch(fix["diff"], tmp_path)
    assert _cli(["run", "q.js", *flags, "--json"], tmp_path)["verdict"] == "pass"


# ----------------------------------------------------------------------------- only failing functions, honest "closest"

EINSUM_BY_OUTPUT = _src('''
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view


    def patches(x, shape, s, p):
        return sliding_window_view(np.pad(x, p), shape)[::s, ::s]


    def xcorr(x, w, s=1, p=0):
        x, w = np.asarray(x, float), np.asarray(w, float)
        return np.einsum('abuv,ab->ab', patches(x, w.shape, s, p), w)


    def xcorr_dw(g, x, w_shape, s=1, p=0):
        return np.einsum('abuv,ab->uv', patches(np.asarray(x, float), w_shape, s, p), np.asarray(g, float))


    def xcorr_dx(g, w, x_shape, s=1, p=0):
        g, w = np.asarray(g, float), np.asarray(w, float)
        kh, kw = w.shape
        out = np.zeros((x_shape[0] + 2 * p, x_shape[1] + 2 * p))
        for a in range(g.shape[0]):
            for b in range(g.shape[1]):
                out[a * s:a * s + kh, b * s:b * s + kw] += g[a, b] * w
        return out[p:p + x_shape[0], p:p + x_shape[1]]
    ''')

# The forward squares its input (outside the catalogue) and forgets the padding: subtracting it is
# tried and changes nothing that counts, so nothing is closer; the gradients are right.
BIND = ["--forward", "xcorr", "--grad-input", "xcorr_dx", "--grad-filter", "xcorr_dw"]
SQUARED_FORWARD = EINSUM_BY_OUTPUT.replace(_src('''
    def xcorr(x, w, s=1, p=0):
        x, w = np.asarray(x, float), np.asarray(w, float)
        return np.einsum('abuv,ab->ab', patches(x, w.shape, s, p), w)
    '''), _src('''
    def xcorr(x, w, s=1, p=0):
        x, w = np.asarray(x, float), np.asarray(w, float)
        kh, kw = w.shape
        out = np.zeros(((x.shape[0] + 2 * p - kh) // s + 1, (x.shape[1] + 2 * p - kw) // s + 1))
        for a in range(out.shape[0]):
            for b in range(out.shape[1]):
                for u in range(kh):
                    for v in range(kw):
                        r, c = a * s + u, b * s + v
                        if 0 <= r < x.shape[0] and 0 <= c < x.shape[1]:
                            out[a, b] += x[r, c] * w[u, v] * x[r, c]
        return out
    '''))


@needs_loader
@needs_patch
def test_einsum_filter_read_at_output_letters_gets_the_tap_letters(tmp_path):
    (tmp_path / "e.py").write_text(EINSUM_BY_OUTPUT)
    flags = ["--stride", "2", "--pad", "1", "--input-size", "9", "--filter-size", "3", *BIND]
    doc = _cli(["run", "e.py", *flags, "--fix", "--json"], tmp_path)
    assert doc["verdict"] == "fail"
    fix = doc["fix"]
    assert fix["verified"] is True, fix
    changed = [l for l in fix["diff"].splitlines() if l[:1] in "+-" and l[:3] not in ("+++", "---")]
    assert changed == ["-    return np.einsum('abuv,ab->ab', patches(x, w.shape, s, p), w)",
                       "+    return np.einsum('abuv,uv->ab', patches(x, w.shape, s, p), w)"]
    _patch(fix["diff"], tmp_path)
    assert _cli(["run", "e.py", *flags, "--json"], tmp_path)["verdict"] == "pass"


def test_einsum_rewrite_reads_roles_not_positions_and_keeps_channel_letters():
    src = _src('''
        import numpy as np
        from numpy.lib.stride_tricks import sliding_window_view


        def conv(x, w, s, p):
            win = sliding_window_view(np.pad(x, ((0, 0), (p, p), (p, p))), w.shape[2:], axis=(1, 2))[:, ::s, ::s]
            return np.einsum('fcyx,cyxij->fyx', w, win)
        ''')
    d = Diagnosis("forward", "filter-indexed-by-output", 0.9, "")
    cands = candidates([d], {"forward": "conv"}, {"c.py": src}, "chw")
    assert cands, "no candidate for the einsum"
    assert "np.einsum('fcij,cyxij->fyx', w, win)" in apply_edits(src, cands[0].edits)


def test_a_gradient_that_matches_the_reference_is_not_failing_and_not_editable():
    from corrcheck.locate.fix import failing_targets, protected_functions
    from corrcheck.result import CheckResult, RunResult
    checks = (CheckResult("forward", "reference", "error"),
              CheckResult("grad_input", "reference", "pass", mismatches=0, total=9),
              CheckResult("grad_input", "finite_differences", "fail", mismatches=8, total=9),
              CheckResult("grad_filter", "reference", "fail", mismatches=3, total=4),
              CheckResult("grad_bias", "reference", "pass", mismatches=0, total=2))
    bound = {"forward": "fwd", "grad_input": "bwd_x", "grad_filter": "bwd", "grad_bias": "bwd"}
    res = RunResult(version="0", verdict="fail", files=("f.py",), config={}, bound=bound, checks=checks)
    failing = failing_targets(res)
    assert failing == ["forward", "grad_filter"]
    assert protected_functions(res, failing) == ("bwd_x",)   # bwd also serves the failing grad_filter


def test_candidates_never_edit_a_protected_function():
    bound = {"forward": "xcorr", "grad_input": "xcorr_dx", "grad_filter": "xcorr_dw"}
    sources = {"e.py": EINSUM_BY_OUTPUT}
    start = EINSUM_BY_OUTPUT.index("def xcorr_dx")
    every = candidates([], bound, sources, "hw", list(bound))
    assert any(e.start >= start for c in every for e in c.edits)          # a kernel flip there, to drop
    kept = candidates([], bound, sources, "hw", list(bound), protected=("xcorr_dx", "xcorr_dw"))
    assert kept and all(e.end <= start for c in kept for e in c.edits)
    assert [c.rule for c in kept] == ["filter-indexed-by-output"]


def _res(*checks):
    from corrcheck.result import CheckResult, RunResult
    verdict = "fail" if any(c[2] != "pass" for c in checks) else "pass"
    return RunResult(version="0", verdict=verdict, files=("f.py",), config={}, bound={},
                     checks=tuple(CheckResult(t, a, st, mismatches=m, total=9) for t, a, st, m in checks))


def test_closer_means_fewer_failing_checks_or_fewer_wrong_entries_and_nothing_newly_broken():
    from corrcheck.locate.fix import improves
    base = _res(("forward", "reference", "fail", 5), ("grad_input", "reference", "pass", 0))
    assert improves(base, _res(("forward", "reference", "fail", 2), ("grad_input", "reference", "pass", 0)))
    assert not improves(base, _res(("forward", "reference", "fail", 5), ("grad_input", "reference", "pass", 0)))
    assert not improves(base, _res(("forward", "reference", "fail", 1), ("grad_input", "reference", "fail", 1)))
    assert not improves(base, _res(("forward", "reference", "error", None), ("grad_input", "reference", "pass", 0)))
    two = _res(("forward", "reference", "fail", 5), ("grad_input", "reference", "fail", 1))
    assert improves(two, _res(("forward", "reference", "fail", 9), ("grad_input", "reference", "pass", 0)))
    assert not improves(two, None)


@needs_loader
def test_unfixable_forward_shows_no_edit_of_the_right_gradients(tmp_path):
    (tmp_path / "sq.py").write_text(SQUARED_FORWARD)
    flags = ["--stride", "3", "--pad", "1", "--input-size", "8", "--filter-size", "3", *BIND]
    doc = _cli(["run", "sq.py", *flags, "--fix", "--json"], tmp_path)
    assert doc["verdict"] == "fail"
    status = {(c["target"], c["against"]): c["status"] for c in doc["checks"]}
    assert status[("forward", "reference")] == "fail"
    assert status[("grad_input", "reference")] == status[("grad_filter", "reference")] == "pass"
    assert status[("grad_input", "finite_differences")] == "fail"     # against the wrong forward
    fix = doc["fix"]
    assert fix["verified"] is False
    assert fix["candidates_tried"] > 0                 # rewrites of the forward were tried, none helped
    assert fix["diff"] == ""
    assert "none of the" in fix["message"] and "closest" not in fix["message"]


def test_the_closest_edit_is_shown_with_what_it_still_gets_wrong(tmp_path):
    from corrcheck.config import RunConfig
    p = tmp_path / "sq.py"
    p.write_text(SQUARED_FORWARD)
    base = _res(("forward", "reference", "fail", 9), ("grad_input", "reference", "pass", 0))
    base = dataclasses.replace(base, files=(str(p),), config={"layout": "hw"},
                               bound={"forward": "xcorr", "grad_input": "xcorr_dx"})
    closer = _res(("forward", "reference", "fail", 4), ("grad_input", "reference", "pass", 0))
    fix = search_fix(RunConfig(files=(str(p),)), base, rerun=lambda cfg: closer)
    assert fix.verified is False and "- p" in fix.diff and "xcorr_dx" not in fix.diff
    assert fix.message.endswith("still fails forward against reference (4 / 9 entries wrong)")


def test_a_patched_copy_that_checks_less_is_no_fix():
    """An edit that renames the backward away passes by binding nothing to it: not a fix."""
    from corrcheck.locate.fix import passes_as_before
    from corrcheck.result import CheckResult, RunResult
    both = ({"forward": "pool", "grad_input": "pool_backward"},
            (CheckResult("forward", "reference", "pass"), CheckResult("grad_input", "reference", "fail")))
    base = RunResult("0.1.0", "fail", ("x.py",), {}, bound=both[0], checks=both[1])
    fixed = RunResult("0.1.0", "pass", ("x.py",), {}, bound=both[0],
                      checks=(CheckResult("forward", "reference", "pass"), CheckResult("grad_input", "reference", "pass")))
    fewer = RunResult("0.1.0", "pass", ("x.py",), {}, bound={"forward": "pool"},
                      checks=(CheckResult("forward", "reference", "pass"),))
    assert passes_as_before(base, fixed) and not passes_as_before(base, fewer)


def test_window_fix_never_unbinds_the_failing_function(tmp_path):
    source = (Path(__file__).parent / "window_files" / "pool_lists_hw.py").read_text()
    head, back = source.split("def maxpool2d_backward")
    back = back.replace("r, c = i * stride + a - pad, j * stride + b - pad", "r, c = i + a - pad, j + b - pad")
    path = tmp_path / "pool_wrong_window.py"
    path.write_text(head + "def maxpool2d_backward" + back)
    from corrcheck.config import RunConfig
    from corrcheck.runner import run
    res = run(RunConfig(files=(str(path),), fix=True))
    assert res.verdict == "fail"
    said = [d.explanation for d in res.diagnoses if d.target == "grad_input"]
    assert said and said[0].startswith("no known mistake matched; ") and "positions are affected" in said[0]
    assert not res.fix.verified or "def maxpool2d_backward" not in "".join(
        line for line in res.fix.diff.splitlines() if line.startswith("-"))
