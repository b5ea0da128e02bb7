"""A name with its own subscript (a gate's W_i, h_{t−1}) takes its indices outside brackets: (W_i)_ij,
never {W_i}_ij, which typesets as W_iij — and what is printed is what the answer reader takes back."""

import pytest
import sympy as sp

import derive
from derive.render.printer import latex
from derive.render.unicode import unicode_text

i, j = sp.symbols("i j")


@pytest.mark.parametrize("name, tex, text", [
    ("W_i", r"\left(W_{i}\right)_{ij}", "(W_i)_ij"),
    ("hprev", r"\left(h_{t-1}\right)_{ij}", "(h_{t−1})_ij"),
    ("s_1", r"\left(s_{1}\right)_{ij}", "(s_1)_ij"),
    ("W1", r"W^{(1)}_{ij}", "W1_ij"),  # a layer's superscript is no subscript: nothing to bracket
    ("W", "W_{ij}", "W_ij"),
])
def test_an_entry_of_a_subscripted_name_brackets_the_name(name, tex, text):
    entry = sp.IndexedBase(name)[i, j]
    assert latex(entry) == tex
    assert unicode_text(entry) == text


def test_a_gradient_at_a_subscripted_name_brackets_it_in_the_denominator():
    assert latex(sp.IndexedBase("dC_da_f")[i]) == r"\frac{\partial C}{\partial \left(a_{f}\right)_{i}}"


def test_an_escaped_underscore_is_no_subscript():
    assert "\\left(" not in latex(sp.IndexedBase("W_hh")[i, j])


@pytest.mark.parametrize("target, wrt", [("lstm_cell", "W_i"), ("lstm_cell", "z"), ("gru_cell", "U_h"),
                                         ("rnn_step", "W")])
def test_the_printed_latex_of_a_gate_gradient_reads_back_as_itself(target, wrt):
    d = derive.derivative(target, wrt=wrt)
    printed = latex(d.result)
    assert r"\left(" in printed and "}}_{" not in printed
    assert d.check(printed, timeout=20).verdict == "correct", printed


def test_a_printed_entry_with_a_wrong_index_is_read_as_wrong():
    d = derive.derivative("lstm_cell", wrt="W_i")
    wrong = latex(d.result).replace(r"\left(a_{i}\right)_{i}", r"\left(a_{i}\right)_{j}")
    assert wrong != latex(d.result)
    assert d.check(wrong, timeout=20).verdict in ("incorrect", "invalid")


def test_a_module_of_ones_own_with_a_numbered_name_reads_its_printed_entries_back():
    """x_1 at j prints (x_1)_j; the reader takes x_1 as one name, as it takes W_f."""
    i, k = sp.symbols("i k", integer=True, positive=True)
    x, y, w = sp.IndexedBase("x_1"), sp.IndexedBase("y"), sp.IndexedBase("w_2")
    module = derive.define("numbered_names", y[i], sp.Sum(w[i, k] * x[k], (k, 1, sp.Symbol("K", integer=True,
                                                                                           positive=True))),
                           kind="layer", shapes={"x_1": ("K",), "y": ("M",), "w_2": ("M", "K")})
    d = derive.derivative(module, wrt="w_2")
    for printed in (unicode_text(d.result), latex(d.result)):
        assert "(x_1)_j" in printed or r"\left(x_{1}\right)_{j}" in printed
        assert d.check(printed, timeout=20).verdict == "correct", printed
    assert d.check("∂C/∂y_i (x_1)_i", timeout=20).verdict == "incorrect"
