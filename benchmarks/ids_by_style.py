"""Which catalogue ids corrcheck names in which coding style (a script, not a test).

    python benchmarks/ids_by_style.py [--ids ID,ID] [--styles py-loops,js-loops,...]

Each id is written into learner-style templates (one mistake per file, every
other function right): Python nested lists (seed style), JavaScript for
loops, cs231n NCHW numpy loops over window slices, and a layer class
vectorised over the filter taps (tensordot over channels). Files are checked
on the default non-square shapes (7x6 input, 3x2 filter; 8x7 when the stride
needs it) through the Python API, exactly as `corrcheck run` would; the table
says, per id and style, whether the id is named for the failing target
(Y), something else is named (the id shown), nothing is named (-), or the
style cannot express the mistake ('.').
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import corrcheck  # noqa: E402

# ----------------------------------------------------------------------------- Python nested lists

PY = '''
def out_len(n, k, s, p):
    return {SIZE}


def forward(a, f, s, p):
    H, W, KH, KW = len(a), len(a[0]), len(f), len(f[0])
    OH, OW = out_len(H, KH, s, p), out_len(W, KW, s, p)
    out = [[0.0] * OW for _ in range(OH)]
    for y in range(OH):
        for x in range(OW):
            acc = 0.0
            for j in range(KH):
                for i in range(KW):
                    r = {FR}
                    c = {FC}
                    if {FGUARD}:
                        acc {FACC} a[r][c] * {FREAD}
            out[y][x] = acc
    return out


def grad_filter(dout, a, s, p, KS):
    KH, KW = KS
    H, W = len(a), len(a[0])
    df = [[0.0] * KW for _ in range(KH)]
    for y in range(len(dout)):
        for x in range(len(dout[0])):
            for j in range(KH):
                for i in range(KW):
                    r = {WR}
                    c = {WC}
                    if {WGUARD}:
                        df[j][i] += dout[y][x] * a[r][c]
    return df


def grad_input(dout, f, s, p, XS):
    H, W = XS
    KH, KW = len(f), len(f[0])
    dx = [[0.0] * W for _ in range(H)]
    for y in range(len(dout)):
        for x in range(len(dout[0])):
            for j in range(KH):
                for i in range(KW):
                    r = {IR}
                    c = {IC}
                    if {IGUARD}:
                        dx[r][c] {IACC} dout[y][x] * {IREAD}
    return dx
'''

PY_DEFAULT = dict(SIZE="(n + 2 * p - k) // s + 1", FR="y * s + j - p", FC="x * s + i - p",
                  FGUARD="0 <= r < H and 0 <= c < W", FACC="+=", FREAD="f[j][i]",
                  WR="y * s + j - p", WC="x * s + i - p", WGUARD="0 <= r < H and 0 <= c < W",
                  IR="y * s + j - p", IC="x * s + i - p", IGUARD="0 <= r < H and 0 <= c < W", IACC="+=",
                  IREAD="f[j][i]")
PY_FLAGS = ["forward", "grad_filter", "grad_input"]

PY_BUGS = {
    "filter-indexed-by-output": dict(FREAD="f[y][x]"),
    "stride-on-filter-index": dict(FR="y + j * s - p", FC="x + i * s - p"),
    "filter-transposed": dict(FREAD="f[i][j]"),
    "input-transposed": dict(FR="x * s + i - p", FC="y * s + j - p", FGUARD="0 <= r < W and 0 <= c < H",
                             ),
    "filter-flipped": dict(FREAD="f[KH - 1 - j][KW - 1 - i]"),
    "padding-ignored": dict(FR="y * s + j", FC="x * s + i"),
    "padding-wrong-sign": dict(FR="y * s + j + p", FC="x * s + i + p"),
    "negative-index-wraparound": dict(FGUARD="r < H and c < W"),
    "stride-ignored": dict(FR="y + j - p", FC="x + i - p"),
    "overwrite-not-accumulate": dict(FACC="="),
    "output-size": dict(SIZE="(n + 2 * p - k) // s"),
    "grad-filter-stride-ignored": dict(WR="y + j - p", WC="x + i - p"),
    "grad-filter-padding-ignored": dict(WR="y * s + j", WC="x * s + i"),
    "grad-filter-transposed": dict(WR="y * s + i - p", WC="x * s + j - p"),
    "grad-filter-wraparound": dict(WGUARD="r < H and c < W"),
    "grad-input-filter-not-flipped": dict(IREAD="f[KH - 1 - j][KW - 1 - i]"),
    "grad-input-stride-ignored": dict(IR="y + j - p", IC="x + i - p"),
    "grad-input-padding-offset": dict(IR="y * s + j", IC="x * s + i"),
    "grad-input-overwrite-not-accumulate": dict(IACC="="),
    "grad-input-wraparound": dict(IGUARD="r < H and c < W"),
}

# ----------------------------------------------------------------------------- JavaScript for loops

JS = '''
function outLen(n, k, s, p) { return {SIZE}; }

function forward(a, f, s, p) {
  const H = a.length, W = a[0].length, KH = f.length, KW = f[0].length;
  const OH = outLen(H, KH, s, p), OW = outLen(W, KW, s, p);
  const out = [];
  for (let y = 0; y < OH; y++) {
    out.push(new Array(OW).fill(0));
    for (let x = 0; x < OW; x++) {
      let acc = 0;
      for (let j = 0; j < KH; j++) {
        for (let i = 0; i < KW; i++) {
          const r = {FR}, c = {FC};
          if ({FGUARD}) acc {FACC} a[r][c] * {FREAD};
        }
      }
      out[y][x] = acc;
    }
  }
  return out;
}

function gradFilter(dout, a, s, p, KS) {
  const KH = KS[0], KW = KS[1], H = a.length, W = a[0].length;
  const df = [];
  for (let j = 0; j < KH; j++) df.push(new Array(KW).fill(0));
  for (let y = 0; y < dout.length; y++)
    for (let x = 0; x < dout[0].length; x++)
      for (let j = 0; j < KH; j++)
        for (let i = 0; i < KW; i++) {
          const r = {WR}, c = {WC};
          if ({WGUARD}) df[j][i] += dout[y][x] * a[r][c];
        }
  return df;
}

function gradInput(dout, f, s, p, XS) {
  const H = XS[0], W = XS[1], KH = f.length, KW = f[0].length;
  const dx = [];
  for (let r = 0; r < H; r++) dx.push(new Array(W).fill(0));
  for (let y = 0; y < dout.length; y++)
    for (let x = 0; x < dout[0].length; x++)
      for (let j = 0; j < KH; j++)
        for (let i = 0; i < KW; i++) {
          const r = {IR}, c = {IC};
          if ({IGUARD}) dx[r][c] {IACC} dout[y][x] * {IREAD};
        }
  return dx;
}
'''

JS_DEFAULT = dict(PY_DEFAULT, SIZE="Math.floor((n + 2 * p - k) / s) + 1",
                  FGUARD="r >= 0 && r < H && c >= 0 && c < W", WGUARD="r >= 0 && r < H && c >= 0 && c < W",
                  IGUARD="r >= 0 && r < H && c >= 0 && c < W")
JS_BUGS = {k: dict(v) for k, v in PY_BUGS.items() if "wraparound" not in k}
JS_BUGS["input-transposed"] = dict(FR="x * s + i - p", FC="y * s + j - p",
                                   FGUARD="r >= 0 && r < W && c >= 0 && c < H")
JS_BUGS["grad-filter-transposed"] = dict(WR="y * s + i - p", WC="x * s + j - p")
JS_BUGS["output-size"] = dict(SIZE="Math.round((n + 2 * p - k) / s + 1)")
JS_FLAGS = ["forward", "gradFilter", "gradInput"]

# ----------------------------------------------------------------------------- cs231n numpy loops

CS = '''
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    s, p = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho = {SIZE_H}
    Wo = 1 + (W + 2 * p - WW) // s
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    win = xp[n, {CH}, {WIN_R}, {WIN_C}]
                    out[n, f, i, j] {FACC} np.sum(win * {WREAD}){BIAS}
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    s, p = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = {DB}
    for n in range(N):
        {DW_RESET}
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    win = xp[n, :, {BWIN_R}, {BWIN_C}]
                    dw[f] += dout[n, f, i, j] * win
                    dxp[n, :, {DWIN_R}, {DWIN_C}] {DACC} dout[n, f, i, j] * {DREAD}
    dx = {CROP}
    return dx, dw, db
'''

CS_DEFAULT = dict(SIZE_H="1 + (H + 2 * p - HH) // s", CH=":", WIN_R="i * s:i * s + HH", WIN_C="j * s:j * s + WW",
                  FACC="=", WREAD="w[f]", BIAS=" + b[f]", DB="dout.sum(axis=(0, 2, 3))", DW_RESET="pass",
                  BWIN_R="i * s:i * s + HH", BWIN_C="j * s:j * s + WW", DWIN_R="i * s:i * s + HH",
                  DWIN_C="j * s:j * s + WW", DACC="+=", DREAD="w[f]", CROP="dxp[:, :, p:p + H, p:p + W]")
CS_BUGS = {
    "filter-flipped": dict(WREAD="w[f, :, ::-1, ::-1]"),
    "stride-ignored": dict(WIN_R="i:i + HH", WIN_C="j:j + WW"),
    "stride-on-filter-index": dict(WIN_R="i:i + s * (HH - 1) + 1:s", WIN_C="j:j + s * (WW - 1) + 1:s"),
    "output-size": dict(SIZE_H="(H + 2 * p - HH) // s"),
    "channels-not-summed": dict(CH="0:1", WREAD="w[f, 0:1]"),
    "bias-missing": dict(BIAS=""),
    "grad-filter-stride-ignored": dict(BWIN_R="i:i + HH", BWIN_C="j:j + WW"),
    "grad-filter-not-summed-over-batch": dict(DW_RESET="dw = np.zeros_like(w)"),
    "grad-input-filter-not-flipped": dict(DREAD="w[f, :, ::-1, ::-1]"),
    "grad-input-stride-ignored": dict(DWIN_R="i:i + HH", DWIN_C="j:j + WW"),
    "grad-input-padding-offset": dict(CROP="dxp[:, :, :H, :W]"),
    "grad-input-overwrite-not-accumulate": dict(DACC="="),
    "grad-input-unpad-empty-at-pad0": dict(CROP="dxp[:, :, p:-p, p:-p]"),
    "grad-bias-not-summed": dict(DB="dout[0].sum(axis=(1, 2))"),
    "filter-transposed": dict(WREAD="np.swapaxes(w[f], 1, 2)"),
}

# ----------------------------------------------------------------------------- layer class, vectorised over taps

LAYER = '''
import numpy as np


class Conv:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def _size(self, n, k):
        return {SIZE}

    def forward(self, x):
        s, p = self.stride, self.pad
        F, C, KH, KW = self.W.shape
        N, _, H, W = x.shape
        OH, OW = self._size(H, KH), self._size(W, KW)
        self.x, self.xp = x, np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        out = np.zeros((N, F, OH, OW))
        for u in range(KH):
            for v in range(KW):
                patch = self.xp[:, {CH}, {PR}, {PC}]
                out {FACC} np.einsum('nchw,fc->nfhw', patch, {WTAP})
        return out{BIAS}

    def backward(self, dout):
        s, p = self.stride, self.pad
        F, C, KH, KW = self.W.shape
        N, _, OH, OW = dout.shape
        H, W = self.x.shape[2:]
        dxp = np.zeros_like(self.xp)
        self.dW = np.zeros_like(self.W)
        for u in range(KH):
            for v in range(KW):
                patch = self.xp[:, :, {BR}, {BC}]
                self.dW[:, :, u, v] = np.einsum({DWSPEC}, dout, patch)
                dxp[:, :, {DR}, {DC}] {DACC} np.einsum('nfhw,fc->nchw', dout, {DTAP})
        self.db = {DB}
        return {CROP}
'''

LAYER_DEFAULT = dict(SIZE="(n + 2 * self.pad - k) // self.stride + 1", CH=":", PR="u:u + s * OH:s",
                     PC="v:v + s * OW:s", FACC="+=", WTAP="self.W[:, :, u, v]", BIAS=" + self.b.reshape(1, -1, 1, 1)",
                     BR="u:u + s * OH:s", BC="v:v + s * OW:s", DWSPEC="'nfhw,nchw->fc'", DR="u:u + s * OH:s",
                     DC="v:v + s * OW:s", DACC="+=", DTAP="self.W[:, :, u, v]", DB="dout.sum(axis=(0, 2, 3))",
                     CROP="dxp[:, :, p:p + H, p:p + W]")
LAYER_BUGS = {
    "overwrite-not-accumulate": dict(FACC="="),
    "stride-ignored": dict(PR="u:u + OH", PC="v:v + OW"),
    "filter-flipped": dict(WTAP="self.W[:, :, KH - 1 - u, KW - 1 - v]"),
    "channels-not-summed": dict(CH="-1:", WTAP="self.W[:, -1:, u, v]"),
    "bias-missing": dict(BIAS=""),
    "output-size": dict(SIZE="(n + 2 * self.pad - k) // self.stride"),
    "grad-filter-stride-ignored": dict(BR="u:u + OH", BC="v:v + OW"),
    "grad-filter-not-summed-over-batch": dict(DWSPEC="'fhw,chw->fc'", BR="u:u + s * OH:s",
                                              ),
    "grad-input-filter-not-flipped": dict(DTAP="self.W[:, :, KH - 1 - u, KW - 1 - v]"),
    "grad-input-stride-ignored": dict(DR="u:u + OH", DC="v:v + OW"),
    "grad-input-overwrite-not-accumulate": dict(DACC="="),
    "grad-input-unpad-empty-at-pad0": dict(CROP="dxp[:, :, p:-p, p:-p]"),
    "grad-input-padding-offset": dict(CROP="dxp[:, :, :H, :W]"),
    "grad-bias-not-summed": dict(DB="dout.sum(axis=(2, 3))[-1]"),
    "grad-filter-transposed": dict(DWSPEC="'nfhw,nchw->fc'"),
}


NP_TAPS = '''
import numpy as np


def out_len(n, k, s, p):
    return {SIZE}


def forward(a, f, s, p):
    H, W = a.shape
    KH, KW = f.shape
    out = np.zeros((out_len(H, KH, s, p), out_len(W, KW, s, p)))
    for j in range(KH):
        for i in range(KW):
            for y in range(out.shape[0]):
                for x in range(out.shape[1]):
                    r, c = {FR}, {FC}
                    if {FGUARD}:
                        out[y, x] {FACC} a[r, c] * {FREAD}
    return out


def grad_filter(dout, a, s, p, KS):
    H, W = a.shape
    df = np.zeros(KS)
    KH, KW = KS
    for j in range(KH):
        for i in range(KW):
            for y in range(dout.shape[0]):
                for x in range(dout.shape[1]):
                    r, c = {WR}, {WC}
                    if {WGUARD}:
                        df[j, i] += dout[y, x] * a[r, c]
    return df


def grad_input(dout, f, s, p, XS):
    H, W = XS
    KH, KW = f.shape
    dx = np.zeros(XS)
    for j in range(KH):
        for i in range(KW):
            for y in range(dout.shape[0]):
                for x in range(dout.shape[1]):
                    r, c = {IR}, {IC}
                    if {IGUARD}:
                        dx[r, c] {IACC} dout[y, x] * {IREAD}
    return dx
'''
NP_BUGS = {k: dict(v) for k, v in PY_BUGS.items()}
for _k, _v in NP_BUGS.items():
    for _slot in ("FREAD", "IREAD"):
        if _slot in _v:
            _v[_slot] = _v[_slot].replace("][", ", ")


def _fill(template, values):
    out = template
    for k, v in values.items():
        out = out.replace("{" + k + "}", v)
    return out


def _layer_fill(bug):
    vals = dict(LAYER_DEFAULT, **LAYER_BUGS.get(bug, {}))
    text = _fill(LAYER, vals)
    if bug == "grad-filter-not-summed-over-batch":       # only the last sample's patch and dout
        text = text.replace("np.einsum('fhw,chw->fc', dout, patch)", "np.einsum('fhw,chw->fc', dout[-1], patch[-1])")
    if bug == "grad-filter-transposed":                  # the gradient stored with its tap axes swapped
        text = text.replace("self.dW[:, :, u, v] =", "self.dW[:, :, v, u] =")
    return text


STYLES = {
    "numpy-taps-outer": (".py", lambda bug: _fill(NP_TAPS, {**PY_DEFAULT, "FREAD": "f[j, i]", "IREAD": "f[j, i]",
                                                                 **NP_BUGS[bug]})
                         if bug in NP_BUGS else None,
                         dict(forward="forward", grad_filter="grad_filter", grad_input="grad_input", stride=2, pad=1)),
    "py-loops": (".py", lambda bug: _fill(PY, dict(PY_DEFAULT, **PY_BUGS[bug])) if bug in PY_BUGS else None,
                 dict(forward="forward", grad_filter="grad_filter", grad_input="grad_input", stride=2, pad=1)),
    "js-loops": (".js", lambda bug: _fill(JS, dict(JS_DEFAULT, **JS_BUGS[bug])) if bug in JS_BUGS else None,
                 dict(forward="forward", grad_filter="gradFilter", grad_input="gradInput", stride=2, pad=1)),
    "cs231n": (".py", lambda bug: _fill(CS, dict(CS_DEFAULT, **CS_BUGS[bug])) if bug in CS_BUGS else None,
               dict(convention="cs231n", stride=2, pad=1)),
    "layer-taps": (".py", lambda bug: _layer_fill(bug) if bug in LAYER_BUGS else None,
                   dict(convention="layer", stride=2, pad=1)),
}


def run_one(style, bug, tmp):
    ext, make, flags = STYLES[style]
    src = make(bug)
    if src is None:
        return "."
    path = Path(tmp) / f"{style}_{bug}{ext}".replace("-", "_")
    path.write_text(src)
    opts = dict(flags)
    if bug == "stride-on-filter-index" and style in ("cs231n",):
        opts["input_size"] = "9x8"
    try:
        doc = corrcheck.check(str(path), **opts).to_dict()
    except Exception as exc:                           # a broken template is a row to fix, not a crash
        return f"!{type(exc).__name__}"
    if doc["verdict"] != "fail":
        return doc["verdict"]
    from corrcheck.diagnosis.catalogue import by_id
    target = by_id(bug).target
    named = [d["bug"] for d in doc.get("diagnoses", []) if d["target"] == target]
    if bug in named:
        return "Y"
    others = [d["bug"] for d in doc.get("diagnoses", []) if d["bug"]]
    return others[0] if others else "-"


def main(argv=None):
    from corrcheck.diagnosis.catalogue import CATALOGUE
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", default="")
    ap.add_argument("--styles", default=",".join(STYLES))
    args = ap.parse_args(argv)
    ids = [m.id for m in CATALOGUE if not args.ids or m.id in args.ids.split(",")]
    styles = args.styles.split(",")
    print(f"| id | {' | '.join(styles)} | styles naming it |")
    print("|---|" + "---|" * (len(styles) + 1))
    with tempfile.TemporaryDirectory() as tmp:
        for bug in ids:
            cells = [run_one(s, bug, tmp) for s in styles]
            print(f"| {bug} | {' | '.join(cells)} | {sum(c == 'Y' for c in cells)} |", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("CORRCHECK_JOBS", "1")
    main()
