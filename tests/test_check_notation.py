"""Notations students write, feedback that names the mistake, the verdict object, and fuzzing."""

from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derive
from derive.check import check
from derive.check.parse import parse
from derive.check.screen import InvalidAnswer


@cache
def derivation(target, wrt=None):
    return derive.derivative(target, wrt=wrt)


def verdict(target, wrt, answer):
    return check(derivation(target, wrt), answer)


ACCEPTED = [
    ("softmax", "x", r"\beta y_i(\delta_{ij} - y_j)"),
    ("softmax", "x", r"\beta y_j(\delta_{ij} - y_i)"),  # simplify(a − b) == 0 rejects this one
    ("softmax", "x", "β y_i(δ_ij − y_j)"),
    ("softmax", "x", "beta*y[i]*(KroneckerDelta(i,j) - y[j])"),
    ("softmax", "x", r"\beta(\operatorname{diag}(\mathbf{y}) - \mathbf{y}\mathbf{y}^T)"),
    ("softmax", "x", r"\begin{cases} \beta y_i(1-y_i) & i = j \\ -\beta y_i y_j & i \neq j \end{cases}"),
    ("sigmoid", "x", r"\sigma(x)(1-\sigma(x))"),
    ("sigmoid", "x", r"\sigma'(x)"),
    ("sigmoid", "x", "y(1-y)"),
    ("sigmoid", "x", r"\hat{y}(1 - \hat{y})"),
    ("sigmoid", "x", r"\frac{e^{-x}}{(1+e^{-x})^2}"),
    ("tanh", "x", r"1 - \tanh^2(x)"),
    ("tanh", "x", "1 - tanh(x)**2"),
    ("tanh", "x", "1 - y^2"),
    ("relu", "x", r"\mathbb{1}[x > 0]"),
    ("relu", "x", "Heaviside(x)"),
    ("relu", "x", "1[x > 0]"),  # a plain 1 before a bracket that compares: the indicator
    ("relu", "x", r"1\{x > 0\}"),
    ("relu", "x", "1_{x>0}"),
    ("relu", "x", "1(x > 0)"),
    ("mse", "yhat", r"2(\hat{y}-y)"),
    ("mse", "yhat", "2*(yhat - y)"),
    ("mse", "yhat", r"2(\hat{y}_i - y_i)"),
    ("softmax_cross_entropy", "theta", "ŷ − y"),
    ("affine", "W", r"\frac{\partial C}{\partial \mathbf{y}} \mathbf{x}^T"),
    ("affine", "W", r"\frac{\partial C}{\partial y_i} x_j"),
    ("affine", "W", "dC/dy * x.T"),
    ("affine", "W", r"\delta x^\top"),
    ("affine", "W", r"g \otimes x"),
    ("affine", "x", r"W^T \frac{\partial L}{\partial y}"),
    ("affine", "x", r"\sum_k W_{ki} \frac{\partial E}{\partial y_k}"),
    ("affine", "x", r"\sum_{k=1}^{M} W_{ki} g_k"),
    ("affine", "b", r"\frac{\partial J}{\partial y}"),
    ("bce", "yhat", r"\frac{\hat{y} - y}{K \hat{y}(1 - \hat{y})}"),
]


@pytest.mark.parametrize("target,wrt,answer", ACCEPTED, ids=[a for _, _, a in ACCEPTED])
def test_equivalent_notations_are_accepted(target, wrt, answer):
    v = verdict(target, wrt, answer)
    assert v.verdict == "correct", v.feedback
    assert v.parsed


@pytest.mark.parametrize("target,wrt,answer,named", [
    ("softmax", "x", r"y_i(\delta_{ij} - y_j)", "missing factor β"),
    ("softmax", "x", r"-\beta y_i(\delta_{ij} - y_j)", "sign error"),
    ("softmax", "x", r"\beta y_i(1 - y_j)", "the i ≠ j case is wrong: use δ_ij"),
    ("sigmoid", "x", "-y(1-y)", "sign error"),
    ("mse", "yhat", r"4(\hat{y} - y)", "off by a factor 2"),
    ("mse", "yhat", r"\hat{y} - y", "missing factor 2"),
    ("bce", "yhat", r"\frac{\hat{y} - y}{\hat{y}(1 - \hat{y})}", "factor K = 3"),
    ("affine", "W", r"x \frac{\partial C}{\partial y}^T", "shape 2×3, expected 3×2: a transpose?"),
    ("affine", "W", r"\frac{\partial C}{\partial y_j} x_i", "are indices swapped?"),
    ("affine", "x", r"W \frac{\partial C}{\partial y}", "a transpose?"),
])
def test_feedback_names_the_mistake(target, wrt, answer, named):
    v = verdict(target, wrt, answer)
    assert v.verdict in ("incorrect", "invalid")
    assert any(named in s for s in v.feedback), v.feedback


def test_a_wrong_answer_always_has_a_counterexample_with_values():
    v = verdict("relu", "x", "1")  # Heaviside ≡ 1 cannot pass: some sampled x is negative
    assert v.verdict == "incorrect"
    ce = v.counterexample
    assert ce["values"]["x"] < 0 and ce["answer"] == 1 and ce["expected"] == 0
    assert "x = -" in ce["text"]


@pytest.mark.parametrize("answer", ["1[x < 0]", "1(x + 1)", "2 - 1(x > 0)"])
def test_a_plain_one_is_an_indicator_only_before_a_comparison(answer):
    assert verdict("relu", "x", answer).verdict == "incorrect"  # 1(x + 1) is x + 1, a product, not 𝟙


def test_max_0_x_is_not_its_own_derivative():
    assert verdict("relu", "x", "x").verdict == "incorrect"


def test_the_verdict_shows_itself_as_math():
    v = verdict("softmax", "x", r"\beta y_i(\delta_{ij} - y_j)")
    assert v._repr_latex_().startswith("$$") and r"\delta_{ij}" in v._repr_latex_()
    assert "**correct**" in v._repr_markdown_()
    assert v.to_json()["verdict"] == "correct" and v.exit_code == 0


@pytest.mark.parametrize("answer,reason", [
    ("z", "unknown name z"),
    (r"y_i y_k", "index k is not free"),
    (r"y_i x^T", "mixes index notation"),
    (r"\beta y_i y", "vector here"),
])
def test_unreadable_answers_say_why(answer, reason):
    v = verdict("softmax", "x", answer)
    assert v.verdict == "invalid" and reason in v.feedback[0]


def test_layer_answer_may_not_name_the_cost_alone():
    assert verdict("affine", "W", "C x^T").verdict == "invalid"


ALPHABET = list("xyWbijk0123456789+-*/^_{}()[],. ") + [
    r"\frac", r"\beta", r"\delta", r"\sigma", r"\partial", r"\hat", "^T", r"\odot", r"\sum", "&", r"\\",
    r"\begin{cases}", r"\end{cases}", "=", ">", r"\mathbb{1}", "**", "'", r"\exp", "σ", "δ", "ŷ", "−"]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join))
def test_the_parser_never_raises_anything_but_invalid_answer(text):
    try:
        parse(text)
    except InvalidAnswer as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(st.text(max_size=60))
def test_the_parser_survives_arbitrary_text(text):
    try:
        parse(text)
    except InvalidAnswer:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ALPHABET), max_size=20).map("".join),
       st.sampled_from([("softmax", "x"), ("affine", "W"), ("sigmoid", "x"), ("mse", "yhat")]))
def test_the_checker_always_returns_a_verdict(text, target):
    v = check(derivation(*target), text, timeout=2.0)
    assert v.verdict in ("correct", "incorrect", "undecided", "invalid")
    assert all("\n" not in s for s in v.feedback)
