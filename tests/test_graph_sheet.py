"""Graph sheets and `derive graph`: the bundled examples (a residual block, an RNN with BPTT, two layers
with L2 and weight decay, three circuits), worked examples against numbers worked by hand, bad sheets
in one line with exit 2, and output/graphs up to date."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from derive.cli import main
from derive.errors import DeriveError
from derive.graph import Graph, sheet
from derive.graph.rnn import rnn
from derive.steps import SumRule
from tests.conftest import needs_dot

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "derive" / "graph" / "sheets"
OUTPUT = ROOT / "output" / "graphs"
BUNDLED = ("residual", "rnn_bptt", "two_layer_l2", "batch_softmax", "concat", "circuit_add_multiply", "circuit_neuron",
           "circuit_max")


@pytest.fixture(scope="module")
def built():
    out = {}
    for name in BUNDLED:
        s = sheet.load(EXAMPLES / f"{name}.toml")
        solved = sheet.solve(s)
        out[name] = (s, solved, sheet.markdown(s, solved, f"{name}.svg"), sheet.tex(s, solved))
    return out


@needs_dot
def test_output_graphs_is_up_to_date(built):
    stale = [f"{name}.{fmt}" for name, (_, _, md, tex) in built.items() for fmt, text in (("md", md), ("tex", tex))
             if not (OUTPUT / f"{name}.{fmt}").exists()
             or (OUTPUT / f"{name}.{fmt}").read_text(encoding="utf-8") != text]
    assert not stale, f"output/graphs is stale ({', '.join(stale)}); run derive graph FILE -o output/graphs " \
                      "for each examples/graphs/*.toml"


def test_every_bundled_sheet_has_its_picture_in_md_and_tex(built):
    for name, (s, _, md, tex) in built.items():
        assert f"![{s.title}]({name}.svg)" in md
        assert r"\begin{tikzpicture}" in tex and (OUTPUT / f"{name}.svg").read_text().startswith("<svg")


def test_rnn_states_bptt_as_sums_over_t_and_the_delta_recursion():
    bp = rnn(3).derive()
    whh = bp.gradient("W_hh")
    assert isinstance(whh.step, SumRule) and [p.node for p in whh.parts] == ["a3", "a2", "a1"]
    assert whh.step.after.args[0].args[0].name == "dL_da3"  # ∂L/∂a3 h2ᵀ + ∂L/∂a2 h1ᵀ + ∂L/∂a1 h0ᵀ
    h2 = bp.gradient("h2")  # δ_2 gathers what a3 and o2 send back
    assert [p.node for p in h2.parts] == ["a3", "o2"]
    assert "W_hhᵀ ∂L/∂a3 + W_hyᵀ ∂L/∂o2" in bp.text()


def test_rnn_code_matches_central_differences_over_t():
    from test_graph import assert_gradients_match_central_differences

    grads = assert_gradients_match_central_differences(rnn(3, every_step=False))
    assert {"W_hh", "W_xh", "b", "W_hy", "c", "h0"} <= set(grads)


def test_sgd_step_with_weight_decay_and_a_frozen_bias_reproduces_numbers_worked_by_hand():
    """h = W x + b, L = (h − y)² at x = (1, 2), W = (0.5, −0.5), b = 0.1, y = 1: h = −0.4, L = 1.96,
    ∂L/∂W = 2(h − y) xᵀ = (−2.8, −5.6); with η = 0.1, λ = 0.1 on W and b frozen,
    W ← W − η(∂L/∂W + λW) = (0.775, 0.065), so h = 1.005 and L = 0.000025."""
    g = Graph("by_hand")
    g.input("x", "d0")
    g.node("h", "affine", x="x", W="W", b="b")
    g.node("loss", "mse", yhat="h", y="y")
    ex = g.example(values={"x": [1, 2], "W": [[0.5, -0.5]], "b": [0.1], "y": [1]}, lr=0.1,
                   weight_decay={"W": 0.1}, frozen=("b",))
    assert ex.loss == pytest.approx(1.96)
    np.testing.assert_allclose(ex.gradients["W"], [[-2.8, -5.6]])
    np.testing.assert_allclose(ex.updated["W"], [[0.775, 0.065]])
    assert ex.updated["b"] == pytest.approx(0.1)  # frozen
    assert ex.loss_after == pytest.approx(0.000025)
    assert "b is frozen: it keeps its value" in ex.text()


def test_l2_penalty_and_weight_decay_example_is_the_bundled_one(built):
    ex = built["two_layer_l2"][1]["example"]
    g = ex.gradients
    # the L2 terms add λ W to the data gradient: ∂L/∂W2 − λ W2 = ∂(data)/∂yhat zᵀ
    np.testing.assert_allclose(g["W2"] - 0.01 * ex.given["W2"], g["yhat"] @ ex.values["z"].T)
    assert ex.loss_after < ex.loss


@pytest.mark.parametrize("values, message", [
    ({"x": [1, 2], "W": [[0.5, -0.5]], "b": [0.1]}, "give a value for y"),
    ({"x": [1, 2], "W": [[0.5, -0.5]], "b": [0.1], "y": [1], "z": [0]}, "has no input or parameter 'z'"),
    ({"x": [1, 2, 3], "W": [[0.5, -0.5]], "b": [0.1], "y": [1]}, "d0 = 3 elsewhere"),
    ({"x": [1, "a"], "W": [[0.5, -0.5]], "b": [0.1], "y": [1]}, "x: give numbers"),
])
def test_bad_example_numbers_are_one_line(values, message):
    g = Graph("ex")
    g.input("x", "d0")
    g.node("h", "affine", x="x", W="W", b="b")
    g.node("loss", "mse", yhat="h", y="y")
    with pytest.raises(DeriveError, match=message):
        g.example(values=values)


@needs_dot
def test_cli_writes_md_svg_and_tex(tmp_path, capsys):
    assert main(["graph", str(EXAMPLES / "circuit_add_multiply.toml"), "-o", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["circuit_add_multiply.md", "circuit_add_multiply.svg",
                                                          "circuit_add_multiply.tex"]
    assert main(["graph", str(EXAMPLES / "residual.toml"), "--format", "numpy"]) == 0
    assert "def forward_backward_residual(x, y, W1, b1, W2, b2):" in capsys.readouterr().out


@pytest.mark.parametrize("text, message", [
    (('[graph]\nname = "g"\ninputs = { x = ["d0"] }\n[[node]]\nname = "a"\nmodule = "tanh"\nx = "b"\n'
     '[[node]]\nname = "b"\nmodule = "tanh"\nx = "a"\n'), "node a: the graph has a cycle"),
    (('[graph]\ninputs = { x = ["d0"] }\n[[node]]\nname = "h"\nmodule = "affine"\nx = "x"\nW = "W"\nb = "b"\n'
     '[[node]]\nname = "r"\nmodule = "add"\na = "h"\nb = "x"\nsize = "d1"\n'), "node r: "),
    ('chain = "affine>relu>affine>mse+l2"\n', "cannot read 'mse+l2' as a module"),
    ('[graph]\nname = "g"\n[circuit]\n', "exactly one of"),
    ('[circuit]\ninputs = { x = 1 }\n[[node]]\nname = "f"\nmodule = "sigmoid"\nx = "y"\n', "gate f: unknown"),
    ('[graph]\nnodes = 1\n', "unknown key 'nodes'"),
    ("title = \n", "not valid TOML"),
])
def test_bad_sheets_are_one_line_and_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["graph", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_example_picture_shows_each_arrows_part_and_the_parts_add_up(built):
    _s, solved, _, _ = built["residual"]
    ex = solved["example"]
    to_r, to_h = ex.parts["r", "b"], ex.parts["h", "x"]  # x fans out: the skip and the block
    np.testing.assert_allclose(to_r + to_h, ex.gradients["x"])
    assert '"x" -> "r" [label=<<font color="darkgreen">[1, −1]</font><br/><font color="firebrick">[4, 1.7]</font>>]' \
        in solved["dot"]
