"""What naming a mistake costs: user-function calls made by the diagnosis, and seconds (a script, not a test).

    python benchmarks/bench_diagnosis.py [--sizes seed,32,64]

Learner files (the seed's double slip, named by the mutant engine, and four
files named from the term structure: col2im '=', a JavaScript input gradient
reset inside the loop over filters, swapped tap reads on a 3x2 filter, a
tap-outer '=' forward) are checked at the seed's size (the defaults), 32x32
and 64x64. For each: the calls the diagnosis made (counted around
diagnosis.feed.diagnose_outcomes, so the checks' own calls are apart), the
total calls, the diagnosis's seconds, the whole run's seconds and the id named.
For cs231n and layer conventions a backward call runs the user's forward too,
so those calls count twice. The structure is probed at a
small size (diagnosis.feed.small_problem), so its cost does not grow with the
input: one call per entry of the smaller operand there, plus one check call.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import corrcheck  # noqa: E402
from corrcheck.diagnosis import feed  # noqa: E402

FIX = ROOT / "tests" / "fixtures" / "struct"
CASES = [
    ("seed double slip (Python lists)", ROOT / "examples" / "seed_buggy.py",
     dict(stride=2, pad=1, filter_size="3")),
    ("col2im '=' (cs231n, N=2 C=3 F=4)", FIX / "col2im_overwrite.py", dict(stride=1, pad=1, convention="cs231n")),
    ("JS dx reset in filter loop (chw, C=3 F=4)", FIX / "grad_reset_in_filter_loop.js",
     dict(stride=2, pad=1, layout="chw", forward="nn.convForward", grad_input="nn.convBackwardInput",
          grad_filter="nn.convBackwardFilter")),
    ("JS swapped tap reads, 3x2 filter", FIX / "grad_filter_swapped_reads.js",
     dict(stride=2, pad=1, forward="conv", grad_filter="convGradKernel", grad_input="convGradImage")),
    ("numpy tap-outer '=' forward", FIX / "forward_overwrite_window.py",
     dict(stride=1, pad=1, forward="correlate", grad_input="correlate_grad_image",
          grad_filter="correlate_grad_kernel")),
]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="seed,32,64")
    args = ap.parse_args(argv)
    counted = {}
    original = feed.diagnose_outcomes

    def counting(op, outcomes, cfg, rng):
        before, t0 = sum(op.calls.values()), time.perf_counter()
        try:
            return original(op, outcomes, cfg, rng)
        finally:
            counted["diagnosis"] = sum(op.calls.values()) - before
            counted["diag_s"] = time.perf_counter() - t0
    feed.diagnose_outcomes = counting
    print(f"load: {os.getloadavg()[0]:.2f} (2 cores shared)")
    print(f"{'file':44} {'size':>6} {'diagnosis calls':>15} {'diagnosis s':>11} {'all calls':>9} {'run s':>7}  named")
    for label, path, flags in CASES:
        for size in args.sizes.split(","):
            opts = dict(flags)
            if size != "seed":
                opts["input_size"] = f"{size}x{size}"
            counted.clear()
            t0 = time.perf_counter()
            res = corrcheck.check(str(path), **opts)
            dt = time.perf_counter() - t0
            doc = res.to_dict()
            named = ", ".join(sorted({d["bug"] or "-" for d in doc.get("diagnoses", [])})) or doc["verdict"]
            print(f"{label:44} {size:>6} {counted.get('diagnosis', 0):>15} {counted.get('diag_s', 0):>11.2f} "
                  f"{sum(doc['calls'].values()):>9} {dt:>7.2f}  {named}")


if __name__ == "__main__":
    main()
