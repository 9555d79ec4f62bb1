"""Peak memory and wall time of a full `corrcheck run` on the issue's large shape (d).

Shape (d): N=32, C=64, F=64, 56x56 input, 3x3 filter, stride 2, pad 1, with a vectorized
user implementation (sliding windows + tensordot, cs231n convention). Target: peak RSS of
the whole check under 1.5 GB. Prints one table; run `python benchmarks/bench_memory.py`.
"""
from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

USER = textwrap.dedent('''
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    def conv_forward_fast(x, w, b, conv_param):
        s, p = conv_param["stride"], conv_param["pad"]
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::s, ::s]   # N C OH OW KH KW
        out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))                  # N OH OW F
        return out.transpose(0, 3, 1, 2) + b[None, :, None, None], (x, w, b, conv_param)

    def conv_backward_fast(dout, cache):
        x, w, b, conv_param = cache
        s, p = conv_param["stride"], conv_param["pad"]
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::s, ::s]
        dw = np.tensordot(dout, win, axes=([0, 2, 3], [0, 2, 3]))               # F C KH KW
        dxp = np.zeros_like(xp)
        KH, KW = w.shape[2:]
        OH, OW = dout.shape[2:]
        for i in range(KH):
            for j in range(KW):
                dxp[:, :, i:i + s * OH:s, j:j + s * OW:s] += np.tensordot(dout, w[:, :, i, j], axes=([1], [0])).transpose(0, 3, 1, 2)
        return dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))
''')

SHAPES = {
    "c": ["--batch", "8", "--channels", "16", "--filters", "32", "--input-size", "32", "--filter-size", "3",
          "--stride", "1", "--pad", "1"],
    "d": ["--batch", "32", "--channels", "64", "--filters", "64", "--input-size", "56", "--filter-size", "3",
          "--stride", "2", "--pad", "1"],
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        user = Path(tmp) / "fast_conv.py"
        user.write_text(USER)
        print(f"{'shape':6} {'verdict':8} {'seconds':>8} {'peak RSS (MB)':>14} {'target':>8}  calls")
        for name, flags in SHAPES.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "corrcheck", "run", str(user), "--convention", "cs231n",
                                   *flags, "--json", "--timeout", "60"], capture_output=True, text=True)
            seconds = time.perf_counter() - t0
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            import json
            try:
                doc = json.loads(proc.stdout)
                verdict, calls = doc["verdict"], doc.get("calls")
            except json.JSONDecodeError:
                verdict, calls = f"exit {proc.returncode}", proc.stderr[-200:]
            note = "" if peak > before / 1024 else " (peak of an earlier run)"
            print(f"{name:6} {verdict:8} {seconds:8.2f} {peak:14.0f} {'1500':>8}  {calls}{note}")


if __name__ == "__main__":
    main()
