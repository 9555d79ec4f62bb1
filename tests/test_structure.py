"""Term structure and relations: the user's bilinear map probed, and mistakes named as relations
between its terms and the reference's, whatever the loop order or filter shape."""
import numpy as np
import pytest

from corrcheck import reference
from corrcheck.diagnosis import relations, structure
from corrcheck.diagnosis.shapes import diagnose_shape
from corrcheck.geometry import make_geometry


def _geom(S, K, s, p):
    return make_geometry(ndim=2, in_spatial=S, k_spatial=K, stride=s, pad=p, dilation=1, op="correlate")


def _ref(target, geom, x_shape, w_shape):
    if target == "forward":
        return lambda a, b: reference.forward(a, b, geometry=geom)
    if target == "grad_input":
        return lambda a, b: reference.grad_input(a, b, x_shape, geometry=geom)
    return lambda a, b: reference.grad_filter(a, b, w_shape, geometry=geom)


def _shapes(target, x_shape, w_shape, o_shape):
    return {"forward": (x_shape, w_shape), "grad_input": (o_shape, w_shape), "grad_filter": (o_shape, x_shape)}[target]


def _relate(target, fn, S=(7, 6), K=(3, 2), s=2, p=1, N=1, C=1, F=1):
    g = _geom(S, K, s, p)
    O = g.out_shape(S, K)
    x_shape, w_shape, o_shape = (N, C) + S, (F, C) + K, (N, F) + O
    st = structure.term_structure(fn, *_shapes(target, x_shape, w_shape, o_shape))
    assert st is not None
    ev = relations.events_of(target, st, 2)
    return st, relations.relate(target, ev, g, S, K, O)


@pytest.mark.parametrize("target", ["forward", "grad_input", "grad_filter"])
def test_reference_structure_is_exact_and_costs_basis_plus_one(target):
    g = _geom((7, 6), (3, 2), 2, 1)
    x_shape, w_shape, o_shape = (2, 3, 7, 6), (4, 3, 3, 2), (2, 4) + g.out_shape((7, 6), (3, 2))
    a_shape, b_shape = _shapes(target, x_shape, w_shape, o_shape)
    st = structure.term_structure(_ref(target, g, x_shape, w_shape), a_shape, b_shape)
    assert st.calls == structure.probe_calls(a_shape, b_shape)
    # rebuild the function from its terms and compare on random operands
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    want = _ref(target, g, x_shape, w_shape)(a, b).reshape(-1)
    got = np.zeros_like(want)
    np.add.at(got, st.out, st.coef * a.reshape(-1)[st.a] * b.reshape(-1)[st.b])
    assert np.allclose(got, want)
    ev = relations.events_of(target, st, 2)
    assert relations.relate(target, ev, g, (7, 6), (3, 2), g.out_shape((7, 6), (3, 2))) == []


def test_not_bilinear_gives_no_structure():
    fn = lambda a, b: a ** 2 * b.sum()          # noqa: E731
    assert structure.term_structure(fn, (1, 1, 4, 4), (1, 1, 4, 4)) is None


def test_raising_function_gives_no_structure():
    def fn(a, b):
        raise IndexError("f[y][x]")
    assert structure.term_structure(fn, (1, 1, 3, 3), (1, 1, 2, 2)) is None


def _col2im_overwrite(tap_major):
    """dx with '=' per write: the last writer in tap-major (col2im) or position-major order survives."""
    S, K, s, p = (7, 6), (3, 2), 1, 1
    g = _geom(S, K, s, p)
    O = g.out_shape(S, K)

    def fn(dout, w):
        dxp = np.zeros((1, 1, S[0] + 2 * p, S[1] + 2 * p))
        if tap_major:
            for i in range(K[0]):
                for j in range(K[1]):
                    dxp[:, :, i:i + s * O[0]:s, j:j + s * O[1]:s] = dout[:, :, :, :] * w[0, 0, i, j]
        else:
            for y in range(O[0]):
                for x in range(O[1]):
                    dxp[:, :, y * s:y * s + K[0], x * s:x * s + K[1]] = dout[:, :, y:y + 1, x:x + 1] * w[0, 0]
        return dxp[:, :, p:p + S[0], p:p + S[1]]
    return fn, dict(S=S, K=K, s=s, p=p)


@pytest.mark.parametrize("tap_major", [True, False])
def test_overwrite_is_named_in_either_loop_order(tap_major):
    fn, geo = _col2im_overwrite(tap_major)
    _, found = _relate("grad_input", fn, **geo)
    assert [d.bug for d in found] == ["grad-input-overwrite-not-accumulate"]
    order = found[0].explanation.split("loop order ")[1]
    assert order.startswith("(k0") if tap_major else order.startswith("(o0")


def test_swapped_tap_reads_on_a_non_square_filter_are_grad_filter_transposed():
    S, K, s, p = (7, 6), (3, 2), 2, 1

    def dk(dout, x):
        out = np.zeros((1, 1) + K)
        for y in range(dout.shape[2]):
            for xx in range(dout.shape[3]):
                for i in range(K[0]):
                    for j in range(K[1]):
                        r, c = y * s + j - p, xx * s + i - p      # taps of the other axis
                        if 0 <= r < S[0] and 0 <= c < S[1]:
                            out[0, 0, i, j] += dout[0, 0, y, xx] * x[0, 0, r, c]
        return out
    _, found = _relate("grad_filter", dk, S=S, K=K, s=s, p=p)
    assert [d.bug for d in found] == ["grad-filter-transposed"]


def test_last_filter_only_and_first_channel_only():
    S, K, s, p, N, C, F = (5, 6), (3, 2), 1, 1, 1, 2, 3
    g = _geom(S, K, s, p)

    def dx_last_filter(dout, w):
        return reference.grad_input(dout[:, -1:], w[-1:], (N, C) + S, geometry=g)

    def fwd_first_channel(x, w):
        return reference.forward(x[:, :1], w[:, :1], geometry=g)
    _, found = _relate("grad_input", dx_last_filter, S=S, K=K, s=s, p=p, N=N, C=C, F=F)
    assert [d.bug for d in found] == ["grad-input-overwrite-not-accumulate"] and "only filter 2 of 3" in found[0].explanation
    _, found = _relate("forward", fwd_first_channel, S=S, K=K, s=s, p=p, N=N, C=C, F=F)
    assert [d.bug for d in found] == ["channels-not-summed"]


def test_stride_on_tap_with_filter_by_output_is_the_double_slip():
    """The seed's two slips, f[y][x] with y + j*s - p, as one relation of two rules."""
    S, K, s, p = (5, 5), (3, 3), 2, 1
    g = _geom(S, K, s, p)
    O = g.out_shape(S, K)

    def fwd(x, w):
        out = np.zeros((1, 1) + O)
        for y in range(O[0]):
            for xx in range(O[1]):
                for j in range(K[0]):
                    for i in range(K[1]):
                        r, c = y + j * s - p, xx + i * s - p
                        if 0 <= r < S[0] and 0 <= c < S[1]:
                            out[0, 0, y, xx] += x[0, 0, r, c] * w[0, 0, y, xx]
        return out
    _, found = _relate("forward", fwd, S=S, K=K, s=s, p=p)
    assert {d.bug for d in found} == {"filter-indexed-by-output", "stride-on-filter-index"}


def test_round_told_from_ceil_by_more_sizes():
    g = _geom((7, 7), (3, 3), 3, 2)
    # (7 + 4 - 3)/3 = 2.67: ceil and round both give 4 outputs
    one = diagnose_shape("forward", (1, 1, 4, 4), (1, 1, 3, 3), (7, 7), (3, 3), g)
    assert "ceil" in one.explanation and "round" in one.explanation
    # at 8x8: (8 + 4 - 3)/3 = 3 exactly (both 4); at 9x9: 3.33 -> ceil 5, round 4
    g9 = _geom((9, 9), (3, 3), 3, 2)
    more = [((4, 4), (8, 8), (3, 3), _geom((8, 8), (3, 3), 3, 2)), ((4, 4), (9, 9), (3, 3), g9)]
    d = diagnose_shape("forward", (1, 1, 4, 4), (1, 1, 3, 3), (7, 7), (3, 3), g, more)
    assert d.bug == "output-size" and "rounded" in d.explanation and "ceil" not in d.explanation


def test_fixed_crop_and_swapped_extents_are_named_with_numbers():
    g = _geom((7, 6), (3, 2), 2, 2)
    d = diagnose_shape("grad_input", (1, 1, 9, 8), (1, 1, 7, 6), (7, 6), (3, 2), g)
    assert d.bug == "grad-input-padding-offset" and "fixed 1" in d.explanation and "11x10" in d.explanation
    g1 = _geom((9, 6), (3, 2), 1, 1)
    d = diagnose_shape("forward", (1, 1, 7, 9), (1, 1, 9, 7), (9, 6), (3, 2), g1)
    assert d.bug == "output-size" and "swapped" in d.explanation


def test_a_crash_on_the_main_shape_says_where_and_why(tmp_path):
    """Diagnosed where the function runs, and the sentence names the shape where it raises."""
    from pathlib import Path

    from clihelp import run_json
    src = Path(__file__).parent / "fixtures" / "catalogue" / "filter_indexed_by_output.py"
    (tmp_path / "f.py").write_text(src.read_text())
    _, doc = run_json("run", "f.py", "--stride", "2", "--pad", "1", "--forward", "corre", "--grad-filter",
                      "backprop_filter", "--grad-input", "backprop_input", cwd=tmp_path)
    d = doc["diagnoses"][0]
    assert d["bug"] == "filter-indexed-by-output"
    shape = "x".join(map(str, doc["config"]["input_shape"][-2:]))
    filt = "x".join(map(str, doc["config"]["filter_shape"][-2:]))
    assert f"where the function runs; on the {shape} input with a {filt} filter" in d["explanation"]
    assert "IndexError" in d["explanation"]


def test_entries_with_several_terms_on_both_sides_are_listed_by_the_cell_prober():
    """out[0] sums every A[a]*B[b] (several terms for every basis entry of either side): explain's
    one-cell prober lists them; out[1] is a single product decoded by the basis probes."""
    def fn(a, b):
        return np.array([a.sum() * b.sum(), a.reshape(-1)[2] * b.reshape(-1)[1]])
    st = structure.term_structure(fn, (2, 2), (3,))
    assert st is not None
    cell0 = sorted(zip(st.a[st.out == 0].tolist(), st.b[st.out == 0].tolist()))
    assert cell0 == [(a, b) for a in range(4) for b in range(3)]
    assert list(zip(st.a[st.out == 1], st.b[st.out == 1])) == [(2, 1)]
