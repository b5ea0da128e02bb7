"""LSTM and GRU cells (issue 13, item 4): derived stage by stage through the named gates and their
pre-activations a_g, each gradient written in them; compared with central finite differences of the
definition (tests/test_registry.py also checks every step and sympy.diff, as for every entry)."""

import pytest

import derive
from derive.verify import check_finite_differences

# index form, matrix form: the gradient w.r.t. an input, in the gradients at the names
CELLS = [
    ("lstm_cell", "cprev", "dC_dc[i]*f[i]", "∂C/∂c ⊙ f"),
    ("lstm_cell", "z", ("Sum(W_f[l, i]*dC_da_f[l], (l, 1, H)) + Sum(W_g[l, i]*dC_da_g[l], (l, 1, H)) + "
                        "Sum(W_i[l, i]*dC_da_i[l], (l, 1, H)) + Sum(W_o[l, i]*dC_da_o[l], (l, 1, H))"),
     "W_fᵀ ∂C/∂a_f + W_gᵀ ∂C/∂a_g + W_iᵀ ∂C/∂a_i + W_oᵀ ∂C/∂a_o"),
    ("lstm_cell", "W_f", "dC_da_f[i]*z[j]", "∂C/∂a_f zᵀ"),
    ("lstm_cell", "b_o", "dC_da_o[i]", "∂C/∂a_o"),
    ("gru_cell", "hprev", ("dC_dh[i]*z[i] + r[i]*Sum(U_h[m, i]*dC_da_h[m], (m, 1, H)) + "
                           "Sum(U_r[m, i]*dC_da_r[m], (m, 1, H)) + Sum(U_z[m, i]*dC_da_z[m], (m, 1, H))"),
     "∂C/∂h ⊙ z + r ⊙ (U_hᵀ ∂C/∂a_h) + U_rᵀ ∂C/∂a_r + U_zᵀ ∂C/∂a_z"),
    ("gru_cell", "U_h", "dC_da_h[i]*hprev[j]*r[j]", "∂C/∂a_h (h_{t−1}ᵀ ⊙ rᵀ)"),
    ("gru_cell", "W_z", "dC_da_z[i]*x[j]", "∂C/∂a_z xᵀ"),
]


@pytest.mark.parametrize("target, wrt, index_form, matrix_form", CELLS)
def test_cell_gradients_are_written_in_the_gates(target, wrt, index_form, matrix_form):
    d = derive.derivative(target, wrt=wrt)
    assert str(d.result) == index_form
    assert d.matrix is not None and d.matrix.text == matrix_form and d.matrix.max_error < 1e-9
    assert check_finite_differences(d) < 1e-5


# the gradient at each named gate and state: what the results above are written in
GATES = {
    "lstm_cell": {"c": "∂C/∂h ⊙ o ⊙ (1 − tanh(c)²)", "f": "c_{t−1} ⊙ ∂C/∂c", "i": "∂C/∂c ⊙ g", "g": "∂C/∂c ⊙ i",
                  "o": "∂C/∂h ⊙ tanh(c)", "a_f": "∂C/∂f ⊙ f ⊙ (1 − f)", "a_i": "∂C/∂i ⊙ i ⊙ (1 − i)",
                  "a_o": "∂C/∂o ⊙ o ⊙ (1 − o)", "a_g": "∂C/∂g − ∂C/∂g ⊙ g²"},
    "gru_cell": {"z": "∂C/∂h ⊙ (h_{t−1} − h̃)", "htilde": "∂C/∂h ⊙ (1 − z)", "r": "h_{t−1} ⊙ (U_hᵀ ∂C/∂a_h)",
                 "a_z": "∂C/∂z ⊙ z ⊙ (1 − z)", "a_r": "∂C/∂r ⊙ r ⊙ (1 − r)",
                 "a_h": "∂C/∂h̃ − ∂C/∂h̃ ⊙ h̃²"},
}


@pytest.mark.parametrize("target, wrt", [("lstm_cell", "z"), ("gru_cell", "hprev")])
def test_each_gate_gradient_is_stated_with_its_checked_matrix_form(target, wrt):
    d = derive.derivative(target, wrt=wrt)
    said = {g.wrt: g.matrix.text for g in d.through if g.matrix is not None}
    assert said == GATES[target]
    assert all(g.matrix.max_error < 1e-9 for g in d.through)


def test_a_gate_gradient_is_only_stated_where_the_result_uses_it():
    d = derive.derivative("lstm_cell", wrt="cprev")
    assert [g.wrt for g in d.through] == ["c"]


def test_the_state_gradient_through_several_gates_adds_their_contributions():
    """z feeds all four gates: the chain rule's first step names each a_g, and the steps check."""
    from derive.verify_steps import check_steps

    d = derive.derivative("lstm_cell", wrt="z")
    assert all(f"dC_da_{g}" in str(d.steps[0].after) for g in "fiog")
    check_steps(d)


# -- printed stage by stage, in the names a TA writes ------------------------------------------


@pytest.mark.parametrize("target, rows", [("lstm_cell", ["f", "i", "o", "g", "c", "h"]),
                                          ("gru_cell", ["z", "r", "htilde", "h"]),
                                          ("attention", ["S", "A", "Y"])])
def test_a_staged_definition_is_printed_one_row_per_named_gate(target, rows):
    """Each gate beside its pre-activation, σ as σ: no row is the whole cell substituted into one line."""
    import sympy as sp

    from derive.render.stages import Sigmoid, stage_rows

    defn = derive.derivative(target).definition
    printed = stage_rows(defn)
    assert [lhs.base.name for lhs, _, _ in printed] == rows
    for lhs, rhs, pre in printed:
        assert not rhs.has(sp.exp) or target == "attention"  # softmax's e^S is its definition
        back = rhs.replace(Sigmoid, lambda a: 1 / (1 + sp.exp(-a)))
        stage = next(st for st in defn.stages if st.output.name == lhs.base.name)
        assert back == stage.expr  # what is printed is the stage itself
        if pre:
            assert pre[0].base.name.startswith("a_") and not pre[1].has(sp.exp)


def test_sigma_is_written_only_where_it_gives_the_expression_back():
    import sympy as sp

    from derive.render.stages import Sigmoid, with_sigma

    a = sp.Symbol("a")
    assert with_sigma(1 / (1 + sp.exp(-a))) == Sigmoid(a)
    assert with_sigma(1 / (2 + sp.exp(-a))) == 1 / (2 + sp.exp(-a))  # not a sigmoid: left as it is


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_the_previous_state_and_the_candidate_print_as_a_ta_writes_them(fmt):
    from derive.render.show import derivation_markdown, derivation_tex

    out = (derivation_markdown if fmt == "md" else derivation_tex)(derive.derivative("gru_cell", wrt="hprev"))
    assert "hprev" not in out.replace("(hprev in code)", "") and "htilde" not in out.replace("(htilde)", "")
    assert "h_{t-1}" in out and r"\tilde{h}" in out
    assert "e^{-" not in out  # the gates are σ and tanh, not exponentials


# -- the checker reads the gate names ------------------------------------------------------------

ANSWERS = [  # target, wrt, right answer, its wrong twin
    ("lstm_cell", "W_f", "(∂C/∂a_f)_i z_j", "(∂C/∂a_f)_i z_j f_i"),
    ("lstm_cell", "W_f", r"\frac{\partial C}{\partial a_f} z^\top", r"\frac{\partial C}{\partial a_f} z^\top \odot 2"),
    ("lstm_cell", "b_o", "∂C/∂a_o", "∂C/∂a_o ⊙ o"),
    ("lstm_cell", "cprev", r"\frac{\partial C}{\partial c_i} f_i", r"\frac{\partial C}{\partial c_i} i_i"),
    ("lstm_cell", "z", "W_f^T ∂C/∂a_f + W_i^T ∂C/∂a_i + W_o^T ∂C/∂a_o + W_g^T ∂C/∂a_g",
     "W_f^T ∂C/∂a_f + W_i^T ∂C/∂a_i + W_o^T ∂C/∂a_o"),
    ("gru_cell", "U_h", r"\frac{\partial C}{\partial a_h} (r \odot h_{t-1})^\top",
     r"\frac{\partial C}{\partial a_h} h_{t-1}^\top"),
    ("gru_cell", "U_h", "(∂C/∂a_h)_i r_j (h_{t−1})_j", "(∂C/∂a_h)_i r_j h_{t-1,i}"),
    ("rnn_step", "W", r"\frac{\partial C}{\partial h_i} (1 - h_i^2) h_{t-1,j}", r"\frac{\partial C}{\partial h_i} h_{t-1,j}"),
]


@pytest.mark.parametrize("target, wrt, right, wrong", ANSWERS)
def test_answers_in_the_gate_names_are_judged_with_evidence(target, wrt, right, wrong):
    d = derive.derivative(target, wrt=wrt)
    assert d.check(right, timeout=20).verdict == "correct"
    verdict = d.check(wrong, timeout=20)
    assert verdict.verdict == "incorrect" and verdict.counterexample is not None, verdict


def test_a_gate_gradient_the_result_does_not_go_through_is_named_as_such():
    verdict = derive.derivative("lstm_cell", wrt="W_f").check("(∂C/∂a_i)_i z_j", timeout=20)
    assert verdict.verdict == "invalid" and "∂C/∂a_f" in verdict.feedback[0], verdict.feedback


def test_a_claim_about_the_previous_state_names_it_on_the_left():
    d = derive.derivative("gru_cell", wrt="hprev")
    right = "∂C/∂h_{t−1} = ∂C/∂h ⊙ z + r ⊙ (U_h^T ∂C/∂a_h) + U_r^T ∂C/∂a_r + U_z^T ∂C/∂a_z"
    assert d.check(right, timeout=20).verdict == "correct"


def test_the_candidate_state_is_read_as_written():
    d = derive.derivative("gru_cell", wrt="W_h")
    assert d.check(r"((1 - \tilde{h}^2) \odot (1 - z) \odot \frac{\partial C}{\partial h}) x^T", timeout=20).verdict \
        == "correct"
    assert d.check("((1 − h̃²) ⊙ (1 − z) ⊙ ∂C/∂h) xᵀ", timeout=20).verdict == "correct"
    assert d.check("((1 − h̃) ⊙ (1 − z) ⊙ ∂C/∂h) xᵀ", timeout=20).verdict == "incorrect"


def test_the_bundled_sheet_prints_each_cell_stage_by_stage_once_per_question():
    """output/recurrent_cells.md (regenerated and compared by tests/test_outputs.py): the LSTM and GRU
    questions are back, each cell's stages printed before its first gradient and referred to after."""
    from pathlib import Path

    text = (Path(__file__).parent.parent / "output" / "recurrent_cells.md").read_text(encoding="utf-8")
    questions = text.split("## Question")[1:]
    staged = [q for q in questions if "stage by stage" in q]
    assert [q.splitlines()[0] for q in staged] == [" 2: The LSTM cell", " 3: The GRU cell"]
    for q in staged:
        assert q.count("Definition, stage by stage:") == 1 and "Definition: the stages above." in q
        assert "hprev" not in q.replace("`hprev`", "").replace("hprev in code", "")
