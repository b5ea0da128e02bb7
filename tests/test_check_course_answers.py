"""Right answers to the course modules as a TA writes them, and wrong ones beside them: σ before a term,
Φ(x) and φ(x) for GELU, σ on its own in batch norm's γ/(Nσ), a factor before a sum, x̂ as typed,
Σ over a class letter (Σ_w), the cost written as CE(y, ŷ) or ℓ_MSE(ŷ, y), norms, traces and softmax."""

import os
import subprocess
import sys
from functools import cache

import pytest

import derive
from derive.check import check
from derive.check.parse import parse

BN = r"\frac{{\gamma}}{{N\sigma}}(N g_i - \sum_k g_k {sign} {xhat}_i \sum_k g_k {xhat}_k)"


@cache
def derivation(target, wrt):
    return derive.derivative(target, wrt=wrt)


@pytest.mark.parametrize("target,wrt,right,wrong", [
    ("silu", None, r"\sigma(x)(1 + x(1 - \sigma(x)))", r"\sigma(x)(1 + x(1 + \sigma(x)))"),
    ("silu", None, r"\sigma x (1 + x(1 - \sigma x))", r"\sigma x (1 + x(1 - \sigma))x"),
    ("silu", None, r"\sigma \cdot (1 + x(1 - \sigma))", r"\sigma \cdot (1 - x(1 - \sigma))"),  # σ: SiLU's σ(x)
    ("softplus", None, r"\sigma(x)", r"1 - \sigma(x)"),
    ("softplus", None, r"\frac{e^x}{1 + e^x}", r"\frac{1}{1 + e^x}"),
    ("gelu", None, r"\Phi(x) + x \phi(x)", r"\Phi(x) - x \phi(x)"),
    ("gelu", None, r"\Phi + x \phi", r"\Phi + \phi"),
    ("gelu", None, r"\frac{1}{2}(1 + \operatorname{erf}(x/\sqrt{2})) + \frac{x}{\sqrt{2 \pi}} e^{-x^2/2}",
     r"\frac{1}{2}(1 + \text{erf}(x/\sqrt{2})) + \frac{x}{\sqrt{\pi}} e^{-x^2/2}"),
    ("batchnorm", "x", BN.format(sign="-", xhat=r"\hat{x}"), BN.format(sign="+", xhat=r"\hat{x}")),
    ("batchnorm", "x", BN.format(sign="-", xhat="x̂"), BN.format(sign="-", xhat="x")),
    ("batchnorm", "x", BN.format(sign="-", xhat=r"\text{x̂}"), BN.format(sign="+", xhat=r"\text{x̂}")),
    ("batchnorm", "x", r"\frac{\gamma}{\sigma}(g_i - \frac{1}{N}\sum_k g_k - \frac{1}{N}\hat{x}_i \sum_k g_k \hat{x}_k)",
     r"\frac{\gamma}{\sigma}(g_i - \frac{1}{N}\sum_k g_k - \hat{x}_i \sum_k g_k \hat{x}_k)"),
    ("batchnorm", "gamma", r"\sum_{i=1}^{N} \frac{\partial L}{\partial y_i} \hat{x}_i", r"\sum_i g_i x_i"),
    ("word2vec_softmax_o", "v", r"-U_{io} + \sum_{w} \hat{y}_w U_{iw}", r"\sum_{w} \hat{y}_w U_{iw}"),
    # the student's free index k where the engine's is i, with a sum over i: the sum keeps its own index
    ("conv1d", "w", r"\frac{\partial C}{\partial w_k} = \sum_i \frac{\partial C}{\partial y_i} x_{i+k-1}",
     r"\frac{\partial C}{\partial w_k} = \sum_i \frac{\partial C}{\partial y_i} x_{i+k-2}"),
    ("conv1d", "w", r"\sum_i \frac{\partial C}{\partial y_i} x_{i+k-1}", r"\sum_i \frac{\partial C}{\partial y_i} w_{i+k-1}"),
    ("conv1d", "w", r"\sum_l \frac{\partial C}{\partial y_l} x_{k+l-1}", r"\sum_l \frac{\partial C}{\partial y_l} x_{k+l-1} w_k"),
    # the input gradient as a full convolution: ∂C/∂y past either end is the padding's 0
    ("conv1d", "x", r"\sum_k w_k \frac{\partial C}{\partial y_{i-k+1}}", r"\sum_k w_k \frac{\partial C}{\partial y_{i+k-1}}"),
    ("conv2d", "X", r"\sum_k \sum_m W_{km} \frac{\partial C}{\partial Y_{i-k+1, j-m+1}}",
     r"\sum_k \sum_m W_{mk} \frac{\partial C}{\partial Y_{i-k+1, j-m+1}}"),
    ("cosine", "x", r"\frac{y}{\|x\| \|y\|} - s \frac{x}{\|x\|^2}", r"\frac{y}{\|x\| \|y\|} - s \frac{x}{\|x\|}"),  # s, the loss
    ("word2vec_softmax", "v", r"U(\hat{y} - y)", r"U(y - \hat{y})"),
])
def test_a_right_answer_is_correct_and_its_wrong_twin_is_not(target, wrt, right, wrong):
    d = derivation(target, wrt)
    v = check(d, right)
    assert v.verdict == "correct", (right, v.feedback)
    w = check(d, wrong)
    assert w.verdict == "incorrect", (wrong, w.verdict, w.feedback)


def test_sigma_of_a_bracket_is_ambiguous_where_sigma_names_sigma_of_x():
    v = check(derivation("silu", None), r"\sigma (1 + x(1 - \sigma))")  # σ·(…) or σ applied to (…)?
    assert v.verdict == "invalid" and "ambiguous" in v.feedback[0]


G_I, G_L = r"\frac{\partial C}{\partial y_{i}}", r"\frac{\partial C}{\partial y_{l}}"
BN_SIGMA_N = rf"\frac{{\gamma (N {G_I} - \hat{{x}}_{{i}} \sum_{{l}} {G_L} \hat{{x}}_{{l}} - \sum_{{l}} {G_L})}}{{\sigma N}}"


@pytest.mark.parametrize("hashseed", ["0", "1", "7"])
def test_batch_norms_sigma_is_a_quantity_under_every_hash_order(hashseed):
    """σ N and σ(N) in batch norm are σ·N: σ is √(σ_B² + ε) there, and the module has no sigmoid. (The reading
    once hung on which free symbol of σ's definition a set yielded first: with PYTHONHASHSEED=0 the audit of
    derive's own normalization sheet called its right result incorrect.)"""
    wrong, bracket = BN_SIGMA_N.replace(r"{\sigma N}", r"{\sigma}"), BN_SIGMA_N.replace(r"{\sigma N}", r"{\sigma(N)}")
    code = ("import derive\nfrom derive.check import check\nd = derive.derivative('batchnorm', wrt='x')\n"
            f"print(check(d, {BN_SIGMA_N!r}).verdict)\nprint(check(d, {wrong!r}).verdict)\n"
            f"print(check(d, {bracket!r}).verdict)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONHASHSEED": hashseed}, check=True).stdout.splitlines()
    assert out == ["correct", "incorrect", "correct"], out


def test_phi_is_a_function_only_where_it_is_the_normal_density():
    assert parse(r"\phi x") == parse(r"\phi \cdot x").__class__(op="juxt", a=parse(r"\phi"), b=parse("x"))
    d = derive.network("affine>sigmoid>affine>softmax_cross_entropy").derive("W1")  # CS224n: φ = xW₁ + b₁
    v = check(d, r"\frac{\partial J}{\partial h} = \phi(x)")
    assert v.verdict == "invalid" and "not a function" in v.feedback[0]


@pytest.mark.parametrize("written", [r"CE(y, \hat{y})", r"\ell_{\text{CE}}(\hat{y}, y)", r"L(y, \hat{y})",
                                     r"CE(\theta)"])
def test_the_cost_written_as_a_function_of_its_arguments_is_the_cost(written):
    d = derivation("softmax_cross_entropy", "theta")
    assert check(d, rf"\frac{{\partial {written}}}{{\partial \theta_j}} = \hat{{y}}_j - y_j").verdict == "correct"
    assert check(d, rf"\frac{{\partial {written}}}{{\partial \theta_j}} = y_j - \hat{{y}}_j").verdict == "incorrect"


def test_a_product_with_a_comma_free_bracket_is_still_a_product():
    assert parse(r"C(y)") == parse(r"C \cdot y").__class__(op="juxt", a=parse("C"), b=parse("y"))


@cache
def uva():
    from derive.sheets import load, resolve

    part = load(resolve("uva2018_pen_paper")).questions[0].parts[2]
    return derive.network(part.network, names=part.names).derive("W1")


@pytest.mark.parametrize("answer,expected", [
    (r"L = \frac{1}{2}||Y_{out} - Y_{gt}||_F^2", "correct"),
    (r"L = \frac{1}{2}\left\| Y_{out} - Y_{gt} \right\|_F^2", "correct"),
    (r"L = \frac{1}{2} \operatorname{Tr}((Y_{out} - Y_{gt})^T (Y_{out} - Y_{gt}))", "correct"),
    (r"L = ||Y_{out} - Y_{gt}||_F^2", "incorrect"),
    (r"L = \frac{1}{2} \operatorname{Tr}(Y_{out} - Y_{gt})", "incorrect"),  # a trace of a non-square matrix
])
def test_norms_and_traces_in_a_network_loss(answer, expected):
    v = check(uva(), answer)
    assert v.verdict == expected, v.feedback


@pytest.mark.parametrize("answer,expected", [
    (r"\hat{y} = \text{softmax}(\theta)", "correct"),
    (r"\hat{y} = \text{softmax}(h)", "incorrect"),
    (r"\theta = hW_2 + b_2", "correct"),  # h times W_2, in the row convention
    (r"\theta = hW_1 + b_2", "incorrect"),
])
def test_cs224n_forward_lines_are_read(answer, expected):
    d = derive.network("affine>sigmoid>affine>softmax_cross_entropy").derive("W1")
    v = check(d, answer)
    assert v.verdict == expected, v.feedback


def test_the_positive_part_is_relu():
    assert parse(r"(W x + b)^+") == parse(r"\operatorname{relu}(W x + b)") == parse(r"(W x + b)^{+}")
    d = derivation("relu", None)
    assert check(d, r"\mathbb{1}[(x)^+ > 0]").verdict == "correct"
    assert check(d, r"(x)^+").verdict == "incorrect"


def test_a_sum_limit_the_answer_names_itself_stands_for_the_size_the_sum_indexes():
    d = derivation("affine", "W")
    assert check(d, r"y_i = \sum_{j=1}^{N} W_{ij} x_j + b_i").verdict == "correct"  # N: x's entries
    assert check(d, r"y_i = \sum_{j=1}^{N} W_{ij} x_j - b_i").verdict == "incorrect"
    two = check(d, r"y_i = \sum_{j=1}^{N} W_{ij} x_j + b_i \sum_{k=1}^{N} b_k")  # N for D and for M
    assert two.verdict == "invalid" and "two different sizes" in two.feedback[0]


def test_a_name_the_reference_cannot_evaluate_is_no_verdict_on_the_answer():
    import sympy as sp

    from derive.check.compiled import OutOfRange, compile_exprs

    y = sp.IndexedBase("y")
    with pytest.raises(OutOfRange) as stray:
        compile_exprs([sp.Symbol("z")], [y[1]])
    with pytest.raises(OutOfRange) as entry:
        compile_exprs([y[4]], [y[1]])
    assert (stray.value.entry, entry.value.entry) == (False, True)


def test_a_sum_over_the_only_free_index_that_leaves_none_free_still_says_so():
    v = check(derivation("conv1d", "w"), r"\sum_i \frac{\partial C}{\partial y_i} x_i")
    assert v.verdict == "incorrect" and "the sum runs over i" in v.feedback[0]


def test_renaming_the_written_index_never_captures_a_summed_one():
    import sympy as sp

    from derive.check.meaning import renamed
    from derive.definitions.model import IDX

    i, k = IDX["i"], IDX["k"]
    x = sp.IndexedBase("x")
    out = renamed(sp.Sum(x[i + k], (i, 1, 3)), {k: i})
    assert out.free_symbols & {i} == {i} and len(out.variables) == 1 and out.variables[0] not in (i, k)


def test_zero_padding_is_said_and_only_the_arriving_gradient_is_padded():
    v = check(derivation("conv1d", "x"), r"\sum_k w_k \frac{\partial C}{\partial y_{i-k+1}}")
    assert v.verdict == "correct" and "∂C/∂y outside its range taken as 0 (zero padding)" in v.evidence["text"]
    w = check(derivation("conv1d", "x"), r"\sum_k w_k x_{i-k+1}")  # an input past its end is no padding
    assert w.verdict == "incorrect" and "does not exist" in w.feedback[0]
    plain = check(derivation("conv1d", "w"), r"\sum_i \frac{\partial C}{\partial y_i} x_{i+k-1}")
    assert "padding" not in plain.evidence["text"]
