"""The plain diagram of a network sheet's layers (derive.graph.layers): one box per layer and the loss,
each arrow the value it carries with its shape, in the sheet's own names; SVG beside the Markdown,
TikZ in the LaTeX, written before the Markdown that shows it."""

from __future__ import annotations

import re

import pytest

from derive.graph import picture
from derive.graph.layers import layers_dot, layers_tikz
from derive.network import network
from derive.sheets import load, resolve
from derive.sheets.builder import build
from derive.sheets.network import NetworkAnswer, network_picture
from tests.conftest import needs_dot


@pytest.fixture(scope="module")
def cs224n():
    return network("affine>sigmoid>affine>softmax_cross_entropy").derive()


def test_diagram_has_a_box_per_layer_and_arrows_carrying_each_value_and_its_shape(cs224n):
    dot = layers_dot(cs224n)
    boxes = re.findall(r'"(layer_\w+)" \[shape=box, style=rounded, label="([\w]+)"\]', dot)
    assert [m for _, m in boxes] == ["affine", "sigmoid", "affine", "softmax_cross_entropy"]
    for arrow in ('"x" -> "layer_s1" [label="x (d0)"', '"layer_s1" -> "layer_z1" [label="s1 (d1)"',
                  '"layer_s2" -> "layer_loss" [label="s2 (d2)"', '"y" -> "layer_loss"', '"W2" -> "layer_s2"',
                  '"layer_loss" -> "L"'):
        assert arrow in dot
    assert dot.count('-> "layer_s1"') == 3  # x, W1 and b1; the loss's softmax is inside its box
    assert "rankdir=LR" in dot


@needs_dot
def test_a_deep_network_is_drawn_top_to_bottom_so_it_is_not_shrunk_past_reading():
    deep = network("affine_batch>sigmoid>affine_batch>sigmoid>affine_batch>sigmoid>half_frobenius").derive()
    assert "rankdir=TB" in layers_dot(deep)
    assert "node[midway, left" in layers_tikz(deep)


@needs_dot
def test_the_picture_speaks_the_sheets_names():
    from derive.sheets.solve import solve

    sheet = load(resolve("nyu_two_layer"))
    solved, _ = solve(sheet)
    answer = next(s.network for row in solved for s in row if s.network is not None)
    tex, svg = network_picture(answer, "tex", "unused.svg")
    assert svg is None and r"\begin{tikzpicture}" in tex
    assert "z_{3}" in tex and r"\hat{y}" in tex  # the homework's z1, z2, z3, ŷ, not s1, z1, s2
    md, svg = network_picture(answer, "md", "nyu-network-1.svg")
    assert md == "![The layers of affine>relu>affine>identity>mse](nyu-network-1.svg)"
    assert svg.startswith("<svg") and "z₃ (d2)" in svg


def test_without_graphviz_the_tex_is_a_row_of_boxes_and_the_markdown_has_no_picture(cs224n, monkeypatch):
    monkeypatch.setattr(picture.shutil, "which", lambda name: None)
    tex = layers_tikz(cs224n)
    assert tex.count(r"\node[op]") == 4 and tex.count(r"\draw[->]") == 10
    assert network_picture(NetworkAnswer([cs224n]), "md", "x.svg") == (None, None)


@needs_dot
def test_sheet_writes_each_network_picture_beside_the_markdown_that_shows_it(tmp_path, capsys):
    from derive.cli import main

    assert main(["sheet", "uva2018_pen_paper", "-o", str(tmp_path), "--format", "md", "-j", "1"]) == 0
    written = capsys.readouterr().out.split()
    names = [p.rsplit("/", 1)[-1] for p in written]
    assert names == ["uva2018_pen_paper-network-1.svg", "uva2018_pen_paper-network-2.svg", "uva2018_pen_paper.md"]
    md = (tmp_path / "uva2018_pen_paper.md").read_text(encoding="utf-8")
    for name in names[:2]:
        assert f"]({name})" in md and (tmp_path / name).read_text(encoding="utf-8").startswith("<svg")


def test_exercises_have_no_picture_and_a_sheet_without_a_network_no_tikz():
    built = build(load(resolve("nyu_two_layer")), edition="exercises")
    assert "network-1.svg" not in built.outputs["md"] and not built.pictures
    plain = build(load(resolve("nyu2019_hw1")))
    assert "tikz" not in plain.outputs["tex"] and not plain.pictures
    assert r"\usepackage{tikz,graphicx}" in build(load(resolve("nyu_two_layer"))).outputs["tex"]
