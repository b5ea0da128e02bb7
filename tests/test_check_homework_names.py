"""Homework notation the answer reader takes as written: square brackets that group, a word as a
subscript label (Y_{\\mathrm{out}}), a layer's activation by its number (f_1(S_1)), and the output layer
called by the sheet's own family name (Z_3 when the sheet writes Z_k and Y_out = Z_3). Each reading
is tested with a right and a wrong answer."""

from functools import cache

import pytest

import derive
from derive.check.parse import parse
from derive.sheets import load, resolve


@cache
def uva(wrt="W1"):
    part = load(resolve("uva2018_pen_paper")).questions[0].parts[2]
    return derive.network(part.network, names=part.names).derive(wrt)


def verdict(answer, wrt="W1"):
    return uva(wrt).check(answer)


def test_square_brackets_group_like_round_ones():
    assert parse(r"[a + b] c") == parse(r"(a + b) c")
    assert parse(r"W^T \cdot [a + b]") == parse(r"W^T \cdot (a + b)")
    assert type(parse(r"[x > 0]")).__name__ == "Indicator"  # a condition in brackets stays Iverson's


@pytest.mark.parametrize("answer,expected", [
    (r"\frac{\partial L}{\partial W_2} = [ (W_3^T \Delta_3) \odot f_2'(S_2) ] Z_1^T", "correct"),
    (r"\frac{\partial L}{\partial W_2} = [ (W_3^T \Delta_3) \odot f_2'(S_2) ] Z_1", "incorrect"),
    (r"\frac{\partial L}{\partial W_3} = [ (Y_{\mathrm{out}} - Y_{\text{gt}}) \odot f_3'(S_3) ] Z_2^T", "correct"),
    (r"\frac{\partial L}{\partial W_3} = [ (Y_{\mathrm{out}} + Y_{\text{gt}}) \odot f_3'(S_3) ] Z_2^T", "incorrect"),
])
def test_bracketed_uva_answers_are_judged(answer, expected):
    assert verdict(answer).verdict == expected


def test_a_word_in_a_subscript_is_a_label_and_prose_is_still_refused():
    assert parse(r"Y_{\mathrm{out}}") == parse("Y_{out}") == parse(r"Y_\text{out}")
    v = verdict(r"\frac{\partial L}{\partial S_1} = \text{the error}")
    assert v.verdict == "invalid" and "text inside the answer" in v.feedback[0]


@pytest.mark.parametrize("answer,expected,said", [
    (r"Z_1 = f_1(S_1)", "correct", None),
    (r"S_2 = W_2 f_1(S_1)", "correct", None),  # f_1 applies to S_1, not to W_2
    (r"Z_2 = f_1(S_1)", "incorrect", "shape"),
    (r"Z_1 = f_1(S_2)", "invalid", "f_1 is read at layer 1's pre-activation"),
    (r"S_1 = f_1(S_1)", "invalid", "in terms of earlier quantities"),  # it names S_1 itself
])
def test_a_layers_activation_by_its_number(answer, expected, said):
    v = verdict(answer)
    assert v.verdict == expected, v.feedback
    assert said is None or any(said in s for s in v.feedback)


def test_the_output_layer_answers_to_the_sheets_family_name():
    assert verdict(r"\frac{\partial L}{\partial Z_3} = Z_3 - Y_{gt}").verdict == "correct"
    assert verdict(r"\frac{\partial L}{\partial Z_3} = Z_3 + Y_{gt}").verdict == "incorrect"
    assert verdict(r"Z_3 = f_3(S_3)").verdict == "correct"
    assert verdict(r"Z_3 = f_2(S_2)").verdict == "incorrect"  # f_2(S_2) is Z_2, not Y_out


@pytest.mark.parametrize("answer,expected", [
    (r"\frac{\partial L}{\partial Y_3} = Y_3 - Y_{gt}", "correct"),  # the sheet lists Y_3 after Y_out
    (r"\frac{\partial L}{\partial Y_3} = Y_{gt} - Y_3", "incorrect"),
    (r"Y_3 = f_3(S_3)", "correct"),
    (r"Y_3 = f_2(S_2)", "incorrect"),
])
def test_a_further_spelling_on_the_sheet_is_read(answer, expected):
    assert verdict(answer).verdict == expected


def test_only_the_first_spelling_is_printed():
    from derive.sheets.names import notation_rows

    sheet = load(resolve("uva2018_pen_paper"))
    rows = notation_rows(sheet, "md", lambda fmt, what: what)
    written = [str(r["written"]) for r in rows]
    assert r"Y_{\mathrm{out}}" in written and not any("Y_3" in w or "Y_{3}" in w for w in written)


def test_a_names_list_must_hold_names(tmp_path):
    from derive.sheets.loader import SheetError

    sheet = tmp_path / "s.toml"
    sheet.write_text('title = "t"\n[names]\nYhat = ["Y_{out}", 3]\n[[questions]]\ntitle = "q"\n'
                     '[[questions.parts]]\nnetwork = "affine>relu>affine>identity>mse"\n', encoding="utf-8")
    with pytest.raises(SheetError, match="list of them"):
        load(str(sheet))


@pytest.mark.parametrize("answer,expected", [
    (r"\frac{\partial L}{\partial W_3} = [\frac{\partial L}{\partial Y_3} \odot \frac{\partial Y_3}{\partial S_3}] Z_2^T",
     "correct"),  # an entrywise layer's Jacobian as a factor of ⊙ is f′(S)
    (r"\frac{\partial L}{\partial W_3} = [\frac{\partial L}{\partial Y_3} \odot \frac{\partial Y_3}{\partial S_3}] Z_2",
     "incorrect"),
    (r"\frac{\partial L}{\partial W_3} = [\frac{\partial L}{\partial Y_3} \odot \frac{\partial Z_2}{\partial S_2}] Z_2^T",
     "incorrect"),  # layer 2's f′ where layer 3's is meant
])
def test_a_layers_jacobian_in_a_hadamard_product(answer, expected):
    v = verdict(answer)
    assert v.verdict == expected, v.feedback
