"""The JavaScript bridge: every file form loads, names and parameters come from the source,
values cross intact (NaN for reads outside an array), failures become one sentence."""
from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

import corrcheck
from corrcheck.errors import BindError, LoadError, UnusableOutput, UserRaised, UserTimeout
from corrcheck.loader import javascript as js
from corrcheck.loader.javascript import JsDefault, JsObjectHandle, load_javascript

HERE = Path(__file__).parent / "js_files"
EXAMPLES = Path(__file__).parent.parent / "examples"
ENGINES = ["mini-racer", pytest.param("node", marks=pytest.mark.skipif(
    shutil.which("node") is None, reason="node is not on PATH"))]


@pytest.fixture(params=ENGINES)
def engine(request):
    if request.param == "mini-racer":
        pytest.importorskip("py_mini_racer")
    return request.param


def _windows(shape, k, s, p):
    """(output index, tap, input index) triples of a zero-padded strided correlation, per axis."""
    n_out = (shape + 2 * p - k) // s + 1
    return [(o, t, o * s + t - p) for o in range(n_out) for t in range(k) if 0 <= o * s + t - p < shape]


def naive(x, w, s, p, dout=None):
    """An independent loop oracle: forward, and with `dout` the filter and input gradients."""
    rows, cols = _windows(x.shape[0], w.shape[0], s, p), _windows(x.shape[1], w.shape[1], s, p)
    out = np.zeros(((x.shape[0] + 2 * p - w.shape[0]) // s + 1, (x.shape[1] + 2 * p - w.shape[1]) // s + 1))
    gw, gx = np.zeros_like(w), np.zeros_like(x)
    for (oy, j, iy) in rows:
        for (ox, i, ix) in cols:
            out[oy, ox] += x[iy, ix] * w[j, i]
            if dout is not None:
                gw[j, i] += dout[oy, ox] * x[iy, ix]
                gx[iy, ix] += dout[oy, ox] * w[j, i]
    return out if dout is None else (out, gw, gx)


def load(engine, *names, timeout=2.0):
    return load_javascript([str(HERE / n) for n in names], timeout, engine=engine)


def params(fn):
    return [p.name for p in fn.params]


# ---------------------------------------------------------------- file forms

def test_plain_script_declarations_in_source_order(engine):
    fs = load(engine, "plain.js")
    assert list(fs) == ["corre", "scaled", "twice", "firstRow", "readPast", "nested"]
    assert params(fs["corre"]) == ["a", "f", "s", "p"]
    assert (fs["corre"].line, fs["scaled"].line, fs["twice"].line) == (2, 6, 8)
    assert fs["corre"].file.endswith("plain.js") and fs["corre"].language == "javascript"
    assert fs["corre"].call([[1, 2]], [[1]], 2, 1) == 100 + 10 + 3
    assert fs["twice"].call([[1.5, -2]]) == [[3.0, -4]]
    assert fs["readPast"].doc.startswith("Reads one row past the end")
    assert "hidden" not in fs and "notAFunction" not in fs


def test_commonjs_module_with_relative_require(engine):
    fs = load(engine, "cjs_main.js")
    assert set(fs) == {"conv1d", "sum"}              # exports only; `hidden` stays private
    conv = fs["conv1d"]
    assert params(conv) == ["x", "w", "stride"] and conv.params[2].default == 1
    assert conv.call([1, 2, 3, 4, 5], [1, -1], 2) == [-1, -1]
    assert fs["sum"].call([1, 2, 3.5]) == 6.5
    assert fs["sum"].file.endswith("cjs_util.js") and fs["sum"].line == 4


def test_commonjs_single_function_export(engine):
    fs = load(engine, "cjs_function.js")
    assert params(fs["backwardAll"]) == ["dout", "cache"]
    assert fs["backwardAll"].call([1], {"stride": 2}) == [[1], {"stride": 2}]


def test_practice_style_commonjs_module_matches_a_loop_oracle(engine):
    src = Path("/work/shared/practice/practice_14.js")
    if not src.exists():
        pytest.skip("practice files not available")
    fs = load_javascript([str(src)], 2.0, engine=engine)
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((7, 6)), rng.standard_normal((3, 2))
    got = np.array(fs["conv2d"].call(x.tolist(), w.tolist(), 2, 1))
    np.testing.assert_allclose(got, naive(x, w, 2, 1), atol=1e-12)


def test_require_of_a_node_builtin_is_a_load_error(engine):
    with pytest.raises(LoadError, match=r"cjs_builtin.js:1: .*require\('fs'\) is not available"):
        load(engine, "cjs_builtin.js")


def test_browser_namespace_nested_and_this(engine):
    fs = load(engine, "namespace.js")
    assert {"mlib.conv", "mlib.layers.conv", "mlib.Conv"} <= set(fs)
    assert "mlib.scale" not in fs
    assert params(fs["mlib.conv"]) == ["x", "w", "stride", "pad"]
    assert fs["mlib.conv"].call([1, 2], [1], 2, 1) == 3 * 2 + 1 + 2 + 1     # `this` is mlib
    assert fs["mlib.layers.conv"].call([1, 2], [1, 2, 3]) == 6


def test_constructor_function_and_prototype_methods(engine):
    fs = load(engine, "namespace.js")
    cls = fs["mlib.Conv"]
    assert cls.is_class and cls.methods == ("forward", "backward")
    assert params(cls) == ["W", "b", "stride", "pad"]
    fwd = fs["mlib.Conv.prototype.forward"]
    assert fwd.extra["method_of"] == "mlib.Conv" and params(fwd) == ["x"] and fwd.line == 16
    obj = cls.call([[2]], [1], 2, 1)
    assert isinstance(obj, JsObjectHandle)
    assert obj.forward([[1, 2]]) == [[3, 5]]
    assert fwd.call(obj, [[1, 2]]) == [[3, 5]]
    obj.W = np.array([[3.0]])                       # numpy arrays cross as nested lists
    assert obj.forward([[1, 2]]) == [[4, 7]]
    obj.backward([[5]])
    assert (obj.dW, obj.db) == ([[1]], [5])
    assert vars(obj)["stride"] == 2 and "forward" not in vars(obj)
    assert not hasattr(obj, "nothingHere")
    with pytest.raises(BindError, match="method of mlib.Conv"):
        fwd.call([[1]])


def test_es6_class_inherits_constructor_parameters(engine):
    fs = load(engine, "classes.js")
    layer = fs["ConvLayer"]
    assert layer.is_class and params(layer) == ["W", "b", "stride", "pad"]
    assert [p.default for p in layer.params[2:]] == [1, 0]
    assert set(layer.methods) == {"forward", "backward", "outSize"}
    runtime = layer.extra["runtime"]
    obj = runtime.construct("ConvLayer", ([[1, 2], [3, 4]], [0], 2))
    assert runtime.call_method(obj, "forward", ([[0] * 7] * 7,)) == [3, 2, 0]
    assert obj.backward(3) == 6 and obj.dW == [[3, 3], [3, 3]]
    assert fs["OldStyle"].is_class and fs["OldStyle"].call(4).area() == 16


def test_several_files_share_one_global_environment(engine):
    fs = load(engine, "multi_a.js", "multi_b.js")
    assert list(fs) == ["zeros2d", "OUT", "forward"]
    assert fs["forward"].call([[0] * 5] * 5, [[0] * 3] * 3, 2, 1) == 3
    assert fs["forward"].file.endswith("multi_b.js")


def test_es_module_exports_run_as_declarations(engine):
    fs = load(engine, "esm.js")
    assert fs["esForward"].call([1, 2], [3]) == 3 and params(fs["esArrow"]) == ["dout"]


# ---------------------------------------------------------------- parameters

def test_parameter_names_defaults_destructuring_rest(engine):
    fs = load(engine, "params.js")
    wd = fs["withDefaults"]
    assert params(wd) == ["dO", "FS", "stride", "pad", "scale", "opts", "flag"]
    assert [p.default for p in wd.params[1:5]] + [wd.params[6].default] == [3, 1, "same", 0.5, True]
    assert wd.params[5].default == JsDefault("{a: [1, 2]}") and not wd.params[0].has_default
    d = fs["destructured"]
    assert params(d) == ["{stride, pad}", "[h, w]", "rest"] and d.params[2].kind == "var_positional"
    ad = fs["arrowDefaults"]
    assert params(ad) == ["x", "y", "z"] and ad.params[1].default == JsDefault("x.length")
    assert params(fs["later"]) == ["a"]


def test_keywords_are_placed_by_name_and_none_means_undefined(engine):
    kt = load(engine, "params.js")["keywordsTest"]
    assert kt.call(1, c=5) == [1, "undefined", 5]
    assert kt.call(a=1) == [1, "undefined", 7]          # the JavaScript default applies
    assert load(engine, "params.js")["withDefaults"].call([[1]], stride=2)[:2] == [3, 2]
    with pytest.raises(BindError, match="no parameter named 'zz'"):
        kt.call(1, zz=3)


# ---------------------------------------------------------------- values

def test_nan_infinity_undefined_and_out_of_range_reads(engine):
    fs = load(engine, "values.js", "plain.js")
    out = fs["withNaN"].call()
    assert math.isnan(out[0][1]) and out[1] == [math.inf, -math.inf]
    sparse = fs["sparse"].call()
    assert math.isnan(sparse[0]) and sparse[1] == 2 and math.isnan(sparse[2])
    past = fs["readPast"].call([[1, 2], [3, 4]])
    assert past[0] == 3 and math.isnan(past[1])
    assert fs["nothing"].call() is None
    assert fs["exact"].call([[np.nan, 1.0]])[0][0] != fs["exact"].call([[np.nan, 1.0]])[0][0]


def test_floats_round_trip_exactly_and_containers_convert(engine):
    fs = load(engine, "values.js")
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert np.array_equal(np.array(fs["exact"].call(x)), x)
    assert fs["exact"].call((np.float32(0.5), np.int64(3), (1, 2))) == [0.5, 3, [1, 2]]
    f64, f32, i32 = fs["typed"].call()
    assert f64 == [1.5, 2.5] and i32 == [3, 4]
    # a Float32Array comes back as float32 so its precision sets the tolerances
    assert isinstance(f32, np.ndarray) and f32.dtype == np.float32 and f32.tolist() == [0, 0]
    assert fs["errorAndGrad"].call(np.ones((2, 2))) == {"dO": [[0, 0], [0, 0]], "err": 0.25}
    assert fs["strings"].call() == ["a", None, True]


def test_console_output_is_swallowed(engine, capfd):
    assert load(engine, "values.js")["chatty"].call(1) == 2
    assert "debug" not in capfd.readouterr().out


def test_writes_into_arguments_reach_the_callers_lists_and_arrays(engine):
    fs = load(engine, "values.js")
    a = [[1.0, 2.0], [3.0, 4.0]]
    inner = a[0]
    assert fs["padInPlace"].call(a, 9) == 2
    assert a == [[0, 9, 2.0, 0], [0, 3.0, 4.0, 0]] and inner == [1.0, 2.0]
    same = [[1.0, 2.0]]
    fs["exact"].call(same)
    assert same == [[1.0, 2.0]]
    arr = np.ones((1, 2))
    fs["padInPlace"].call(arr, 9)                   # the shape changed in JavaScript: the array stays
    assert arr.tolist() == [[1.0, 1.0]]


def test_keywords_reach_constructors_and_methods(engine):
    fs = load(engine, "classes.js")
    obj = fs["ConvLayer"].call([[1, 2], [3, 4]], [0], pad=1)
    assert (obj.stride, obj.pad) == (1, 1)
    assert obj.call_method("forward", x=[[0] * 5] * 5) == [6, 1, 1]
    assert fs["ConvLayer.prototype.backward"].call(obj, dout=2) == 4


# ---------------------------------------------------------------- failures

def test_a_promise_is_an_unusable_result(engine):
    with pytest.raises(UnusableOutput, match="later returned a Promise"):
        load(engine, "params.js")["later"].call([1])


def test_a_file_given_twice_loads_once(engine):
    fs = load_javascript([str(HERE / "multi_a.js"), str(HERE / "." / "multi_a.js")], 1.0, engine=engine)
    assert list(fs) == ["zeros2d", "OUT"]


def test_exception_message_and_stack_trimmed_to_user_lines(engine):
    fs = load(engine, "problems.js")
    with pytest.raises(UserRaised) as info:
        fs["outer"].call({})
    err = info.value
    assert "outer threw TypeError" in err.message and "problems.js line 4" in err.message
    assert "a.missing.length" in err.message
    lines = err.traceback.splitlines()
    assert lines[0].startswith("TypeError")
    assert [ln.split("(")[0].strip() for ln in lines[1:]] == ["at inner", "at outer"]
    assert "problems.js:4:" in lines[1] and "problems.js:8:" in lines[2]
    # Not the bare word "corrcheck": the checkout itself may live in a folder of that name.
    package_dir = os.path.dirname(os.path.abspath(corrcheck.__file__))
    assert package_dir not in err.traceback
    for own in ("js_bridge.js", "js_node_host.js", "corrcheck-js-bridge", "__corrcheck"):
        assert own not in err.traceback


def test_thrown_values_and_stack_overflow(engine):
    fs = load(engine, "problems.js")
    with pytest.raises(UserRaised, match="threw the value 'plain string'"):
        fs["throwsString"].call()
    with pytest.raises(UserRaised, match="RangeError: Maximum call stack") as info:
        fs["deep"].call(0)
    assert "previous line repeated" in info.value.traceback


def test_endless_loop_times_out_and_the_engine_keeps_working(engine):
    fs = load(engine, "problems.js", timeout=0.3)
    start = time.perf_counter()
    with pytest.raises(UserTimeout, match=r"spin did not return within the 0.3 s time limit"):
        fs["spin"].call()
    assert time.perf_counter() - start < 2.5
    assert fs["fine"].call() == 1


def test_an_outer_time_limit_stops_the_javascript_too(engine):
    guard = pytest.importorskip("corrcheck.loader.guard")
    fs = load(engine, "problems.js", timeout=30)
    with pytest.raises(UserTimeout):
        guard.call_user(fs["spin"].call, (), timeout=0.3, what="spin")
    start = time.perf_counter()
    assert fs["fine"].call() == 1
    assert time.perf_counter() - start < 5


def test_syntax_error_names_file_and_line(engine):
    with pytest.raises(LoadError, match=r"syntax_error.js:3: SyntaxError: Unexpected token"):
        load(engine, "syntax_error.js")


def test_errors_while_loading(engine, tmp_path):
    with pytest.raises(LoadError, match=r"throws_at_load.js:3: .*ReferenceError: makeTable is not defined"):
        load(engine, "throws_at_load.js")
    with pytest.raises(LoadError, match=r"did not finish loading within 0.3 s"):
        load(engine, "hangs_at_load.js", timeout=0.3)
    with pytest.raises(LoadError, match="no such file"):
        load(engine, "missing.js")
    imports = tmp_path / "imp.js"
    imports.write_text("import { a } from './a.js'\nfunction f(x) { return x }\n")
    with pytest.raises(LoadError, match="ES module imports are not supported"):
        load_javascript([str(imports)], 1.0, engine=engine)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_engine(engine):
    fs = load(engine, "plain.js")
    fs["corre"].call([[1]], [[1]], 1, 0)
    pid = os.fork()
    if pid == 0:                                     # pragma: no cover - runs in the child
        import signal
        signal.alarm(20)
        os._exit(0 if fs["corre"].call([[1]], [[1]], 1, 0) == 111 else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert fs["corre"].call([[1]], [[1]], 1, 0) == 111


# ---------------------------------------------------------------- engines

def test_engine_choice_from_environment(monkeypatch):
    pytest.importorskip("py_mini_racer")
    monkeypatch.setenv(js.ENGINE_ENV, "mini-racer")
    fs = load_javascript([str(HERE / "plain.js")], 1.0)
    assert fs["corre"].extra["engine"] == "mini-racer"
    monkeypatch.setenv(js.ENGINE_ENV, "rhino")
    with pytest.raises(LoadError, match="must be mini-racer, node or auto"):
        load_javascript([str(HERE / "plain.js")], 1.0)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_node_is_the_fallback_without_mini_racer(monkeypatch):
    monkeypatch.setattr(js, "_mini_racer_importable", lambda: False)
    fs = load_javascript([str(HERE / "plain.js")], 1.0)
    assert fs["corre"].extra["engine"] == "node"
    assert fs["corre"].call([[1]], [[1]], 1, 0) == 111


def test_no_engine_at_all_says_how_to_install(monkeypatch):
    monkeypatch.setattr(js, "_mini_racer_importable", lambda: False)
    monkeypatch.setattr(js, "_node_executable", lambda: None)
    with pytest.raises(LoadError) as info:
        load_javascript([str(HERE / "plain.js")], 1.0)
    assert str(info.value) == js.INSTALL_HINT
    monkeypatch.setenv(js.ENGINE_ENV, "node")
    with pytest.raises(LoadError, match="no node executable on PATH"):
        load_javascript([str(HERE / "plain.js")], 1.0)


# ---------------------------------------------------------------- the seed examples

def _seed_case(rng, h=5, w=5, k=3):
    return rng.standard_normal((h, w)), rng.standard_normal((k, k))


def test_seed_fixed_matches_a_loop_oracle(engine):
    fs = load_javascript([str(EXAMPLES / "seed_fixed.js")], 2.0, engine=engine)
    rng = np.random.default_rng(3)
    for (h, w, k, s, p) in [(5, 5, 3, 2, 1), (7, 6, 3, 2, 1), (6, 7, 2, 3, 2), (5, 5, 3, 1, 0)]:
        x, f = _seed_case(rng, h, w, k)
        dout = rng.standard_normal(naive(x, f, s, p).shape)
        want, gw, gx = naive(x, f, s, p, dout)
        np.testing.assert_allclose(fs["corre"].call(x.tolist(), f.tolist(), s, p), want, atol=1e-12)
        np.testing.assert_allclose(fs["backpropFilter"].call(k, dout.tolist(), x.tolist(), s, p), gw, atol=1e-12)
        np.testing.assert_allclose(fs["backpropInput"].call(dout.tolist(), f.tolist(), s, p, [h, w]), gx,
                                   atol=1e-12)


def test_seed_buggy_forward_is_wrong_and_its_gradients_right(engine):
    fs = load_javascript([str(EXAMPLES / "seed_buggy.js")], 2.0, engine=engine)
    assert params(fs["corre"]) == ["a", "f", "s", "p"]
    assert params(fs["backpropFilter"]) == ["FS", "dO", "input", "s", "p"]
    assert params(fs["backpropInput"]) == ["dO", "f", "s", "p", "IS"]
    rng = np.random.default_rng(4)
    x, f = _seed_case(rng)
    dout = rng.standard_normal((3, 3))
    want, gw, gx = naive(x, f, 2, 1, dout)
    assert np.abs(np.array(fs["corre"].call(x.tolist(), f.tolist(), 2, 1)) - want).max() > 0.1
    # at stride 1 with a 1x1 filter both slips vanish: y + j*s == y*s + j and f[y][x] is only read at 0, 0
    np.testing.assert_allclose(fs["corre"].call(x[:1, :1].tolist(), [[2.0]], 1, 0), [[2 * x[0, 0]]])
    np.testing.assert_allclose(fs["backpropFilter"].call(3, dout.tolist(), x.tolist(), 2, 1), gw, atol=1e-12)
    np.testing.assert_allclose(fs["backpropInput"].call(dout.tolist(), f.tolist(), 2, 1, 5), gx, atol=1e-12)
