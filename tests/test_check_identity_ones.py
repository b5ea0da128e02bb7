"""Both readers (a module's and a network's) read the identity (I, I_K, 𝕀), the vector of ones (𝟏,
\\mathbf{1}) and Hadamard powers (A^{⊙2}); an I or 𝟏 whose size nothing fixes is refused, not guessed."""

import pytest

import derive


@pytest.fixture(scope="module")
def affine_x():
    return derive.derivative("affine", wrt="x")


@pytest.fixture(scope="module")
def net_b2():
    return derive.network("affine>sigmoid>affine>mse").derive("b2")


@pytest.mark.parametrize("answer", [
    r"W^T I \frac{\partial C}{\partial y}", r"W^T I_M \frac{\partial C}{\partial y}",
    r"I W^T \frac{\partial C}{\partial y}", r"\mathbb{I} W^T \frac{\partial C}{\partial y}",
    r"2 I W^T \frac{\partial C}{\partial y} / 2", r"(W^T + W^T \odot (W^T - W^T)^{\odot 2}) \frac{\partial C}{\partial y}",
])
def test_a_module_answer_with_identities_and_hadamard_powers_is_read(affine_x, answer):
    assert affine_x.check(answer).verdict == "correct"


def test_a_wrong_module_answer_with_an_identity_is_still_wrong(affine_x):
    assert affine_x.check(r"W^T (I + I) \frac{\partial C}{\partial y}").verdict == "incorrect"
    assert affine_x.check(r"W^T (2 I - I) \frac{\partial C}{\partial y}").verdict == "correct"


@pytest.mark.parametrize("answer,reason", [
    (r"W^T \mathbf{1}^T \frac{\partial C}{\partial y}", "the size of 𝟏 cannot be told"),
    ("I", "I is square, but a 2×1 matrix is expected here"),
])
def test_a_module_answer_whose_size_nothing_fixes_is_refused_with_the_reason(affine_x, answer, reason):
    v = affine_x.check(answer)
    assert v.verdict == "invalid" and reason in v.feedback[0]


@pytest.mark.parametrize("answer", [
    r"I \delta_2", r"\delta_2^T I", r"I_K \delta_2", r"\mathbb{I} \delta^{(2)}",
    r"(\hat{y}-y)^{\odot 2} - (\hat y - y) \odot (\hat y - y) + \delta_2",
    r"\delta_2 + 0 \cdot \mathbf{1}", r"\delta_2 \odot 𝟏",
])
def test_a_network_answer_with_identities_ones_and_hadamard_powers_is_read(net_b2, answer):
    assert net_b2.check(answer).verdict == "correct"


def test_ones_inside_a_network_product_take_the_inner_size():
    d = derive.network("affine>sigmoid>affine>mse").derive("W2")
    assert d.check(r"\delta_2 z_1^T + 0 \cdot \delta_2 (\mathbf{1}^T z_1) z_1^T").verdict == "correct"


def test_the_identity_alone_is_not_the_number_one_for_a_vector_gradient(net_b2):
    v = net_b2.check("I")
    assert v.verdict == "invalid" and "I is square" in v.feedback[0]


@pytest.mark.parametrize("answer", [r"I_{0} \delta_2", r"I_{100000} \delta_2", r"I^2 \delta_2", r"\sigma(I) \delta_2",
                                    r"\max(I, 0) \delta_2", r"\mathbb{1}[I > 0] \delta_2", r"\exp(\mathbf{1})",
                                    r"\mathrm{diag}(\mathbf{1})\delta_2"])
def test_an_identity_or_ones_of_no_size_or_an_absurd_one_is_refused_in_a_network(net_b2, answer):
    v = net_b2.check(answer)
    assert v.verdict == "invalid" and ("size" in v.feedback[0]), v.feedback


@pytest.mark.parametrize("answer", [r"I_{0} W^T \frac{\partial C}{\partial y}", r"I_{100000} W^T \frac{\partial C}{\partial y}",
                                    r"I^2 W^T \frac{\partial C}{\partial y}", r"\sigma(I)", r"\mathbb{1}[I > 0]",
                                    r"\mathrm{diag}(\mathbf{1}) W^T \frac{\partial C}{\partial y}"])
def test_an_identity_or_ones_of_no_size_or_an_absurd_one_is_refused_in_a_module(affine_x, answer):
    v = affine_x.check(answer)
    assert v.verdict == "invalid" and ("size" in v.feedback[0]), v.feedback


def test_both_readers_know_the_same_functions():
    d = derive.network("affine>sigmoid>affine>mse").derive("b2")
    assert d.check(r"\log'(\hat y) \odot \hat y \odot \delta_2").verdict == "correct"  # log′ = 1/a, as in a module
