"""Every layout, zero flags: the right layout is detected, a correct file passes, a stride bug fails.

The files are written here the way a learner would for each layout (their own
loops over np.ndindex), in the functional convention, then checked through the
real CLI. Unusual layouts that signatures cannot reveal get --layout.
"""
import textwrap

import pytest


CORE = '''
import numpy as np

def _canon(x, w, layout):
    """my arrays -> (N, C, *S) and (F, C, *K)"""
    if layout in ("w", "hw", "dhw"):
        return x[None, None], w[None, None]
    if layout == "chw":
        return x[None], w
    if layout == "nhwc":
        return np.moveaxis(x, -1, 1), np.moveaxis(w, (-1, -2), (0, 1))
    return x, w

def _uncanon(out, layout):
    if layout in ("w", "hw", "dhw"):
        return out[0, 0]
    if layout == "chw":
        return out[0]
    if layout == "nhwc":
        return np.moveaxis(out, 1, -1)
    return out

def _positions(n, k, s, p):
    return range((n + 2 * p - k) // s + 1)

def _conv(x, w, s, p, STEP):
    N, C = x.shape[:2]
    F = w.shape[0]
    S, K = x.shape[2:], w.shape[2:]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p)] * len(S))
    O = tuple(len(_positions(n, k, s, p)) for n, k in zip(S, K))
    out = np.zeros((N, F) + O)
    for o in np.ndindex(*O):
        window = tuple(slice(i * STEP, i * STEP + k) for i, k in zip(o, K))
        patch = xp[(slice(None), slice(None)) + window]
        out[(slice(None), slice(None)) + o] = np.tensordot(patch, w, axes=(list(range(1, 2 + len(K))), list(range(1, 2 + len(K)))))
    return out

def _grads(dout, x, w, s, p):
    N, C = x.shape[:2]
    S, K = x.shape[2:], w.shape[2:]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p)] * len(S))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for o in np.ndindex(*dout.shape[2:]):
        window = (slice(None), slice(None)) + tuple(slice(i * s, i * s + k) for i, k in zip(o, K))
        g = dout[(slice(None), slice(None)) + o]
        dw += np.tensordot(g, xp[window], axes=([0], [0]))
        dxp[window] += np.tensordot(g, w, axes=([1], [0]))
    inner = (slice(None), slice(None)) + tuple(slice(p, p + n) for n in S)
    return dxp[inner], dw
'''

FUNCS = '''
LAYOUT = "{layout}"

def conv_forward(x, w, stride, pad):
    {unpack} = np.shape(x)
    cx, cw = _canon(np.asarray(x, float), np.asarray(w, float), LAYOUT)
    return _uncanon(_conv(cx, cw, stride, pad, {step}), LAYOUT)

def conv_backward(dout, x, w, stride, pad):
    {unpack} = np.shape(x)
    cx, cw = _canon(np.asarray(x, float), np.asarray(w, float), LAYOUT)
    cd, _ = _canon(np.asarray(dout, float), cw, LAYOUT)
    dx, dw = _grads(cd, cx, cw, stride, pad)
    return _uncanon(dx, LAYOUT), _canon_w_back(dw, LAYOUT)

def _canon_w_back(dw, layout):
    if layout in ("w", "hw", "dhw"):
        return dw[0, 0]
    if layout == "nhwc":
        return np.moveaxis(dw, (0, 1), (-1, -2))
    return dw
'''

# how a learner's code reads the input's shape (this is what pins the layout down)
UNPACK = {"w": "(L,)", "hw": "H, W", "dhw": "D, H, W", "chw": "C, H, W", "nchw": "N, C, H, W",
          "nhwc": "N, H, W, C", "ncdhw": "N, C, D, H, W"}

# (layout, flags needed beyond stride/pad)
LAYOUTS = [("w", []), ("hw", []), ("dhw", []), ("chw", []), ("nchw", []), ("nhwc", []), ("ncdhw", [])]


def _write(tmp_path, layout, buggy):
    path = tmp_path / f"conv_{layout}_{'bug' if buggy else 'ok'}.py"
    step = "1" if buggy else "stride"     # the bug: windows placed without the stride
    path.write_text(textwrap.dedent(CORE) + FUNCS.format(layout=layout, step=step, unpack=UNPACK[layout]))
    return path


@pytest.mark.parametrize("layout,flags", LAYOUTS)
def test_layout_detected_and_checked(tmp_path, layout, flags, cli):
    ok = _write(tmp_path, layout, buggy=False)
    proc, doc = cli.run_json("run", ok, "--stride", "2", "--pad", "1", *flags)
    cli.assert_no_internal_traceback(proc)
    assert doc["verdict"] == "pass", (doc.get("error"), doc.get("checks"))
    assert doc["config"]["layout"] == layout
    bad = _write(tmp_path, layout, buggy=True)
    proc, doc = cli.run_json("run", bad, "--stride", "2", "--pad", "1", *flags)
    assert proc.returncode == 1
    failing = {c["target"] for c in doc["checks"] if c["status"] != "pass"}
    assert "forward" in failing
    assert doc["config"]["layout"] == layout


def test_explicit_layout_mismatch_is_reported_as_such(tmp_path, cli):
    ok = _write(tmp_path, "nhwc", buggy=False)
    proc, doc = cli.run_json("run", ok, "--stride", "2", "--pad", "1", "--layout", "nchw")
    assert proc.returncode == 2
    assert "layout mismatch" in doc["error"]["message"] and "nhwc" in doc["error"]["message"]
