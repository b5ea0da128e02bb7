"""Concatenation as a node (derive.graph.blocks): the stack [a; b] and the blocks of rows its gradient
splits into, as trees (evaluated, printed, written as code), as the engine derives them, and in a graph
checked against central differences; the bundled example against numbers worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive.errors import DeriveError
from derive.graph import Graph, sheet
from derive.graph.blocks import concat, in_range
from derive.graph.ops import derivation
from derive.model import matexpr as mx
from derive.model.evaluate import evaluate
from derive.render.matrix import latex, text

a, g, c = mx.MatSym("a", ("d1", "1")), mx.MatSym("g", ("d2", "1")), mx.MatSym("dL_dc", ("dc", "1"))


def test_stack_and_rows_evaluate_as_vstack_and_slices():
    env = {"a": np.array([1.0, 2.0]), "g": np.array([3.0]), "d1": 2, "d2": 1, "dc": 3,
           "dL_dc": np.array([7.0, 8.0, 9.0])}
    np.testing.assert_array_equal(evaluate(mx.Stack((a, g), "dc"), env).ravel(), [1, 2, 3])
    np.testing.assert_array_equal(evaluate(mx.Rows(c, (), "d1"), env).ravel(), [7, 8])
    np.testing.assert_array_equal(evaluate(mx.Rows(c, ("d1",), "d2"), env).ravel(), [9])
    with pytest.raises(mx.ShapeError, match="stack to 3 rows, not dc = 4"):
        evaluate(mx.Stack((a, g), "dc"), {**env, "dc": 4})
    with pytest.raises(mx.ShapeError, match="rows 3 to 4 of a matrix of 3 rows"):
        evaluate(mx.Rows(c, ("d1",), "d1"), env)


def test_stack_refuses_blocks_of_different_widths():
    with pytest.raises(mx.ShapeError, match="as many columns"):
        mx.Stack((a, mx.MatSym("M", ("d2", "N"))), "dc")


def test_blocks_print_as_brackets_and_row_ranges():
    from derive.graph.backprop import name_of

    names = {"dL_dc": name_of("dL_dc")}
    assert text(mx.Stack((a, g), "dc"), names) == "[a; g]"
    assert text(mx.Rows(c, ("d1",), "d2"), names) == "(∂L/∂c)[d1 + 1 : d1 + d2]"
    assert latex(mx.Stack((a, g), "dc"), names) == r"\begin{bmatrix}a \\ g\end{bmatrix}"
    assert latex(mx.Rows(c, (), "d1"), names).endswith("_{1:d_{1}}")
    assert text(mx.transpose(mx.Rows(c, (), "d1")), names) == "(∂L/∂c)[1 : d1]ᵀ"  # a postfix after a postfix


def test_engine_gives_each_block_of_the_upstream_gradient():
    da, db = derivation(concat(), "a"), derivation(concat(), "b")
    up = sp.IndexedBase("dC_dc", real=True)
    i, A = da.indices[0], sp.Symbol("A", integer=True, positive=True)
    assert da.result == up[i]
    assert db.result == up[A + i]  # the engine's condition 1 ≤ A + i ≤ A + B, proved for every i and dropped
    assert db.steps[-1].rule == "cases" and "holds for every 1 ≤ i ≤ B" in db.steps[-1].reason


def test_a_condition_that_fails_somewhere_in_range_is_kept():
    d = derivation(concat(), "b")
    i, B = d.indices[0], sp.Symbol("B", integer=True, positive=True)
    kept = d.__class__(**{**d.__dict__, "result": sp.Piecewise((i, sp.Ge(i, 2) & sp.Le(i, B)), (0, True)),
                          "steps": []})
    assert in_range(kept) is kept


def towers(twice: bool = False) -> Graph:
    gr = Graph("towers")
    gr.input("x", "d0")
    gr.input("u", "du")
    gr.node("h", "affine", x="x", W="W1", b="b1", size="d1")
    gr.node("t", "tanh", x="h")
    gr.node("c", "concat", a="t", b="t" if twice else "u")
    gr.node("o", "affine", x="c", W="W2", b="b2", size="d2")
    gr.node("loss", "mse", yhat="o", y="y")
    return gr


def test_concat_splits_its_gradient_into_blocks_and_the_code_matches_central_differences():
    from test_graph import assert_gradients_match_central_differences

    r = towers().resolved()
    assert r.sums == (("d_c", ("d1", "du")),)
    bp = towers().derive()
    assert "c = [t; u]" in bp.text()
    assert "∂L/∂t = (∂L/∂c)[1 : d1]" in bp.text() and "∂L/∂u = (∂L/∂c)[d1 + 1 : d1 + du]" in bp.text()
    assert "dL_du = dL_dc[W1.shape[0]:W1.shape[0] + u.shape[0]]" in towers().numpy()
    assert set(assert_gradients_match_central_differences(towers())) == {"x", "u", "W1", "b1", "W2", "b2"}


def test_a_value_concatenated_with_itself_gets_both_blocks_summed():
    from test_graph import assert_gradients_match_central_differences

    bp = towers(twice=True).derive()
    gt = bp.gradient("t")
    assert [p.var for p in gt.parts] == ["a", "b"]  # [t; t]: the top block and the bottom block
    assert "(∂L/∂c)[1 : d1] + (∂L/∂c)[d1 + 1 : d1 + d1]" in bp.text()
    assert_gradients_match_central_differences(towers(twice=True))


def test_bundled_example_reproduces_numbers_worked_by_hand():
    """h = W1 x + b1 = (1, 1.5), c = (tanh 1, tanh 1.5, 0.5), o = W2 c + b2 = tanh 1 − tanh 1.5 + 1;
    ∂L/∂o = 2(o − 1), ∂L/∂c = W2ᵀ ∂L/∂o, so ∂L/∂u = 2 ∂L/∂o (the last block, W2's last entry is 2)."""
    ex = sheet.solve(sheet.load("concat"))["example"]
    o = np.tanh(1) - np.tanh(1.5) + 1
    assert ex.values["o"][0, 0] == pytest.approx(o)
    assert ex.loss == pytest.approx((o - 1) ** 2)
    assert ex.gradients["u"][0, 0] == pytest.approx(2 * 2 * (o - 1))
    np.testing.assert_allclose(ex.gradients["t" if "t" in ex.gradients else "a"].ravel(),
                               2 * (o - 1) * np.array([1, -1]))


def test_example_refuses_a_weight_as_wide_as_one_block_only():
    values = {"x": [1, -1], "u": [0.5], "y": [1], "W1": [[0.5, -0.5], [1, 0]], "b1": [0, 0.5],
              "W2": [[1, -1]], "b2": [0]}
    with pytest.raises(DeriveError, match=r"d_c = d1 \+ du = 3 \(a concatenation\), but a value given is 2"):
        towers().example(values=values)


def test_concat_of_a_matrix_is_one_line():
    gr = Graph("bad")
    gr.input("X", "d0", "N")
    gr.input("u", "du")
    gr.node("c", "concat", a="X", b="u")
    gr.node("loss", "mse", yhat="c", y="y")
    with pytest.raises(DeriveError, match="node c: "):
        gr.resolved()
