"""What a sheet's text can do to the Markdown it becomes: no raw HTML, no fence closed early."""

from __future__ import annotations

import re

import pytest

from derive.sheets.builder import build
from derive.sheets.loader import load
from derive.sheets.markup import StatementError, check_statement, to_markdown

XSS = "<svg/onload=alert(1)>"


def md(tmp_path, text: str) -> str:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return build(load(path), formats=("md",)).outputs["md"]


def tags(markdown: str) -> list:
    """Raw HTML tags outside code: what a Markdown renderer would pass to the browser."""
    prose = re.sub(r"(?ms)^(`{3,})python\n.*?^\1$", "", markdown)  # fenced blocks show as typed
    prose = re.sub(r"(`+)(.+?)(?<!`)\1(?!`)", "", prose)
    return [t for t in re.findall(r"<[A-Za-z/!?][^>]*>?", prose) if t not in ("<sub>", "</sub>")]


def test_raw_html_in_any_text_of_a_sheet_is_shown_as_text(tmp_path):
    sheet = (f'title = "T {XSS}"\ncourse = "C {XSS}"\npreamble = "P {XSS} and $x {XSS}$"\n'
             f'[[questions]]\ntitle = "Q {XSS}"\nstatement = "S {XSS} <!-- c --> <img src=x onerror=alert(1)>"\n'
             f'[[questions.parts]]\nstatement = "A {XSS}"\ntarget = "sigmoid"\nsolution = "B {XSS}"\n'
             f'remark = "R {XSS}"\n')
    out = md(tmp_path, sheet)
    assert tags(out) == []
    assert out.count("&lt;svg/onload=alert(1)>") == 8 and r"$x \lt svg/onload=alert(1)>$" in out


def test_code_shows_as_typed_and_cannot_close_its_fence(tmp_path):
    code = "x = 1\n```\n<script>alert(1)</script>\n````\ny = 2"
    out = md(tmp_path, f'title = "T"\n[[questions]]\ntitle = "Q"\ncode = """\n{code}\n"""\nsolution = "s"\n')
    block = re.search(r"(?ms)^(`{3,})python\n(.*?)^\1$", out)
    assert block.group(1) == "`````" and block.group(2) == code + "\n"
    assert tags(out) == []


def test_code_spans_and_blocks_in_text_are_left_as_typed():
    text = "use `<b>` here\n\n```\n<i>x</i>\n```\nthen <b>"
    assert str(to_markdown(text)) == "use `<b>` here\n\n```\n<i>x</i>\n```\nthen &lt;b>"


@pytest.mark.parametrize("link", ["[x](javascript:alert(1))", "![i]( data:text/html;base64,PHN2Zz4=)",
                                  "[r]: vbscript:msgbox", "[x](<javascript:alert(1)>)"])
def test_a_link_to_script_is_refused(link):
    with pytest.raises(StatementError, match="is not allowed"):
        check_statement("text\n" + link)


@pytest.mark.parametrize("link", ["[x](https://example.org)", "[x](mailto:a@b.c)", "[x](notes.md)", "[x](#q1)"])
def test_links_to_pages_and_mail_are_kept(link):
    assert str(to_markdown(link)) == link


@pytest.mark.parametrize("field, value", [("title", "T\\n```"), ("course", "x" * 201)])
def test_a_title_is_one_line(tmp_path, field, value):
    from derive.errors import DeriveError

    path = tmp_path / "s.toml"
    body = f'title = "T"\n{field} = "{value}"\n' if field != "title" else f'title = "{value}"\n'
    path.write_text(body + '[[questions]]\ntitle = "Q"\nsolution = "s"\n', encoding="utf-8")
    with pytest.raises(DeriveError, match=f"{field} must be one line"):
        load(path)


@pytest.mark.parametrize("key, value, words", [("title", XSS, "module title must be one line"),
                                               ("name", "a<b", "module name must be a name")])
def test_a_module_name_or_title_cannot_carry_html(tmp_path, key, value, words):
    from derive.errors import DeriveError

    path = tmp_path / "s.toml"
    path.write_text('title = "T"\n[[questions]]\ntitle = "Q"\nwrt = "x"\n[questions.module]\nname = "m"\n'
                    f'{key} = "{value}"\n'.replace('name = "m"\nname', "name") +
                    'output = "y[i]"\nexpr = "tanh(x[i])"\ninputs = ["x"]\nshapes = { x = ["K"], y = ["K"] }\n',
                    encoding="utf-8")
    with pytest.raises(DeriveError, match=words):
        build(load(path), formats=("md",))
