"""Computation graphs (derive.graph): named nodes, fan-out sums, tied weights, a loss of several terms,
user modules inside; every gradient of the generated code against central differences here too."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derive
from derive.errors import DeriveError
from derive.graph import Graph, graph
from derive.steps import ChainRule, SumRule


def residual(lam=None) -> Graph:
    g = Graph("residual")
    g.input("x", "d0")
    g.node("h", "affine", x="x", W="W1", b="b1")
    g.node("a", "relu", x="h")
    g.node("o", "affine", x="a", W="W2", b="b2")
    g.node("r", "add", a="o", b="x")
    g.node("loss", "mse", yhat="r", y="y")
    if lam is not None:
        g.node("reg", "l2", W="W1", lam=lam)
    return g


def run_code(g: Graph, seed: int = 0, sizes: dict | None = None):
    """The generated source, executed as a user would, at random values: (function, arrays)."""
    ns: dict = {}
    exec(g.numpy(), ns)  # noqa: S102 (the code under test)
    fn = next(v for k, v in ns.items() if k.startswith("forward_backward_"))
    r = g.resolved()
    rng = np.random.default_rng(seed)
    sizes = sizes or {d: n for d, n in zip((d for d in r.dims if d not in dict(r.sums)), (3, 5, 2, 4, 6))}
    for whole, parts in r.sums:  # a concatenation is as tall as its blocks together
        sizes[whole] = sum(sizes[p] for p in parts)
    arrays = {}
    for v in r.values:
        if v.role in ("input", "parameter", "target"):
            shape = tuple(1 if d == "1" else sizes[d] for d in r.matrix_shape(v.name))
            arrays[v.name] = rng.uniform(-1, 1, shape)
    return fn, arrays


def central(fn, arrays: dict, name: str, h: float = 1e-6) -> np.ndarray:
    out = np.zeros_like(arrays[name])
    for idx in np.ndindex(*out.shape):
        moved = []
        for step in (h, -h):
            a = {k: v.copy() for k, v in arrays.items()}
            a[name][idx] += step
            moved.append(fn(**a)[0])
        out[idx] = (moved[0] - moved[1]) / (2 * h)
    return out


def assert_gradients_match_central_differences(g: Graph, seed: int = 0) -> dict:
    fn, arrays = run_code(g, seed)
    _, grads = fn(**arrays)
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, central(fn, arrays, name), rtol=1e-5, atol=1e-7, err_msg=name)
    return grads


def test_residual_block_sums_the_skip_and_the_branch_at_its_input():
    bp = residual().derive()
    gx = bp.gradient("x")
    assert isinstance(gx.step, SumRule) and [p.node for p in gx.parts] == ["r", "h"]
    assert gx.step.after.args[0].name == "dL_dr"  # the skip connection passes ∂L/∂r straight through
    assert "x feeds r, h" in gx.step.reason
    assert bp.checked.statements > 30 and bp.checked.gradient_error < 1e-5
    assert set(assert_gradients_match_central_differences(residual())) == {"x", "W1", "b1", "W2", "b2"}


def test_l2_term_adds_lambda_w_to_the_data_gradient():
    fn, arrays = run_code(residual(lam=0.5))
    fn0, _ = run_code(residual())
    _, with_reg = fn(**arrays)
    _, without = fn0(**arrays)
    np.testing.assert_allclose(with_reg["W1"], without["W1"] + 0.5 * arrays["W1"])
    np.testing.assert_allclose(with_reg["W2"], without["W2"])
    assert isinstance(residual(lam=0.5).derive().gradient("W1").step, SumRule)
    assert_gradients_match_central_differences(residual(lam=0.5))


def test_tied_weight_used_twice_gets_the_sum_of_both_uses():
    g = Graph("tied")
    g.input("x", "d")
    g.node("h1", "affine", x="x", W="W", b="b")
    g.node("a1", "tanh", x="h1")
    g.node("h2", "affine", x="a1", W="W", b="b")
    g.node("loss", "half_mse", yhat="h2", y="y")
    gw = g.derive().gradient("W")
    assert [p.node for p in gw.parts] == ["h2", "h1"]
    assert_gradients_match_central_differences(g)


def test_multiply_gate_sends_each_input_the_other():
    g = Graph("gate")
    g.input("u", "d")
    g.input("v", "d")
    g.node("p", "multiply", a="u", b="v")
    g.node("loss", "mse", yhat="p", y="y")
    bp = g.derive()
    assert bp.gradient("u").step.after.args[1].name == "v"  # ∂L/∂u = ∂L/∂p ⊙ v
    assert_gradients_match_central_differences(g)


def test_symbolic_hyperparameter_becomes_a_keyword_argument_of_the_code():
    g = residual(lam="lam")
    assert "def forward_backward_residual(x, y, W1, b1, W2, b2, *, lam):" in g.numpy()


@pytest.mark.parametrize("spec", ["affine>relu>affine>mse", "affine>sigmoid>affine>softmax_cross_entropy",
                                  "affine[bias=false]>tanh>affine>half_mse"])
def test_chain_as_graph_computes_what_the_network_computes(spec):
    from derive.network.codegen import compile_numpy

    g = graph(spec)
    fn, arrays = run_code(g)
    if "softmax" in spec:
        arrays["y"] = np.eye(arrays["y"].shape[0])[:, :1]
    L, grads = fn(**arrays)
    net = derive.network(spec)
    params = {p: (arrays[p][:, 0] if p.startswith("b") else arrays[p]) for p in net.params}
    L_net, grads_net = compile_numpy(net)(arrays["x"], arrays["y"], **params)
    assert L == pytest.approx(L_net)
    for p in net.params:
        np.testing.assert_allclose(grads[p].reshape(grads_net[p].shape), grads_net[p], err_msg=p)
    np.testing.assert_allclose(grads["x"], grads_net["X"])


def test_dropout_of_ones_own_runs_in_a_graph_and_is_refused_in_a_chain():
    x, y, mask = sp.IndexedBase("x"), sp.IndexedBase("y"), sp.IndexedBase("mask")
    i = sp.symbols("i", integer=True)
    dropout = derive.define("dropout_t", y[i], mask[i] * x[i] / (1 - sp.Symbol("p")), register=True)
    with pytest.raises(DeriveError, match="build a graph"):
        derive.network("affine>dropout_t>affine>mse")
    g = Graph("dropout")
    g.input("x", "d0")
    g.input("m", "d1")
    g.node("h", "affine", x="x", W="W1", b="b1", size="d1")
    g.node("z", dropout, x="h", mask="m", p=0.5)
    g.node("o", "affine", x="z", W="W2", b="b2")
    g.node("loss", "mse", yhat="o", y="y")
    assert "z = 2 * (m * h)" in g.numpy()
    assert_gradients_match_central_differences(g)


def test_gelu_of_ones_own_code_imports_math_in_a_graph_and_a_chain_refuses_it_in_one_line():
    """A chain's statements are read back by the network's answer reader, which has no erf yet: the
    chain refuses GELU in one line; a graph derives it, its code importing math for erf."""
    x, y = sp.IndexedBase("x"), sp.IndexedBase("y")
    i = sp.symbols("i", integer=True)
    derive.define("gelu_t", y[i], x[i] / 2 * (1 + sp.erf(x[i] / sp.sqrt(2))), register=True)
    with pytest.raises(DeriveError, match="gelu_t is not available in a network yet .*build it as a graph"):
        derive.network("affine>gelu_t>affine>mse")
    g = Graph("gelu")
    g.input("x", "d0")
    g.node("h", "affine", x="x", W="W1", b="b1")
    g.node("a", "gelu_t", x="h")
    g.node("o", "affine", x="a", W="W2", b="b2")
    g.node("loss", "mse", yhat="o", y="y")
    assert "import math" in g.numpy()
    assert set(assert_gradients_match_central_differences(g)) == {"x", "W1", "b1", "W2", "b2"}


# -- bad input: one line naming the node -------------------------------------------------------------


def bad(build) -> str:
    g = Graph("bad")
    g.input("x", "d0")
    build(g)
    with pytest.raises(DeriveError) as err:
        g.resolved()
    assert "\n" not in str(err.value)
    return str(err.value)


def test_cycle_is_refused_naming_its_nodes():
    msg = bad(lambda g: (g.node("a", "affine", x="b", W="W1", b="b1"), g.node("b", "tanh", x="a")))
    assert "cycle" in msg and "a → b" in msg or "b → a" in msg


def test_unknown_node_is_refused_with_the_choices():
    msg = bad(lambda g: g.node("h", "affine", x="xx", W="W1", b="b1"))
    assert msg == "node h: unknown node or input 'xx'; choose one of: x"


def test_shape_mismatch_between_connected_nodes_names_the_node():
    def build(g):
        g.node("h", "affine", x="x", W="W1", b="b1", size="d1")
        g.node("r", "add", a="h", b="x")

    msg = bad(build)
    assert msg == "node r: add takes values of one shape, but h is d1 and x is d0"


def test_parameter_with_two_shapes_names_the_node_and_the_parameter():
    def build(g):
        g.node("h", "affine", x="x", W="W", b="b1", size="d1")
        g.node("o", "affine", x="h", W="W", b="b2", size="d2")

    msg = bad(build)
    assert msg.startswith("node o:") and "parameter W" in msg


def test_unknown_module_and_variable_are_refused():
    assert "unknown module 'afine'" in bad(lambda g: g.node("h", "afine", x="x"))
    assert "affine has no variable 'z'" in bad(lambda g: g.node("h", "affine", z="x"))


def test_node_that_reaches_no_loss_is_refused():
    g = Graph("dangling")
    g.input("x", "d0")
    g.node("h", "affine", x="x", W="W1", b="b1")
    g.node("t", "tanh", x="h")
    g.node("loss", "mse", yhat="h", y="y")
    with pytest.raises(DeriveError, match="node t: its output reaches no loss"):
        g.derive()


def test_a_wrong_statement_is_refused_not_printed():
    from derive.graph import backprop as bpmod
    from derive.graph import codegen
    from derive.graph.verify import check_graph

    r = residual().resolved()
    bp = bpmod.backprop(r)
    good = bp.gradients["W2"]
    wrong = good.step.after.args[0]  # ∂L/∂o alone, without the aᵀ
    bp.gradients["W2"] = dataclasses.replace(good, step=ChainRule(before=good.step.before, after=wrong,
                                                                  reason=good.step.reason))
    codegen.program.cache_clear()  # the code is printed from the (now wrong) tree too
    try:
        with pytest.raises(DeriveError, match=r"graph residual: .*∂L/∂W2.* disagrees"):
            check_graph(r)
    finally:
        bp.gradients["W2"] = good
        codegen.program.cache_clear()


def test_printing_an_unchecked_backward_pass_checks_it_first(monkeypatch):
    from derive.graph import backprop as bpmod
    from derive.graph import verify

    g = Graph("printed")
    g.input("x", "d0")
    g.node("h", "affine", x="x", W="W", b="b")
    g.node("loss", "mse", yhat="h", y="y")
    bp = bpmod.backprop(g.resolved())
    assert bp.checked is None

    def refuse(graph):
        raise DeriveError("refused")

    monkeypatch.setattr(verify, "check_graph", refuse)
    with pytest.raises(DeriveError, match="refused"):
        bp.text()


# -- random graphs: whatever the wiring, the stated gradients are the code's, and the code's are right ----------


STEPS = st.lists(st.tuples(st.sampled_from(["affine", "tanh", "sigmoid", "add", "multiply", "subtract"]),
                           st.integers(0, 10)), min_size=1, max_size=5)


def random_graph(steps) -> Graph:
    g = Graph("random")
    g.input("x", "d0")
    values = [("x", "d0")]  # (name, width)
    for n, (op, pick) in enumerate(steps):
        last, width = values[-1]
        name = f"v{n}"
        if op == "affine":
            g.node(name, "affine", x=last, W=f"W{n}", b=f"b{n}", size=f"d{n + 1}")
            width = f"d{n + 1}"
        elif op in ("tanh", "sigmoid"):
            g.node(name, op, x=last)
        else:
            same = [v for v, w in values if w == width]
            g.node(name, op, a=last, b=same[pick % len(same)])  # possibly a value with itself: a fan-out
        values.append((name, width))
    g.node("loss", "half_mse", yhat=values[-1][0], y="y")
    return g


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_random_graphs_state_checked_gradients_that_match_central_differences(steps):
    g = random_graph(steps)
    bp = g.derive()
    assert bp.checked.gradient_error < 1e-5
    fanned = [v for v, grad in bp.gradients.items() if grad.fans_out]
    for v in fanned:
        assert isinstance(bp.gradient(v).step, SumRule) and len(bp.gradient(v).parts) >= 2
    assert_gradients_match_central_differences(g)
