"""Scaled dot-product attention (issue 13, item 5): derived stage by stage through the named scores S and
weights A, in the forms a TA writes; each compared with central finite differences of the definition
(tests/test_registry.py also checks every step and sympy.diff, as for every entry)."""

import pytest
import sympy as sp

import derive
from derive.definitions import get
from derive.render.show import stated
from derive.verify import check_finite_differences

# ∂C/∂V = Aᵀ dY, ∂C/∂Q = dS K/√d, ∂C/∂K = dSᵀ Q/√d; the matrix forms are checked entry by entry at run time
ATTENTION = [
    ("V", "Sum(A[l, i]*dC_dY[l, j], (l, 1, N))", "Aᵀ ∂C/∂Y"),
    ("Q", "Sum(K[k, j]*dC_dS[i, k], (k, 1, M))/sqrt(D)", "(1/sqrt(D)) ∂C/∂S K"),
    ("K", "Sum(Q[m, j]*dC_dS[m, i], (m, 1, N))/sqrt(D)", "(1/sqrt(D)) (∂C/∂S)ᵀ Q"),
]


@pytest.mark.parametrize("wrt, index_form, matrix_form", ATTENTION)
def test_attention_gradients_are_written_in_the_named_stages(wrt, index_form, matrix_form):
    d = derive.derivative("attention", wrt=wrt)
    assert str(d.result) == index_form
    assert d.matrix is not None and d.matrix.text == matrix_form and d.matrix.max_error < 1e-9
    assert check_finite_differences(d) < 1e-5


# dA = dY Vᵀ, dS = A ⊙ (dA − rowsum(A ⊙ dA)): the gradients at the names, each matrix form checked
THROUGH = {
    "A": ("Sum(V[j, m]*dC_dY[i, m], (m, 1, H))", "∂C/∂Y Vᵀ"),
    "S": ("(dC_dA[i, j] - Sum(A[i, k]*dC_dA[i, k], (k, 1, M)))*A[i, j]", "A ⊙ ∂C/∂A − diag((A ⊙ ∂C/∂A) 𝟏) A"),
}


@pytest.mark.parametrize("wrt, names", [("Q", "SA"), ("K", "SA"), ("V", "")])
def test_the_gradients_at_the_names_are_stated_in_checked_matrix_form(wrt, names):
    d = derive.derivative("attention", wrt=wrt)
    assert sorted(g.wrt for g in d.through) == sorted(names)
    for g in d.through:
        index_form, matrix_form = THROUGH[g.wrt]
        assert str(g.result) == index_form
        assert g.matrix is not None and g.matrix.text == matrix_form and g.matrix.max_error < 1e-9
        assert any(line.startswith(f"where ∂C/∂{g.wrt}") and matrix_form in line for line in stated(d))


def test_the_named_gradients_are_what_verification_expands():
    """∂C/∂Q is checked against the definition with ∂C/∂S and ∂C/∂A expanded, so a wrong ∂C/∂S fails it."""
    from dataclasses import replace

    from derive.calculus.fold import Named
    from derive.verify import VerificationError

    d = derive.derivative("attention", wrt="Q")
    named = tuple(Named(nm.symbol, nm.index, -nm.expr) if nm.symbol.name == "dC_dS" else nm for nm in d.named)
    with pytest.raises(VerificationError):
        check_finite_differences(replace(d, named=named))


def test_row_softmax_gradient_is_a_times_da_minus_its_row_sums():
    d = derive.derivative("softmax_rows", wrt="S")
    assert str(d.result) == THROUGH["S"][0]
    assert d.matrix.text == THROUGH["S"][1]
    assert check_finite_differences(d) < 1e-5


def test_attention_is_checked_at_distinct_non_square_sizes():
    sizes = sorted(int(v) for v in get("attention").sizes.values())
    assert len(set(sizes)) == len(sizes) == 4


def test_a_cost_scale_on_a_staged_definition_is_one_line():
    with pytest.raises(derive.DeriveError, match="a cost scale is not supported for attention"):
        derive.derivative("attention", wrt="Q", scale=sp.Integer(3))



@pytest.mark.parametrize("wrt", ["Q", "K", "V"])
def test_each_entry_is_checked_against_sympy_diff_and_a_wrong_result_fails(wrt):
    """Staged definitions are compared with sympy.diff by value, the other variables given their values
    first (derive.verify.by_value_at_points): every entry counts, and a result off by its sign fails."""
    from dataclasses import replace

    from derive.concrete import assignments
    from derive.verify import VerificationError, check_against_diff

    d = derive.derivative("attention", wrt=wrt)
    assert check_against_diff(d) == (0, len(assignments(d)))
    with pytest.raises(VerificationError, match="≠ sympy.diff"):
        check_against_diff(replace(d, result=-d.result))
    if wrt != "V":  # ∂C/∂Q_ij with i and j crossed into K's roles: a transpose cannot hide either
        crossed = d.result.xreplace({d.indices[0]: d.indices[1], d.indices[1]: d.indices[0]})
        with pytest.raises(VerificationError):  # entries that do not exist: nothing finite to compare
            check_against_diff(replace(d, result=crossed))


def test_sympy_diff_at_a_point_is_sympy_diff_of_the_whole_definition_there():
    import random

    from derive.concrete import Concretizer, assignments, entries, sample, value
    from derive.verify import diff_at, reference

    d = derive.derivative("attention", wrt="K")
    conc, p = Concretizer(d), sample(d.definition, random.Random(5), d.upstream)
    along = set(entries(d.definition.var("K"), d.definition.sizes))
    for a in assignments(d)[::5]:
        full = value(reference(d, a, p, conc), p, 40)
        assert abs(diff_at(d, conc, a, p, along) - full) < 1e-30 * (1 + abs(full))
