"""An error signal written by its name in a network answer (δ₃, δ^{(3)}, Δ_k as a sheet's [names] call
it): read as that signal's value from the reference, in a gradient and as a left-hand side."""

from __future__ import annotations

import pytest

import derive
from derive.sheets import load, resolve

NYU = derive.network("affine", "relu", "affine", "identity", loss="mse",
                     names=load(resolve("nyu_two_layer")).names)  # δ₃ = ∂ℓ/∂z₃, δ₁ = ∂ℓ/∂z₁
UVA = derive.network("affine_batch", "sigmoid", "affine_batch", "sigmoid", "affine_batch", "sigmoid",
                     loss="half_frobenius", names=load(resolve("uva2018_pen_paper")).names)  # Δ_k = ∂L/∂S_k


def verdict(net, wrt, answer):
    v = net.derive(wrt).check(answer)
    return v.verdict, v.claim, v.feedback


@pytest.mark.parametrize("wrt, answer", [
    ("W2", r"\delta_3 z_2^\top"),
    ("W2", r"\delta^{(3)} z_2^T"),
    ("W2", r"\frac{\partial \ell}{\partial W^{(2)}} = \delta_3 z_2^\top"),
    ("b2", r"\delta_3"),
    ("W1", r"\delta_1 x^\top"),
    ("W1", r"(W^{(2)\top} \delta_3 \odot \mathbb{1}[z_1 > 0]) x^\top"),
])
def test_nyu_gradients_written_with_the_sheets_error_signals_are_right(wrt, answer):
    assert verdict(NYU, wrt, answer)[0] == "correct"


@pytest.mark.parametrize("wrt, answer, why", [
    ("W2", r"\delta_3 z_1^\top", "right in"),  # z₁ is the pre-activation: the wrong layer's input
    ("W2", r"\delta_1 z_2^\top", "shape"),
    ("W1", r"\delta_3 x^\top", "shape"),
    ("W1", r"(W^{(2)} \delta_3 \odot \mathbb{1}[z_1 > 0]) x^\top", "a transpose?"),
])
def test_nyu_gradients_with_the_wrong_error_signal_are_wrong(wrt, answer, why):
    got, _, feedback = verdict(NYU, wrt, answer)
    assert got == "incorrect" and why in feedback[0]


@pytest.mark.parametrize("answer, claim", [
    (r"\delta_3 = 2(\hat{y} - y)", "δ₃"),
    (r"\delta^{(3)} = 2(\hat{y} - y)", "δ₃"),
    (r"\delta_1 = W^{(2)\top} \delta_3 \odot \mathbb{1}[z_1 > 0]", "δ₁"),
])
def test_an_error_signal_on_the_left_is_the_gradient_by_its_pre_activation(answer, claim):
    assert verdict(NYU, "W1", answer)[:2] == ("correct", claim)


@pytest.mark.parametrize("answer, why", [
    (r"\delta_3 = \hat{y} - y", "missing factor 2"),
    (r"\delta_1 = W^{(2)\top} \delta_3", "right in"),  # the ReLU's mask forgotten
])
def test_a_wrong_error_signal_is_incorrect(answer, why):
    got, _, feedback = verdict(NYU, "W1", answer)
    assert got == "incorrect" and why in feedback[0]


@pytest.mark.parametrize("answer, why", [
    (r"\delta_1 = \delta_1", "δ₁ is what the left-hand side claims"),
    (r"\delta_3 = 2 \delta_1", "δ₁ is not known yet where δ₃ is computed"),
])
def test_an_error_signal_is_not_written_in_terms_of_itself_or_what_follows(answer, why):
    got, _, feedback = verdict(NYU, "W1", answer)
    assert got == "invalid" and why in feedback[0]


def test_a_left_hand_side_that_is_no_quantity_lists_the_error_signals_too():
    got, _, feedback = verdict(NYU, "W1", "q = 1")
    assert got == "invalid" and "an error signal (δ₁, δ₃)" in feedback[0]


@pytest.mark.parametrize("answer, claim, right", [
    (r"\Delta_3 = (Y_{out} - Y_{gt}) \odot Z_3 \odot (1 - Z_3)", "Δ₃", True),  # Y_out = Z₃, as the sheet says
    (r"\Delta_3 = (Y_{out} - Y_{gt}) \odot f_3'(S_3)", "Δ₃", True),
    (r"\Delta_3 = Y_{out} - Y_{gt}", "Δ₃", False),
    (r"\Delta_2 = (W_3^\top \Delta_3) \odot f_2'(S_2)", "Δ₂", True),
    (r"\Delta_2 = W_3^\top \Delta_3", "Δ₂", False),
    (r"\Delta_2 = (W_3^\top \Delta_3) \odot f_3'(S_3)", "Δ₂", False),  # the wrong layer's f′: shapes differ
])
def test_uva_delta_recursion_by_the_sheets_names(answer, claim, right):
    assert verdict(UVA, "W1", answer)[:2] == ("correct" if right else "incorrect", claim)


def test_two_names_of_one_quantity_are_judged_by_their_values_not_refused():
    d = derive.network("affine>sigmoid>affine>mse").derive("W1")
    later = d.check(r"s_1 = z_1")  # z₁ = σ(s₁) comes after s₁: judged by its values, and it differs
    assert later.verdict == "incorrect" and later.counterexample
    assert d.check(r"s_1 = s_1").verdict == "invalid"  # one name written twice says nothing
    same = UVA.derive("W1").check(r"Y_{out} = Z_3")  # the sheet's two names of the network's output
    assert same.verdict == "correct" and "numeric agreement" in same.evidence_text
