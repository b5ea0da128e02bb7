"""No SymPy source in anything a person reads: the bundled sheets (Markdown, LaTeX) and `derive show`
of every registry entry and variable in text, Markdown, LaTeX and JSON. JSON's `result` and `srepr`
are SymPy's str and srepr by design (documented), and are left out."""

from __future__ import annotations

import json
import re

import pytest

from derive.cli import main
from derive.definitions import entries, get
from derive.sheets import bundled, resolve
from derive.sheets.builder import build
from derive.sheets.loader import load

RAW = ("Heaviside(", "KroneckerDelta(", "Piecewise(", "Derivative(", "Eq(", "Ne(", "Indexed(", "IndexedBase(",
       "Symbol(", "Sum(", "Max(", "Min(", "Abs(", "**", "\\text{\\Pi}", "zoo", "nan")
PRODUCT = re.compile(r"[\w)\]]\*[\w(]")  # y*(1 - y): SymPy's product sign
_BOLD = re.compile(r"\*\*[^*\n]+?\*\*")  # Markdown's own **bold**
_CODE = re.compile(r"```.*?```|`[^`\n]*`|\\begin\{lstlisting\}.*?\\end\{lstlisting\}|\\texttt\{[^}]*\}", re.DOTALL)


def raw_sympy(text: str, markdown: bool = False) -> list:
    """The pieces of SymPy source in `text` (code a sheet shows as code is not prose)."""
    text = _CODE.sub("", text)
    if markdown:
        text = _BOLD.sub("", text)
    found = [r for r in RAW if re.search(re.escape(r) if not r.isalpha() else rf"\b{r}\b", text)]
    return found + PRODUCT.findall(text)


def _show(capsys, *argv) -> str:
    assert main(["show", *argv]) == 0
    return capsys.readouterr().out


def test_the_scanner_finds_what_it_looks_for():
    assert raw_sympy("diag(y*(1 - y))") == ["y*("]
    assert raw_sympy("𝟙 = Heaviside(x, 0)") == ["Heaviside("]
    assert raw_sympy("x**2") == ["**"]
    assert raw_sympy("**Result:** $x$", markdown=True) == []


@pytest.mark.parametrize("name", bundled())
def test_a_bundled_sheet_has_no_sympy_source(name):
    outputs = build(load(resolve(name))).outputs
    assert raw_sympy(outputs["md"], markdown=True) == []
    assert raw_sympy(outputs["tex"]) == []


TARGETS = [(e.name, v.name) for e in entries() for v in get(e.name).inputs]


@pytest.mark.parametrize(("name", "wrt"), TARGETS)
def test_show_prints_no_sympy_source(name, wrt, capsys):
    for fmt in ("text", "md", "tex"):
        out = _show(capsys, name, "--wrt", wrt, "--format", fmt)
        assert raw_sympy(out, markdown=fmt == "md") == [], fmt
    data = json.loads(_show(capsys, name, "--wrt", wrt, "--format", "json"))
    assert "result" in data and "srepr" in data
    rest = {k: v for k, v in data.items() if k not in ("result", "srepr")}
    assert raw_sympy(json.dumps(rest, ensure_ascii=False)) == []


def test_a_module_of_ones_own_with_pi_prints_pi_as_math():
    import sympy as sp

    import derive

    x, y, i = sp.IndexedBase("x"), sp.IndexedBase("y"), sp.Symbol("i", integer=True)
    d = derive.derivative(derive.define("tanh_gelu_inner", y[i], sp.tanh(sp.sqrt(2 / sp.pi) * x[i])))
    for text in (d.tex(), d.latex(), d.markdown()):
        assert "\\sqrt{\\pi}" in text and raw_sympy(text, markdown=True) == []


NETWORKS = ["affine>relu>affine>mse", "affine>sigmoid>affine>softmax_cross_entropy",
            "affine_batch>relu>affine_batch>identity>half_frobenius"]


@pytest.mark.parametrize("chain", NETWORKS)
def test_show_of_an_example_network_prints_no_sympy_source(chain, capsys):
    for fmt in ("text", "md", "tex"):
        assert raw_sympy(_show(capsys, chain, "--wrt", "W1", "--format", fmt), markdown=fmt == "md") == [], fmt


@pytest.mark.parametrize(("name", "wrt"), TARGETS)
def test_notebook_reprs_print_no_sympy_source(name, wrt):
    import derive
    from derive.verify import verify

    d = derive.derivative(name, wrt=wrt)
    assert raw_sympy(d._repr_latex_()) == []
    assert raw_sympy(d._repr_markdown_(), markdown=True) == []
    report = verify(d)
    for shown in (str(report), repr(report), report._repr_markdown_()):
        assert raw_sympy(shown, markdown=True) == [] and "Report(" not in shown
