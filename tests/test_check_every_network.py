"""The answer checker reads each network's own printed gradient, in LaTeX and in text (δ1 xᵀ), as
correct, and twice it as wrong: every activation, with and without hyperparameter values, and every
loss a network accepts."""

from __future__ import annotations

import pytest

from derive.network import network
from derive.network.chain import supported_losses
from tests.test_network import _ACTS, _WITH_VALUES, _network_ending_in

CHAINS = [f"affine>{a}>affine>mse" for a in _ACTS + _WITH_VALUES] + [_network_ending_in(loss)
                                                                       for loss in supported_losses()]


@pytest.mark.parametrize("chain", CHAINS)
def test_a_networks_printed_gradient_checks_as_correct_and_twice_it_as_wrong(chain):
    d = network(chain).derive("W1")
    for printed in (d.gradient.latex, d.gradient.text):
        assert d.check(printed, timeout=None).verdict == "correct", printed
    twice = d.check(f"2 ({d.gradient.latex})", timeout=None)
    assert twice.verdict == "incorrect" and "factor 2" in twice.feedback[0]
