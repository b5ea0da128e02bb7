"""Issue 11's shape of the code: network steps are instances of the step classes module steps are
made of, and no module of the package is much over 400 lines."""

from __future__ import annotations

from pathlib import Path

import derive
from derive.steps import ChainRule, Step

PACKAGE = Path(__file__).resolve().parent.parent / "derive"
MAX_LINES = 420  # "no module over about 400 lines"


def test_network_steps_are_instances_of_the_step_classes_module_steps_are():
    d = derive.network("affine", "relu", "affine", loss="mse").derive("W1")
    pieces = [*d.forward, *d.chain, *d.signals, d.gradient, *d.steps]
    module = derive.derivative("affine", wrt="W").steps
    for piece in [*pieces, *module]:
        assert isinstance(piece, Step) and type(piece).rule, type(piece).__name__
    assert {type(p).__name__ for p in pieces} >= {"ForwardRow", "LocalJacobian", "ErrorSignal", "ParamGradient"}
    assert any(isinstance(p, ChainRule) for p in d.steps) and any(isinstance(s, ChainRule) for s in module)


def test_no_module_is_much_over_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
