"""A matrix written with ⋯ ⋮ ⋱ is read as its general entry: every written entry must be that entry at
its row and column, and the last row and column must be the gradient's sizes. Right and wrong answers,
and the matrices refused in one line because their pattern is ambiguous."""

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import derive
from derive.check import check
from derive.check.parse import parse
from derive.check.screen import InvalidAnswer

DW = r"\frac{\partial L}{\partial W} = "


@cache
def derivation(target, wrt):
    return derive.derivative(target, wrt=wrt)


def verdict(target, wrt, answer):
    return check(derivation(target, wrt), answer)


def grid(entry, rows="M", cols="D", first=("1", "2")) -> str:
    """A bmatrix of `entry` (a format with {r} and {c}) with its first two rows and columns, ⋯ ⋮ ⋱, and
    its last row and column."""
    def row(r):
        return " & ".join([entry.format(r=r, c=first[0]), entry.format(r=r, c=first[1]), r"\cdots",
                           entry.format(r=r, c=cols)])
    return (r"\begin{bmatrix} " + row(first[0]) + r" \\ " + row(first[1]) + r" \\ \vdots & \vdots & \ddots & \vdots \\ "
            + row(rows) + r" \end{bmatrix}")


G = r"x_{{{c}}} \frac{{\partial L}}{{\partial y_{{{r}}}}}"


@pytest.mark.parametrize("answer", [
    DW + grid(G),
    DW + grid(G, rows="T", cols="N"),  # the homework's own letters for the sizes, one each
    DW + grid(r"\frac{{\partial L}}{{\partial y_{{{r}}}}} x_{{{c}}}"),
    r"\begin{pmatrix} \delta_1 \\ \delta_2 \\ \vdots \\ \delta_M \end{pmatrix}",  # δ: the gradient from above
])
def test_right_matrices_with_ellipses_are_correct(answer):
    wrt = "b" if "pmatrix" in answer else "W"
    v = verdict("affine", wrt, answer)
    assert v.verdict == "correct", v.feedback


def test_a_column_of_sums_is_read_entry_by_entry():
    right = r"\begin{bmatrix} \sum_k W_{k1} g_k \\ \sum_k W_{k2} g_k \\ \vdots \\ \sum_k W_{kD} g_k \end{bmatrix}"
    assert verdict("affine", "x", right).verdict == "correct"
    wrong = right.replace("W_{k1}", "W_{1k}").replace("W_{k2}", "W_{2k}").replace("W_{kD}", "W_{Dk}")
    assert verdict("affine", "x", wrong).verdict == "incorrect"


@pytest.mark.parametrize("answer,said", [
    (DW + grid(r"x_{{{r}}} \frac{{\partial L}}{{\partial y_{{{c}}}}}", rows="T", cols="N"), "swapped"),
    (DW + grid(G, rows="T", cols="T"), "both run to T"),  # the seed's slip: x's index up to y's length
    (DW + grid(G, rows="D", cols="M"), "rows run to D"),
    (DW + grid(r"2 x_{{{c}}} \frac{{\partial L}}{{\partial y_{{{r}}}}}"), "factor 2"),
])
def test_wrong_matrices_with_ellipses_are_incorrect(answer, said):
    v = verdict("affine", "W", answer)
    assert v.verdict == "incorrect" and any(said in s for s in v.feedback), v.feedback


@pytest.mark.parametrize("answer,said", [
    (r"\begin{bmatrix} g_1 \\ g_1 \\ \vdots \\ g_M \end{bmatrix}", "neither the row nor the column"),
    (r"\begin{bmatrix} g_1 \\ 2 g_2 \\ \vdots \\ g_M \end{bmatrix}", "do not follow one pattern"),
    (r"\begin{bmatrix} g_1 \\ g_2 \\ \vdots \end{bmatrix}", "does not show its last row"),
    (r"\begin{bmatrix} g_1 \\ g_2 \end{bmatrix}", "written out in full"),
    (r"\begin{bmatrix} g_1 \\ \vdots \\ g_3 \\ \vdots \\ g_M \end{bmatrix}", "more than one run"),
    (r"2 \begin{bmatrix} g_1 \\ \vdots \\ g_M \end{bmatrix}", "whole right-hand side"),
    (r"g_1 + \dots + g_M", "only inside a matrix"),
    (r"\begin{vmatrix} g_1 \end{vmatrix}", "unsupported environment"),
])
def test_ambiguous_or_unsupported_matrices_are_refused_in_one_line(answer, said):
    v = verdict("affine", "b", answer)
    assert v.verdict == "invalid" and said in v.feedback[0] and "\n" not in v.feedback[0], v.feedback


def test_an_entry_on_the_left_and_a_matrix_on_the_right_is_refused():
    v = verdict("affine", "b", r"\frac{\partial L}{\partial b_i} = \begin{bmatrix} g_1 \\ \vdots \\ g_M \end{bmatrix}")
    assert v.verdict == "invalid" and "names one entry" in v.feedback[0]


# Soundness: a column of entries c·g_k (+ d) with c, d drawn at random is correct exactly when c = 1, d = 0.
@settings(max_examples=25, deadline=None)
@given(st.integers(-3, 3), st.integers(-2, 2), st.sampled_from(["g", "y"]))
def test_a_column_is_correct_only_when_its_pattern_is_the_gradient(c, d, name):
    term = "" if d == 0 else f" + {d}"
    entry = (lambda k: f"{c} {name}_{{{k}}}{term}")
    answer = rf"\begin{{bmatrix}} {entry(1)} \\ {entry(2)} \\ \vdots \\ {entry('M')} \end{{bmatrix}}"
    v = verdict("affine", "b", answer)
    right = c == 1 and d == 0 and name == "g"
    assert (v.verdict == "correct") == right, (answer, v.verdict, v.feedback)


def test_the_parser_reads_a_matrix_as_rows_of_cells():
    m = parse(r"\begin{bmatrix} a & \cdots & b \\ \vdots & \ddots & \vdots \\ c & & d \\ \end{bmatrix}")
    assert [len(r) for r in m.rows] == [3, 3, 3] and m.rows[2][1] is None
    with pytest.raises(InvalidAnswer):
        parse(r"\begin{bmatrix} a & b \end{pmatrix}")
