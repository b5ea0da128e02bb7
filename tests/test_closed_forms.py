"""The closed forms the seed homeworks need, exactly as a person writes them."""

import pytest
import sympy as sp

from derive.api import derivative
from derive.render.printer import latex, text
from tests.conftest import CLOSED


@pytest.mark.parametrize("target, wrt, expected", CLOSED, ids=[f"{t}-{w}" for t, w, _ in CLOSED])
def test_closed_form_text(target, wrt, expected):
    assert text(derivative(target, wrt=wrt).result) == expected


@pytest.mark.parametrize("target, wrt, expected", CLOSED, ids=[f"{t}-{w}" for t, w, _ in CLOSED])
def test_printed_text_parses_back_to_the_same_expression(target, wrt, expected):
    d = derivative(target, wrt=wrt)
    from derive.definitions.model import IDX

    names = {s.name: s for s in d.result.free_symbols} | dict(IDX)
    names |= {b.name: b for b in d.result.atoms(sp.IndexedBase)}
    names |= {"Sum": sp.Sum, "KroneckerDelta": sp.KroneckerDelta, "Heaviside": sp.Heaviside,
              "Piecewise": sp.Piecewise}
    # Our own printed output, not user text: parse_expr is fine here.
    back = sp.parse_expr(text(d.result), local_dict=names)
    assert back == d.result or sp.simplify(back - d.result) == 0


def test_softmax_latex_is_what_a_teaching_assistant_writes():
    assert latex(derivative("softmax").result) == r"\beta y_{i} \left(\delta_{ij} - y_{j}\right)"


def test_softmax_steps_show_quotient_rule_cases_and_substitution():
    d = derivative("softmax", wrt="x")
    rules = [s.rule for s in d.steps]
    assert rules.index("quotient") < rules.index("contract") < rules.index("substitute") < rules.index("cases")
    same, other = d.cases.pieces
    assert text(same[0]) == "beta*y[i]*(1 - y[i])" and text(other[0]) == "-beta*y[i]*y[j]"
    substituted = next(s for s in d.steps if s.rule == "substitute").after
    assert not substituted.has(sp.exp), "the substitution writes the result in y only"


def test_a_sum_whose_terms_all_depend_on_the_variable_is_kept():
    """hinge: contracting Σ_l would scatter it into four sums; kept, each term is factored instead.
    cross-entropy: the delta picks one term, so the sum goes."""
    d = derivative("hinge", wrt="o")
    rules = [s.rule for s in d.steps]
    assert rules[-3:] == ["contract", "substitute", "factor"] and "cases" not in rules
    assert isinstance(d.result, sp.Sum) and d.cases is None, "the cases are longer than the result: not stated"
    assert not derivative("cross_entropy", wrt="yhat").result.has(sp.Sum)
    svm = derivative("svm", wrt="s")
    same, other = svm.cases.pieces  # shorter than the sum: stated beside it
    assert text(same[0]) == "1 - Sum(Heaviside(Delta + s[k] - s[t], 0), (k, 1, K))"
    assert text(other[0]) == "Heaviside(Delta + s[i] - s[t], 0)"


def test_cases_that_disagree_with_the_result_are_caught():
    from dataclasses import replace

    from derive.steps import Cases
    from derive.verify import VerificationError
    from derive.verify_steps import check_steps

    d = derivative("svm", wrt="s")
    (same, eq), (other, ne) = d.cases.pieces
    with pytest.raises(VerificationError, match="the cases"):
        check_steps(replace(d, cases=Cases(((same, eq), (-other, ne)))))


def test_scaled_cost_scales_every_gradient():
    for wrt in ("W", "b", "x"):
        plain, scaled = derivative("affine", wrt=wrt), derivative("affine", wrt=wrt, scale=3)
        assert sp.simplify(scaled.result - 3 * plain.result) == 0
        assert scaled.cost.name == "C_2"


@pytest.mark.parametrize("target, wrt, expected", [
    ("affine", "W", "∂C/∂y xᵀ"),
    ("affine", "x", "Wᵀ ∂C/∂y"),
    ("affine_row", "W", "Xᵀ ∂C/∂Y"),
    ("affine_row", "b", "(∂C/∂Y)ᵀ 𝟏"),
    ("affine_batch", "W", "∂C/∂S Xᵀ"),
    ("softmax", "x", "β (diag(y) − y yᵀ)"),
    ("log_softmax", "x", "β (I − 𝟏 exp(y)ᵀ)"),
    ("sigmoid", "x", "∂C/∂y ⊙ y ⊙ (1 − y)"),
    ("mse", "yhat", "2 (ŷ − y)"),
    ("mse_mean", "Yhat", "(2/N) (Ŷ − Y)"),
    ("bce", "yhat", "(1/K) (ŷ − y) / (ŷ ⊙ (1 − ŷ))"),
    ("softmax_cross_entropy", "theta", "ŷ − y"),
])
def test_matrix_forms(target, wrt, expected):
    assert derivative(target, wrt=wrt).matrix.text == expected


def test_numerator_layout_transposes_the_gradient():
    d = derivative("affine", wrt="W", layout="numerator")
    assert d.matrix.shape == ("D", "M") and d.matrix.layout == "numerator"
    assert d.matrix.text == "x (∂C/∂y)ᵀ"


def test_reasons_name_the_variables_as_a_person_writes_them():
    from derive.render.printer import escape_tex

    reasons = [s.reason for s in derivative("softmax_cross_entropy", wrt="theta").steps]
    assert "differentiate each term: ∂θ_k/∂θ_i = δ_ik" in reasons  # δ_ik as the step prints it
    assert "write the result in terms of ŷ" in reasons
    assert escape_tex("∂ŷ_k/∂ŷ_i") == r"\ensuremath{\partial \hat{y}_{k}}/\ensuremath{\partial \hat{y}_{i}}"
