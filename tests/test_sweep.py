"""--sweep: the grid, pass/fail per config, the smallest failure, processes, JSON.

The user functions here are written independently of corrcheck (plain loops
over nested lists, or np.pad plus a loop), so a real indexing mistake in the
sweep's geometry or bookkeeping makes a correct function fail somewhere.
"""
from __future__ import annotations

import json
import math
from importlib.resources import files

import jsonschema
import numpy as np
import pytest

import corrcheck
from corrcheck.report import sections as report
from corrcheck.config import RunConfig
from corrcheck.geometry import make_geometry
from corrcheck.checks.problem import Problem
from corrcheck.sweep import build_grid


# ---------------------------------------------------------------- user code, written like learners do

def _at(a, r, c):
    if 0 <= r < len(a) and 0 <= c < len(a[0]):
        return a[r][c]
    return 0.0


def corre(a, f, s, p):
    """seed style, correct: nested lists, one int stride and pad"""
    oy = (len(a) - len(f) + 2 * p) // s + 1
    ox = (len(a[0]) - len(f[0]) + 2 * p) // s + 1
    return [[sum(_at(a, y * s + j - p, x * s + i - p) * f[j][i]
                 for j in range(len(f)) for i in range(len(f[0])))
             for x in range(ox)] for y in range(oy)]


def corre_stride_on_tap(a, f, s, p):
    """the stride multiplies the filter tap: right at stride 1 only"""
    oy = (len(a) - len(f) + 2 * p) // s + 1
    ox = (len(a[0]) - len(f[0]) + 2 * p) // s + 1
    return [[sum(_at(a, y + j * s - p, x + i * s - p) * f[j][i]
                 for j in range(len(f)) for i in range(len(f[0])))
             for x in range(ox)] for y in range(oy)]


def corre_pad_capped(a, f, s, p):
    """reads as if the padding were at most 1: right at pad 0 and 1 only"""
    q = min(p, 1)
    oy = (len(a) - len(f) + 2 * p) // s + 1
    ox = (len(a[0]) - len(f[0]) + 2 * p) // s + 1
    return [[sum(_at(a, y * s + j - q, x * s + i - q) * f[j][i]
                 for j in range(len(f)) for i in range(len(f[0])))
             for x in range(ox)] for y in range(oy)]


def backprop_filter(FS, dO, inp, s, p):
    fh, fw = (FS, FS) if isinstance(FS, int) else FS
    return [[sum(dO[h][k] * _at(inp, j + h * s - p, i + k * s - p)
                 for h in range(len(dO)) for k in range(len(dO[0])))
             for i in range(fw)] for j in range(fh)]


def _pairs(pad):
    if isinstance(pad, int):
        return ((pad, pad), (pad, pad))
    if isinstance(pad[0], int):
        return tuple((q, q) for q in pad)
    return tuple(tuple(q) for q in pad)


def conv_np(x, w, stride, pad, dilation):
    """numpy arrays, per-side padding through np.pad, dilation: can express the whole grid"""
    s = (stride, stride) if isinstance(stride, int) else stride
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    xp = np.pad(np.asarray(x, float), _pairs(pad))
    kh, kw = np.shape(w)
    oh = (xp.shape[0] - d[0] * (kh - 1) - 1) // s[0] + 1
    ow = (xp.shape[1] - d[1] * (kw - 1) - 1) // s[1] + 1
    out = np.zeros((oh, ow))
    for y in range(oh):
        for c in range(ow):
            for j in range(kh):
                for i in range(kw):
                    out[y, c] += xp[y * s[0] + j * d[0], c * s[1] + i * d[1]] * w[j][i]
    return out


def SEED_OK():
    return dict(forward=corre, grad_filter=backprop_filter)


def SEED_STRIDE_BUG():
    return dict(forward=corre_stride_on_tap, grad_filter=backprop_filter)


def _sweep(fns, jobs=1, **options):
    options = {"stride": 2, "pad": 1, **options}
    result = corrcheck.check(**fns, sweep=True, jobs=jobs, **options)
    assert result.sweep is not None, result.error
    return result


def _row_configs(result, passed=None):
    return [c for c, ok, *_ in result.sweep.rows if passed is None or ok == passed]


# ---------------------------------------------------------------- the grid

def test_grid_covers_strides_pads_and_uneven_sizes():
    main = Problem(make_geometry(2, 1, ndim=2, in_spatial=(7, 6), k_spatial=(3, 2)), (7, 6), (3, 2), 1, 1, 1)
    points = build_grid(main, RunConfig(stride=2, pad=1), dilation=True, asymmetric=True)
    assert {p.stride for p in points} == {(1, 1), (2, 2), (3, 3)}
    assert {p.pad for p in points} == {((0, 0),) * 2, ((1, 1),) * 2, ((2, 2),) * 2, ((1, 0),) * 2}
    assert {p.dilation for p in points} == {(1, 1), (2, 2)}
    assert any(n[0] != n[1] for n in (p.in_spatial for p in points))
    assert any(k[0] % 2 == 0 for k in (p.k_spatial for p in points))
    # somewhere the stride does not divide the span evenly, at stride 2 and at stride 3
    for s in (2, 3):
        assert any((n + pb + pa - d * (k - 1) - 1) % s
                   for p in points if p.stride[0] == s
                   for n, k, (pb, pa), d in zip(p.in_spatial, p.k_spatial, p.pad, p.dilation))


def test_grid_leaves_out_configs_whose_filter_does_not_fit():
    main = Problem(make_geometry(1, 0, ndim=1, in_spatial=(7,), k_spatial=(3,)), (7,), (3,), 1, 1, 1)
    points = build_grid(main, RunConfig(dilation=4), dilation=True, asymmetric=False)
    assert points, "valid configs remain"
    for p in points:
        span = p.dilation[0] * (p.k_spatial[0] - 1) + 1
        assert span <= p.in_spatial[0] + sum(p.pad[0])
    # 7 with a 3-tap filter at dilation 4 spans 9: fits only with pad >= 1
    assert not any(p.dilation == (4,) and p.in_spatial == (7,) and p.pad == ((0, 0),) for p in points)
    assert any(p.dilation == (4,) and p.in_spatial == (7,) and p.pad == ((1, 1),) for p in points)


def test_grid_follows_the_dimensionality():
    main = Problem(make_geometry(1, 0, ndim=3, in_spatial=(5, 6, 4), k_spatial=(3, 2, 2)), (5, 6, 4), (3, 2, 2),
                   1, 1, 1)
    points = build_grid(main, RunConfig(), dilation=False, asymmetric=False)
    assert points and all(len(p.in_spatial) == 3 and len(p.stride) == 3 for p in points)


# ---------------------------------------------------------------- pass / fail

def test_correct_seed_style_code_passes_every_config():
    result = _sweep(SEED_OK())
    assert result.verdict == "pass"
    assert result.sweep.failed == 0 and result.sweep.smallest_failing is None and result.sweep.command is None
    assert result.sweep.configs == len(result.sweep.rows) >= 27
    # an int pad cannot be asymmetric and there is no dilation parameter: said, not failed
    assert any("asymmetric pad" in n and "left out" in n for n in result.notes)
    assert any("dilation 2 left out" in n for n in result.notes)


def test_code_that_takes_everything_is_swept_with_asymmetric_pad_and_dilation():
    result = _sweep(dict(forward=conv_np), layout="hw")
    configs = _row_configs(result)
    assert result.verdict == "pass", [r for r in result.sweep.rows if not r[1]][:3]
    assert any(c["pad"][0] == [1, 0] for c in configs)
    assert any(c["dilation"] == [2, 2] for c in configs)


def test_stride_bug_fails_exactly_the_strides_above_one():
    result = _sweep(SEED_STRIDE_BUG())
    assert result.verdict == "fail"
    failed = _row_configs(result, passed=False)
    passed = _row_configs(result, passed=True)
    assert failed and all(c["stride"][0] >= 2 for c in failed)
    assert passed and all(c["stride"][0] == 1 for c in passed)
    assert result.sweep.failed == len(failed) == sum(1 for c in _row_configs(result) if c["stride"][0] >= 2)
    for config, ok, targets, reason in result.sweep.rows:
        if not ok:
            assert targets == ("forward",) and "corre_stride_on_tap" in reason


def test_smallest_failing_config_is_the_fewest_elements_then_smallest_geometry():
    result = _sweep(SEED_STRIDE_BUG())
    small = result.sweep.smallest_failing
    # 6x6 input is the smallest size of the grid; 2x2 filter; stride 2 before 3, pad 0 first
    assert (small["input_shape"], small["filter_shape"]) == ([6, 6], [2, 2])
    assert (small["stride"], small["pad"]) == ([2, 2], [[0, 0], [0, 0]])
    cmd = result.sweep.command
    for part in ("--stride 2", "--pad 0", "--input-size 6x6", "--filter-size 2x2", "--seed 0"):
        assert part in cmd


def test_smallest_failing_command_reproduces_the_failure_alone():
    result = _sweep(SEED_STRIDE_BUG())
    small = result.sweep.smallest_failing
    again = corrcheck.check(**SEED_STRIDE_BUG(), stride=small["stride"][0], pad=small["pad"][0][0],
                            input_size="x".join(map(str, small["input_shape"])),
                            filter_size="x".join(map(str, small["filter_shape"])))
    assert again.verdict == "fail"


def test_a_per_axis_value_the_functions_cannot_take_is_refused_not_failed():
    # the user asks for a per-axis stride; corre divides by one int: its interface, not a wrong result
    result = corrcheck.check(**SEED_OK(), stride="2x1", pad=1, sweep=True)
    assert result.verdict == "error" and result.error.kind == "usage"
    assert "take one stride for every axis" in result.error.message and "TypeError" in result.error.message
    assert corrcheck.check(**SEED_OK(), stride=2, pad=1).verdict == "pass"


def test_jobs_1_and_2_give_identical_results():
    one = _sweep(SEED_STRIDE_BUG(), jobs=1)
    two = _sweep(SEED_STRIDE_BUG(), jobs=2)
    assert one.sweep.rows == two.sweep.rows
    assert one.sweep.to_dict() == two.sweep.to_dict()
    assert one.sweep.command == two.sweep.command
    # every config's calls are counted whichever process made them
    assert two.calls["forward"] >= one.sweep.configs


def test_json_sweep_validates_and_has_the_contract_fields():
    schema = json.loads(files("corrcheck").joinpath("report.schema.json").read_text(encoding="utf-8"))
    doc = json.loads(json.dumps(_sweep(SEED_STRIDE_BUG()).to_dict()))
    jsonschema.validate(doc, schema)
    sweep = doc["sweep"]
    assert sweep["configs"] > sweep["failed"] > 0
    assert {"stride", "pad", "input_shape", "filter_shape"} <= set(sweep["smallest_failing"])
    assert sweep["smallest_failing"]["command"].startswith("corrcheck run")
    ok = json.loads(json.dumps(_sweep(SEED_OK()).to_dict()))
    jsonschema.validate(ok, schema)
    assert ok["sweep"]["smallest_failing"] is None


def test_report_draws_the_stride_by_pad_matrix():
    text = report.plain_text(_sweep(SEED_STRIDE_BUG()))
    assert "configurations fail" in text and "stride \\ pad" in text
    assert "smallest failing config" in text and "reproduce:" in text


def test_sweep_of_a_file_through_the_cli_runner(tmp_path):
    pytest.importorskip("corrcheck.loader.python_source")
    from corrcheck.runner import run

    path = tmp_path / "mine.py"
    path.write_text(
        "def at(a, r, c):\n"
        "    return a[r][c] if 0 <= r < len(a) and 0 <= c < len(a[0]) else 0.0\n\n"
        "def corre(a, f, s, p):\n"
        "    oy = (len(a) - len(f) + 2 * p) // s + 1\n"
        "    ox = (len(a[0]) - len(f[0]) + 2 * p) // s + 1\n"
        "    return [[sum(at(a, y + j * s - p, x + i * s - p) * f[j][i]\n"
        "                 for j in range(len(f)) for i in range(len(f[0])))\n"
        "             for x in range(ox)] for y in range(oy)]\n")
    one = run(RunConfig(files=(str(path),), stride=2, pad=1, sweep=True, jobs=1))
    two = run(RunConfig(files=(str(path),), stride=2, pad=1, sweep=True, jobs=2))
    assert one.sweep.rows == two.sweep.rows
    assert one.sweep.failed and all(c["stride"][0] >= 2 for c, ok, *_ in one.sweep.rows if not ok)
    assert one.sweep.command.startswith(f"corrcheck run {path}")
    assert math.prod(one.sweep.smallest_failing["input_shape"]) == 36


def corre_hangs_at_stride_3(a, f, s, p):
    """loops forever at stride 3 (a learner's while loop that never advances)"""
    while s == 3:
        pass
    return corre(a, f, s, p)


def test_hanging_configs_stop_the_sweep_after_two_timeouts():
    import time

    started = time.perf_counter()
    result = _sweep(dict(forward=corre_hangs_at_stride_3), timeout=0.3, layout="hw")
    assert time.perf_counter() - started < 10
    stride3 = [(ok, reason) for c, ok, _, reason in result.sweep.rows if c["stride"][0] == 3]
    assert stride3 and not any(ok for ok, _ in stride3)
    assert sum("did not return within" in r for _, r in stride3) == 2
    assert all("did not return within" in r or r.startswith("not checked") for _, r in stride3)
    assert all(ok for c, ok, *_ in result.sweep.rows if c["stride"][0] < 3)
    assert result.sweep.smallest_failing["stride"] == [3, 3]
    assert "did not return within" in result.sweep.smallest_failing["reason"]


def test_a_layer_right_at_the_main_config_is_explained_at_its_smallest_failing_one():
    """The smallest failing config is checked in full on the same bound functions: the shift it
    shows there (pad 2 read as pad 1) is named, tagged with where, and the verdict is fail."""
    result = _sweep(dict(forward=corre_pad_capped, grad_filter=backprop_filter))
    assert result.verdict == "fail"
    assert result.conclusion.startswith("At the configuration checked in detail everything passes")
    small = result.sweep.smallest_failing
    assert small["pad"] == [[2, 2], [2, 2]] and small["failing"] == ["forward"]
    where = f"(at stride 1, pad 2, input {'x'.join(map(str, small['input_shape']))}, the smallest failing sweep config)"
    tagged = [d for d in result.diagnoses if d.explanation.endswith(where)]
    assert [d.target for d in tagged] == ["forward"]
    assert "shifted by 1 row and 1 column" in tagged[0].explanation
