"""h′ in an answer about a recurrent cell: texts write h′ for the previous state, for the new one and for a
derivative, so the checker reads none of them — one line names the spellings it takes (h_{t-1}, h_{t−1})."""

import pytest

import derive
from derive.cli import main

PRIMED = [
    ("rnn_step", "W", "∂C/∂h_i (1 − h_i²) h'_j", "h"),
    ("rnn_step", "W", "∂C/∂h_i (1 − h_i²) h′_j", "h"),
    ("rnn_step", "W", r"\frac{\partial C}{\partial h} \odot (1 - h^2) h'^T", "h"),
    ("rnn_step", "hprev", "h'", "h"),
    ("gru_cell", "U_h", r"\frac{\partial C}{\partial a_h} (r \odot h')^\top", "h"),
    ("gru_cell", "hprev", "∂C/∂h' = ∂C/∂h ⊙ z + r ⊙ (U_h^T ∂C/∂a_h) + U_r^T ∂C/∂a_r + U_z^T ∂C/∂a_z", "h"),
    ("lstm_cell", "cprev", "∂C/∂c′ = ∂C/∂c ⊙ f", "c"),
    ("lstm_cell", "cprev", "∂C/∂c_i f_i c_i'", "c"),
]


@pytest.mark.parametrize("target, wrt, answer, state", PRIMED)
def test_a_primed_state_is_refused_naming_the_spellings_read(target, wrt, answer, state):
    verdict = derive.derivative(target, wrt=wrt).check(answer, timeout=20)
    assert verdict.verdict == "invalid" and verdict.counterexample is None
    [line] = verdict.feedback
    assert f"{state}_{{t-1}}" in line and f"{state}_{{t−1}}" in line and "\n" not in line


@pytest.mark.parametrize("target, wrt, answer", [
    ("rnn_step", "W", "∂C/∂h_i (1 − h_i²) h_{t−1,j}"),
    ("rnn_step", "W", r"\frac{\partial C}{\partial h_i} (1 - h_i^2) h_{t-1,j}"),
    ("rnn_step", "W", r"(\frac{\partial C}{\partial h} \odot (1 - h^2)) h_{t-1}^T"),
    ("lstm_cell", "cprev", "∂C/∂c_{t−1} = ∂C/∂c ⊙ f"),
])
def test_the_previous_state_written_with_its_subscript_is_read(target, wrt, answer):
    assert derive.derivative(target, wrt=wrt).check(answer, timeout=20).verdict == "correct"


def test_a_prime_on_a_function_is_still_a_derivative_in_a_cell():
    d = derive.derivative("rnn_step", wrt="b")
    assert d.check(r"\frac{\partial C}{\partial h} \odot \tanh'(W h_{t-1} + U x + b)", timeout=20).verdict == "correct"


def test_a_prime_elsewhere_keeps_its_own_message():
    verdict = derive.derivative("sigmoid").check("y'", timeout=20)
    assert verdict.verdict == "invalid" and "t-1" not in verdict.feedback[0]


def test_the_cli_refuses_a_primed_state_in_one_line(capsys):
    assert main(["check", "rnn_step", "--wrt", "W", "∂C/∂h_i (1 − h_i²) h'_j"]) == 2
    out = capsys.readouterr()
    assert "h_{t-1}" in out.out + out.err and "Traceback" not in out.out + out.err
