"""--fix on the forms the structure names: every diagnosis carries a line, every fix is verified."""
import json
from pathlib import Path

import pytest

from clihelp import copy_tree, run_json

FIXTURES = Path(__file__).parent / "fixtures"
MANIFEST = {e["files"][0]: e for e in json.loads((FIXTURES / "manifest.json").read_text())}

CASES = {   # fixture -> a line the verified diff must add
    "struct/col2im_overwrite.py": "xp[:, :, i:i_end:stride, j:j_end:stride] += cols[:, :, i, j, :, :]",
    "struct/grad_filter_swapped_reads.js": "const r = y * s + i - p;",
    "struct/crop_fixed_one.py": "dx = dxp[:, :, pad:pad + H, pad:pad + W]",
    "struct/round_size.py": "return int(((n + 2 * p - k) // (s))) + 1",
    "struct/grad_reset_in_filter_loop.js": "dx = zeros3(C, H, W);",
    "struct/swapped_extents.py": "out = np.zeros((N, F, OH, OW))",
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return copy_tree(FIXTURES, tmp_path_factory.mktemp("forms") / "fixtures")


@pytest.mark.parametrize("name", sorted(CASES))
def test_named_located_and_fixed(name, tree):
    entry = MANIFEST[name]
    proc, doc = run_json("run", str(tree / name), *entry["flags"], "--fix", cwd=tree, timeout=300)
    assert doc["verdict"] == "fail"
    top = [d for d in doc["diagnoses"] if d["target"] == entry["target"]][0]
    assert top["bug"] == entry["bug"]
    assert top.get("location", {}).get("line"), top
    assert doc["fix"]["verified"] is True, doc["fix"]
    added = [l[1:].strip() for l in doc["fix"]["diff"].splitlines() if l.startswith("+") and not l.startswith("+++")]
    assert CASES[name] in added, added
