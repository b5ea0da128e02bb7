"""Answers to attention and the row softmax are checked (issue 13, item 5): in index and matrix form, in the
sheet's names (A, S, ∂C/∂A, ∂C/∂S, or a TA's dY, dA, dS, √d), each compared with the derivation at every entry
of the named matrices; a wrong twin is incorrect with a counterexample, an unreadable one is one line."""

import subprocess
import sys
from functools import cache

import pytest

import derive
from derive.check import check


@cache
def derivation(target, wrt):
    return derive.derivative(target, wrt=wrt)


def verdict(target, wrt, answer):
    return check(derivation(target, wrt), answer, timeout=30)


DA, DS = r"\frac{\partial C}{\partial A}", r"\frac{\partial C}{\partial S}"

RIGHT = [
    ("softmax_rows", "S", r"A_{ij} \left(\frac{\partial C}{\partial A_{ij}} - \sum_k A_{ik} \frac{\partial C}{\partial A_{ik}}\right)"),
    ("softmax_rows", "S", r"A_{ij} (dA_{ij} - \sum_k A_{ik} dA_{ik})"),
    ("softmax_rows", "S", rf"A \odot {DA} - \operatorname{{diag}}((A \odot {DA}) \mathbf{{1}}) A"),
    ("softmax_rows", "S", r"A \odot (dA - \operatorname{rowsum}(dA \odot A) \mathbf{1}^\top)"),
    ("softmax_rows", "S", r"A \odot (dA - \operatorname{rowsum}(dA \odot A) 1^T)"),
    ("softmax_rows", "S", rf"A \odot ({DA} - (A \odot {DA}) \mathbf{{1}} \mathbf{{1}}^T)"),
    ("attention", "V", r"\sum_l A_{li} \frac{\partial C}{\partial Y_{lj}}"),
    ("attention", "V", r"A^\top \frac{\partial C}{\partial Y}"),
    ("attention", "V", "A^T dY"),
    ("attention", "Q", r"\sum_k \frac{\partial C}{\partial S_{ik}} K_{kj} / \sqrt{D}"),
    ("attention", "Q", r"\frac{1}{\sqrt{d}} \sum_k dS_{ik} K_{kj}"),
    ("attention", "Q", rf"\frac{{1}}{{\sqrt{{D}}}} {DS} K"),
    ("attention", "Q", r"dS K / \sqrt{d}"),
    ("attention", "Q", r"\frac{1}{\sqrt{d}} (A \odot (dY V^T - \operatorname{rowsum}(A \odot dY V^T) 1^T)) K"),
    ("attention", "K", r"\sum_m \frac{\partial C}{\partial S_{mi}} Q_{mj} / \sqrt{D}"),
    ("attention", "K", rf"\frac{{1}}{{\sqrt{{D}}}} ({DS})^\top Q"),
    ("attention", "K", r"dS^T Q / \sqrt{d}"),
]


@pytest.mark.parametrize("target, wrt, answer", RIGHT)
def test_a_right_answer_in_the_named_quantities_is_correct(target, wrt, answer):
    v = verdict(target, wrt, answer)
    assert v.verdict == "correct", (v.parsed, v.feedback)


# the mistakes a TA sees: 1/√d dropped, a transpose missing or extra, a sign, the wrong axis of the row sum
WRONG = [
    ("softmax_rows", "S", r"A_{ij} (dA_{ij} + \sum_k A_{ik} dA_{ik})", "counterexample"),
    ("softmax_rows", "S", r"A_{ij} (dA_{ij} - \sum_k A_{kj} dA_{kj})", "counterexample"),
    ("softmax_rows", "S", r"A \odot (dA - \operatorname{rowsum}(dA) 1^T)", "counterexample"),
    ("attention", "V", r"\sum_l A_{il} \frac{\partial C}{\partial Y_{lj}}", None),
    ("attention", "V", "dY^T A", "shape"),
    ("attention", "Q", r"\sum_k dS_{ik} K_{kj}", "counterexample"),
    ("attention", "Q", "dS K", "counterexample"),
    ("attention", "Q", r"-dS K / \sqrt{d}", "counterexample"),
    ("attention", "K", r"dS Q / \sqrt{d}", "shape"),
    ("attention", "K", r"\sum_m dS_{mi} Q_{mj}", "counterexample"),
]


@pytest.mark.parametrize("target, wrt, answer, kind", WRONG)
def test_a_wrong_twin_is_incorrect_with_its_evidence(target, wrt, answer, kind):
    v = verdict(target, wrt, answer)
    assert v.verdict == "incorrect", (v.parsed, v.feedback)
    if kind is not None:
        assert v.evidence["kind"] == kind
    if kind == "counterexample":
        assert v.counterexample is not None and v.counterexample["answer"] != v.counterexample["expected"]


def test_a_counterexample_shows_the_named_matrices_as_matrices():
    v = verdict("attention", "Q", "dS K")
    values = v.counterexample["values"]
    for name in ("A", "S", "dC_dS", "dC_dA"):  # N × M = 2 × 3, row by row
        assert [len(row) for row in values[name]] == [3, 3]
    assert all(abs(sum(row) - 1) < 1e-3 for row in values["A"])  # A's rows are softmaxes


def test_an_index_outside_a_named_matrix_is_named_as_the_reader_writes_it():
    v = verdict("attention", "K", r"\sum_m dS_{im} Q_{mj} / \sqrt{d}")
    assert v.verdict == "incorrect" and "∂C/∂S_31 does not exist" in v.feedback[0]


@pytest.mark.parametrize("answer, says", [
    (r"A_{ij} (dA_{ij} - \sum_k A_{ik} dA_{ik}", "unbalanced brackets"),
    ("dS", "unknown name dS; the names here are: S, ∂C/∂A"),  # ∂C/∂S is what is asked
    (r"A \odot dA - rowsum(dA, A)", "rowsum takes one matrix"),
])
def test_an_unreadable_answer_is_one_line(answer, says):
    v = verdict("softmax_rows", "S", answer)
    assert v.verdict == "invalid" and len(v.feedback) == 1 and says in v.feedback[0]


@pytest.mark.parametrize("answer, code", [("dS K / sqrt(d)", 0), ("dS K", 1), ("dS K /", 2)])
def test_the_command_line_exit_code_follows_the_verdict(answer, code):
    out = subprocess.run([sys.executable, "-m", "derive", "check", "attention", "--wrt", "Q", answer],
                         capture_output=True, text=True, check=False)
    assert out.returncode == code and "Traceback" not in out.stderr, out.stderr


def test_the_names_offered_are_the_gradients_as_written():
    v = verdict("attention", "Q", "dZ")
    assert "∂C/∂A" in v.feedback[0] and "∂C/∂S" in v.feedback[0] and "dC_dS" not in v.feedback[0]


def test_softmax_of_a_matrix_is_taken_along_each_row_and_a_superscript_binds_to_the_last_letter():
    """The sheet's forward claims: A = softmax(S) row by row, and QKᵀ is Q·Kᵀ as LaTeX writes it."""
    assert verdict("softmax_rows", "S", r"A = \mathrm{softmax}(S)").verdict == "correct"
    assert verdict("attention", "Q", r"Y = \mathrm{softmax}(QK^\top/\sqrt{D})\, V").verdict == "correct"
    assert verdict("attention", "Q", r"Y = \mathrm{softmax}(K Q^\top/\sqrt{D})^\top V").verdict == "incorrect"
