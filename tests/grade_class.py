"""A generated class for `corrcheck grade`: learner-style submissions in two conventions.

cs231n (`layers.py`) and Holberton (`0-conv_forward.py` + `2-conv_backward.py`)
submissions are written from one correct template each; a buggy submission applies
one or two textual mutations, each the way a learner writes that catalogue mistake;
a few are hostile (endless loop, huge allocation, sys.exit at import, syntax error).
`make_class` returns what it wrote, so a test can assert the summary's counts from
what was generated rather than from what corrcheck said before.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

CS231N = '''\
import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    """Naive forward pass: out[n, f] = sum over the window of x_pad * w[f], plus b[f]."""
    stride = conv_param['stride']
    pad = conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top = i * stride
                    left = j * stride
                    window = x_pad[n, :, top:top + HH, left:left + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """Naive backward pass: returns dx, dw, db."""
    x, w, b, conv_param = cache
    stride = conv_param['stride']
    pad = conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode='constant')
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = np.sum(dout, axis=(0, 2, 3))
    for n in range(N):
        xn = x_pad[n]
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    hs = i * stride
                    ws = j * stride
                    dw[f] += xn[:, hs:hs + HH, ws:ws + WW] * dout[n, f, i, j]
                    dx_pad[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
'''

HB_PAD = '''\
    if padding == "same":
        ph = int(np.ceil(((h_prev - 1) * sh + kh - h_prev) / 2))
        pw = int(np.ceil(((w_prev - 1) * sw + kw - w_prev) / 2))
    elif padding == "valid":
        ph, pw = 0, 0
    else:
        ph, pw = padding
'''

HB_FORWARD = '''\
#!/usr/bin/env python3
"""Forward propagation over a convolutional layer of a neural network"""
import numpy as np


def conv_forward(A_prev, W, b, activation, padding="same", stride=(1, 1)):
    """Returns the output of the convolutional layer"""
    m, h_prev, w_prev, c_prev = A_prev.shape
    kh, kw, _, c_new = W.shape
    sh, sw = stride
''' + HB_PAD + '''\
    A_pad = np.pad(A_prev, ((0, 0), (ph, ph), (pw, pw), (0, 0)), mode="constant")
    h_new = (h_prev + 2 * ph - kh) // sh + 1
    w_new = (w_prev + 2 * pw - kw) // sw + 1
    Z = np.zeros((m, h_new, w_new, c_new))
    for i in range(h_new):
        for j in range(w_new):
            for k in range(c_new):
                patch = A_pad[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
                Z[:, i, j, k] = np.sum(patch * W[:, :, :, k], axis=(1, 2, 3))
    return activation(Z + b)
'''

HB_BACKWARD = '''\
#!/usr/bin/env python3
"""Back propagation over a convolutional layer of a neural network"""
import numpy as np


def conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1)):
    """Returns the partial derivatives dA_prev, dW, db"""
    m, h_prev, w_prev, c_prev = A_prev.shape
    kh, kw, _, c_new = W.shape
    _, h_new, w_new, _ = dZ.shape
    sh, sw = stride
''' + HB_PAD + '''\
    A_pad = np.pad(A_prev, ((0, 0), (ph, ph), (pw, pw), (0, 0)), mode="constant")
    dA_pad = np.zeros_like(A_pad)
    dW = np.zeros_like(W)
    db = np.sum(dZ, axis=(0, 1, 2), keepdims=True)
    for n in range(m):
        for i in range(h_new):
            for j in range(w_new):
                for k in range(c_new):
                    r = i * sh
                    c = j * sw
                    dA_pad[n, r:r + kh, c:c + kw, :] += W[:, :, :, k] * dZ[n, i, j, k]
                    dW[:, :, :, k] += A_pad[n, r:r + kh, c:c + kw, :] * dZ[n, i, j, k]
    dA_prev = dA_pad[:, ph:ph + h_prev, pw:pw + w_prev, :]
    return dA_prev, dW, db
'''

# catalogue id -> (file, old text, new text): one learner's way of making that mistake.
CS231N_MUTATIONS = {
    "bias-missing": ("layers.py", "np.sum(window * w[f]) + b[f]", "np.sum(window * w[f])"),
    "stride-ignored": ("layers.py", "top = i * stride\n                    left = j * stride",
                       "top = i\n                    left = j"),
    "overwrite-not-accumulate": ("layers.py", "np.sum(window * w[f]) + b[f]", "(window * w[f])[-1, -1, -1] + b[f]"),
    "grad-input-unpad-empty-at-pad0": ("layers.py", "dx_pad[:, :, pad:pad + H, pad:pad + W]",
                                       "dx_pad[:, :, pad:-pad, pad:-pad]"),
    "grad-input-overwrite-not-accumulate": ("layers.py", "dx_pad[n, :, hs:hs + HH, ws:ws + WW] +=",
                                            "dx_pad[n, :, hs:hs + HH, ws:ws + WW] ="),
    "grad-filter-not-summed-over-batch": ("layers.py", "        xn = x_pad[n]\n",
                                          "        xn = x_pad[n]\n        dw = np.zeros_like(w)\n"),
    "grad-filter-stride-ignored": ("layers.py", "dw[f] += xn[:, hs:hs + HH, ws:ws + WW]",
                                   "dw[f] += xn[:, i:i + HH, j:j + WW]"),
}
HB_MUTATIONS = {
    "bias-missing": ("0-conv_forward.py", "return activation(Z + b)", "return activation(Z)"),
    "stride-ignored": ("0-conv_forward.py", "A_pad[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]",
                       "A_pad[:, i:i + kh, j:j + kw, :]"),
    "grad-input-unpad-empty-at-pad0": ("2-conv_backward.py", "dA_pad[:, ph:ph + h_prev, pw:pw + w_prev, :]",
                                       "dA_pad[:, ph:-ph, pw:-pw, :]"),
    "grad-input-overwrite-not-accumulate": ("2-conv_backward.py", "dA_pad[n, r:r + kh, c:c + kw, :] +=",
                                            "dA_pad[n, r:r + kh, c:c + kw, :] ="),
    "grad-filter-stride-ignored": ("2-conv_backward.py", "A_pad[n, r:r + kh, c:c + kw, :] * dZ",
                                   "A_pad[n, i:i + kh, j:j + kw, :] * dZ"),
}
FORWARD_BUGS = {"bias-missing", "stride-ignored", "overwrite-not-accumulate"}

# Hostile submissions: what `corrcheck grade` must say (verdict, words of the message).
HOSTILE = {
    "endless-loop": ("error", "timed out after"),       # killed by the grader's --time-limit
    "huge-allocation": ("fail", "MemoryError"),        # the child's memory limit makes it fail, not the machine
    "exit-at-import": ("error", "sys.exit"),
    "syntax-error": ("error", "syntax error"),
}


@dataclass
class Generated:
    root: Path
    expected: dict = field(default_factory=dict)     # folder -> ("pass"|"fail"|"error", [bug ids])

    def count(self, verdict: str) -> int:
        return sum(v == verdict for v, _ in self.expected.values())

    def mistake_counts(self) -> dict:
        counts: dict = {}
        for _, bugs in self.expected.values():
            for bug in bugs:
                counts[bug] = counts.get(bug, 0) + 1
        return counts


def _files(convention: str) -> dict:
    if convention == "cs231n":
        return {"layers.py": CS231N}
    return {"0-conv_forward.py": HB_FORWARD, "2-conv_backward.py": HB_BACKWARD}


def _mutate(files: dict, mutations: dict, bugs: list[str]) -> dict:
    files = dict(files)
    for bug in bugs:
        name, old, new = mutations[bug]
        assert files[name].count(old) == 1, (bug, old)
        files[name] = files[name].replace(old, new)
    return files


def _hostile(files: dict, kind: str) -> dict:
    files = dict(files)
    name = sorted(files)[0]
    text = files[name]
    head, _, body = text.partition("\ndef ")
    if kind == "endless-loop":          # sleeps in C, beyond the reach of the in-process --timeout
        body = body.replace('"""\n', '"""\n    import time\n    while True:\n        time.sleep(1)\n', 1)
    elif kind == "huge-allocation":     # 3.2 GB of ones: fine on this machine, not under --memory-limit
        body = body.replace('"""\n', '"""\n    scratch = np.ones(400_000_000)\n', 1)
    elif kind == "exit-at-import":
        head += '\nimport sys\nif len(sys.argv) < 3:\n    sys.exit("usage: python layers.py STRIDE PAD")\n'
    elif kind == "syntax-error":
        body = body.replace("):\n", ")\n", 1)
    files[name] = head + "\ndef " + body
    return files


def make_class(root: Path, *, per_convention: int = 52, seed: int = 0) -> Generated:
    """Write `per_convention` submissions of each convention under root (folders `cs231n-000`, `holberton-000`...).

    About a third are correct, a third carry one mistake, a quarter carry two (a forward and
    a backward one), and two per convention are hostile.
    """
    rng = random.Random(seed)
    generated = Generated(Path(root))
    hostile_kinds = list(HOSTILE)
    for convention, mutations in (("cs231n", CS231N_MUTATIONS), ("holberton", HB_MUTATIONS)):
        forward = sorted(b for b in mutations if b in FORWARD_BUGS)
        backward = sorted(b for b in mutations if b not in FORWARD_BUGS)
        for i in range(per_convention):
            folder = f"{convention}-{i:03d}"
            files = _files(convention)
            if i < 2:
                kind = hostile_kinds[(2 * (convention == "holberton")) + i]
                files = _hostile(files, kind)
                generated.expected[folder] = (HOSTILE[kind][0], [])
            elif i % 3 == 0:
                generated.expected[folder] = ("pass", [])
            elif i % 3 == 1 or i % 4 == 0:
                bug = sorted(mutations)[i % len(mutations)]
                files = _mutate(files, mutations, [bug])
                generated.expected[folder] = ("fail", [bug])
            else:
                bugs = [rng.choice(forward), rng.choice(backward)]
                files = _mutate(files, mutations, bugs)
                generated.expected[folder] = ("fail", bugs)
            target = generated.root / folder
            target.mkdir(parents=True, exist_ok=True)
            for name, text in files.items():        # every student's file differs, as in a real class
                (target / name).write_text(f"# {folder}\n{text}", encoding="utf-8")
    return generated
