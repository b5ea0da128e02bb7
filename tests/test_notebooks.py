"""Every notebook in examples/ runs top to bottom in a fresh kernel and displays math."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import needs_dot

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.ipynb"))


def _outputs(nb, mime):
    return [o["data"][mime] for cell in nb.cells if cell.cell_type == "code"
            for o in cell.get("outputs", []) if "data" in o and mime in o["data"]]


@pytest.fixture(scope="module")
def executed():
    runs = {}
    for path in EXAMPLES:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parents[1])}}).execute()  # the repo root: derive imports from a checkout too
        runs[path.name] = nb
    return runs


def test_there_is_an_example_notebook():
    assert EXAMPLES


def test_committed_notebooks_carry_no_stale_outputs():
    for path in EXAMPLES:
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{path.name} has outputs"


def test_walkthrough_displays_the_softmax_jacobian_as_latex(executed):
    latex = "\n".join(_outputs(executed["walkthrough.ipynb"], "text/latex"))
    assert r"\beta" in latex and r"\delta_{ij}" in latex and latex.lstrip().startswith("$$")


def test_walkthrough_shows_the_verdict_and_the_numeric_loss(executed):
    nb = executed["walkthrough.ipynb"]
    latex = "\n".join(_outputs(nb, "text/latex"))
    plain = "\n".join(_outputs(nb, "text/plain"))
    assert "incorrect" in latex
    assert "missing factor β" in plain
    assert "0.4916" in latex and "(0.4916, 0.4657)" in plain
    assert "nyu2020_hw1.md" in plain


def test_walkthrough_shows_whole_formulas_and_readable_reports(executed):
    nb = executed["walkthrough.ipynb"]
    shown = "\n".join(_outputs(nb, "text/markdown") + _outputs(nb, "text/plain")
                      + [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])])
    assert "Report(" not in shown and "checked: the closed form equals sympy.diff" in shown
    sheet = _outputs(nb, "text/markdown")[-1]
    assert "## Question 1" in sheet and "## Question 2" not in sheet
    assert sheet.count("$$") % 2 == 0 and sheet.count("\\begin{") == sheet.count("\\end{")  # nothing cut off


@needs_dot
def test_walkthrough_draws_a_circuit_and_derives_a_residual_graph(executed):
    nb = executed["walkthrough.ipynb"]
    svgs = "\n".join(_outputs(nb, "image/svg+xml"))
    markdown = "\n".join(_outputs(nb, "text/markdown"))
    assert svgs.count("<svg") >= 2 and "−12" in svgs  # the circuit's picture, then the graph's diagram
    assert "| q → f (a) | −4 | 1 · (−4) = −4 |" in markdown
    assert r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial r} + {W^{(1)}}^\top" in markdown


@needs_dot
def test_walkthrough_draws_and_derives_the_batch_of_rows_with_softmax_cross_entropy(executed):
    nb = executed["walkthrough.ipynb"]
    svgs = _outputs(nb, "image/svg+xml")
    markdown = "\n".join(_outputs(nb, "text/markdown"))
    assert any("softmax_cross_entropy_rows" in s for s in svgs)  # the graph's diagram
    assert r"\frac{\partial L}{\partial Z} = \frac{1}{N} \left(\mathrm{loss\_Yhat} - Y\right)" in markdown


# MathJax 2 (classic Jupyter, nbconvert), MathJax 3 and KaTeX have blackboard bold for capital letters only:
# \mathbb{1} shows a plain 1. The indicator is printed as a bold 1 instead (derive.model.notation.INDICATOR).
_BLACKBOARD_DIGIT = re.compile(r"\\mathbb\s*\{\s*[^A-Z\s}]")


def _math(nb) -> str:
    return "\n".join(_outputs(nb, "text/latex") + _outputs(nb, "text/markdown"))


def test_the_indicator_is_one_that_every_notebook_renderer_has(executed):
    shown = _math(executed["walkthrough.ipynb"])
    assert r"\mathbf{1}\left[S^{(1)} > 0\right]" in shown  # the network's ReLU step
    assert not _BLACKBOARD_DIGIT.search(shown)


def test_nbconvert_html_keeps_the_renderable_indicator(executed):
    nbconvert = pytest.importorskip("nbconvert")
    import html as entities

    page, _ = nbconvert.HTMLExporter(template_name="classic").from_notebook_node(executed["walkthrough.ipynb"])
    assert "mathjax/2." in page  # the classic template typesets with MathJax 2
    html = entities.unescape(page)
    assert r"\mathbf{1}\left[S^{(1)} > 0\right]" in html
    assert not _BLACKBOARD_DIGIT.search(html)


def test_the_bundled_markdown_has_no_blackboard_digit():
    outputs = Path(__file__).resolve().parents[1] / "output"
    for path in sorted(outputs.glob("*.md")):
        assert not _BLACKBOARD_DIGIT.search(path.read_text(encoding="utf-8")), path.name
