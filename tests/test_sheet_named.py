"""A sheet's own module may name the quantities its results are written in (`named`), as
`derive.define(…, named=…)` does: batch norm in μ, σ, x̂ from a sheet, and what a bad table gets."""

import textwrap

import pytest

from derive.errors import DeriveError
from derive.sheets import load
from derive.sheets.builder import build
from derive.sheets.custom import module_definition

SHAPES = {"x": ["N"], "y": ["N"], "gamma": [], "beta": [], "epsilon": [], "mu": [], "sigma": [], "xhat": ["N"]}
NAMED = {"mu": "sum(x[k], k, 1, N) / N", "sigma": "sqrt(sum((x[m] - mu)^2, m, 1, N) / N + epsilon)",
         "xhat[i]": "(x[i] - mu) / sigma"}
SPEC = {"name": "own_batchnorm", "kind": "layer", "output": "y[i]", "expr": "gamma * xhat[i] + beta",
        "inputs": ["x", "gamma"], "shapes": SHAPES, "named": NAMED}


def test_a_sheet_module_with_named_quantities_is_derived_in_them_and_rendered(tmp_path):
    path = tmp_path / "bn.toml"
    path.write_text(textwrap.dedent('''\
        title = "Named"
        [[questions]]
        title = "Batch normalization"
        statement = "Differentiate batch normalization."
        wrt = ["x", "gamma"]
        [questions.module]
        name = "own_batchnorm"
        kind = "layer"
        output = "y[i]"
        expr = "gamma * xhat[i] + beta"
        inputs = ["x", "gamma"]
        shapes = { x = ["N"], y = ["N"], gamma = [], beta = [], epsilon = [], mu = [], sigma = [], xhat = ["N"] }
        named = { mu = "sum(x[k], k, 1, N) / N", sigma = "sqrt(sum((x[m] - mu)^2, m, 1, N) / N + epsilon)", "xhat[i]" = "(x[i] - mu) / sigma" }
        '''), encoding="utf-8")
    md = build(load(path)).outputs["md"]  # every result verified against sympy.diff on the way
    assert r"\hat{x}_{i} \sum_{l=1}^{N} \frac{\partial C}{\partial y_{l}} \hat{x}_{l}" in md
    assert r"{\sigma N}" in md and r"\left|" not in md  # σ is a root: positive, never |σ|
    assert r"\frac{\partial C}{\partial \gamma} = \sum_{i=1}^{N} \frac{\partial C}{\partial y_{i}} \hat{x}_{i}" in md


def test_the_named_quantities_are_the_definitions_intermediates_and_not_its_variables():
    d = module_definition(SPEC)
    assert [q.var.name for q in d.intermediates] == ["mu", "sigma", "xhat"]
    assert {v.name for v in (*d.inputs, *d.others)} == {"x", "gamma", "beta", "epsilon"}
    assert not d.expr.has(*(q.var.symbol for q in d.intermediates))  # written out in the inputs alone


@pytest.mark.parametrize("change,words", [
    ({"named": {"xhat[i]": "(x[i] - mu) / sigma", "mu": "sum(x[k], k, 1, N) / N",
                "sigma": "sqrt(sum((x[m] - mu)^2, m, 1, N) / N + epsilon)"}}, "named at or after it"),
    ({"named": {"mu": "mu + 1"}}, "named at or after it"),
    ({"named": {"nu": "x[1]"}}, "needs its shape under shapes"),
    ({"named": {"xhat": "x[1]"}}, "needs its shape under shapes"),
    ({"named": ["mu"]}, "named must be a table"),
    ({"named": {f"q{n}": "1" for n in range(13)}}, "at most 12"),
    ({"named": {"mu": "__import__('os')"}}, "cannot parse"),
])
def test_a_bad_named_table_is_one_line_naming_the_problem(change, words):
    spec = {**SPEC, **change, "shapes": {**SHAPES, **{f"q{n}": [] for n in range(13)}}}
    with pytest.raises(DeriveError, match=words) as err:
        module_definition(spec)
    assert "\n" not in str(err.value)


def test_a_scalar_input_of_an_activation_is_refused_in_one_line():
    d = module_definition({**SPEC, "kind": "activation"})
    import derive

    with pytest.raises(DeriveError, match='declare the module a layer'):
        derive.derivative(d, wrt="gamma")
