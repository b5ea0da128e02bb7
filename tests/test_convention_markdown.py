"""A convention on a Markdown page: its formulas set as `$…$` math (h_{t−1} never literal), its prose
escaped; the text and JSON keep the convention as written."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

import derive
from derive.definitions import entries, get
from derive.render.prose import pieces, prose_markdown

PARSER = MarkdownIt("commonmark").use(dollarmath_plugin)
CONVENTIONS = sorted({c for e in entries() for c in get(e.name).conventions})


def _inline(markdown: str) -> list:
    return [c for t in PARSER.parse(markdown) if t.type == "inline" for c in t.children]


@pytest.mark.parametrize("text, markdown", [
    ("h_{t−1} is the previous state (hprev in code); the state h has H entries, the input x has D.",
     "$h_{t-1}$ is the previous state (hprev in code); the state $h$ has $H$ entries, the input $x$ has $D$."),
    ("A = softmax(S) is taken along each row: every row of A sums to 1.",
     r"$A = \operatorname{softmax}(S)$ is taken along each row: every row of $A$ sums to 1."),
    ("Every entry of a window receives 1/K of that window's ∂C/∂y.",
     r"Every entry of a window receives $1/K$ of that window's $\partial C/\partial y$."),
    ("Samples are the columns of Ŷ and Y (K × N).", r"Samples are the columns of $\hat{Y}$ and $Y$ ($K \times  N$)."),
    ("σ = σ(x) = 1/(1 + e^{−x}).", r"$\sigma  = \sigma (x) = 1/(1 + e^{-x})$."),
])
def test_the_formulas_of_a_convention_are_markdown_math(text, markdown):
    assert prose_markdown(text) == markdown


@pytest.mark.parametrize("text", CONVENTIONS)
def test_every_bundled_convention_splits_without_loss_and_reads_as_math_and_prose(text):
    assert "".join(p for _, p in pieces(text)) == text
    tokens = _inline(prose_markdown(text))
    math = [t.content for t in tokens if t.type == "math_inline"]
    prose = "".join(t.content for t in tokens if t.type == "text")
    assert len(math) == sum(is_math for is_math, _ in pieces(text))
    assert "_" not in prose and "^{" not in prose  # no name's subscript or power left as text
    assert not any(t.type.startswith("math_block") or t.type == "html_inline" for t in tokens)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("ab xyAB_*`$<>[]()\\|#!/=+−,.;:h{}t1σ∂") + ["<b>", "a_{t−1}", " is "]),
                max_size=30).map("".join))
def test_any_convention_text_becomes_math_and_escaped_prose_only(text):
    """No `$$` display, raw HTML, emphasis, code or link can come out of a convention's text."""
    tokens = _inline(prose_markdown(text))
    assert {t.type for t in tokens} <= {"text", "math_inline", "softbreak"}, prose_markdown(text)


def test_a_gate_gradient_is_stated_as_math_in_markdown_and_as_written_in_text():
    d = derive.derivative("gru_cell", wrt="hprev")
    md = d.markdown()
    line = next(x for x in md.splitlines() if x.startswith("*Convention:* where") and "∂C/∂r" not in x and "a_h" in x)
    assert line.startswith(r"*Convention:* where $\frac{\partial C}{\partial a_h} = ")
    assert r"entry by entry $\frac{\partial C}{\partial \left(a_{h}\right)_{i}} = " in line
    text = d.text()
    assert "convention: where ∂C/∂a_h = ∂C/∂h̃ − ∂C/∂h̃ ⊙ h̃², entry by entry ∂C/∂(a_h)_i = " in text
    assert any(str(c).startswith("where ∂C/∂a_h = ") for c in d.to_json()["conventions"])
