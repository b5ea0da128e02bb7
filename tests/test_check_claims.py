"""An answer's left-hand side is the claim that is checked (issue 12): shown back in the verdict,
never silently re-targeted; a claim about something else is checked as what it names or refused."""

import json

import pytest

import derive
from derive.check import check
from derive.check.grade import gradescope

AFFINE_B = derive.derivative("affine", wrt="b")
SOFTMAX = derive.derivative("softmax", wrt="x")
NET = derive.network("affine>sigmoid>affine>mse")


@pytest.mark.parametrize("answer,verdict,claim", [
    (r"\frac{\partial y_i}{\partial b_j} = \delta_{ij}", "correct", "∂y_i/∂b_j"),  # right, and called right
    (r"\frac{\partial y}{\partial b} = I", "correct", "∂y/∂b"),
    (r"\frac{\partial y}{\partial b} = \mathbb{I}", "correct", "∂y/∂b"),
    (r"\frac{\partial y}{\partial b} = I_M", "correct", "∂y/∂b"),
    (r"\frac{\partial y_i}{\partial x_j} = W_{ij}", "correct", "∂y_i/∂x_j"),  # another variable: checked as named
    (r"\frac{\partial y_j}{\partial x_i} = W_{ji}", "correct", "∂y_j/∂x_i"),
    (r"\frac{\partial y_i}{\partial W_{jk}} = \delta_{ij} x_k", "correct", "∂y_i/∂W_jk"),
    (r"\frac{\partial y_i}{\partial b_j} = 1 \text{ for } i = j", "correct", "∂y_i/∂b_j for i = j"),
    (r"\frac{\partial C}{\partial b} = \frac{\partial C}{\partial y}", "correct", "∂C/∂b"),
    (r"\frac{\partial C}{\partial b_i} = \frac{\partial C}{\partial y_i}", "correct", "∂C/∂b_i"),
    (r"\frac{\partial C}{\partial y}", "correct", "∂C/∂b"),  # no left-hand side: the derivation's own
    (r"\frac{\partial y_i}{\partial b_j} = 1", "incorrect", "∂y_i/∂b_j"),
    (r"\frac{\partial y_i}{\partial W_{jk}} = \delta_{ik} x_j", "incorrect", "∂y_i/∂W_jk"),
])
def test_a_layer_answer_is_judged_as_the_claim_its_left_hand_side_makes(answer, verdict, claim):
    v = check(AFFINE_B, answer)
    assert (v.verdict, v.claim) == (verdict, claim), v.feedback


def test_a_jacobian_of_a_vector_by_a_matrix_is_judged_by_what_it_is():
    v = check(AFFINE_B, r"\frac{\partial y}{\partial W} = x")
    assert v.verdict == "incorrect" and v.claim == "∂y/∂W"
    assert v.feedback == ["∂y/∂W has M × M × D entries (18 at the sizes checked); the answer has 2 (a 2×1 matrix)."]


def test_the_number_one_is_not_the_identity_matrix():
    v = check(AFFINE_B, r"\frac{\partial y}{\partial b} = 1")
    assert v.verdict == "incorrect" and "I is meant, not 1" in v.feedback[0]


@pytest.mark.parametrize("derivation,answer,verdict", [
    (AFFINE_B, r"y = W x + b", "correct"),
    (AFFINE_B, r"\mathbf y = \mathbf{W x} + \mathbf b", "correct"),
    (AFFINE_B, r"y = W x", "incorrect"),
    (AFFINE_B, r"y = W^T x + b", "incorrect"),  # the shapes do not fit
    (SOFTMAX, r"y_i = \frac{e^{\beta x_i}}{\sum_j e^{\beta x_j}}", "correct"),
    (SOFTMAX, r"y_j = \frac{e^{\beta x_j}}{\sum_i e^{\beta x_i}}", "correct"),  # the sum's i is not y's
    (SOFTMAX, r"y_k = \frac{e^{x_k}}{\sum_n e^{x_n}}", "incorrect"),  # β dropped
    (derive.derivative("mse", wrt="yhat"), r"L = \sum_k (\hat{y}_k - y_k)^2", "correct"),
    (derive.derivative("relu", wrt="x"), r"y = \max(0, x)", "correct"),
])
def test_a_module_definition_is_judged_against_the_definition(derivation, answer, verdict):
    v = check(derivation, answer)
    assert v.verdict == verdict, v.feedback
    assert v.evidence and v.evidence["text"]  # a verdict with what it rests on
    if verdict == "incorrect" and v.counterexample:
        assert "the definition is" in v.counterexample["text"]


@pytest.mark.parametrize("answer,reason", [
    (r"z = W x + b", "not a derivative"),
    (r"y = y + 0", "cannot use y itself"),  # a definition that names what it defines proves nothing
    (r"y_{ij} = W_{ij}", "named by 1 index letter"),
    (r"\frac{\partial C}{\partial W} = x", "with respect to W, but this checks"),
    (r"\frac{\partial z}{\partial b} = 1", "not the cost or the output"),
    (r"\frac{\partial C}{\partial q} = 1", "not a variable of affine"),
])
def test_a_left_hand_side_naming_nothing_checkable_here_is_refused_with_the_reason(answer, reason):
    v = check(AFFINE_B, answer)
    assert v.verdict == "invalid" and reason in v.feedback[0] and len(v.feedback) == 1


@pytest.mark.parametrize("answer,verdict,claim", [
    (r"\frac{\partial y_i}{\partial x_j} = \beta y_i(1-y_i) \text{ for } i = j", "correct", "∂y_i/∂x_j for i = j"),
    (r"-\beta y_i y_j \text{ if } i \neq j", "correct", "∂y/∂x for i ≠ j"),
    (r"-\beta y_i y_j \text{ if } i = j", "incorrect", "∂y/∂x for i = j"),
    (r"\begin{cases} \beta y_i(1-y_i) & i = j \end{cases}", "correct", "∂y/∂x for i = j"),
    (r"\begin{cases} y_i(1-y_i) & i = j \end{cases}", "incorrect", "∂y/∂x for i = j"),
])
def test_a_single_case_is_checked_in_that_case_only(answer, verdict, claim):
    v = check(SOFTMAX, answer)
    assert (v.verdict, v.claim) == (verdict, claim), v.feedback


def test_an_activation_has_no_cost_to_claim_a_gradient_of():
    v = check(SOFTMAX, r"\frac{\partial C}{\partial x} = \beta y_i")
    assert v.verdict == "invalid" and "softmax has no cost" in v.feedback[0]


@pytest.mark.parametrize("wrt,answer,verdict,claim", [
    ("x", r"\frac{\partial L}{\partial z_1} = W_2^T \delta_2", "correct", "∂L/∂z1"),
    ("x", r"\frac{\partial L}{\partial W_1} = \delta_1 x^T", "correct", "∂L/∂W1"),  # another parameter, as named
    ("x", r"\frac{\partial L}{\partial W_1} = W_1^T \delta_1", "incorrect", "∂L/∂W1"),
    ("W1", r"z_1 = \sigma(W^{(1)} x + b^{(1)})", "correct", "z1"),
    ("W1", r"z_1 = \max(0, W^{(1)} x + b^{(1)})", "incorrect", "z1"),
    ("W1", r"\hat y = W_2 z_1 + b_2", "correct", "ŷ"),
    ("W1", r"L = (\hat y - y)^T (\hat y - y)", "correct", "L"),
    ("W1", r"L = \frac{1}{2}(\hat y - y)^T (\hat y - y)", "incorrect", "L"),
    ("W1", r"\frac{\partial z_1}{\partial s_1} = \mathrm{diag}(z_1 \odot (1 - z_1))", "correct", "∂z1/∂s1"),
])
def test_a_network_answer_is_judged_as_its_claim(wrt, answer, verdict, claim):
    v = check(NET.derive(wrt), answer)
    assert (v.verdict, v.claim) == (verdict, claim), v.feedback


def test_a_network_jacobian_against_the_number_one_is_wrong():
    v = check(NET.derive("W1"), r"\frac{\partial z_1}{\partial s_1} = 1")
    assert v.verdict == "incorrect" and "is a 3×3 matrix" in v.feedback[0]


def test_an_identity_layer_jacobian_is_the_identity_not_one():
    d = derive.network("affine>sigmoid>affine>mse").derive("W1")
    k = d.network.depth
    from derive.check.netclaims import NetClaim, view
    from derive.check.netref import network_reference

    ref = view(network_reference(d), NetClaim("∂ŷ/∂ŷ", "jacobian", k))  # layer 2 has no activation
    assert all((p.expected == __import__("numpy").eye(p.expected.shape[0])).all() for p in ref.points)


@pytest.mark.parametrize("answer,reason", [
    (r"z_1 = z_1", "is what the left-hand side claims"),
    (r"z_1 = \sigma(\hat y)", "is not known yet"),
    (r"z_1 = \delta_1", "is not known yet"),
    (r"q = 3", "a quantity of the forward pass"),
    (r"\frac{\partial \hat y}{\partial z_1} = W_2", "a layer's own Jacobian"),
])
def test_a_network_claim_that_cannot_be_checked_is_refused_with_the_reason(answer, reason):
    v = check(NET.derive("W1"), answer)
    assert v.verdict == "invalid" and reason in v.feedback[0]


def test_the_claim_is_shown_in_json_text_notebook_and_gradescope():
    v = check(AFFINE_B, r"\frac{\partial y_i}{\partial b_j} = \delta_{ij}")
    assert json.loads(json.dumps(v.to_json()))["claim"] == "∂y_i/∂b_j"
    assert "claim:      ∂y_i/∂b_j" in v.text() and "claim checked: ∂y\\_i/∂b\\_j" in v._repr_markdown_()
    row = {"id": "s1", "verdict": v.verdict, "claim": v.claim, "parsed": v.parsed, "feedback": "",
           "counterexample": "", "evidence": v.evidence_text}
    assert "claim: ∂y_i/∂b_j" in gradescope([row])["tests"][0]["output"]
    assert check(AFFINE_B, r"\frac{\partial C}{\partial y}").to_json()["claim"] == "∂C/∂b"  # no left-hand side


def test_a_chain_of_jacobians_is_a_chain_to_the_quantity_its_left_hand_side_names():
    """∂J/∂z1 written as a chain ends at z1, not at the derivation's own variable x."""
    import derive

    d = derive.derivative("affine>sigmoid>affine>softmax_cross_entropy", wrt="x")
    right = d.check(r"\frac{\partial J}{\partial z_1} = \frac{\partial J}{\partial \theta}"
                    r"\frac{\partial \theta}{\partial z_1}")
    assert right.verdict == "undecided" and "complete from L to z1" in right.feedback[0]
    short = d.check(r"\frac{\partial J}{\partial z_1} = \frac{\partial J}{\partial \theta}"
                    r"\frac{\partial \theta}{\partial s_1}")
    assert short.verdict == "incorrect" and "the chain ends at s1, not at z1" in short.feedback[0]
    aliased = d.check(r"\frac{\partial J}{\partial h} = \frac{\partial J}{\partial \theta}\frac{\partial \theta}{\partial h}")
    assert aliased.verdict == "undecided", aliased.feedback  # h is this network's z1


def test_a_network_in_the_homeworks_own_names_reads_its_claims_in_them():
    """NYU's two-layer net names s1, z1, s2 as z₁, z₂, z₃: ∂ŷ/∂z₃ = 1 is wrong (the K × K identity is meant)."""
    from derive.network.chain import network

    d = network("affine>relu>affine>identity>mse", names={"s1": "z_1", "z1": "z_2", "s2": "z_3"}).derive("W1")
    one = d.check(r"\frac{\partial \hat{y}}{\partial z_3} = 1")
    assert one.verdict == "incorrect" and "the answer is a number" in one.feedback[0]
    assert one.claim == "∂ŷ/∂z₃" and one.feedback[0].startswith("∂ŷ/∂z₃ is")  # in the sheet's own names
    assert d.check(r"\frac{\partial \hat{y}}{\partial z_3} = I").verdict == "correct"
    assert d.check(r"z_2 = \max(0, W^{(1)} x + b^{(1)})").verdict == "correct"
    assert d.check(r"z_2 = \max(0, W^{(1)} x)").verdict == "incorrect"
