"""`define(named=…)` (issue 13, item 9): a user's definition declares named quantities, and results are
written in them as the registry's are. Each result here is verified against sympy.diff and finite
differences (derive.derivative verifies every module of one's own)."""

import pytest
import sympy as sp

import derive
from derive.definitions.custom import define

x, y, xhat, s, A, S = (sp.IndexedBase(n) for n in ("x", "y", "xhat", "s", "A", "S"))
i, k, m = sp.symbols("i k m", integer=True)
N, M = sp.symbols("N M", integer=True, positive=True)
gamma, beta, mu = sp.symbols("gamma beta mu")
sigma = sp.Symbol("sigma", positive=True)


def _batchnorm():
    mean = sp.Sum(x[k], (k, 1, N)) / N
    spread = sp.sqrt(sp.Sum((x[m] - mu) ** 2, (m, 1, N)) / N + sp.Symbol("epsilon", positive=True))
    return define("bn_named", y[i], gamma * xhat[i] + beta, kind="layer", inputs=["x", "gamma", "beta"],
                  named={mu: mean, sigma: spread, xhat[i]: (x[i] - mu) / sigma})


@pytest.mark.parametrize("wrt, expected", [("gamma", "Sum(dC_dy[i]*xhat[i], (i, 1, N))"),
                                           ("beta", "Sum(dC_dy[i], (i, 1, N))")])
def test_batch_norm_parameters_are_written_in_the_declared_xhat(wrt, expected):
    d = derive.derivative(_batchnorm(), wrt=wrt)
    assert str(d.result) == expected and d.report is not None


def test_a_definition_written_in_its_names_is_expanded_into_its_inputs():
    defn = _batchnorm()
    assert not defn.expr.has(sp.IndexedBase("xhat", real=True)) and [it.var.name for it in defn.intermediates] == [
        "mu", "sigma", "xhat"]
    assert defn.var("sigma").domain == "positive"  # declared Symbol("sigma", positive=True)


def test_a_row_softmax_declares_its_weights_and_is_folded_into_them():
    share = sp.exp(S[i, k]) / sp.Sum(sp.exp(S[i, m]), (m, 1, M))
    defn = define("softmax_rows_named", A[i, k], share, kind="layer", shapes={"S": ("N", "M"), "A": ("N", "M")},
                  named={A[i, k]: share})
    d = derive.derivative(defn, wrt="S")
    assert str(d.result) == "(dC_dA[i, j] - Sum(A[i, k]*dC_dA[i, k], (k, 1, M)))*A[i, j]"
    assert d.matrix.text == "A ⊙ ∂C/∂A − diag((A ⊙ ∂C/∂A) 𝟏) A" and d.report is not None


def test_an_activation_declares_a_scalar_name():
    d = derive.derivative(define("silu_named", y[i], x[i] * s[i], named={s[i]: 1 / (1 + sp.exp(-x[i]))}))
    assert str(d.result) == "s*(x*(1 - s) + 1)" and d.report is not None


@pytest.mark.parametrize("named, message", [
    ([1, 2], "named must be a dict"),
    ({sp.Integer(2): x[i]}, "a named quantity is a name or an entry such as xhat\\[i\\], not 2"),
    ({xhat[i]: sp.IndexedBase("z")[i]}, "the named quantity xhat\\[i\\] uses z, which the definition does not"),
])
def test_a_bad_named_quantity_is_one_line(named, message):
    with pytest.raises(derive.DeriveError, match=message):
        define("bad_named", y[i], sp.Sum(x[k], (k, 1, N)) * x[i], named=named)
