"""A network part of a sheet: the worked example's numbers are of the loss whose derivation is printed."""

import numpy as np

from derive.cli import main
from derive.network import network

UVA_NUMBERS = {"X": [[0.75, 0.2, -0.75, 0.2], [0.8, 0.05, 0.8, -0.05]],
               "weights": {"W1": [[0.6, 0.01], [0.7, 0.43], [0.0, 0.88]], "W2": [[0.02, 0.03, 0.09]]},
               "targets": [[1, 1, -1, -1]], "lr": 0.5}

SHEET = """title = "x"
[[questions]]
title = "numbers"
network = "affine_batch>relu>affine_batch>{loss}"
numeric = {{ X = [[0.75, 0.2], [0.8, 0.05]], W1 = [[0.6, 0.01], [0.7, 0.43]], W2 = [[0.02, 0.03]], targets = [[1, -1]], lr = 0.5{extra} }}
"""


def test_uva_error_signal_printed_beside_the_numbers_is_the_one_they_follow():
    net = network("affine_batch>relu>affine_batch>half_mse_mean")
    d = net.derive("W1")
    ex = net.example(**UVA_NUMBERS)
    output_signal = d.signals[0]
    assert "N" in {s.name for s in output_signal.rhs.free_symbols}  # Δ⁽²⁾ = (Ŷ − Y)/N is what is printed
    Yhat, Y = ex.value("Yhat"), np.array(UVA_NUMBERS["targets"], dtype=float)
    np.testing.assert_allclose(ex.value("D2"), (Yhat - Y) / Y.shape[1])
    assert round(ex.loss, 4) == 0.4916 and round(ex.loss_after, 4) == 0.4657  # the homework's numbers


def test_a_worked_example_under_another_loss_than_the_chains_is_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "sheet.toml"
    path.write_text(SHEET.format(loss="half_frobenius", extra=', loss = "half_mean"'), encoding="utf-8")
    assert main(["sheet", str(path), "-o", str(tmp_path / "out"), "--format", "md"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "is not the network's loss half_frobenius" in err and "half_mse_mean" in err
    assert not (tmp_path / "out").exists()


def test_the_same_example_with_the_loss_in_the_chain_renders(tmp_path, capsys):
    path = tmp_path / "sheet.toml"
    path.write_text(SHEET.format(loss="half_mse_mean", extra=""), encoding="utf-8")
    assert main(["sheet", str(path), "-o", str(tmp_path / "out"), "--format", "md"]) == 0
    md = (tmp_path / "out" / "sheet.md").read_text(encoding="utf-8")
    assert r"\Delta^{(2)} = \frac{\partial L}{\partial \hat{Y}} = \frac{1}{N} \left(\hat{Y} - Y\right)" in md
    assert r"\text{" not in md.split("Worked example")[1].split("\n")[0]  # the loss as a formula, not a name
