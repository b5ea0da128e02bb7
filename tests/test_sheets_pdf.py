"""Sheets as PDF, compiled for real: CI installs TeX Live, so a missing TeX fails here."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from derive.cli import main
from derive.sheets import bundled, resolve
from derive.sheets.builder import build
from derive.sheets.loader import load
from derive.sheets.pdf import TexError, compile_pdf

pytestmark = pytest.mark.skipif(
    shutil.which("latexmk") is None and not __import__("os").environ.get("CI"),
    reason="latexmk not installed (CI installs it, and there these tests never skip)")

DOC = "\\documentclass{article}\\begin{document}\n%s\n\\end{document}\n"


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="module")
def nyu2020_pdf(tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    assert main(["sheet", "nyu2020_hw1", "-o", str(out)]) == 0
    return out / "nyu2020_hw1.pdf"


def test_the_sheet_pdf_contains_the_key_results(nyu2020_pdf):
    text = pdf_text(nyu2020_pdf)
    assert "Homework 1: Backpropagation" in text and "Solutions" in text
    assert "β" in text  # β y_i (δ_ij − y_j)
    assert "δij" in text.replace(" ", "")
    assert "0.8438" in text  # the worked softmax numbers


def test_pdfs_are_reproducible(tmp_path):
    tex = build(load(resolve("cs224n_a1")), formats=("tex",), verify=False).outputs["tex"]
    first = compile_pdf(tex, tmp_path / "first.pdf").read_bytes()
    assert compile_pdf(tex, tmp_path / "second.pdf").read_bytes() == first


def test_a_tex_error_names_its_line_and_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(TexError) as err:
        compile_pdf(DOC % "fine\n\\undefinedcommand", out / "broken.pdf", name="broken.tex")
    assert err.value.message.startswith("broken.tex:3: Undefined control sequence")
    assert not out.exists() or not any(out.iterdir())


def test_tex_cannot_read_files_outside_its_folder(tmp_path):
    secret = tmp_path / "secret.tex"
    secret.write_text("SECRETTOKEN")
    with pytest.raises(TexError):
        compile_pdf(DOC % f"\\input{{{secret}}}", tmp_path / "out" / "leak.pdf")
    with pytest.raises(TexError):
        compile_pdf(DOC % "\\input{/etc/hostname}", tmp_path / "out" / "leak.pdf")
    assert not (tmp_path / "out" / "leak.pdf").exists()


def test_tex_cannot_run_commands(tmp_path):
    marker = tmp_path / "pwned"
    compile_pdf(DOC % f"\\immediate\\write18{{touch {marker}}} text", tmp_path / "ok.pdf")
    assert not marker.exists()


def test_a_tex_loop_is_stopped_by_the_timeout(tmp_path):
    start = time.monotonic()
    with pytest.raises(TexError, match="did not finish"):
        compile_pdf(DOC % "\\def\\x{\\x}\\x", tmp_path / "loop.pdf", timeout=3)
    assert time.monotonic() - start < 30
    assert not (tmp_path / "loop.pdf").exists()


def test_hostile_statements_print_as_text(tmp_path):
    secret = tmp_path / "secret.tex"
    secret.write_text("SECRETTOKEN")
    marker = tmp_path / "pwned"
    sheet = tmp_path / "hostile.toml"
    sheet.write_text(
        'title = "Hostile"\n[[questions]]\ntarget = "sigmoid"\nstatement = \'\'\''
        f"Read \\input{{{secret}}} and \\input{{/etc/hostname}}, run \\immediate\\write18{{touch {marker}}}, "
        "loop \\def\\x{\\x}\\x, and still render $\\sigma(x)$.'''\n")
    out = tmp_path / "out"
    start = time.monotonic()
    assert main(["sheet", str(sheet), "-o", str(out)]) == 0
    assert time.monotonic() - start < 60
    text = "".join(pdf_text(out / "hostile.pdf").replace("-\n", "").split())  # undo hyphenation, spaces
    assert "SECRETTOKEN" not in text and not marker.exists()
    assert "\\input{/etc/hostname}" in text and "\\def\\x{\\x}\\x" in text
    assert "renderσ(x)" in text


def test_hostile_math_is_an_error_before_any_tex(tmp_path, capsys):
    sheet = tmp_path / "hostile.toml"
    sheet.write_text('title = "Hostile"\n[[questions]]\ntarget = "sigmoid"\n'
                     'statement = \'$\\input{/etc/hostname}$\'\n')
    assert main(["sheet", str(sheet), "-o", str(tmp_path / "out")]) == 2
    assert f"{sheet}:4: \\input is not allowed in math" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_uva_pdf_shows_the_worked_numbers(tmp_path):
    assert main(["sheet", "uva2018_pen_paper", "-o", str(tmp_path)]) == 0
    text = pdf_text(tmp_path / "uva2018_pen_paper.pdf")
    for number in ("0.4916", "0.6017", "0.0715", "0.4657"):
        assert number in text


OVERFULL = re.compile(r"^Overfull \\hbox \((\d+(?:\.\d+)?)pt too wide\) (.*)$", re.MULTILINE)

ENDS = re.compile(r"^derive: the text ends on page (\d+), filling (-?[\d.]+)pt of ([\d.]+)pt$", re.MULTILINE)


@pytest.mark.parametrize("name", bundled())
def test_no_line_of_a_bundled_pdf_runs_into_the_margin_and_no_last_page_is_nearly_empty(name, tmp_path):
    tex = build(load(resolve(name)), formats=("tex",)).outputs["tex"]
    compile_pdf(tex, tmp_path / f"{name}.pdf", log_to=tmp_path / "sheet.log")
    log = (tmp_path / "sheet.log").read_text()
    over = [(float(w), where) for w, where in OVERFULL.findall(log)]
    assert [o for o in over if o[0] > 10] == []
    (page, filled, height), = ENDS.findall(log)  # the sheet's own note of where its text ends
    assert int(page) == 1 or float(filled) >= 0.3 * float(height), f"page {page} holds {filled}pt of {height}pt"
