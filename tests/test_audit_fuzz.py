"""Any text handed to `derive audit` is read without an exception other than a one-line DeriveError."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from derive.audit.claims import claims_of
from derive.audit.document import read_document
from derive.errors import DeriveError

PIECES = st.sampled_from(["$", "$$", "\\", "{", "}", "=", "&", "\\\\", "\n", "#", "> ", "|", "x", "y_i", "\\frac",
                          "\\begin{aligned}", "\\end{aligned}", "\\begin{cases}", "\\end{cases}", "\\underbrace",
                          "_{", "^", "\\text{ for }", "i = j", "\\partial", "0.5", "\\begin{bmatrix}",
                          "\\end{bmatrix}", "\\section{", "\\[", "\\]", "`", "\\begin{align*}", "\\end{align*}"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=5)), max_size=60), st.sampled_from([None, "md", "tex"]))
def test_any_document_is_read_or_refused_in_one_line(parts, fmt):
    text = "".join(parts)
    try:
        claims = claims_of(read_document(text, fmt))
    except DeriveError as exc:
        assert "\n" not in exc.message
        return
    for claim in claims:
        assert claim.line >= 1 and claim.lhs.strip() and claim.rhs.strip()


def test_deep_nesting_is_refused_in_one_line():
    with pytest.raises(DeriveError, match="too deeply|50 deep"):
        read_document("\\section{x}" + "{" * 40000 + "$a=b$" + "}" * 40000, "tex")


def test_deeply_quoted_markdown_is_read_or_refused_in_one_line():
    try:
        pieces = read_document("> " * 40000 + "$$a = 1$$", "md")
    except DeriveError as exc:
        assert "too deeply" in exc.message
    else:
        assert [p.latex for p in pieces] in ([], ["a = 1"])
