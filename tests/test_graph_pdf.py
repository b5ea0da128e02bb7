"""The bundled graph sheets as PDF, compiled for real (CI installs TeX Live): the picture and the
derivation are there, and no line runs into the margin (the generated code breaks its long lines)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from derive.graph import sheet
from derive.sheets.pdf import compile_pdf

pytestmark = pytest.mark.skipif(
    shutil.which("latexmk") is None and not __import__("os").environ.get("CI"),
    reason="latexmk not installed (CI installs it, and there these tests never skip)")

OVERFULL = re.compile(r"^Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\)", re.MULTILINE)


@pytest.mark.parametrize("name", sheet.bundled())
def test_bundled_graph_sheet_compiles_with_its_picture_inside_the_margins(name, tmp_path):
    s = sheet.load(name)
    tex = sheet.tex(s, sheet.solve(s))
    pdf = compile_pdf(tex, tmp_path / f"{name}.pdf", log_to=tmp_path / "sheet.log")
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert s.title.split()[0] in text and "checked:" in text
    assert r"\begin{tikzpicture}" in tex
    over = [float(w) for w in OVERFULL.findall((tmp_path / "sheet.log").read_text())]
    assert [w for w in over if w > 10] == []
