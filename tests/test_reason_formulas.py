"""A step's reason keeps its SymPy formulas (an index with arithmetic, a cost's scale) as expressions,
written by the printers: Unicode text as a str, LaTeX on a page; SymPy's str never reaches it."""

from __future__ import annotations

import pickle
import re
from fractions import Fraction

import pytest

import derive
from derive.definitions import entries, get
from derive.render.reason import reason_markup
from derive.steps import Reason

TARGETS = [(e.name, v.name) for e in entries() for v in get(e.name).inputs]
SYMPY_TEXT = re.compile(r"\*| - |\d[A-Za-z]|\(\w+ - ")  # y*x, i - k, 1/2C, (l - 1): SymPy's str


def _differentiate(target, wrt, scale=1):
    d = derive.derivative(target, wrt=wrt, scale=scale)
    return next(s.reason for s in d.steps if s.rule == "differentiate")


@pytest.mark.parametrize(("name", "wrt"), TARGETS)
def test_no_step_reason_is_sympy_str(name, wrt):
    d = derive.derivative(name, wrt=wrt)
    for s in d.steps:
        assert not SYMPY_TEXT.search(str(s.reason)), (s.rule, str(s.reason))


@pytest.mark.parametrize("target, wrt, text, tex", [
    ("conv1d", "x", "∂x_{k + l − 1}/∂x_i = δ_{i, k + l − 1}", r"\delta_{i, k + l - 1}"),
    ("avgpool1d", "x", "∂x_{K (l − 1) + k}/∂x_i = δ_{i, K (l − 1) + k}", r"x_{K \left(l - 1\right) + k}"),
])
def test_an_arithmetic_index_in_a_reason_is_printed_by_the_printers(target, wrt, text, tex):
    reason = _differentiate(target, wrt)
    assert reason.formulas and str(reason) == "differentiate each term: " + text
    assert tex in reason_markup(reason, "tex") and tex in reason_markup(reason, "md")


def test_a_symbol_index_stays_words_without_formulas():
    reason = _differentiate("affine", "W")
    assert reason.formulas == () and str(reason) == "differentiate each term: ∂W_lk/∂W_ij = δ_il δ_jk"


@pytest.mark.parametrize("scale, said", [
    (2, "C_2 = 2 C, so ∂C_2/∂y = 2 ∂C/∂y"),
    (Fraction(1, 2), "C_2 = C/2, so ∂C_2/∂y = ∂C/∂y/2"),  # not SymPy's 1/2C
    (Fraction(-3, 4), "C_2 = −3 C/4, so ∂C_2/∂y = −3 ∂C/∂y/4"),
])
def test_a_cost_scale_in_the_chain_reason_is_printed_as_the_steps_are(scale, said):
    chain = derive.derivative("affine", wrt="W", scale=scale).steps[0]
    assert str(chain.reason).endswith(said)
    assert r"C_{2} = " in reason_markup(chain.reason, "tex")


def test_a_reason_with_formulas_survives_the_cache():
    reason = _differentiate("conv1d", "x")
    back = pickle.loads(pickle.dumps(reason))
    assert (str(back), back.marked, back.formulas) == (str(reason), reason.marked, reason.formulas)
    assert isinstance(back, Reason) and reason_markup(back, "tex") == reason_markup(reason, "tex")
