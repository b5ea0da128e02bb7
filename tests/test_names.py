"""A sheet's own names for a network's quantities and the cost: declared once, printed everywhere."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import derive
from derive.errors import DeriveError
from derive.model.notation import written
from derive.network.names import LayerNames, quantities
from derive.sheets import bundled, resolve
from derive.sheets.builder import build
from derive.sheets.loader import SheetError, load

NYU = {"s1": "z_1", "z1": "z_2", "s2": "z_3", "delta2": r"\delta_3", "cost": r"\ell"}
CHAIN = "affine>relu>affine>identity>mse"


@pytest.fixture(scope="module")
def renamed():
    return derive.network(CHAIN, names=NYU).derive("W1")


@pytest.fixture(scope="module")
def sheets():
    """Every bundled sheet that declares [names], built in the TA's and the students' edition."""
    out = {}
    for name in bundled():
        sheet = load(resolve(name))
        if sheet.names:
            out[name] = (sheet, [build(sheet, edition=e) for e in ("ta", "solutions")])
    return out


def test_the_bundled_sheets_declare_the_seeds_names(sheets):
    assert {"nyu_two_layer", "nyu2019_hw1", "uva2018_pen_paper"} <= set(sheets)
    assert sheets["nyu_two_layer"][0].names["s1"] == "z_1" and sheets["nyu2019_hw1"][0].names["cost"] == "L"
    assert sheets["uva2018_pen_paper"][0].names["Yhat"] == ["Y_{out}", "Y_3"]  # printed as Y_out, Y_3 read too


def _without_notation(text: str) -> str:
    """The document without its one statement of the mapping (which names derive's own names)."""
    return re.sub(r"\*\*Notation\.\*\*[^\n]*\n\n(\|[^\n]*\n)+|\\paragraph\{Notation\.\}.*?\\end\{center\}", "",
                  text, flags=re.DOTALL)


def _defaults(sheet) -> list:
    """derive's own LaTeX for every quantity the sheet renames, in each of its networks."""
    from derive.network import network
    from derive.network.names import keys_of

    out = []
    for p in (p for q in sheet.questions for p in q.parts if p.kind == "network"):
        plain = network(p.network)
        mine = {k: v for k, v in sheet.names.items() if k in keys_of(plain)}
        renamed = LayerNames(plain.renamed(mine))
        out += [LayerNames(plain).name(k).latex for k in renamed.written if k != "L"]
    return out


def test_every_printer_of_a_bundled_sheet_uses_its_names(sheets):
    from derive.network.names import first_spelling

    for name, (sheet, editions) in sheets.items():
        for b in editions:
            for fmt, text in b.outputs.items():
                body = _without_notation(text)
                assert "Notation." in text, (name, fmt)
                for value in map(first_spelling, sheet.names.values()):  # the printed spelling of each
                    tex = written(value, 1).latex if "k" in value else written(value).latex
                    assert tex in body, (name, fmt, value)
                start = r"\*\*(Network|Worked example)|\\paragraph\{(Network|Worked)"
                networks = "".join(c[re.search(start, c).start():]
                                   for c in re.split(r"\n#{2,3} |\\section\*|\\begin\{shaded\}", body)
                                   if re.search(start, c))
                assert networks or name == "nyu2019_hw1", (name, fmt)
                for default in _defaults(sheet):  # a module's own derivation keeps its variables' names
                    alone = r"(?<![A-Za-z\\{])" + re.escape(default) + r"(?!_\{\\mathrm|_\{?[a-z]{2}|[A-Za-z])"  # Y_{out}: renamed
                    assert not re.search(alone if len(default) == 1 else re.escape(default), networks), \
                        (name, fmt, default)
                if "cost" in sheet.names:
                    assert r"\partial C" not in body and "∂C" not in body, (name, fmt)


def test_the_mapping_is_stated_once(sheets):
    for name, (_, editions) in sheets.items():
        for text in editions[0].outputs.values():
            assert text.count("Notation.") == 1, name


def test_text_json_index_forms_and_code_use_the_names(renamed):
    text = renamed.text()
    assert "z₁ = W1 x + b1" in text and "∂ℓ/∂W1 = ∂ℓ/∂ŷ · ∂ŷ/∂z₃ · ∂z₃/∂z₂ · ∂z₂/∂z₁ · ∂z₁/∂W1" in text
    assert "δ₃ = ∂ℓ/∂ŷ ⊙ f_2′(z₃)" in text and "s1" not in text.split("checked:")[0]
    j = renamed.to_json()
    assert j["signals"][1]["index"].startswith(r"\delta^{(1)}_{i} = \mathbf{1}\left[z_{1,i} > 0\right]")
    assert j["forward"][0]["text"] == "z₁ = W1 x + b1" and j["lhs"] == "∂ℓ/∂W1_ij"
    md = renamed.markdown()
    assert r"\frac{\partial \ell}{\partial W^{(1)}}" in md and "s^{(1)}" not in md
    code = renamed.network.numpy()
    assert "S1 = W1 @ X + b1[:, None]  # z₁" in code and 'grads["W1"] = D1 @ X.T  # ∂ℓ/∂W1' in code
    compile(code, "<names>", "exec")


def test_names_change_the_printing_not_the_checked_mathematics(renamed):
    plain = derive.network(CHAIN).derive("W1")
    assert renamed.result == plain.result and renamed.checked.statements == plain.checked.statements


def test_the_worked_example_uses_the_names():
    from derive.network.numeric_render import numeric_markdown, numeric_text

    net = derive.network("affine_batch>relu>affine_batch>half_mse_mean",
                         names={"S": "S_k", "Yhat": "Y_{out}", "Delta": r"\Delta_k", "cost": r"\mathcal{L}"})
    ex = net.example(X=[[0.75, 0.2], [0.8, 0.05]], weights={"W1": [[0.6, 0.01], [0.7, 0.43]], "W2": [[0.02, 0.03]]},
                     targets=[[1, -1]], lr=0.5)
    md, text = numeric_markdown(ex), numeric_text(ex)
    assert r"$$S_{1} = \begin{bmatrix}" in md and r"$$\mathcal{L} = " in md and r"\Delta_{1}" in md
    assert r"\frac{\partial \mathcal{L}}{\partial W^{(1)}}" in md and "S^{(1)}" not in md
    assert "  S₁ =" in text and "ℒ = " in text and "  Δ₂ =" in text


def test_the_checker_can_read_the_names_from_layer_names():
    net = derive.network(CHAIN, names=NYU)
    names = LayerNames(net)
    assert names.written["s1"].text == "z₁" and names.reading()["z_{1}"] == "s1" and names.reading()["ℓ"] == "L"
    assert next((k, n.latex, d.latex) for k, n, d in names.declared()) == ("s1", "z_{1}", "s^{(1)}")


@pytest.mark.parametrize("names, message", [
    ({"q1": "z_1"}, "has no quantity 'q1'; choose from: cost, x, W1, b1, W2, b2, s1, z1, delta1, s2, yhat"),
    ({"s1": r"\input{x}"}, r"names: s1 = '\\input{x}' is not a name; write a letter"),
    ({"s1": 3}, "names: s1 must be a string"),
    ({"s1": "z^{(1)}"}, "names: s1 and z1 would both be written $z^{(1)}$"),
    ({"s1": "z_1", "z1": "z_1"}, "names: s1 and z1 would both be written $z_{1}$"),
    ({"S": "S_1"}, "has no quantity Sk"),
    ({"s": "S_1"}, "names: s names every layer's s, so write the layer as k"),
])
def test_a_bad_entry_is_one_line_naming_it_and_the_valid_keys(names, message):
    with pytest.raises(DeriveError) as err:
        derive.network(CHAIN, names=names)
    assert message in str(err.value) and "\n" not in str(err.value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="zZ_{}()^\\$%#&~1kout \n", max_size=14) | st.text(max_size=12))
def test_a_declared_name_is_rebuilt_from_safe_pieces_or_refused(value):
    try:
        name = written(value)
    except ValueError:
        return
    assert re.fullmatch(r"(\\(hat|tilde|bar|mathcal|mathrm|[A-Za-z]+)|[A-Za-z0-9_{}()^,])+", name.latex), name
    assert "\n" not in name.text and "$" not in name.latex


def _sheet(tmp_path, names: str, part: str = 'network = "affine>relu>affine>mse"'):
    path = tmp_path / "s.toml"
    path.write_text(f'title = "T"\n\n[names]\n{names}\n\n[[questions]]\nstatement = "Q"\n{part}\n', encoding="utf-8")
    return path


def test_a_sheet_names_key_that_no_network_has_is_refused_at_its_line(tmp_path):
    with pytest.raises(SheetError) as err:
        build(load(_sheet(tmp_path, 's1 = "z_1"\nz9 = "z_9"')), formats=("md",))
    assert str(err.value).startswith(f"{tmp_path / 's.toml'}:5: names: no network on this sheet has 'z9'; "
                                     "choose from: cost, ")
    with pytest.raises(SheetError, match=r"s.toml:4: names: s1 = '\\\\mathrm\{x\}' is not a name"):
        load(_sheet(tmp_path, r's1 = "\\mathrm{x}"'))


def test_a_layers_cost_is_one_letter_and_is_derived_with_it(tmp_path):
    sheet = load(_sheet(tmp_path, 'cost = "E"', 'target = "affine"\nwrt = "W"'))
    md = build(sheet, formats=("md",)).outputs["md"]
    assert r"\frac{\partial E}{\partial W_{ij}} = \frac{\partial E}{\partial y_{i}} x_{j}" in md
    assert r"\partial C" not in _without_notation(md)
    with pytest.raises(SheetError, match="a layer's gradient is written of its cost by one letter"):
        build(load(_sheet(tmp_path, r'cost = "\\ell"', 'target = "affine"\nwrt = "W"')), formats=("md",))


def test_the_cli_says_a_bad_name_in_one_line(tmp_path):
    path = _sheet(tmp_path, 'q1 = "z_1"')
    r = subprocess.run([sys.executable, "-m", "derive", "sheet", str(path), "-o", str(tmp_path / "out"),
                        "--format", "md"], capture_output=True, text=True, check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "names: no network on this sheet has 'q1'" in r.stderr
    assert not (tmp_path / "out" / "s.md").exists()


def test_quantities_lists_what_a_sheet_may_rename():
    assert quantities(derive.network("affine_batch>relu>affine_batch>half_mse_mean")) == [
        "X", "W1", "W2", "S1", "Z1", "Delta1", "Yhat", "Delta2", "Y"]
