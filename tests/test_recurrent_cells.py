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
    ("gru_cell", "U_h", "dC_da_h[i]*hprev[j]*r[j]", "∂C/∂a_h (hprevᵀ ⊙ rᵀ)"),
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
    "lstm_cell": {"c": "∂C/∂h ⊙ o ⊙ (1 − tanh(c)²)", "f": "cprev ⊙ ∂C/∂c", "i": "∂C/∂c ⊙ g", "g": "∂C/∂c ⊙ i",
                  "o": "∂C/∂h ⊙ tanh(c)", "a_f": "∂C/∂f ⊙ f ⊙ (1 − f)", "a_i": "∂C/∂i ⊙ i ⊙ (1 − i)",
                  "a_o": "∂C/∂o ⊙ o ⊙ (1 − o)", "a_g": "∂C/∂g − ∂C/∂g ⊙ g²"},
    "gru_cell": {"z": "∂C/∂h ⊙ (hprev − htilde)", "htilde": "∂C/∂h ⊙ (1 − z)", "r": "hprev ⊙ (U_hᵀ ∂C/∂a_h)",
                 "a_z": "∂C/∂z ⊙ z ⊙ (1 − z)", "a_r": "∂C/∂r ⊙ r ⊙ (1 − r)",
                 "a_h": "∂C/∂htilde − ∂C/∂htilde ⊙ htilde²"},
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
    from derive.verify import check_steps

    d = derive.derivative("lstm_cell", wrt="z")
    assert all(f"dC_da_{g}" in str(d.steps[0].after) for g in "fiog")
    check_steps(d)
