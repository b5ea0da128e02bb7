"""Printed numbers of a worked example, judged at their printed precision and loss convention."""

import numpy as np
import pytest

from derive.audit.numbers import agree, judge, normal_name, read_printed
from derive.network.chain import network

X = np.array([[0.5, -1.0, 0.25], [1.5, 0.75, -0.5]])
W1 = np.array([[0.2, -0.4], [0.3, 0.1], [-0.6, 0.5], [0.05, 0.9]])
W2 = np.array([[0.7, -0.2, 0.4, 0.1]])
T = np.array([[1.0, -1.0, 0.5]])


def oracle(c: float):
    """The example computed directly, independent of derive: L = c‖W2 relu(W1 X) − T‖², one step η = 0.1."""
    S1 = W1 @ X
    Z1 = np.maximum(S1, 0)
    Yhat = W2 @ Z1
    D2 = 2 * c * (Yhat - T)
    dW2 = D2 @ Z1.T
    dW1 = ((W2.T @ D2) * (S1 > 0)) @ X.T
    return {"S1": S1, "Z1": Z1, "Yhat": Yhat, "L": c * np.sum((Yhat - T) ** 2), "dW1": dW1, "dW2": dW2,
            "W1new": W1 - 0.1 * dW1}


def bmatrix(a: np.ndarray, decimals: int = 4) -> str:
    rows = np.atleast_2d(a)
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(f"{v:.{decimals}f}" for v in r) for r in rows) + \
        r" \end{bmatrix}"


@pytest.fixture(scope="module")
def examples():
    net = network("affine_batch>relu>affine_batch>half_mse_mean")
    out = {}
    for convention in (None, "half", "sum"):
        ex = net.example(X=X, weights={"W1": W1, "W2": W2}, targets=T, lr=0.1, loss=convention)
        out[ex.convention] = ex
    return out


def test_numbers_rounded_to_their_printed_decimals_are_correct(examples):
    truth = oracle(1 / (2 * X.shape[1]))
    for names, key in ((["S_1"], "S1"), (["Z^{(1)}"], "Z1"), ([r"\frac{\partial L}{\partial W_1}"], "dW1"),
                       ([r"\frac{\partial \mathcal{L}}{\partial \mathbf{W}_2}"], "dW2"), (["W_1"], "W1new")):
        verdict = judge(names, read_printed(bmatrix(truth[key])), examples)
        assert verdict.verdict == "correct", (key, verdict.text)
        assert "at the 4 decimals printed" in verdict.text
    assert judge([r"\mathcal{L}"], read_printed(f"{truth['L']:.3f}"), examples).verdict == "correct"


def test_a_wrong_last_digit_is_incorrect_and_names_the_entry(examples):
    printed = np.round(oracle(1 / 6)["dW1"], 4)
    printed[2, 1] += 0.0003
    verdict = judge([r"\frac{\partial L}{\partial W_1}"], read_printed(bmatrix(printed)), examples)
    assert verdict.verdict == "incorrect"
    assert "[3, 2] is printed as" in verdict.text


def test_numbers_of_another_loss_convention_say_which_one(examples):
    """Gradients of ½‖·‖² (summed over the samples) checked against a sheet whose loss is the mean."""
    verdict = judge([r"\frac{\partial L}{\partial W_2}"], read_printed(bmatrix(oracle(0.5)["dW2"])), examples)
    assert verdict.verdict == "incorrect"
    assert "under the sheet's the half_mse_mean loss" in verdict.text and "they are under L = ½‖Ŷ − Y‖²_F" in verdict.text


def test_unnamed_numbers_are_matched_by_value_and_said_so(examples):
    verdict = judge(["Y_{out}"], read_printed(bmatrix(oracle(1 / 6)["Yhat"])), examples)
    assert verdict.verdict == "correct" and "matched by value" in verdict.text
    assert judge(["q"], read_printed(bmatrix(np.full((2, 2), 7.0))), examples).verdict == "not checked"


def test_reading_printed_numbers():
    p = read_printed(r"\begin{bmatrix} 0.4580 & -0.1 \\ 1 & .25 \end{bmatrix}")
    assert p.values.tolist() == [[0.458, -0.1], [1.0, 0.25]] and p.decimals.tolist() == [[4, 1], [0, 2]]
    assert read_printed("0.4916").values.shape == ()
    assert read_printed(r"\begin{bmatrix} x & 1 \end{bmatrix}") is None
    assert read_printed(r"\begin{bmatrix} 1 & 2 \\ 3 \end{bmatrix}") is None  # ragged
    assert agree(read_printed("0.4916"), 0.49164).holds and not agree(read_printed("0.4916"), 0.49166).holds


def test_spellings_of_one_name_compare_equal():
    assert normal_name("S_1") == normal_name("S^{(1)}") == normal_name(r"\mathbf{S}_{1}") == "S1"
    assert normal_name(r"\frac{\partial \mathcal{L}}{\partial W_2}") == normal_name(
        r"\frac{\partial L}{\partial W^{(2)}}") == "dL/dW2"


def test_updated_weights_of_another_learning_rate_say_which_one(examples):
    truth = oracle(1 / 6)
    stepped = W1 - 0.25 * truth["dW1"]  # the sheet's η is 0.1
    verdict = judge(["W_1"], read_printed(bmatrix(stepped)), examples)
    assert verdict.verdict == "incorrect"
    assert "with the sheet's η = 0.1" in verdict.text and "η ≈ 0.25" in verdict.text
