"""Checking answers for network gradients, and the seeds' network answers judged as a TA would.

The expected gradient is the one the network's own generated NumPy code computes, at random,
distinct, non-square sizes (see derive/check/network.py for the conventions decided there).
"""

import json
import subprocess
import sys
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derive
from derive.check import check as check_answer

CS224N = "affine>sigmoid>affine>softmax_cross_entropy"
NYU = "affine>relu>affine>identity>mse"
UVA = "affine_batch>relu>affine_batch>identity>half_frobenius"


@cache
def derivation(chain, wrt):
    return derive.network(chain).derive(wrt)


def check(chain, wrt, answer):
    return derivation(chain, wrt).check(answer)


# --- CS224n, 2.3: ∂J/∂x = (ŷ − y)W₂ᵀ ∘ σ′(φ)W₁ᵀ, with rows: right, in the row convention, once bracketed.
CS224N_DJDX = r"\frac{\partial J}{\partial x} = (\hat{y} - y)W_2^T \circ \sigma'(\phi)W_1^T"


def test_cs224n_input_gradient_is_right_in_the_row_convention_with_the_bracketing_noted():
    v = check(CS224N, "x", CS224N_DJDX)
    assert v.verdict == "correct"
    assert any("binds less tightly" in s and "brackets" in s for s in v.feedback)
    assert any("row convention" in s and "transpose" in s for s in v.feedback)


def test_cs224n_input_gradient_with_brackets_needs_only_the_row_convention_note():
    v = check(CS224N, "x", r"((\hat{y} - y)W_2^T \circ \sigma'(\phi))W_1^T")
    assert v.verdict == "correct"
    assert len(v.feedback) == 1 and "row convention" in v.feedback[0]


def test_cs224n_via_derive_derivative_of_the_chain():
    assert derive.derivative(CS224N, wrt="x").check(CS224N_DJDX).verdict == "correct"


@pytest.mark.parametrize("answer", [
    r"W_1^T \delta_1",
    r"W^{(1)\top} \delta^{(1)}",
    r"W_1^T (W_2^T(\hat{y} - y) \odot \sigma'(s_1))",
    r"W_1^T (W_2^T(\hat{y} - y) \odot h(1 - h))",
    r"W1.T @ ((W2.T @ (yhat - y)) * sigma(s1) * (1 - sigma(s1)))",
    r"W_1^T (\frac{\partial L}{\partial h} \odot z_1 \odot (1 - z_1))",
])
def test_column_convention_input_gradients_are_right_with_no_note(answer):
    v = check(CS224N, "x", answer)
    assert (v.verdict, v.feedback) == ("correct", [])


@pytest.mark.parametrize("wrt,answer", [
    ("W1", r"\delta_1 x^T"), ("b1", r"\delta_1"), ("W2", r"(\hat y - y) h^T"), ("b2", r"\hat{y} - y"),
])
def test_parameter_gradients_are_right(wrt, answer):
    assert check(CS224N, wrt, answer).verdict == "correct"


@pytest.mark.parametrize("answer,feedback", [
    (r"-W_1^T \delta_1", "sign error"),
    (r"2 W_1^T \delta_1", "off by a factor 2"),
    (r"\frac{1}{2} W_1^T \delta_1", "missing factor 2"),
    (r"W_1 \delta_1", "a transpose?"),
    (r"0 x", "0 everywhere"),
])
def test_wrong_input_gradients_name_the_mistake(answer, feedback):
    v = check(CS224N, "x", answer)
    assert v.verdict == "incorrect"
    assert feedback in v.feedback[0]


def test_a_wrong_value_comes_with_a_counterexample_at_non_square_sizes():
    v = check(CS224N, "x", r"W_1^T W_2^T (\hat{y} - y)")  # σ′ forgotten
    assert v.verdict == "incorrect"
    ce = v.counterexample
    assert ce["answer"] != ce["expected"]
    sizes = ce["sizes"]
    assert len(set(sizes.values())) == len(sizes)
    assert "d0 = " in ce["text"] and set(ce["values"]) >= {"X", "W1", "b1", "W2", "b2", "Y"}


def test_a_transposed_weight_gradient_is_a_transpose_not_the_row_convention():
    v = check(CS224N, "W1", r"x \delta_1^T")
    assert v.verdict == "incorrect"
    assert v.feedback == ["shape 4×3, expected 3×4: a transpose?"]


def test_a_weight_gradient_in_the_row_convention_is_accepted_with_the_note():
    v = check(CS224N, "W1", r"x^T \delta_1")
    assert v.verdict == "correct" and "row convention" in v.feedback[0]


# --- NYU 2021, 1.2(c): ∂ℓ/∂W⁽¹⁾ = ∂ℓ/∂ŷ ∂ŷ/∂z₃ ∂z₂/∂z₁ ∂z₂/∂W⁽¹⁾ (δ for ∂, as written) skips ∂z₃/∂z₂.
NYU_CHAIN = (r"\frac{\delta \ell}{\delta \hat{y}}  \frac{\delta \hat{y}}{\delta z_3}   "
             r"\frac{\delta z_2}{\delta z_1}  \frac{\delta z_2}{\delta W^{(1)}}")


def test_nyu_chain_for_the_first_weights_misses_a_factor():
    v = check(NYU, "W1", NYU_CHAIN)
    assert v.verdict == "incorrect"
    assert "a factor ∂z3/∂z2 is missing" in v.feedback[0]
    assert "∂z1/∂W1" in v.feedback[1]


def test_a_complete_chain_without_values_is_undecided():
    v = check(NYU, "W1", r"\frac{\partial \ell}{\partial \hat{y}} \frac{\partial \hat{y}}{\partial s_2} "
                         r"\frac{\partial s_2}{\partial z_1} \frac{\partial z_1}{\partial s_1} \frac{\partial s_1}{\partial W_1}")
    assert v.verdict == "undecided" and "complete" in v.feedback[0]


def test_nyu_chain_written_out_without_the_second_weights_does_not_fit():
    v = check(NYU, "W1", r"(2(\hat{y} - y) \odot \mathbb{1}[s_1 > 0]) x^T")
    assert v.verdict == "incorrect" and "Hadamard" in v.feedback[0]


def test_nyu_chain_written_out_with_the_second_weights_is_right():
    assert check(NYU, "W1", r"(W^{(2)\intercal} 2(\hat{y} - y) \odot \mathbb{1}[s_1 > 0]) x^T").verdict == "correct"


# --- UvA Exercise 1: the Δ recursion for a batch in columns.
@pytest.mark.parametrize("wrt,answer", [
    ("W2", r"\Delta_2 Z_1^T"),
    ("W2", r"\Delta_2 \cdot Z_1^T"),
    ("W1", r"\left[ (W_2^T \cdot \Delta_2) \odot f_1'(S_1) \right] \cdot X^T"),
    ("W1", r"\Delta_1 \cdot X^T"),
    ("X", r"W_1^T \Delta_1"),
])
def test_uva_delta_recursion_answers_are_right(wrt, answer):
    assert check(UVA, wrt, answer).verdict == "correct"


def test_uva_weight_gradient_without_the_transpose_is_rejected():
    v = check(UVA, "W1", r"\Delta_1 X")
    assert v.verdict == "incorrect" and "a transpose?" in v.feedback[0]


def test_uva_answer_printed_back_with_its_brackets_and_batch_names():
    v = check(UVA, "W1", r"\left[ (W_2^T \cdot \Delta_2) \odot f_1'(S_1) \right] \cdot X^T")
    assert v.parsed == r"\left(W^{(2)\top} \cdot \Delta^{(2)} \odot f_{1}'\left(S^{(1)}\right)\right) \cdot X^{\top}"


# --- UvA Exercise 3: the multi-class hinge loss. The seed sums over j, the free index of ∂L/∂o_j.
# The registry calls the true class t (the seed's y_i); otherwise the answers are as written.
HINGE_SEED = (r"\frac{\partial \mathcal{L}}{\partial o_j} = \sum_{j \neq t} \begin{cases} 0 & p_{t} - p_j > C \\ "
              r"p_j (\delta_j^k - \delta_j^{t} - p_k + p_{t}) & \text{else} \end{cases}")
HINGE_FIXED = (r"\frac{\partial \mathcal{L}}{\partial o_j} = \sum_{k \neq t} \begin{cases} 0 & p_{t} - p_k > C \\ "
               r"p_j (\delta_j^k - \delta_j^{t} - p_k + p_{t}) & \text{else} \end{cases}")


@cache
def hinge():
    return derive.derivative("hinge", wrt="o")


def test_uva_hinge_answer_with_the_index_clash_is_rejected_with_the_reason():
    v = hinge().check(HINGE_SEED)
    assert v.verdict == "incorrect"
    assert "the sum runs over j, which is also the free index" in v.feedback[0]


def test_uva_hinge_answer_with_the_clash_resolved_is_right():
    assert check_answer(hinge(), HINGE_FIXED, timeout=10).verdict == "correct"


def test_uva_hinge_answer_without_the_true_class_term_is_wrong():
    v = check_answer(hinge(), HINGE_FIXED.replace(r" - \delta_j^{t}", ""), timeout=10)
    assert v.verdict == "incorrect" and v.counterexample is not None


# --- names, notation and hostile input on the network path
@pytest.mark.parametrize("answer,reason", [
    ("W x", "needs its layer"),
    ("q_1 x", "unknown name q1"),
    (r"W_{ij} x_j", "index notation"),
    (r"\sum_k W_1 x", "Σ is index notation"),
    (r"\frac{\partial L}{\partial x}", "the gradient itself"),
    (r"\frac{\partial \hat{y}}{\partial s_2} W_1^T", "Jacobian"),
    ("__import__('os').getcwd()", "Python code"),
    ("((((((((((((((((((((((((((((((((((((((((((x))))))))))))))))))))))))))))))))))))))))))", "nested"),
    (r"q = W_1^T \delta_1", "a quantity of the forward pass"),  # ∂J/∂W1 = …: checked as what it names
])
def test_unreadable_network_answers_say_why(answer, reason):
    v = check(CS224N, "x", answer)
    assert v.verdict == "invalid" and reason in v.feedback[0]


@pytest.mark.parametrize("answer", ["10**10**10", r"9^{9^{9}}", r"\exp(\exp(\exp(\exp(x))))", "x/0"])
def test_huge_or_undefined_values_are_answered_quickly(answer):
    assert check(CS224N, "x", answer).verdict in ("invalid", "incorrect")


def test_cli_checks_a_network_answer_through_the_pool():
    out = subprocess.run([sys.executable, "-m", "derive", "check", CS224N, "--wrt", "x", r"W_1^T \delta_1", "--json"],
                         check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["verdict"] == "correct"


def test_grade_reports_network_answers(tmp_path):
    from derive.check.grade import grade

    answers = tmp_path / "answers.csv"
    answers.write_text("id,answer\na,\\delta_1 x^T\nb,x \\delta_1^T\nc,__import__('os')\n", encoding="utf-8")
    counts = grade(CS224N, "W1", answers, tmp_path / "report.csv", workers=1, progress=False)
    assert (counts["correct"], counts["incorrect"], counts["invalid"]) == (1, 1, 1)


ALPHABET = ["x", "y", "h", "W_1", "W_2", "b_1", r"\delta_1", r"\hat{y}", "s_1", "z_1", "^T", r"\odot", r"\circ",
            r"\sigma'", r"\sigma", "(", ")", "+", "-", "2", r"\frac{\partial L}{\partial h}", r"\mathbb{1}[", "> 0]",
            "**", " ", r"\frac", "{", "}", r"\partial", "\\", "_", "["]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ALPHABET), max_size=16).map("".join), st.sampled_from(["x", "W1", "b2"]))
def test_the_network_checker_always_returns_a_verdict(text, wrt):
    v = check(CS224N, wrt, text)
    assert v.verdict in ("correct", "incorrect", "undecided", "invalid")
    assert all("\n" not in s for s in v.feedback)
