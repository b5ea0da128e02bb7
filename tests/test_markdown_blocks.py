"""Every `$$` display in the Markdown we write is a block of its own: GitHub and Jupyter set a `$$`
inside a paragraph or a list item inline. Checked with a Markdown parser that knows math."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

import derive
from derive.definitions import entries, get
from derive.sheets import bundled, resolve
from derive.sheets.builder import build
from derive.sheets.loader import load

PARSER = MarkdownIt("commonmark").use(dollarmath_plugin, double_inline=True)


def displays_not_on_their_own(markdown: str) -> list:
    """Each `$$` display that shares a paragraph with text or sits in a list item, with its line."""
    found, in_item = [], 0
    for token in PARSER.parse(markdown):
        if token.type == "list_item_open":
            in_item += 1
        elif token.type == "list_item_close":
            in_item -= 1
        elif token.type == "math_block" and in_item:
            found.append(("in a list item", token.map, token.content[:60]))
        elif token.type == "inline":
            found += [("inside a paragraph", token.map, c.content[:60])
                      for c in token.children or [] if c.type == "math_inline_double"]
    return found


def test_the_checker_sees_a_display_inside_a_paragraph_or_a_list_item():
    assert displays_not_on_their_own("text $$x$$ text")
    assert displays_not_on_their_own("1. a step\n\n   $$x$$\n")
    assert displays_not_on_their_own("text\n\n$$x$$\n\ntext") == []


@pytest.mark.parametrize("name", bundled())
def test_every_display_of_a_bundled_sheet_is_its_own_block(name):
    markdown = build(load(resolve(name)), formats=("md",)).outputs["md"]
    assert "$$" in markdown
    assert displays_not_on_their_own(markdown) == []


def test_every_display_of_a_derivation_and_a_proof_is_its_own_block():
    from derive.calculus.identity import apply_definition, prove
    from derive.render.show import proof_markdown

    for e in entries():
        for v in get(e.name).inputs:
            try:
                d = derive.derivative(e.name, wrt=v.name)
            except derive.DeriveError:
                continue
            for form in ("index", "matrix") if d.matrix is not None else ("index",):
                assert displays_not_on_their_own(d.markdown(form)) == [], (e.name, v.name, form)
    import sympy as sp

    c, x = sp.Symbol("c", real=True), sp.IndexedBase("x", real=True)
    proof = prove(apply_definition("softmax", x=lambda k: x[k] + c), apply_definition("softmax"))
    assert displays_not_on_their_own(proof_markdown(proof)) == []


def test_a_display_in_a_sheets_own_prose_becomes_a_paragraph():
    from derive.sheets.markup import to_markdown

    text = str(to_markdown("so $$x = 1,$$ which is $y$"))
    assert text == "so\n\n$$x = 1,$$\n\nwhich is $y$"
    assert displays_not_on_their_own(text) == []
