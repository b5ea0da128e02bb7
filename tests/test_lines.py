"""Long formulas broken for a printed page, and step reasons whose formulas are set as math."""

from __future__ import annotations

import re

import pytest

import derive
from derive.definitions import entries
from derive.render.lines import latex_lines, width
from derive.render.printer import latex
from derive.render.reason import reason_markup
from derive.render.unicode import unicode_text
from derive.steps import Reason

_DELIMS = re.compile(r"\\(?:big|Big|bigg|Bigg)([lr])[()\[\]]")


def _steps():
    for e in entries():
        for v in derive.definitions.get(e.name).inputs:
            try:
                d = derive.derivative(e.name, wrt=v.name)
            except derive.DeriveError:
                continue
            yield from ((e.name, v.name, s) for s in d.steps)


def test_the_hinge_step_that_ran_off_the_page_is_broken_into_lines_that_fit():
    d = derive.derivative("hinge", wrt="o")
    widest = max(d.steps, key=lambda s: width(latex(s.after)))
    assert width(latex(widest.after)) > 60  # the 746 pt step
    lines = latex_lines(widest.after, 20)
    assert len(lines) > 2 and max(width(line) for line in lines) <= 20


@pytest.mark.parametrize("budget", [12, 20, 30])
def test_broken_lines_keep_every_bracket_paired(budget):
    for _, _, s in _steps():
        lines = latex_lines(s.after, budget)
        joined = " ".join(lines)
        sides = _DELIMS.findall(joined)
        assert sides.count("l") == sides.count("r"), joined
        for line in lines:  # \left … \right never spans lines
            assert line.count("\\left") == line.count("\\right"), line


def test_a_formula_that_fits_is_one_line_as_the_printer_writes_it():
    for _, _, s in _steps():
        tex = latex(s.after)
        if width(tex) <= 25:
            assert latex_lines(s.after, 25) == [tex]


def test_the_width_estimate_grows_with_the_formula():
    assert width(r"x") < width(r"x + y") < width(r"\frac{x + y}{2} + \sum_{k=1}^{K} x_{k}")


def test_a_reason_reads_as_plain_text_and_prints_its_formula_as_math():
    quotient = derive.derivative("softmax", wrt="x").steps[1].reason
    assert str(quotient) == "quotient rule: (N/D)′ = (N′D − ND′)/D²"
    assert reason_markup(quotient, "tex") == r"quotient rule: $(N/D)' = (N'D - ND')/D^{2}$"
    assert reason_markup(quotient, "md") == r"quotient rule: $(N/D)' = (N'D - ND')/D^{2}$"


def test_prose_in_a_reason_is_escaped_for_tex_and_a_plain_string_stays_prose():
    assert reason_markup(Reason("50% of $x_k$"), "tex") == r"50\% of $x_{k}$"
    assert reason_markup("plain 50%", "tex") == r"plain 50\%"


def test_the_differentiate_reason_uses_the_indices_of_the_step_beside_it():
    for name, wrt in (("affine", "W"), ("affine_batch", "X"), ("half_frobenius", "Yhat")):
        d = derive.derivative(name, wrt=wrt)
        (step,) = [s for s in d.steps if s.rule == "differentiate"]
        deltas = re.findall(r"δ_\w+", step.reason.split("=")[-1])
        assert deltas and all(delta in unicode_text(step.after) for delta in deltas), (step.reason, step.after)


def test_no_reason_leaves_sympy_or_tex_source_in_its_text():
    for name, wrt, s in _steps():
        text = re.sub(r"_\{[^{}]*\}", "_", s.reason)  # x_{k + l − 1}: the text printer's subscript, as in the step
        assert "^" not in text and "{" not in text and "$" not in s.reason, (name, wrt, s.reason)
