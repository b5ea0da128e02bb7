import pytest
import sympy as sp

from derive.calculus.identity import apply_definition, prove
from derive.errors import DeriveError


def test_softmax_is_invariant_to_a_shift_of_its_input():
    c = sp.Symbol("c", real=True)
    x = sp.IndexedBase("x", real=True)
    proof = prove(apply_definition("softmax", x=lambda k: x[k] + c), apply_definition("softmax"))
    assert [s.rule for s in proof.steps] == ["rewrite", "sum"]
    assert proof.steps[-1].after == apply_definition("softmax")
    assert r"\sum" in proof.markdown() and "$$" in proof._repr_latex_()


def test_a_false_identity_is_not_proven():
    c = sp.Symbol("c", real=True)
    x = sp.IndexedBase("x", real=True)
    with pytest.raises(DeriveError):
        prove(apply_definition("softmax", x=lambda k: 2 * x[k] + c), apply_definition("softmax"))


def test_apply_definition_names_the_valid_variables():
    with pytest.raises(DeriveError, match="choose one of"):
        apply_definition("softmax", z=1)
