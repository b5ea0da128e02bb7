"""Networks: parsing chains, the backward pass from the engine's local derivations, rendering, errors."""

import json

import numpy as np
import pytest
import sympy as sp

import derive
from derive.cli import main
from derive.errors import DeriveError
from derive.model.matexpr import Identity
from derive.network import network
from derive.network.chain import supported_losses
from derive.network.verify import index_form_gradient
from derive.render.matrix import latex

RAW_SYMPY = ("Derivative(", "KroneckerDelta", "Heaviside", "Piecewise", "**", "Eq(", "Ne(", "Sum(", "Max(")
UVA = "affine_batch>relu>affine_batch>identity>half_frobenius"
NYU_REGRESSION = "affine>relu>affine>mse"
CS224N = "affine>sigmoid>affine>softmax_cross_entropy"


# --------------------------------------------------------------------------- parsing


def test_parameters_are_numbered_from_the_input_side():
    assert network("affine>relu>affine>sigmoid>affine>mse").params == ("W1", "b1", "W2", "b2", "W3", "b3")


def test_python_spelling_equals_the_chain_spelling():
    assert network("affine", "relu", "affine", loss="mse") == network(NYU_REGRESSION)
    assert derive.network("affine", "relu", "affine", loss="mse").spec == NYU_REGRESSION


def test_bias_option_removes_the_bias_of_that_layer_only():
    net = network("affine[bias=false]>tanh>affine>mse")
    assert net.params == ("W1", "W2", "b2")
    assert not net.derive("W1").forward[0].rhs.has(sp.IndexedBase("b1", real=True))


def test_batch_network_has_no_biases_and_an_input_matrix():
    net = network(UVA)
    assert net.batch and net.params == ("W1", "W2") and net.variables[-1] == "X"


@pytest.mark.parametrize("chain, words", [
    ("affine>relux>affine>mse", ["unknown module", "'relux'", "choose one of", "relu"]),
    ("affine>relu>affine", ["not a loss", "mse"]),
    ("affine>mse>affine>mse", ["only end the chain"]),
    ("relu>affine>mse", ["start it with an affine layer"]),
    ("affine>relu>tanh>affine>mse", ["two activations"]),
    ("affine>softmax>affine>mse", ["not elementwise", "softmax_cross_entropy"]),
    ("affine[scale=2]>mse", ["no option 'scale'", "bias"]),
    ("affine[bias=maybe]>mse", ["'maybe'"]),
    ("affine>hinge", ["not supported in a network", "choose one of"]),
    ("affine_batch>relu>affine_batch>mse", ["loss over the batch", "half_frobenius"]),
    ("affine>relu>affine_batch>half_frobenius", ["mix of affine"]),
])
def test_bad_chains_name_the_problem_and_the_choices(chain, words):
    with pytest.raises(DeriveError) as err:
        network(chain)
    assert "\n" not in err.value.message
    for w in words:
        assert w in err.value.message


def test_a_parameter_the_network_lacks_is_refused_with_the_choices():
    with pytest.raises(DeriveError, match=r"no variable 'W3'; choose one of: W1, b1, W2, b2, x"):
        network(NYU_REGRESSION).derive("W3")


@pytest.mark.parametrize("argv", [
    ["show", "affine>relux>affine>mse"],
    ["show", "affine>relu>affine", "--wrt", "W1"],
    ["show", NYU_REGRESSION, "--wrt", "W3"],
    ["show", "sigmoid", "--format", "numpy"],
    ["show", NYU_REGRESSION, "--layout", "numerator"],
    ["show", "affine>sigmoid>affine>bce"],  # bce of unbounded outputs: not finite, so not checkable
])
def test_cli_bad_input_is_one_line_and_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("derive: ") and err.count("\n") == 1


# --------------------------------------------------------------------------- the backward pass


def test_uva_recursion_has_the_sheets_shapes_d_k_by_N():
    d = network(UVA).derive("W1")
    assert [s.name for s in d.signals] == ["Delta2", "Delta1"]
    assert [s.shape for s in d.signals] == [("d2", "N"), ("d1", "N")]
    hidden, g = d.signals[1], d.gradient
    assert latex(hidden.general, hidden.names) == r"\frac{\partial L}{\partial Z^{(1)}} \odot f_{1}'\left(S^{(1)}\right)"
    assert hidden.latex.startswith(r"\left(W^{(2)\top} \Delta^{(2)}\right) \odot")
    assert g.latex == r"\Delta^{(1)} X^\top" and g.text == "Δ1 Xᵀ"
    assert [(latex(f, g.names), f.shape) for f in g.factors] == [(r"\Delta^{(1)}", ("d1", "N")), (r"X^\top", ("N", "d0"))]
    assert g.shape == ("d1", "d0")


def test_uva_output_error_signal_is_yhat_minus_y_from_half_frobenius():
    d = network(UVA).derive("W2")
    Yhat, Y = sp.IndexedBase("Yhat", real=True), sp.IndexedBase("Y", real=True)
    i, n = sp.symbols("i n", integer=True, positive=True)
    assert sp.expand(d.signals[0].rhs - (Yhat[i, n] - Y[i, n])) == 0
    assert d.gradient.latex == r"\Delta^{(2)} Z^{(1)\top}"


def test_cs224n_gradient_with_respect_to_the_input():
    d = network(CS224N).derive("x")
    assert d.gradient.latex == r"W^{(1)\top} \delta^{(1)}"
    top, hidden = d.signals
    assert top.latex == r"\hat{y} - y"  # softmax cross-entropy on the logits s^{(2)}
    z1 = sp.IndexedBase("z1", real=True)[sp.Symbol("i", integer=True, positive=True)]
    assert hidden.derivative == z1 * (1 - z1)  # σ′ written in σ, from the engine


def test_bias_gradient_of_one_sample_is_the_error_signal():
    d = network(NYU_REGRESSION).derive("b1")
    assert d.gradient.latex == r"\delta^{(1)}"
    last = d.chain[-1]
    assert last.names[last.before.name].latex == r"\frac{\partial s^{(1)}}{\partial b^{(1)}}"
    assert isinstance(last.after, Identity)  # ∂s_i/∂b_j = δ_ij, by the engine's rules


def test_chain_of_jacobians_lists_every_layer_with_dimensions():
    d = network("affine>sigmoid>affine>sigmoid>bce").derive("W1")
    assert [j.shape for j in d.chain] == [("1", "d2"), ("d2", "d2"), ("d2", "d1"), ("d1", "d1"), ("d1", "d1", "d0")]
    assert latex(d.chain[2].after, d.chain[2].names) == "W^{(2)}"


@pytest.mark.parametrize("chain, widths, samples", [
    (NYU_REGRESSION, (2, 3, 4), 1),
    ("affine>sigmoid>affine>sigmoid>bce", (3, 2, 4), 1),
    (CS224N, (2, 3, 4), 1),
    (UVA, (2, 3, 1), 4),
])
def test_index_forms_agree_with_sympy_diff_of_the_expanded_network(chain, widths, samples):
    net = network(chain)
    for wrt in net.variables:
        derived, reference = index_form_gradient(net, wrt, widths, samples)
        assert len(derived) > 1
        assert np.allclose(derived, reference, rtol=1e-12, atol=1e-12), wrt


def test_a_new_registry_activation_is_picked_up_without_other_changes():
    """f′ comes from the engine's derivation of the registry entry, not from a table."""
    from derive.definitions import _BUILT, REGISTRY, register
    from derive.definitions.activations import _elementwise

    register("cube_test", "activation", "Cube, y = x³")(lambda: _elementwise("cube_test", "Cube", lambda x, sp: x**3))
    try:
        d = network("affine>cube_test>affine>mse").derive("W1")
        s1 = sp.IndexedBase("s1", real=True)[sp.Symbol("i", integer=True, positive=True)]
        assert d.signals[1].derivative == 3 * s1**2
        derived, reference = index_form_gradient(network("affine>cube_test>affine>mse"), "W1", (2, 3, 2))
        assert np.allclose(derived, reference)
    finally:
        REGISTRY.pop("cube_test", None)
        _BUILT.pop("cube_test", None)


def test_each_layer_adds_a_bounded_amount_of_work():
    """Never expanded: the error signal of layer 1 is as small at depth 12 as at depth 3."""
    def ops(depth):
        net = network(">".join(["affine>sigmoid"] * depth) + ">mse")
        return sp.count_ops(net.derive("W1").signals[-1].rhs)

    assert ops(12) == ops(3)


def test_every_network_gradient_is_checked_before_it_is_stated():
    d = network(NYU_REGRESSION).derive("W1")
    assert d.check_error is not None and d.check_error < 1e-5
    assert "checked: every gradient" in d.text()


def test_a_wrong_gradient_in_the_generated_code_is_caught(monkeypatch):
    from derive.network import codegen
    from derive.network.verify import check_gradients

    compile_numpy = codegen.compile_numpy

    def doubled_b2(net, trace=False, hyper=None):
        f = compile_numpy(net, trace, hyper)

        def wrong(*args, **kwargs):
            loss, grads, *rest = f(*args, **kwargs)
            return (loss, {**grads, "b2": 2 * grads["b2"]}, *rest)

        return wrong

    monkeypatch.setattr(codegen, "compile_numpy", doubled_b2)
    with pytest.raises(DeriveError, match="∂L/∂b2 disagrees with central differences"):
        check_gradients(network(NYU_REGRESSION))


def test_a_wrong_gradient_in_a_middle_layer_is_caught_along_a_joint_direction(monkeypatch):
    """Layer 3 of 4 is not checked on its own (every error signal passes through layer 1), but the
    direction through all parameters together sees it."""
    from derive.network import codegen
    from derive.network.verify import check_gradients

    compile_numpy = codegen.compile_numpy

    def negated_w3(net, trace=False, hyper=None):
        f = compile_numpy(net, trace, hyper)

        def wrong(*args, **kwargs):
            loss, grads, *rest = f(*args, **kwargs)
            return (loss, {**grads, "W3": -grads["W3"]}, *rest)

        return wrong

    monkeypatch.setattr(codegen, "compile_numpy", negated_w3)
    with pytest.raises(DeriveError, match="all parameters together"):
        check_gradients(network("affine>tanh>affine>tanh>affine>tanh>affine>mse"))


# --------------------------------------------------------------------------- rendering


def test_show_json_has_the_module_fields_and_the_matrix_form(capsys):
    assert main(["show", UVA, "--wrt", "W1", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"target", "wrt", "result", "srepr", "latex", "steps", "matrix"} <= set(out)
    assert out["matrix"]["shape"] == ["d1", "d0"]
    assert out["matrix"]["text"] == "Δ1 Xᵀ" and out["matrix"]["latex"] == r"\frac{\partial L}{\partial W^{(1)}} = \Delta^{(1)} X^\top"
    assert [s["rule"] for s in out["steps"]] == ["chain", "substitute", "substitute", "contract"]
    names = {"Delta1": sp.IndexedBase("Delta1"), "X": sp.IndexedBase("X"), "N": sp.Symbol("N")}
    parsed = sp.sympify(out["result"], locals=names)
    assert isinstance(parsed, sp.Sum) and len(parsed.atoms(sp.Indexed)) == 2


def test_show_text_has_forward_table_chain_signals_and_gradient(capsys):
    assert main(["show", NYU_REGRESSION, "--wrt", "W1"]) == 0
    out = capsys.readouterr().out
    for line in ("s1 = W1 x + b1", "z1 = max(0, s1)", "ŷ = W2 z1 + b2",
                 "∂L/∂W1 = ∂L/∂ŷ · ∂ŷ/∂z1 · ∂z1/∂s1 · ∂s1/∂W1", "= diag(𝟙[s1 > 0])", "= ∂s1_i/∂W1_ij = x_j",
                 "δ1 = ∂L/∂z1 ⊙ f_1′(s1) = (W2ᵀ δ2) ⊙ 𝟙[s1 > 0]", "∂L/∂W1 = δ1 xᵀ   [d1 × d0]",
                 "local derivative: derive show relu --wrt x: ∂y/∂x = 𝟙[x > 0]"):
        assert line in out
    assert not any(raw in out for raw in RAW_SYMPY + ("\\", "{(", "^T"))


def test_markdown_forward_table_writes_each_output_in_terms_of_x():
    md = network(NYU_REGRESSION).derive("W2").markdown()
    assert r"$W^{(2)} \max\left(0, W^{(1)} x + b^{(1)}\right) + b^{(2)}$" in md
    assert r"\underbrace{z^{(1)\top}}_{1 \times d_{1}}" in md


def test_tex_fragment_keeps_math_unescaped_and_prose_escaped():
    tex = network(UVA).derive("W1").tex()
    assert r"\underbrace{X^\top}_{N \times d_{0}}" in tex
    assert r"\textbackslash" not in tex
    assert r"affine\_batch" in tex


def test_notebook_reprs():
    net = network(CS224N)
    assert net._repr_latex_().startswith("$$") and net._repr_latex_().endswith("$$")
    assert "**Network" in net._repr_markdown_()
    assert derive.derivative(CS224N, wrt="x")._repr_latex_().startswith("$$")


# --------------------------------------------------------------------------- every module inside a network


def _activations_and_losses():
    from derive.definitions import entries, get
    from derive.network.chain import elementwise_activations

    acts = elementwise_activations()
    losses = [e.name for e in entries() if e.kind == "loss"]
    hyper = {a: [v.name for v in get(a).others if v.role == "hyper"] for a in acts}
    return acts, losses, hyper


_ACTS, _LOSSES, _HYPER = _activations_and_losses()
_WITH_VALUES = [f"{a}[{','.join(f'{h}=0.2' for h in hs)}]" for a, hs in _HYPER.items() if hs]


@pytest.mark.parametrize("activation", _ACTS + _WITH_VALUES)
def test_every_activation_inside_a_network_is_derived_and_checked(activation):
    d = network(f"affine>{activation}>affine>mse").derive("W1")
    assert d.check_error is not None and d.check_error < 1e-5
    assert "checked: every gradient" in d.text()


def _network_ending_in(loss: str) -> str:
    """A two-layer chain a loss accepts: a batch of columns for a matrix loss, probabilities for bce
    and cross-entropy."""
    from derive.definitions import get

    batch = len(get(loss).inputs[0].shape) == 2
    layer = "affine_batch" if batch else "affine"
    before = "sigmoid>" if loss in ("bce", "cross_entropy") else ""
    return f"{layer}>tanh>{layer}>{before}{loss}"


@pytest.mark.parametrize("loss", supported_losses())
def test_every_loss_a_network_accepts_ends_one_whose_gradients_are_checked(loss):
    d = network(_network_ending_in(loss)).derive("W1")
    assert d.check_error is not None and d.check_error < 1e-5


def test_forward_table_keeps_the_sign_of_the_whole_affine_map_inside_sigmoid():
    md = network(CS224N).derive("W1").markdown()
    assert r"\exp\left(-\left(W^{(1)} x + b^{(1)}\right)\right)" in md
    assert r"- W^{(1)} x + b^{(1)}" not in md


def test_a_network_carries_each_layers_bound_hyperparameters():
    from derive.network.codegen import hyperparameter_names, numpy_source

    net = derive.network("affine>leaky_relu[alpha=0.1]>affine>elu>affine>mse")
    assert [s.hyper for s in net.stages] == [(("alpha", 0.1),), (("alpha", None),), ()]
    assert [s.free_hyper for s in net.stages] == [(), ("alpha2",), ()]
    assert hyperparameter_names(net) == ["alpha2"]
    assert "*, loss_scale=1.0, alpha2):" in numpy_source(net)
    rows = {r.label: r.rhs for r in net.derive("W1").backprop.forward}
    assert "s1[i]/10" in str(rows["leaky_relu 1"]) and "alpha2" in str(rows["elu 2"])
