"""A user's own module gets derivation, steps, verification and rendering with no other code."""

import sympy as sp

import derive
from derive.verify import verify
from derive.verify_steps import check_steps

x, y = sp.IndexedBase("x"), sp.IndexedBase("y")
i, k = sp.symbols("i k", integer=True)
K = sp.Symbol("K", integer=True, positive=True)


def test_an_elementwise_module_is_derived_as_a_scalar_function():
    d = derive.derivative(derive.define("my_softplus", y[i], sp.log(1 + sp.exp(x[i]))), wrt="x")
    xs = d.definition.inputs[0].symbol
    assert sp.simplify(d.result - 1 / (1 + sp.exp(-xs))) == 0
    verify(d)
    check_steps(d)
    assert "$$" in d.markdown() and d._repr_latex_().startswith("$$")


def test_a_loss_with_a_sum_is_differentiated_in_index_form():
    d = derive.derivative(derive.define("logsumexp", sp.Symbol("L"), sp.log(sp.Sum(sp.exp(x[k]), (k, 1, K)))))
    report = verify(d)
    assert report.symbolic > 0
    check_steps(d)


def test_a_registered_module_is_listed_and_shown_by_the_cli(capsys):
    from derive.cli import main

    derive.define("cube", y[i], x[i] ** 3, register=True)
    assert main(["list"]) == 0
    assert "cube" in capsys.readouterr().out
    assert main(["show", "cube", "--format", "json"]) == 0
    assert '"result": "3*x**2"' in capsys.readouterr().out


def test_a_module_of_ones_own_is_checked_when_it_is_derived():
    import sympy as sp

    import derive

    x, y = sp.IndexedBase("x"), sp.IndexedBase("y")
    i = sp.symbols("i", integer=True)
    mine = derive.define("softplus_checked", y[i], sp.log(1 + sp.exp(x[i])))
    d = derive.derivative(mine)
    assert d.report is not None and d.report.max_fd_error < 1e-5, "checked without being asked"
    assert "Checked: the result agrees with sympy.diff" in d.markdown()
    assert derive.derivative("softplus").report is None, "built-in entries are checked by the test suite"
    assert derive.derivative("softplus", verify=True).report is not None


def test_a_result_that_fails_its_check_is_a_one_line_error():
    from dataclasses import replace

    import pytest

    import derive
    from derive.errors import DeriveError
    from derive.verify import verified

    d = derive.derivative("softmax", wrt="x")
    with pytest.raises(DeriveError, match=r"^softmax ∂/∂x failed verification: "):
        verified(replace(d, result=d.result / d.definition.others[0].symbol))
