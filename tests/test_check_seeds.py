"""The answers the seed homeworks state, judged as a careful teaching assistant would.

Right ones are accepted in the form they were written; wrong ones are rejected with the
mistake named. Sources: ../shared/seeds/ (NYU DS-GA 1008 2019, 2020, 2021; CS224n; UvA DL).
"""

from functools import cache

import pytest

import derive


@cache
def derivation(target, wrt=None, scale=1):
    return derive.derivative(target, wrt=wrt, scale=scale)


def check(target, wrt, answer, scale=1):
    return derivation(target, wrt, scale).check(answer)


# NYU 2020, 1.1(a): ∂C/∂W = ∂C/∂y x lacks the transpose; ∂C/∂b = ∂C/∂y is right.
def test_nyu2020_affine_weight_answer_lacks_the_transpose():
    v = check("affine", "W", r"\frac {\partial C}{\partial \mathbf y} \mathbf x")
    assert v.verdict == "incorrect"
    assert "transpose" in v.feedback[0]
    assert v.parsed == r"\frac{\partial C}{\partial y} x"


def test_nyu2020_affine_bias_answer_is_right():
    assert check("affine", "b", r"\frac {\partial C}{\partial \mathbf y}").verdict == "correct"


# NYU 2020, 1.1(b): C₂ = 3C.
def test_nyu2020_scaled_cost_bias_answer_is_right():
    assert check("affine", "b", r"3 \frac {\partial C}{\partial \mathbf y}", scale=3).verdict == "correct"


def test_nyu2020_scaled_cost_weight_answer_still_lacks_the_transpose():
    v = check("affine", "W", r"3 \frac {\partial C}{\partial \mathbf y} \mathbf x", scale=3)
    assert v.verdict == "incorrect" and "transpose" in v.feedback[0]


def test_nyu2020_scaled_cost_without_the_3_is_off_by_a_factor_3():
    v = check("affine", "b", r"\frac{\partial C}{\partial y}", scale=3)
    assert v.verdict == "incorrect"
    assert "missing factor 3" in v.feedback[0]


# NYU 2020, 1.2: the softmax Jacobian without β.
NYU2020_SOFTMAX = r"""\begin{cases} \
y_i (1 - y_i) & \text{if} & i = j \\
-y_i y_j & \text{if} & i \neq j \\
\end{cases}"""


def test_nyu2020_softmax_answer_misses_beta():
    v = check("softmax", "x", NYU2020_SOFTMAX)
    assert v.verdict == "incorrect"
    assert v.feedback == ["missing factor β."]
    assert v.counterexample["entry"] and "β" in v.counterexample["text"]
    assert r"\begin{cases}" in v.parsed


def test_nyu2020_softmax_answer_with_beta_is_right():
    fixed = NYU2020_SOFTMAX.replace("y_i (1", r"\beta y_i (1").replace("-y_i y_j", r"-\beta y_i y_j")
    assert check("softmax", "x", fixed).verdict == "correct"


# NYU 2019, 1.1: ∂L/∂y X^T and ∂L/∂y ⊗ x are right, as is ∂L/∂b = ∂L/∂y.
@pytest.mark.parametrize("answer", [
    r"\frac{\partial L}{\partial y} X^T",
    r"\frac{\partial L}{\partial y} \otimes x",
])
def test_nyu2019_affine_weight_answers_are_right(answer):
    assert check("affine", "W", answer).verdict == "correct"


def test_nyu2019_softmax_answer_is_right():
    v = check("softmax", "x", r"\frac{\partial y_j}{\partial x_i} = \beta y_i (\delta_{ij} - y_j)")
    assert v.verdict == "correct"


def test_nyu2019_softmax_intermediate_case_i_equals_j_alone_is_wrong_off_the_diagonal():
    v = check("softmax", "x", r"\beta y_i (1 - y_j)")
    assert v.verdict == "incorrect"
    assert any("i ≠ j case is wrong: use δ_ij" in s for s in v.feedback)


# CS224n: σ′ in two forms, and the cross-entropy gradient ŷ − y.
@pytest.mark.parametrize("answer", [
    r"\frac{e^{-x}}{(1 + e^{-x})^2}",
    r"\sigma(x)(1 - \sigma(x))",
])
def test_cs224n_sigmoid_answers_are_right(answer):
    assert check("sigmoid", "x", answer).verdict == "correct"


def test_cs224n_cross_entropy_answer_is_right():
    assert check("softmax_cross_entropy", "theta", r"\hat{y} - y").verdict == "correct"


# NYU 2021: the MSE gradient 2(ŷ − y) and ReLU's derivative "1 if z > 0 else 0".
def test_nyu2021_mse_answer_is_right():
    assert check("mse", "yhat", r"2(\hat{y} - y)").verdict == "correct"


def test_nyu2021_relu_derivative_as_cases_is_right():
    assert check("relu", "x", r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}").verdict == "correct"


# UvA: ∂L/∂Y₃ = Y₃ − Y_gt, ∂L/∂W = Δ Zᵀ and ∂L/∂Z = Wᵀ Δ for a batch as columns.
def test_uva_frobenius_answer_is_right():
    assert check("half_frobenius", "Yhat", r"\hat{Y} - Y").verdict == "correct"


def test_uva_weight_gradient_is_right():
    assert check("affine_batch", "W", r"\Delta X^T").verdict == "correct"


def test_uva_input_gradient_is_right():
    assert check("affine_batch", "X", r"W^T \Delta").verdict == "correct"


def test_uva_input_gradient_without_the_transpose_does_not_multiply():
    v = check("affine_batch", "X", r"W \Delta")
    assert v.verdict == "incorrect" and "cannot multiply" in v.feedback[0]
