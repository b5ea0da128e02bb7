"""The matrix-expression tree, its printers and its evaluator, one printed form per test."""

import numpy as np
import pytest
import sympy as sp

from derive.model.evaluate import evaluate
from derive.model.matexpr import (
    Apply,
    Identity,
    Indicator,
    MatMul,
    MatSym,
    Ones,
    ShapeError,
    Transpose,
    add,
    diag,
    hadamard,
    matmul,
    power,
    quotient,
    scale,
    transpose,
)
from derive.model.notation import Name, declared, derivative
from derive.render.matrix import latex, text

A, B = MatSym("A", ("M", "N")), MatSym("B", ("M", "N"))
W = MatSym("W", ("M", "D"))
x, y = MatSym("x", ("D", "1")), MatSym("y", ("K", "1"))
Y = MatSym("Y", ("d", "N"))
G = MatSym("dC_dY", ("d", "N"))
NAMES = {"x": declared("x", vector=True), "y": declared("y", vector=True), "W": declared("W"),
         "Y": declared("Y"), "dC_dY": derivative(Name("C", "C"), declared("Y")), "W1": declared("W1")}
beta = sp.Symbol("beta")


def minus(m):
    return scale(-1, m)


# -- shapes ------------------------------------------------------------------------------------


def test_a_product_has_the_outer_dimensions():
    assert matmul(W.T, W, x).shape == ("D", "1")


def test_a_product_of_misfitting_shapes_is_refused():
    with pytest.raises(ShapeError, match="cannot multiply a D × 1 by a M × D matrix"):
        matmul(x, W)


def test_an_entrywise_product_of_different_shapes_is_refused():
    with pytest.raises(ShapeError, match="equal shapes, not M × N and M × D"):
        hadamard(A, W)


def test_a_sum_of_different_shapes_is_refused():
    with pytest.raises(ShapeError):
        add(A, W)


def test_diag_takes_a_vector():
    with pytest.raises(ShapeError, match="diag takes a vector"):
        diag(A)


def test_a_transpose_of_a_transpose_is_the_matrix_itself():
    assert x.T.T == x
    assert transpose(transpose(matmul(W, x))) == matmul(W, x)
    with pytest.raises(TypeError):
        Transpose(Transpose(x))


def test_a_transpose_is_pushed_down_to_the_symbols():
    assert transpose(matmul(W, x)) == MatMul((Transpose(x), Transpose(W)))


def test_scalars_move_to_the_front_of_a_product():
    assert matmul(scale(2, W), scale(beta, x)) == scale(2 * beta, matmul(W, x))


def test_ones_drop_out_of_an_entrywise_product_and_diag_of_ones_is_the_identity():
    assert hadamard(y, Ones(("K", "1"))) == y
    assert diag(Ones(("K", "1"))) == Identity("K")


# -- LaTeX ---------------------------------------------------------------------------------------


def test_latex_keeps_odot_between_matrices():
    assert latex(hadamard(G, Y, add(Ones(Y.shape), minus(Y))), NAMES) == \
        r"\frac{\partial C}{\partial Y} \odot Y \odot \left(1 - Y\right)"


def test_latex_brackets_a_sum_under_a_scalar():
    assert latex(scale(beta, add(diag(y), minus(matmul(y, y.T)))), NAMES) == \
        r"\beta \left(\operatorname{diag}\left(\mathbf{y}\right) - \mathbf{y} \mathbf{y}^\top\right)"


def test_latex_brackets_an_entrywise_product_inside_a_matrix_product():
    assert latex(matmul(W, hadamard(x, x)), NAMES) == \
        r"W \left(\mathbf{x} \odot \mathbf{x}\right)"


def test_latex_brackets_a_matrix_product_inside_an_entrywise_product():
    assert latex(hadamard(matmul(W, x), matmul(W, x)), NAMES) == r"\left(W \mathbf{x}\right) \odot \left(W \mathbf{x}\right)"


def test_latex_transpose_of_a_product():
    assert latex(Transpose(MatMul((W, x))), NAMES) == r"\left(W \mathbf{x}\right)^\top"


def test_latex_transpose_of_a_derivative_and_of_a_layer_weight():
    assert latex(G.T, NAMES) == r"\left(\frac{\partial C}{\partial Y}\right)^\top"
    assert latex(MatSym("W1", ("M", "D")).T, NAMES) == r"{W^{(1)}}^\top"


def test_latex_scalar_fraction_and_negation():
    assert latex(scale(sp.Rational(2, 1) / sp.Symbol("N"), add(Y, minus(G))), NAMES) == \
        r"\frac{2}{N} \left(Y - \frac{\partial C}{\partial Y}\right)"
    assert latex(minus(quotient(y, y)), NAMES) == r"-\frac{\mathbf{y}}{\mathbf{y}}"


def test_latex_subtracting_a_sum_keeps_its_brackets():
    assert latex(add(Y, minus(add(Y, G))), NAMES) == r"Y - \left(Y + \frac{\partial C}{\partial Y}\right)"


def test_latex_ones_vector_identity_function_indicator_and_power():
    assert latex(matmul(G.T, Ones(("d", "1"))), NAMES) == r"\left(\frac{\partial C}{\partial Y}\right)^\top \mathbf{1}_{d}"
    assert latex(add(Identity("K"), minus(matmul(Ones(("K", "1")), Apply("exp", y).T))), NAMES) == \
        r"I - \mathbf{1}_{K} \exp\left(\mathbf{y}\right)^\top"
    assert latex(Indicator(y, "<="), NAMES) == r"\mathbf{1}\left[\mathbf{y} \leq 0\right]"
    assert latex(add(Ones(y.shape), minus(power(y, 2))), NAMES) == r"1 - \mathbf{y}^{2}"
    assert latex(power(Y, 2), NAMES) == r"Y^{\odot 2}"


# -- Unicode text --------------------------------------------------------------------------------


def test_text_softmax_jacobian():
    assert text(scale(beta, add(diag(y), minus(matmul(y, y.T)))), NAMES) == "β (diag(y) − y yᵀ)"


def test_text_keeps_odot_between_matrices():
    assert text(hadamard(G, Y, add(Ones(Y.shape), minus(Y))), NAMES) == "∂C/∂Y ⊙ Y ⊙ (1 − Y)"


def test_text_brackets_a_quotient_and_a_fractional_scalar():
    expr = scale(1 / sp.Symbol("K"), quotient(add(y, minus(y)), hadamard(y, add(Ones(y.shape), minus(y)))))
    assert text(expr, NAMES) == "(1/K) (y − y) / (y ⊙ (1 − y))"


def test_text_transpose_of_a_product_and_of_a_derivative():
    assert text(Transpose(MatMul((W, x))), NAMES) == "(W x)ᵀ"
    assert text(matmul(G.T, Ones(("d", "1"))), NAMES) == "(∂C/∂Y)ᵀ 𝟏"


def test_text_indicator_and_scalar_in_a_sum():
    alpha = sp.Symbol("alpha")
    expr = add(Indicator(y), hadamard(add(y, scale(alpha, Ones(y.shape))), Indicator(y, "<=")))
    assert text(expr, NAMES) == "𝟙[y > 0] + (y + α) ⊙ 𝟙[y ≤ 0]"


# -- evaluation ----------------------------------------------------------------------------------


def _env():
    rng = np.random.default_rng(0)
    return {"W": rng.normal(size=(3, 2)), "x": rng.normal(size=(2, 1)), "y": rng.normal(size=(4, 1)),
            "A": rng.normal(size=(3, 5)), "beta": 0.7, "M": 3, "D": 2, "K": 4, "N": 5}


def test_evaluate_products_transposes_and_scalars():
    env = _env()
    got = evaluate(scale(beta, matmul(W.T, W, x)), env)
    assert np.allclose(got, 0.7 * env["W"].T @ env["W"] @ env["x"])


def test_evaluate_softmax_jacobian_form():
    env = _env()
    yv = env["y"]
    got = evaluate(scale(beta, add(diag(y), minus(matmul(y, y.T)))), env)
    assert np.allclose(got, 0.7 * (np.diagflat(yv) - yv @ yv.T))


def test_evaluate_entrywise_nodes():
    env = _env()
    yv = env["y"]
    expr = add(Indicator(y), hadamard(quotient(Apply("exp", y), add(Ones(y.shape), Apply("exp", y))), power(y, 2)))
    assert np.allclose(evaluate(expr, env), (yv > 0) + np.exp(yv) / (1 + np.exp(yv)) * yv**2)


def test_evaluate_ones_and_identity_take_their_size_from_the_dimensions():
    env = _env()
    assert np.allclose(evaluate(matmul(A, Ones(("N", "1"))), env), env["A"].sum(axis=1, keepdims=True))
    assert np.array_equal(evaluate(Identity("K"), env), np.eye(4))


def test_evaluate_refuses_a_value_of_the_wrong_size():
    with pytest.raises(ShapeError, match="x is 3 × 1, not D × 1"):
        evaluate(x, {"x": np.ones((3, 1)), "D": 2})


def test_any_other_function_of_one_entry_prints_and_evaluates_entry_by_entry():
    from derive.model.matexpr import Entrywise

    s = sp.Symbol("s")
    expr = Entrywise(sp.Abs(s) + beta, s, matmul(W, x))
    assert latex(expr, NAMES) == r"\beta + \left|{W \mathbf{x}}\right|"  # an argument needs no brackets
    cubed = Entrywise(-(s**3) + sp.exp(-s), s, add(A, B))  # a base and a factor do
    assert text(cubed, NAMES) == "exp(−(A + B)) − (A + B)³"
    env = _env()
    assert np.allclose(evaluate(expr, env), np.abs(env["W"] @ env["x"]) + 0.7)


def test_names_come_from_the_definitions_own_latex():
    from dataclasses import replace

    from derive.api import derivative
    from derive.definitions import get

    affine = get("affine")
    renamed = replace(affine, inputs=tuple(replace(v, latex=r"\mathbf{u}") if v.name == "x" else v
                                           for v in affine.inputs))
    assert derivative(renamed, wrt="W").matrix.latex == r"\frac{\partial C}{\partial \mathbf{y}} \mathbf{u}^\top"
