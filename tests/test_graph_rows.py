"""A batch of rows with softmax cross-entropy (derive.graph.rows): the engine's fold and constraint
applied row by row give ∂L/∂Z = (Ŷ − Y)/N, the verifier samples Y one-hot by rows, and the bundled
example's numbers agree with an independent NumPy computation (log-sum-exp, no derivation)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive.errors import DeriveError
from derive.graph import Graph, sheet
from derive.graph.ops import derivation
from derive.graph.rows import softmax_cross_entropy_rows
from derive.graph.verify import _Check, target_domain


def batch(size=("N", "K")) -> Graph:
    g = Graph("batch")
    g.input("X", "N", "D")
    g.node("Z", "affine_row", X="X", W="W", b="b", size=list(size))
    g.node("loss", "softmax_cross_entropy_rows", Z="Z", Y="Y")
    return g


def by_hand(X, Y, W, b):
    """L and ∂L/∂W, ∂L/∂b by log-sum-exp and the textbook (P − Y)/N, written independently of derive."""
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    N = X.shape[0]
    G = (np.exp(logp) - Y) / N
    return -(Y * logp).sum() / N, X.T @ G, G.sum(axis=0)


def test_engine_folds_the_softmax_and_the_one_hot_rows_row_by_row():
    d = derivation(softmax_cross_entropy_rows(), "Z")
    i, j = d.indices
    Yhat, Y, N = sp.IndexedBase("Yhat", real=True), sp.IndexedBase("Y", real=True), sp.Symbol("N", integer=True,
                                                                                                 positive=True)
    assert sp.simplify(d.result - (Yhat[i, j] - Y[i, j]) / N) == 0
    rules = [s.rule for s in d.steps]
    assert rules[-3:] == ["substitute", "constraint", "factor"]
    assert "row by row" in d.steps[-3].reason and "at every row" in d.steps[-2].reason
    assert all(b.before == a.after for a, b in zip(d.steps, d.steps[1:]))  # one chain of working
    assert d.definition is softmax_cross_entropy_rows()  # the row constraint kept on the definition


def test_verifier_samples_the_target_one_hot_by_rows():
    r = batch().resolved()
    assert target_domain(r, "Y") == ("onehot", 1)
    Y = _Check(r, 0).env["Y"]
    assert Y.shape == (3, 2) and np.all(Y.sum(axis=1) == 1)  # N = 3, K = 2: columns would not sum to 1


def test_gradients_in_matrix_form_and_generated_code_agree_with_log_sum_exp():
    g = batch()
    bp = g.derive()
    assert "∂L/∂Z = (1/N) (loss_Yhat − Y)" in bp.text()
    assert "∂L/∂W = Xᵀ ∂L/∂Z" in bp.text() and "∂L/∂b = (∂L/∂Z)ᵀ 𝟏" in bp.text()
    ns: dict = {}
    exec(g.numpy(), ns)  # noqa: S102 (the code under test)
    rng = np.random.default_rng(5)
    X, W, b = rng.normal(size=(6, 4)), rng.normal(size=(4, 3)), rng.normal(size=(3, 1))
    Y = np.eye(3)[rng.integers(0, 3, 6)]
    L, grads = ns["forward_backward_batch"](X, Y, W, b)
    L0, gW, gb = by_hand(X, Y, W, b.T)
    assert L == pytest.approx(L0)
    np.testing.assert_allclose(grads["W"], gW, rtol=1e-10)
    np.testing.assert_allclose(grads["b"], gb.reshape(-1, 1), rtol=1e-10)  # a column, b's own shape


def test_bundled_example_matches_an_independent_computation():
    s = sheet.load("batch_softmax")
    ex = sheet.solve(s)["example"]
    X, Y, W, b = (ex.given[v] for v in ("X", "Y", "W", "b"))
    L0, gW, gb = by_hand(X, Y, W, b.T)
    assert ex.loss == pytest.approx(L0) and round(ex.loss, 4) == 0.8046
    np.testing.assert_allclose(ex.gradients["W"], gW, rtol=1e-10)
    np.testing.assert_allclose(ex.updated["W"], W - 0.5 * gW, rtol=1e-10)
    np.testing.assert_allclose(ex.updated["b"].ravel(), b.ravel() - 0.5 * gb, rtol=1e-10)
    assert ex.loss_after == pytest.approx(by_hand(X, Y, ex.updated["W"], ex.updated["b"].T)[0])
    assert ex.loss_after < ex.loss


def test_example_refuses_a_target_whose_rows_are_not_one_hot():
    values = {"X": [[1, 2]], "W": [[1, 0], [0, 1]], "b": [0, 0], "Y": [[0.5, 0.5]]}
    with pytest.raises(DeriveError, match="Y is one-hot: each row holds a single 1"):
        batch().example(values=values)


@pytest.mark.parametrize("size, message", [
    (("N", "K", "M"), "size is a dimension's name, or a list of one or two"),
    (("M", "K"), "node Z: affine_row.s X must be M × …, but X is N × D"),  # the rows of Z are X's
])
def test_size_names_every_dimension_or_says_why_not(size, message):
    with pytest.raises(DeriveError, match=message):
        batch(size).resolved()


def test_size_list_names_the_class_dimension():
    assert batch().resolved().shape("Y") == ("N", "K")
