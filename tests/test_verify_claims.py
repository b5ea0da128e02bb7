"""Verification claims only checks it made: no empty sizes, no NaN or overflow taken for agreement,
points drawn where the definition is real, and nothing from the generated code on stderr."""

from __future__ import annotations

import warnings
from dataclasses import replace

import pytest
import sympy as sp

from derive.api import derivative
from derive.errors import DeriveError
from derive.sheets.custom import module_definition
from derive.verify import VerificationError, check_finite_differences


def module(expr: str, **extra):
    return module_definition({"name": "m", "output": "y[i]", "expr": expr, "inputs": ["x"],
                              "shapes": {"x": ["K"], "y": ["K"]}, **extra})


@pytest.mark.parametrize("size", [0, -3])
def test_sizes_with_no_index_are_not_checked_at_every_index(size):
    defn = module("tanh(x[i])")
    defn = replace(defn, sizes={k: size for k in defn.sizes})
    with pytest.raises(DeriveError, match="no index to check"):
        derivative(defn, wrt="x")


@pytest.mark.parametrize("expr", ["log(x[i])", "log(x[i] - 5) + sqrt(x[i])", "exp(exp(exp(100*x[i])))"])
def test_a_definition_real_on_part_of_the_line_is_checked_there_quietly(expr, capfd):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = derivative(module(expr), wrt="x").report
    assert 0 < report.max_fd_error < 1e-5  # a real comparison was made (NaN used to give exactly 0.0)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("expr", ["log(x[i] - 100)", "sqrt(-x[i]*x[i] - 1)"])
def test_a_definition_with_no_real_point_is_refused(expr):
    with pytest.raises(DeriveError, match="finite real numbers"):
        derivative(module(expr), wrt="x")


def test_a_closed_form_that_is_not_finite_fails_the_finite_difference_check(capfd):
    d = derivative("tanh", wrt="x")
    x = d.definition.inputs[0].symbol
    for broken in (sp.log(-1 - x**2), sp.exp(sp.exp(sp.exp(10 + x**2)))):  # NaN, overflow at every point
        with pytest.raises(VerificationError, match="finite"):
            check_finite_differences(replace(d, result=broken))
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("target", ["gru_cell", "lstm_cell", "attention", "rnn_step", "conv2d", "bce", "kl_softmax",
                                    "cross_entropy", "hinge"])
def test_the_finite_differences_are_of_the_definition_as_written(target):
    """The whole (a loss's body, a layer's linear cost Σ g y) is evaluated from the derivation's body, its sums
    run in Python where it has no kinks (derive.float_compile.compile_sums), else written out in SymPy: a body
    1% larger than the one derived is caught either way."""
    d = derivative(target, verify=False)
    assert check_finite_differences(d) < 1e-5
    with pytest.raises(VerificationError, match="finite difference"):
        check_finite_differences(replace(d, body=d.body * sp.Rational(101, 100)))


def test_a_sheet_module_with_no_real_point_is_one_line(tmp_path, capsys):
    from derive.cli import main

    path = tmp_path / "s.toml"
    path.write_text('title = "T"\n[[questions]]\ntitle = "Q"\nwrt = "x"\n[questions.module]\nname = "m"\n'
                    'output = "y[i]"\nexpr = "log(x[i] - 100)"\ninputs = ["x"]\nshapes = { x = ["K"], y = ["K"] }\n',
                    encoding="utf-8")
    assert main(["sheet", str(path), "-o", str(tmp_path / "out"), "--format", "md", "-j", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"derive: {path}:") and "finite real numbers" in err[0]


def test_a_worked_network_example_that_overflows_is_refused_quietly(capfd):
    from derive.api import network

    net = network("affine>relu>affine>softmax_cross_entropy")
    big = [[1e6, 1e6], [1e6, 1e6]]
    with pytest.raises(DeriveError, match="not finite"):
        net.example(X=[1e6, 1e6], weights={"W1": big, "b1": [0, 0], "W2": [[1e6, -1e6], [-1e6, 1e6]], "b2": [0, 0]},
                    targets=[0, 1])
    assert capfd.readouterr().err == ""
