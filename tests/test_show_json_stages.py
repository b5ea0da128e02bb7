"""`derive show --format json` of a staged definition (attention, LSTM, GRU) lists its stages: each
named quantity with its definition in LaTeX and Unicode text; the other keys unchanged."""

import json

import pytest

import derive
from derive.cli import main
from derive.render.unicode import name_text

KEYS = {"target", "wrt", "lhs", "result", "srepr", "latex", "equation", "steps", "cases", "conventions", "check"}


@pytest.mark.parametrize("target, outputs", [("attention", ["S", "A", "Y"]),
                                             ("lstm_cell", ["a_f", "f", "a_i", "i", "a_o", "o", "a_g", "g", "c", "h"]),
                                             ("gru_cell", None)])
def test_a_staged_definition_lists_every_stage_in_order(target, outputs):
    d = derive.derivative(target)
    stages = d.to_json()["stages"]
    assert [s["output"] for s in stages] == [st.output.name for st in d.definition.stages]
    if outputs is not None:
        assert [s["output"] for s in stages] == outputs
    for s in stages:
        lhs, rhs = s["text"].split(" = ", 1)
        assert lhs.lstrip("(").startswith(name_text(s["output"]))  # the stage's own name on the left
        assert rhs and "exp(−" not in rhs  # a gate is σ(·), not 1/(1 + exp(−·))
        assert s["latex"].count(" = ") >= 1 and "e^{-" not in s["latex"]


def test_a_gate_is_printed_with_sigma_and_its_pre_activation_by_name():
    stages = {s["output"]: s for s in derive.derivative("lstm_cell").to_json()["stages"]}
    assert stages["f"]["text"] == "f_i = σ((a_f)_i)"
    assert stages["f"]["latex"] == r"f_{i} = \sigma\left(\left(a_{f}\right)_{i}\right)"
    assert stages["c"]["text"] == "c_i = (c_{t−1})_i f_i + g_i i_i"


def test_the_cli_json_adds_stages_and_keeps_every_other_key(capsys):
    assert main(["show", "attention", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert KEYS <= set(out) and [s["output"] for s in out["stages"]] == ["S", "A", "Y"]
    assert out["stages"][2]["text"] == "Y_ij = Σ_{k=1}^{M} A_ik V_kj"


def test_a_definition_of_one_line_has_no_stages():
    assert derive.derivative("softmax").to_json()["stages"] == []
