"""Reading a written solution into claims: lines, headings, chains, cases, and limits."""

from pathlib import Path

import pytest

from derive.audit.claims import claims_of
from derive.audit.document import MAX_DOCUMENT_CHARS, read_document
from derive.errors import DeriveError

MARKDOWN = r"""# Problem set

## 1. A linear layer

Let $y = Wx + b$ with $x \in \mathbb{R}^D$.

$$
\frac{\partial C}{\partial W} = \underbrace{\frac{\partial C}{\partial y}}_{M \times 1} x^T
$$

> | Answer |
> |---|
> | $$\frac{\partial C}{\partial b} = \frac{\partial C}{\partial y}$$ |

## 2. Sigmoid

$$\sigma'(x) = \frac{e^{-x}}{(1 + e^{-x})^2} = \sigma(x)(1 - \sigma(x))$$
$$= \sigma(x) - \sigma(x)^2$$

$$
\begin{aligned}
\frac{\partial y_i}{\partial x_j} &= \beta y_i (1 - y_i) \text{ for } i = j \\
&= -\beta y_i y_j \quad i \neq j
\end{aligned}
$$

$$\frac{\partial y_i}{\partial b_j} = \begin{cases} 1 & i = j \\ 0 & \text{otherwise} \end{cases}$$

Shapes: $W: M \times D$, and the case $i = j$ is treated first.
"""


def test_markdown_claims_carry_their_line_and_heading():
    claims = claims_of(read_document(MARKDOWN))
    found = {(c.line, c.lhs, c.rhs, c.condition) for c in claims}
    lines = MARKDOWN.splitlines()
    for line, lhs, rhs, condition in found:
        assert lhs.split("{")[0] in lines[line - 1] or "=" in lines[line - 1], (line, lhs)
    assert (5, "y", "Wx + b", "") in found
    first = next(c for c in claims if "partial W" in c.lhs)
    assert first.line == 8 and first.section == ("Problem set", "1. A linear layer")
    assert first.rhs == r"{\frac{\partial C}{\partial y}} x^T"  # the underbrace's note is dropped
    bias = next(c for c in claims if "partial b}" in c.lhs and "b_j" not in c.lhs)
    assert bias.line == 13 and bias.rhs == r"\frac{\partial C}{\partial y}"


def test_a_chain_states_each_member_and_a_leading_equals_continues_it():
    claims = [c for c in claims_of(read_document(MARKDOWN)) if c.lhs == r"\sigma'(x)"]
    assert [c.rhs for c in claims] == [r"\frac{e^{-x}}{(1 + e^{-x})^2}", r"\sigma(x)(1 - \sigma(x))",
                                       r"\sigma(x) - \sigma(x)^2"]
    assert [c.previous for c in claims] == ["", r"\frac{e^{-x}}{(1 + e^{-x})^2}", r"\sigma(x)(1 - \sigma(x))"]
    assert [c.line for c in claims] == [17, 17, 18]


def test_aligned_rows_and_cases_keep_their_conditions():
    claims = claims_of(read_document(MARKDOWN))
    jac = [(c.rhs, c.condition) for c in claims if c.lhs == r"\frac{\partial y_i}{\partial x_j}"]
    assert jac == [(r"\beta y_i (1 - y_i)", "i = j"), (r"-\beta y_i y_j", r"i \neq j")]
    bias = [(c.rhs, c.condition) for c in claims if c.lhs == r"\frac{\partial y_i}{\partial b_j}"]
    assert bias == [("1", "i = j"), ("0", "otherwise")]


def test_shapes_memberships_and_bare_index_cases_are_not_claims():
    lhs = [c.lhs for c in claims_of(read_document(MARKDOWN))]
    assert not any(":" in s or s in ("i", "x") for s in lhs), lhs


LATEX = r"""\documentclass{article}
\begin{document}
\section{Softmax}
For $y = \mathrm{softmax}(\beta x)$,
\begin{align*}
\frac{\partial y_j}{\partial x_i} &= \beta y_j (\delta_{ij} - y_i) \\
  &= \beta y_j \delta_{ij} - \beta y_i y_j
\end{align*}
\subsection{Loss}
\[ \frac{\partial L}{\partial \theta} = \hat{y} - y \]
\input{/etc/hostname} \write18{rm -rf ~}
\end{document}
"""


def test_latex_documents_are_read_with_lines_and_sections():
    claims = claims_of(read_document(LATEX))
    assert [(c.line, c.rhs) for c in claims if c.lhs.startswith(r"\frac{\partial y_j}")] == [
        (6, r"\beta y_j (\delta_{ij} - y_i)"), (7, r"\beta y_j \delta_{ij} - \beta y_i y_j")]
    loss = next(c for c in claims if c.lhs == r"\frac{\partial L}{\partial \theta}")
    assert loss.line == 10 and loss.rhs == r"\hat{y} - y" and loss.section == ("Softmax", "Loss")
    assert (4, r"\mathrm{softmax}(\beta x)") in {(c.line, c.rhs) for c in claims}


def test_documents_past_the_limits_are_refused_in_one_line():
    with pytest.raises(DeriveError, match="at most"):
        read_document("$x = 1$ " * (MAX_DOCUMENT_CHARS // 8 + 1))
    with pytest.raises(DeriveError, match="NUL"):
        read_document("$x = 1$\x00")
    with pytest.raises(DeriveError, match="choose one of: md, tex"):
        read_document("$x = 1$", "docx")


SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed homeworks are not on this machine")
def test_the_seeds_claims_are_found():
    claims = {}
    for path in sorted(SEEDS.iterdir()):
        claims[path.name] = claims_of(read_document(path.read_text(encoding="utf-8")))
    every = [c for cs in claims.values() for c in cs]
    assert len(every) >= 91  # the seeds' own count of claims, chain links counted once each
    # NYU 2019's softmax Jacobian, and the single cases before it
    assert any(c.rhs == r"\beta y_i (\delta_{ij} - y_j)" for c in every)
    assert any(c.lhs == r"\frac{\partial y_i}{\partial b_j}" and c.condition == "i = j" and c.rhs == "1"
               for c in every)
    # UvA's forward values, a chain S_2 = W_2 Z_1 = Z_2 = Y_out = [numbers]
    assert any(c.lhs == "S_2" and c.rhs.startswith(r"\begin{bmatrix}") and c.previous == "Y_{out}" for c in every)


CASES = (
    "## Softmax", "If $i = j$,", r"$$\frac{\partial y_i}{\partial x_j} = \beta y_i (1 - y_i)$$",
    r"$$= \beta y_i - \beta y_i^2$$", r"and if $i \neq j$,",
    r"$$\frac{\partial y_i}{\partial x_j} = -\beta y_i y_j$$", r"$$\delta_{ij} = [i = j]$$",
    r"$$\frac{\partial y_i}{\partial x_j} = \beta y_i (\delta_{ij} - y_j)$$")


def test_a_case_stated_on_its_own_governs_the_chain_after_it():
    text = "\n\n".join(CASES)
    got = [(c.rhs, c.condition) for c in claims_of(read_document(text))]
    assert got == [(r"\beta y_i (1 - y_i)", "i = j"), (r"\beta y_i - \beta y_i^2", "i = j"),
                   (r"-\beta y_i y_j", r"i \neq j"), ("[i = j]", ""), (r"\beta y_i (\delta_{ij} - y_j)", "")]


def test_a_derivative_whose_value_is_written_with_a_condition_is_still_a_claim():
    from derive.audit.claims import claims_of
    from derive.audit.document import read_document

    text = "$$\\frac{\\delta z_2}{\\delta z_1} = 1 \\text{ if } z_1 > 0$$\n\n$$0 < y < 1$$\n"
    (claim,) = claims_of(read_document(text))
    assert claim.lhs == "\\frac{\\delta z_2}{\\delta z_1}"  # listed, so it is never dropped unread
