"""locate: the rule for each catalogue id points at the responsible expression in learner-style code.

LEARNER holds small buggy files written the way learners write them (lists,
numpy loops, cs231n, layer classes, 1-D and channel-first); test_fix.py reuses
them end to end. The fixture corpus (tests/fixtures) is checked too, when the
Python loader is there to bind it.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from corrcheck.locate.find import find_function, function_facts, locate, locate_all
from corrcheck.result import Diagnosis

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Learner:
    name: str
    source: str
    flags: tuple
    target: str
    bug: str
    bound: dict
    layout: str
    line_has: str                 # the located line contains this text


def _src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


LEARNER = [
    Learner("lists_filter_by_output.py", _src('''
        def conv(a, f, s, p):
            n_out = (len(a) + 2 * p - len(f)) // s + 1
            m_out = (len(a[0]) + 2 * p - len(f[0])) // s + 1
            res = [[0.0] * m_out for _ in range(n_out)]
            for oy in range(n_out):
                for ox in range(m_out):
                    for ky in range(len(f)):
                        for kx in range(len(f[0])):
                            iy = oy * s + ky - p
                            ix = ox * s + kx - p
                            if 0 <= iy < len(a) and 0 <= ix < len(a[0]):
                                res[oy][ox] += a[iy][ix] * f[oy][ox]
            return res
        '''), ("--stride", "3", "--pad", "1", "--input-size", "7", "--filter-size", "3"), "forward",
        "filter-indexed-by-output", {"forward": "conv"}, "hw", "f[oy][ox]"),
    Learner("numpy_stride_on_tap.py", _src('''
        import numpy as np


        def correlate2d(img, ker, stride=1, pad=0):
            H, W = img.shape
            kh, kw = ker.shape
            oh = (H + 2 * pad - kh) // stride + 1
            ow = (W + 2 * pad - kw) // stride + 1
            out = np.zeros((oh, ow))
            for a in range(oh):
                for b in range(ow):
                    for u in range(kh):
                        for v in range(kw):
                            r = a + u * stride - pad
                            c = b + v * stride - pad
                            if 0 <= r < H and 0 <= c < W:
                                out[a, b] += img[r, c] * ker[u, v]
            return out
        '''), ("--stride", "2", "--pad", "1"), "forward", "stride-on-filter-index",
        {"forward": "correlate2d"}, "hw", "r = a + u * stride - pad"),
    Learner("numpy_pad_sign.py", _src('''
        import numpy as np


        def forward(x, w, s, p):
            kh, kw = w.shape
            oh = (x.shape[0] + 2 * p - kh) // s + 1
            ow = (x.shape[1] + 2 * p - kw) // s + 1
            y = np.zeros((oh, ow))
            for i in range(oh):
                for j in range(ow):
                    for m in range(kh):
                        for n in range(kw):
                            r, c = i * s + m + p, j * s + n + p
                            if 0 <= r < x.shape[0] and 0 <= c < x.shape[1]:
                                y[i, j] += x[r, c] * w[m, n]
            return y
        '''), ("--stride", "2", "--pad", "1"), "forward", "padding-wrong-sign", {"forward": "forward"}, "hw",
        "r, c = i * s + m + p"),
    Learner("lists_wraparound.py", _src('''
        def corr(a, k, s, p):
            oh = (len(a) - len(k) + 2 * p) // s + 1
            ow = (len(a[0]) - len(k[0]) + 2 * p) // s + 1
            out = []
            for y in range(oh):
                row = []
                for x in range(ow):
                    acc = 0.0
                    for j in range(len(k)):
                        for i in range(len(k[0])):
                            r, c = y * s + j - p, x * s + i - p
                            if r < len(a) and c < len(a[0]):
                                acc += a[r][c] * k[j][i]
                    row.append(acc)
                out.append(row)
            return out
        '''), ("--stride", "2", "--pad", "1"), "forward", "negative-index-wraparound", {"forward": "corr"}, "hw",
        "if r < len(a) and c < len(a[0]):"),
    Learner("conv1d_overwrite.py", _src('''
        import numpy as np


        def conv1d(x, w, stride=1, pad=0):
            n = len(x)
            k = len(w)
            n_out = (n + 2 * pad - k) // stride + 1
            y = np.zeros(n_out)
            for o in range(n_out):
                for t in range(k):
                    pos = o * stride + t - pad
                    if 0 <= pos < n:
                        y[o] = x[pos] * w[t]
            return y
        '''), ("--stride", "2", "--pad", "1", "--layout", "w"), "forward", "overwrite-not-accumulate",
        {"forward": "conv1d"}, "w", "y[o] = x[pos] * w[t]"),
    Learner("chw_filter_transposed.py", _src('''
        import numpy as np


        def conv(x, w, stride=1, pad=0):
            C, H, W = x.shape
            F, _, KH, KW = w.shape
            xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
            OH = (H + 2 * pad - KH) // stride + 1
            OW = (W + 2 * pad - KW) // stride + 1
            out = np.zeros((F, OH, OW))
            for f in range(F):
                for i in range(OH):
                    for j in range(OW):
                        for ky in range(KH):
                            for kx in range(KW):
                                out[f, i, j] += np.dot(xp[:, i * stride + ky, j * stride + kx], w[f, :, kx, ky])
            return out
        '''), ("--stride", "2", "--pad", "1", "--layout", "chw", "--filter-size", "3", "--input-size", "5"),
        "forward", "filter-transposed", {"forward": "conv"}, "chw", "w[f, :, kx, ky]"),
    Learner("numpy_stride_ignored.py", _src('''
        import numpy as np


        def conv2d(x, w, stride=1, padding=0):
            xp = np.pad(x, padding)
            kh, kw = w.shape
            oh = (x.shape[0] + 2 * padding - kh) // stride + 1
            ow = (x.shape[1] + 2 * padding - kw) // stride + 1
            out = np.zeros((oh, ow))
            for i in range(oh):
                for j in range(ow):
                    out[i, j] = np.sum(xp[i:i + kh, j:j + kw] * w)
            return out
        '''), ("--stride", "2", "--pad", "1"), "forward", "stride-ignored", {"forward": "conv2d"}, "hw",
        "xp[i:i + kh, j:j + kw]"),
    Learner("cs231n_unpad.py", _src('''
        import numpy as np


        def conv_forward_naive(x, w, b, conv_param):
            stride, pad = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, HH, WW = w.shape
            Ho = 1 + (H + 2 * pad - HH) // stride
            Wo = 1 + (W + 2 * pad - WW) // stride
            xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            out = np.zeros((N, F, Ho, Wo))
            for i in range(Ho):
                for j in range(Wo):
                    win = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
            return out, (x, w, b, conv_param)


        def conv_backward_naive(dout, cache):
            x, w, b, conv_param = cache
            stride, pad = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, HH, WW = w.shape
            xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            dxp = np.zeros_like(xp)
            dw = np.zeros_like(w)
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    dw += np.tensordot(dout[:, :, i, j], win, axes=([0], [0]))
                    dxp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += np.tensordot(
                        dout[:, :, i, j], w, axes=([1], [0]))
            db = dout.sum(axis=(0, 2, 3))
            dx = dxp[:, :, pad:-pad, pad:-pad]
            return dx, dw, db
        '''), ("--stride", "1", "--pad", "0", "--convention", "cs231n"), "grad_input",
        "grad-input-unpad-empty-at-pad0", {"forward": "conv_forward_naive", "grad_input": "conv_backward_naive"},
        "nchw", "dx = dxp[:, :, pad:-pad, pad:-pad]"),
    Learner("cs231n_bias_missing.py", _src('''
        import numpy as np


        def conv_forward_naive(x, w, b, conv_param):
            s, p = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, kh, kw = w.shape
            oh, ow = 1 + (H + 2 * p - kh) // s, 1 + (W + 2 * p - kw) // s
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            out = np.zeros((N, F, oh, ow))
            for i in range(oh):
                for j in range(ow):
                    out[:, :, i, j] = np.einsum("nchw,fchw->nf", xp[:, :, i * s:i * s + kh, j * s:j * s + kw], w)
            return out, (x, w, b, conv_param)


        def conv_backward_naive(dout, cache):
            x, w, b, conv_param = cache
            s, p = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, kh, kw = w.shape
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            dxp = np.zeros_like(xp)
            dw = np.zeros_like(w)
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    g = dout[:, :, i, j]
                    dw += np.einsum("nf,nchw->fchw", g, xp[:, :, i * s:i * s + kh, j * s:j * s + kw])
                    dxp[:, :, i * s:i * s + kh, j * s:j * s + kw] += np.einsum("nf,fchw->nchw", g, w)
            return dxp[:, :, p:p + H, p:p + W], dw, dout.sum(axis=(0, 2, 3))
        '''), ("--stride", "2", "--pad", "1", "--convention", "cs231n"), "forward", "bias-missing",
        {"forward": "conv_forward_naive", "grad_input": "conv_backward_naive"}, "nchw", "return out, (x, w, b"),
    Learner("cs231n_dw_batch.py", _src('''
        import numpy as np


        def conv_forward_naive(x, w, b, conv_param):
            s, p = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, kh, kw = w.shape
            oh, ow = 1 + (H + 2 * p - kh) // s, 1 + (W + 2 * p - kw) // s
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            out = np.zeros((N, F, oh, ow))
            for i in range(oh):
                for j in range(ow):
                    out[:, :, i, j] = np.einsum("nchw,fchw->nf", xp[:, :, i * s:i * s + kh, j * s:j * s + kw], w)
            return out + b[None, :, None, None], (x, w, b, conv_param)


        def conv_backward_naive(dout, cache):
            x, w, b, conv_param = cache
            s, p = conv_param["stride"], conv_param["pad"]
            N, C, H, W = x.shape
            F, _, kh, kw = w.shape
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
            dxp = np.zeros_like(xp)
            for n in range(N):
                dw = np.zeros_like(w)
                for i in range(dout.shape[2]):
                    for j in range(dout.shape[3]):
                        g = dout[n, :, i, j]
                        dw += np.einsum("f,chw->fchw", g, xp[n, :, i * s:i * s + kh, j * s:j * s + kw])
                        dxp[n, :, i * s:i * s + kh, j * s:j * s + kw] += np.einsum("f,fchw->chw", g, w)
            return dxp[:, :, p:p + H, p:p + W], dw, dout.sum(axis=(0, 2, 3))
        '''), ("--stride", "2", "--pad", "1", "--convention", "cs231n", "--batch", "2"), "grad_filter",
        "grad-filter-not-summed-over-batch", {"forward": "conv_forward_naive", "grad_filter": "conv_backward_naive"},
        "nchw", "dw = np.zeros_like(w)"),
    Learner("layer_grad_input_not_flipped.py", _src('''
        import numpy as np
        from numpy.lib.stride_tricks import sliding_window_view


        def corr_valid(a, k):
            return np.einsum("ijuv,uv->ij", sliding_window_view(a, k.shape), k)


        def forward(x, w, stride, pad):
            return corr_valid(np.pad(x, pad), w)[::stride, ::stride]


        def backward_input(dout, w, stride, pad, x_shape):
            kh, kw = w.shape
            H, W = x_shape
            up = np.zeros((H + 2 * pad - kh + 1, W + 2 * pad - kw + 1))
            up[::stride, ::stride] = dout
            full = np.pad(up, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
            dxp = corr_valid(full, w)
            return dxp[pad:pad + H, pad:pad + W]
        '''), ("--stride", "2", "--pad", "1"), "grad_input", "grad-input-filter-not-flipped",
        {"forward": "forward", "grad_input": "backward_input"}, "hw", "dxp = corr_valid(full, w)"),
    Learner("lists_grad_filter_padding.py", _src('''
        def corre(a, f, s, p):
            oy = (len(a) - len(f) + 2 * p) // s + 1
            ox = (len(a[0]) - len(f[0]) + 2 * p) // s + 1
            o = [[0.0] * ox for _ in range(oy)]
            for y in range(oy):
                for x in range(ox):
                    for j in range(len(f)):
                        for i in range(len(f[0])):
                            r, c = y * s + j - p, x * s + i - p
                            if 0 <= r < len(a) and 0 <= c < len(a[0]):
                                o[y][x] += a[r][c] * f[j][i]
            return o


        def backprop_filter(FS, dO, inp, s, p):
            fh, fw = (FS, FS) if isinstance(FS, int) else FS
            d = [[0.0] * fw for _ in range(fh)]
            for j in range(fh):
                for i in range(fw):
                    for h in range(len(dO)):
                        for k in range(len(dO[0])):
                            r, c = h * s + j, k * s + i
                            if 0 <= r < len(inp) and 0 <= c < len(inp[0]):
                                d[j][i] += dO[h][k] * inp[r][c]
            return d
        '''), ("--stride", "2", "--pad", "1", "--forward", "corre", "--grad-filter", "backprop_filter"),
        "grad_filter", "grad-filter-padding-ignored", {"forward": "corre", "grad_filter": "backprop_filter"}, "hw",
        "r, c = h * s + j, k * s + i"),
    Learner("layer_output_size.py", _src('''
        import numpy as np


        def out_len(n, k, s, p):
            return (n + 2 * p - k) // s


        def forward(x, w, s, p):
            kh, kw = w.shape
            oh, ow = out_len(x.shape[0], kh, s, p), out_len(x.shape[1], kw, s, p)
            xp = np.pad(x, p)
            out = np.zeros((oh, ow))
            for i in range(oh):
                for j in range(ow):
                    out[i, j] = np.sum(xp[i * s:i * s + kh, j * s:j * s + kw] * w)
            return out
        '''), ("--stride", "2", "--pad", "1", "--input-size", "7"), "forward", "output-size", {"forward": "forward"},
        "hw", "return (n + 2 * p - k) // s"),
    Learner("numpy_stride_as_slice_step.py", _src('''
        import numpy as np


        def conv2d(x, w, stride, pad):
            k = w.shape[0]
            xp = np.pad(x, pad)
            n_out = (xp.shape[0] - k) // stride + 1
            m_out = (xp.shape[1] - w.shape[1]) // stride + 1
            out = np.zeros((n_out, m_out))
            for r in range(n_out):
                for c in range(m_out):
                    patch = xp[r:r + stride * k:stride, c:c + stride * w.shape[1]:stride]
                    out[r, c] = (patch * w).sum()
            return out
        '''), ("--stride", "2", "--pad", "1", "--input-size", "8", "--filter-size", "3"), "forward",
        "stride-on-filter-index", {"forward": "conv2d"}, "hw", "patch = xp[r:r + stride * k:stride"),
    Learner("lists_stride_as_range_step.py", _src('''
        def correlate(a, f, s, p):
            H, W = len(a), len(a[0])
            kh, kw = len(f), len(f[0])
            oh = (H + 2 * p - kh) // s + 1
            ow = (W + 2 * p - kw) // s + 1
            out = [[0.0] * ow for _ in range(oh)]
            for y in range(oh):
                for x in range(ow):
                    acc = 0.0
                    for j, r in enumerate(range(y, y + s * kh, s)):
                        for i, c in enumerate(range(x, x + s * kw, s)):
                            if p <= r < H + p and p <= c < W + p:
                                acc += a[r - p][c - p] * f[j][i]
                    out[y][x] = acc
            return out
        '''), ("--stride", "2", "--pad", "1", "--input-size", "8", "--filter-size", "3"), "forward",
        "stride-on-filter-index", {"forward": "correlate"}, "hw", "for j, r in enumerate(range(y, y + s * kh, s)):"),
]


@pytest.mark.parametrize("case", LEARNER, ids=lambda c: c.bug)
def test_rule_points_at_the_mistake(case):
    d = Diagnosis(case.target, case.bug, 0.99, "")
    loc = locate(d, case.bound, {case.name: case.source}, {"layout": case.layout})
    assert loc is not None, case.name
    line = case.source.splitlines()[loc.line - 1]
    assert case.line_has in line, (loc, line)
    assert loc.file == case.name
    assert line[loc.column:].startswith(loc.code.splitlines()[0][:0]) and 0 <= loc.column < len(line)
    assert loc.code.splitlines()[0] in line


def test_loop_kinds_come_from_range_bounds_not_names():
    # the same loops with every name changed: kinds still follow the bounds (filter size -> tap, stride -> output)
    src = _src('''
        def g(q, z, t, u):
            aa = (len(q) + 2 * u - len(z)) // t + 1
            for m in range(aa):
                for n in range(len(z)):
                    pass
        ''')
    fn = find_function(ast.parse(src), "g")
    facts = function_facts("g.py", src, fn, "w")
    kinds = {lp.names[0]: lp.kind for lp in facts.loops}
    assert kinds == {"m": "out", "n": "tap"}


CONV3D_SLICE_STEP = _src('''
    import numpy as np


    def conv3d(x, w, s, p):
        N, C, D, H, W = x.shape
        F, _, kd, kh, kw = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p), (p, p)))
        od, oh, ow = (D + 2 * p - kd) // s + 1, (H + 2 * p - kh) // s + 1, (W + 2 * p - kw) // s + 1
        out = np.zeros((N, F, od, oh, ow))
        for a in range(od):
            for i in range(oh):
                for j in range(ow):
                    win = xp[:, :, a:a + s * (kd - 1) + 1:s, i:i + s * (kh - 1) + 1:s, j:j + s * (kw - 1) + 1:s]
                    out[:, :, a, i, j] = np.tensordot(win, w, axes=([1, 2, 3, 4], [1, 2, 3, 4]))
        return out
    ''')


def test_stride_as_slice_step_points_at_the_first_window_slice_in_3d():
    loc = locate(Diagnosis("forward", "stride-on-filter-index", 0.9, ""), {"forward": "conv3d"},
                 {"c3.py": CONV3D_SLICE_STEP}, {"layout": "ncdhw"})
    line = CONV3D_SLICE_STEP.splitlines()[loc.line - 1]
    assert line[loc.column:].startswith("a:a + s * (kd - 1) + 1:s")


@pytest.mark.parametrize("window", [
    "xp[i * s:i * s + k]",                            # right
    "xp[i * s:i * s + d * (k - 1) + 1:d]",            # dilated, right
    "xp[u:u + s * n_out:s]",                          # one tap over every output (im2col style), right
    "xp[i:i + k]",                                    # stride ignored: another mistake
])
def test_windows_that_are_not_the_stride_as_a_step_are_left_alone(window):
    src = _src(f'''
        import numpy as np


        def conv1d(x, w, s, p, d=1):
            k = len(w)
            xp = np.pad(x, p)
            n_out = (len(xp) - k) // s + 1
            out = np.zeros(n_out)
            for i in range(n_out):
                for u in range(k):
                    out[i] += np.sum({window} * w[u])
            return out
        ''')
    loc = locate(Diagnosis("forward", "stride-on-filter-index", 0.9, ""), {"forward": "conv1d"}, {"c.py": src},
                 {"layout": "w"})
    assert loc is None


def test_no_location_for_an_unknown_mistake_or_function():
    case = LEARNER[0]
    assert locate(Diagnosis("forward", None, 0.0, "no known mistake"), case.bound, {case.name: case.source}) is None
    assert locate(Diagnosis("forward", case.bug, 0.9, ""), {"forward": "missing"}, {case.name: case.source}) is None


def test_locate_all_keeps_diagnoses_and_survives_broken_source():
    d = Diagnosis("forward", "filter-indexed-by-output", 0.9, "x")
    out = locate_all([d], {"forward": "conv"}, {"bad.py": "def conv(:\n"})
    assert out == (d,)


def test_column_counts_characters_not_bytes():
    case = LEARNER[0]
    src = "# é ü\n" + case.source.replace("res[oy][ox] +=", "rés = 0; res[oy][ox] +=")
    loc = locate(Diagnosis(case.target, case.bug, 0.9, ""), case.bound, {"u.py": src}, {"layout": "hw"})
    line = src.splitlines()[loc.line - 1]
    assert line[loc.column:].startswith("f[oy][ox]")


# ----------------------------------------------------------------------------- the fixture corpus, end to end

def _has_python_loader() -> bool:
    return importlib.util.find_spec("corrcheck.loader.python_source") is not None


def corpus_entries():
    entries = json.loads((FIXTURES / "manifest.json").read_text())
    return [e for e in entries if e.get("bug") and e["files"][0].startswith("catalogue/")
            and all(f.endswith(".py") for f in e["files"])]


@pytest.mark.skipif(not _has_python_loader(), reason="the Python loader is not there yet")
@pytest.mark.parametrize("entry", corpus_entries(), ids=lambda e: e["bug"])
def test_corpus_locations(entry, monkeypatch):
    from typer.testing import CliRunner
    from corrcheck.cli import app
    monkeypatch.chdir(FIXTURES)
    out = CliRunner().invoke(app, ["run", *entry["files"], *entry["flags"], "--json"])
    doc = json.loads(out.stdout)
    hits = [d for d in doc.get("diagnoses", []) if d["bug"] == entry["bug"]]
    if not hits:
        pytest.skip(f"{entry['bug']} not diagnosed in this run")
    loc = hits[0].get("location")
    assert loc is not None and loc["file"] == entry["files"][0]
    line = (FIXTURES / loc["file"]).read_text().splitlines()[loc["line"] - 1]
    assert loc["code"].splitlines()[0] in line


# ----------------------------------------------------------------------------- JavaScript through tree-sitter

JS_MAP_STYLE = """\
function corre(a, f, s, p){
  let outY = parseInt((a.length - f.length + 2 * p)/s + 1)
  let outX = parseInt((a.length - f.length + 2 * p)/s + 1)
  return new Array(outY).fill(0).map((_, y) =>
    new Array(outX).fill(0).map((__, x) => {
      let sum = 0;
      for(let j = 0; j < f.length; j++){
        for(let i = 0; i < f[j].length; i++){
          if(a[y + j * s - p] && a[y + j * s - p][x + i * s - p])
            sum += a[y + j * s - p][x + i * s - p] * f[y][x]
        }
      }
      return sum
    }))
}
"""


@pytest.mark.parametrize("bug, line, column", [("filter-indexed-by-output", 10, 53),
                                               ("stride-on-filter-index", 9, 15)])
def test_javascript_seed_question_code_is_located(bug, line, column):
    pytest.importorskip("tree_sitter_javascript")
    loc = locate(Diagnosis("forward", bug, 0.9, ""), {"forward": "corre"}, {"q.js": JS_MAP_STYLE}, {"layout": "hw"})
    assert (loc.line, loc.column) == (line, column)
    assert JS_MAP_STYLE.splitlines()[line - 1][column:].startswith(("f[y][x]", "y + j * s - p"))


def test_javascript_namespace_functions_and_helpers():
    pytest.importorskip("tree_sitter_javascript")
    src = (FIXTURES / "shapes" / "js" / "mlib_conv_bug.js").read_text()
    loc = locate(Diagnosis("grad_input", "grad-input-padding-offset", 0.9, ""),
                 {"grad_input": "mlib.conv.backwardInput"}, {"m.js": src}, {"layout": "hw"})
    assert loc is not None and "j + p" in loc.code
