"""explain: the bilinear prober recovers exactly which products a black box sums into one cell."""
import math

import numpy as np

from corrcheck import reference
from corrcheck.diagnosis.explain import bilinear_terms, explain_cell

S, P = 2, 1


def seed_corre(a, f, s, p):
    """The seed's JavaScript forward on nested lists, reads past an edge giving NaN as in JS."""
    def at(m, i, j):
        if 0 <= i < len(m) and 0 <= j < len(m[i]):
            return m[i][j]
        return math.nan

    n_out = (len(a) - len(f) + 2 * p) // s + 1
    out = [[0.0] * n_out for _ in range(n_out)]
    for y in range(n_out):
        for x in range(n_out):
            acc = 0.0
            for j in range(len(f)):
                for i in range(len(f[j])):
                    r, c = y + j * s - p, x + i * s - p
                    if 0 <= r < len(a) and 0 <= c < len(a[r]) and a[r][c]:
                        acc += a[r][c] * at(f, y, x)
            out[y][x] = acc
    return out


def fixed_corre(a, f, s, p):
    n_out = (len(a) - len(f) + 2 * p) // s + 1
    out = [[0.0] * n_out for _ in range(n_out)]
    for y in range(n_out):
        for x in range(n_out):
            for j in range(len(f)):
                for i in range(len(f[j])):
                    r, c = y * s + j - p, x * s + i - p
                    if 0 <= r < len(a) and 0 <= c < len(a[r]):
                        out[y][x] += a[r][c] * f[j][i]
    return out


def as_canonical(fn):
    """(x (1,1,H,W), w (1,1,K,K)) -> (1,1,O,O), calling list code on the spatial part."""
    return lambda x, w: np.asarray(fn(x[0, 0].tolist(), w[0, 0].tolist(), S, P))[None, None]


def ref_fn(x, w):
    return reference.forward(x, w, None, stride=S, pad=P)


A_SHAPE, B_SHAPE, CELL = (1, 1, 7, 7), (1, 1, 3, 3), (0, 0, 1, 1)


def test_seed_bug_uses_the_output_position_as_filter_index():
    terms, calls, note = bilinear_terms(as_canonical(seed_corre), A_SHAPE, B_SHAPE, CELL)
    assert note is None
    assert {b for _, b, _ in terms} == {(0, 0, 1, 1)}               # F[y][x] with (y, x) = (1, 1)
    assert {a[2:] for a, _, _ in terms} == {(r, c) for r in (0, 2, 4) for c in (0, 2, 4)}
    assert all(c == 1.0 for _, _, c in terms)
    assert calls <= 6, calls


def test_expected_terms_of_the_reference():
    terms, calls, note = bilinear_terms(ref_fn, A_SHAPE, B_SHAPE, CELL)
    assert note is None
    assert terms == [((0, 0, 1 + j, 1 + i), (0, 0, j, i), 1.0) for j in range(3) for i in range(3)]
    assert calls <= 8, calls


def test_explain_cell_correct_forward_equals_expected():
    ex = explain_cell("forward", as_canonical(fixed_corre), ref_fn, A_SHAPE, B_SHAPE, CELL)
    assert ex.user_terms == ex.expected_terms and len(ex.user_terms) == 9
    assert (ex.left_name, ex.right_name) == ("I", "F")


def test_explain_cell_seed_differs_in_filter_indices():
    ex = explain_cell("forward", as_canonical(seed_corre), ref_fn, A_SHAPE, B_SHAPE, CELL)
    assert {t.filter_index for t in ex.user_terms} == {(0, 0, 1, 1)}
    assert {t.filter_index for t in ex.expected_terms} == {(0, 0, j, i) for j in range(3) for i in range(3)}


def test_nan_cell_is_reported_not_raised():
    # cell (1, 0) of the seed reads f[1][0] fine, but (0, 3) reads f[0][3]: undefined
    terms, _, note = bilinear_terms(as_canonical(seed_corre), A_SHAPE, B_SHAPE, (0, 0, 0, 3))
    assert terms is None and "NaN" in note


def test_raising_function_gives_a_note():
    def broken(a, b):
        raise ValueError("shapes do not match")
    terms, calls, note = bilinear_terms(broken, A_SHAPE, B_SHAPE, CELL)
    assert terms is None and calls == 1 and "shapes do not match" in note


def test_budget_is_respected():
    terms, calls, note = bilinear_terms(ref_fn, A_SHAPE, B_SHAPE, CELL, budget=2)
    assert terms is None and calls == 2 and "budget" in note


def test_coefficients_above_one_and_float32_are_recovered():
    def doubled32(x, w):
        return (2 * ref_fn(x, w)).astype(np.float32)
    terms, _, note = bilinear_terms(doubled32, A_SHAPE, B_SHAPE, CELL)
    assert note is None and {c for _, _, c in terms} == {2.0} and len(terms) == 9


def test_affine_function_is_not_listed():
    terms, _, note = bilinear_terms(lambda x, w: ref_fn(x, w) + 0.5, A_SHAPE, B_SHAPE, CELL)
    assert terms is None and "bias" in note


def test_gradients_multichannel():
    x_shape, w_shape = (2, 3, 7, 6), (4, 3, 3, 2)
    dout_shape = (2, 4, 4, 4)
    gi = lambda d, w: reference.grad_input(d, w, x_shape, stride=2, pad=1)  # noqa: E731
    terms, calls, note = bilinear_terms(gi, dout_shape, w_shape, (1, 2, 3, 3))
    # dx[1,2,3,3]: o*2 + k - 1 = 3 -> rows (o, k) in {(1, 2), (2, 0)}; columns only (2, 0) as k < 2
    expected = sorted(((1, f, oy, 2), (f, 2, ky, 0), 1.0) for f in range(4) for oy, ky in ((1, 2), (2, 0)))
    assert note is None and terms == expected
    gf = lambda d, x: reference.grad_filter(d, x, w_shape, stride=2, pad=1)  # noqa: E731
    terms, calls2, note = bilinear_terms(gf, dout_shape, x_shape, (3, 1, 0, 1))
    assert note is None and all(a[1] == 3 and b[1] == 1 for a, b, _ in terms)
    assert calls + calls2 < 60


def test_filter_entry_used_many_times_is_not_lost_to_a_carry():
    # 5x5 input, cell (0, 0): the seed reads f[0][0] four times; one-bit digits would carry
    small = lambda x, w: np.asarray(seed_corre(x[0, 0].tolist(), w[0, 0].tolist(), S, P))[None, None]  # noqa: E731
    terms, calls, note = bilinear_terms(small, (1, 1, 5, 5), (1, 1, 3, 3), (0, 0, 0, 0))
    assert note is None
    assert terms == [((0, 0, r, c), (0, 0, 0, 0), 1.0) for r in (1, 3) for c in (1, 3)]
    assert calls <= 8


def test_zero_cell_has_no_terms():
    terms, calls, note = bilinear_terms(lambda x, w: 0 * ref_fn(x, w), A_SHAPE, B_SHAPE, CELL)
    assert terms == [] and note is None and calls == 2


def test_explain_cell_reaches_the_first_failing_gradient_when_the_forward_is_right(tmp_path):
    """The default report explains a grad_input cell; --explain-cell with that index explains it too
    (not 'not a cell of the forward's output')."""
    from corrcheck.config import RunConfig
    from corrcheck.runner import run
    from pathlib import Path
    fixture = Path(__file__).parent / "fixtures" / "struct" / "im2col_window_writes.py"
    src = fixture.read_text().replace("x_ * stride + kw] += cols[:, y, x_]", "x_ * stride + kw] = cols[:, y, x_]")
    (tmp_path / "conv.py").write_text(src)
    default = run(RunConfig(files=(str(tmp_path / "conv.py"),)))
    [shown] = [e for e in default.explanations if e.target == "grad_input"]
    asked = run(RunConfig(files=(str(tmp_path / "conv.py"),), explain_cell=tuple(shown.cell)))
    [again] = asked.explanations
    assert again.target == "grad_input" and tuple(again.cell) == tuple(shown.cell) and not again.note
    far = run(RunConfig(files=(str(tmp_path / "conv.py"),), explain_cell=(9, 9)))
    assert "not a cell of grad input" in far.explanations[0].note
