"""Sheets: the file format, its errors, statements, index expressions, and the bundled sheets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from derive.cli import main
from derive.errors import DeriveError
from derive.sheets import bundled, resolve
from derive.sheets.builder import build
from derive.sheets.indexexpr import IndexExprError, parse_index_expr
from derive.sheets.loader import SheetError, load
from derive.sheets.markup import StatementError, to_tex
from tests.conftest import needs_dot

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "output"
BUNDLED = ("cs224n_a1", "nyu2019_hw1", "nyu2020_hw1", "nyu_two_layer", "uva2018_pen_paper")

MINIMAL = """\
title = "Tiny"
course = "Test course"

[[questions]]
title = "Sigmoid"
statement = "Differentiate $\\\\sigma$."
target = "sigmoid"
"""


def write(tmp_path: Path, text: str, name: str = "sheet.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built():
    """Every bundled sheet built once (md and tex) for the tests below."""
    return {name: build(load(resolve(name))) for name in bundled()}


# ---------------------------------------------------------------- the bundled sheets


def test_every_seed_has_a_bundled_sheet():
    assert set(BUNDLED) <= set(bundled())


@needs_dot
def test_output_folder_is_up_to_date(built):
    stale = []
    for name, b in built.items():
        for fmt in ("md", "tex"):
            path = OUTPUT / f"{name}.{fmt}"
            if not path.exists() or path.read_text(encoding="utf-8") != b.outputs[fmt]:
                stale.append(path.name)
    assert not stale, f"output/ is stale ({', '.join(stale)}); run: derive sheet --all --format md,tex"


def test_nyu2020_gives_the_transpose_the_scale_and_beta(built):
    md = built["nyu2020_hw1"].outputs["md"]
    assert r"\frac{\partial C}{\partial W} = \frac{\partial C}{\partial \mathbf{y}} \mathbf{x}^\top" in md
    assert r"\frac{\partial C_{2}}{\partial b_{i}} = 3 \frac{\partial C}{\partial y_{i}}" in md
    assert r"\boxed{\frac{\partial y_{i}}{\partial x_{j}} = \beta y_{i} \left(\delta_{ij} - y_{j}\right)}" in md


def test_nyu2019_gives_beta_y_delta(built):
    assert r"\beta y_{i} \left(\delta_{ij} - y_{j}\right)" in built["nyu2019_hw1"].outputs["md"]


def test_cs224n_has_the_proof_sigma_prime_and_yhat_minus_y(built):
    md = built["cs224n_a1"].outputs["md"]
    assert "*Proof.*" in md and r"\blacksquare" in md
    assert r"\boxed{\frac{\partial y}{\partial x} = y \left(1 - y\right)}" in md
    assert r"\hat{y}_{i} - y_{i}" in md


def test_uva_numeric_example_matches_the_homework(built):
    md = built["uva2018_pen_paper"].outputs["md"]
    for number in ("0.4916", "0.6017", "0.0715", "0.4657", "-0.2254"):
        assert number in md


def test_network_sheets_derive_the_recursion(built):
    assert r"\left(W^{(2)\top} \delta_{3}\right)" in built["nyu_two_layer"].outputs["md"]  # the sheet's names
    assert r"\left(W_{3}^\top \Delta_{3}\right) \odot" in built["uva2018_pen_paper"].outputs["md"]
    assert not any(b.warnings for b in built.values())


def test_the_stable_softmax_on_the_cs224n_sheet_works():
    sheet = load(resolve("cs224n_a1"))
    code = next(p.code for q in sheet.questions for p in q.parts if p.code)
    namespace: dict = {}
    exec(compile(code, "cs224n_a1.toml", "exec"), namespace)  # noqa: S102  (our own bundled file)
    softmax = namespace["softmax"]
    big = softmax(np.array([1001.0, 1002.0]))
    assert np.allclose(big, softmax(np.array([1.0, 2.0])))
    assert np.allclose(big, [0.26894142, 0.73105858])
    rows = softmax(np.array([[1.0, 2.0, 3.0], [-1000.0, 0.0, 1000.0]]))
    assert rows.shape == (2, 3) and np.allclose(rows.sum(axis=1), 1.0)
    assert np.allclose(rows[0], np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum())
    assert np.all(np.isfinite(softmax(np.array([1e4, -1e4]))))


# ---------------------------------------------------------------- the format and its errors


def test_a_minimal_sheet_builds_md_and_tex(tmp_path):
    b = build(load(write(tmp_path, MINIMAL)), verify=False)
    assert b.outputs["md"].startswith("# Tiny")
    assert r"\documentclass" in b.outputs["tex"] and r"\today" not in b.outputs["tex"]


@pytest.mark.parametrize("text, line, words", [
    ('title = "x"\n[[questions]]\ntarget = "softmax"\ncolour = "red"\n', 4, "unknown key 'colour'"),
    ('title = "x"\n[[questions]]\ntarget = "softmax"\nform = "tensor"\n', 4, "unknown form"),
    ('title = "x"\n\n[[questions]]\ntarget = softmax\n', 4, "invalid TOML"),
    ('title = "x"\n[[questions]]\ntarget = "softmax"\nscale = "three"\n', 4, "scale must be a number"),
    ('title = "x"\n[[questions]]\ntarget = "softmax"\nmodule = { expr = "x" }\n', 4, "derives one thing"),
    (('title = "x"\n[[questions]]\nstatement = """\nfine\n$\\\\input{/etc/hostname}$\n"""\n'
      'target = "softmax"\n'), 5, "\\input is not allowed"),
    ('title = "x"\n[[questions]]\ntitle = "q"\n[[questions.parts]]\nstatement = "s"\n', 4, "needs something"),
])
def test_malformed_sheets_name_the_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(SheetError) as err:
        load(path)
    assert err.value.where.line == line, err.value.message
    assert words in err.value.message
    assert err.value.message.startswith(f"{path}:{line}: ")


def test_an_unknown_target_is_reported_at_its_line(tmp_path):
    path = write(tmp_path, 'title = "x"\n[[questions]]\ntitle = "q"\n\n  [[questions.parts]]\n'
                           '  statement = "s"\n  target = "sofmax"\n')
    with pytest.raises(SheetError) as err:
        build(load(path), verify=False)
    assert err.value.message.startswith(f"{path}:7: unknown target 'sofmax'")


def test_cli_reports_a_bad_sheet_in_one_line_with_exit_2(tmp_path, capsys):
    path = write(tmp_path, 'title = "x"\n[[questions]]\ntarget = "softmax"\nwrt = 3\n')
    assert main(["sheet", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"derive: {path}:4: wrt must be a name or a list of names"
    assert not (tmp_path / "out").exists()


def test_cli_unknown_sheet_name(capsys):
    assert main(["sheet", "nyu2030"]) == 2
    assert "unknown sheet 'nyu2030'" in capsys.readouterr().err


def test_a_module_defined_in_the_sheet(tmp_path):
    path = write(tmp_path, '''\
        title = "Modules"
        [[questions]]
        title = "Scaled softmax"
        statement = "Differentiate $y_i = e^{a x_i} / \\\\sum_k e^{a x_k}$."
        wrt = "x"
        [questions.module]
        name = "scaled"
        title = "Scaled softmax"
        output = "y[i]"
        expr = "exp(a*x[i]) / sum(exp(a*x[k]), k, 1, K)"
        inputs = ["x"]
        shapes = { x = ["K"], y = ["K"], a = [] }
        ''')
    md = build(load(path)).outputs["md"]  # verified against sympy.diff on the way
    assert r"a y_{i} \left(\delta_{ij} - y_{j}\right)" in md


def test_numeric_data_gives_the_jacobian_at_a_point(built):
    md = built["nyu2020_hw1"].outputs["md"]
    # softmax at x = (1, 2, 0.5), beta = 2: y = (0.1142, 0.8438, 0.0420)
    assert "0.1142" in md and "0.8438" in md and "0.2023" in md


def test_templates_can_be_overridden(tmp_path):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "sheet.md.j2").write_text("CUSTOM ((( title ))) ((( questions | length )))\n")
    out = tmp_path / "out"
    assert main(["sheet", str(write(tmp_path, MINIMAL)), "--format", "md", "-o", str(out),
                 "--templates", str(tmp_path / "tpl")]) == 0
    assert (out / "sheet.md").read_text() == "CUSTOM Tiny 1\n"
    assert not (out / "sheet.tex").exists()


def test_missing_latexmk_gives_a_one_line_hint(tmp_path, capsys, monkeypatch):
    from derive.sheets import pdf

    monkeypatch.setattr(pdf, "available", lambda: False)
    out = tmp_path / "out"
    assert main(["sheet", str(write(tmp_path, MINIMAL)), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "texlive-latex-base" in err and "latexmk" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["sheet.md", "sheet.tex"]


# ---------------------------------------------------------------- statements


HOSTILE = r"\input{/etc/hostname} \write18{touch pwned} \def\x{\x}\x \csname input\endcsname"


def test_hostile_prose_is_escaped_character_by_character():
    tex = to_tex(f"Before {HOSTILE} after, with $x^2$.")
    assert r"\input" not in tex and r"\write18" not in tex and r"\def" not in tex
    assert r"\textbackslash{}input\{/etc/hostname\}" in tex
    assert "$x^2$" in tex


@pytest.mark.parametrize("math", [r"\input{/etc/hostname}", r"\write18{ls}", r"\def\x{\x}\x",
                                  r"\csname input\endcsname", "^^5cinput", r"x % comment", r"\catcode`\^=7",
                                  r"\begin{filecontents}", r"x}{"])
def test_hostile_math_is_refused(math):
    with pytest.raises(StatementError):
        to_tex(f"Take ${math}$.")


def test_math_keeps_the_usual_commands():
    tex = to_tex(r"$$\frac{\partial C}{\partial W} = \begin{cases} \beta y_i & i = j \\ 0 & i \neq j \end{cases}$$")
    assert r"\frac{\partial C}{\partial W}" in tex and r"\begin{cases}" in tex


def test_unicode_in_math_becomes_tex():
    assert r"\partial" in to_tex("$∂C/∂W ∈ ℝ$")


# ---------------------------------------------------------------- index expressions


def test_index_expressions_build_sympy_structures():
    import sympy as sp

    e = parse_index_expr("exp(beta*x[i]) / sum(exp(beta*x[k]), k, 1, K)", {"x": ["K"], "beta": []})
    assert isinstance(e, sp.Mul) and e.has(sp.Sum) and e.has(sp.exp)


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "().__class__.__base__.__subclasses__()", "x[i].real",
    "10^10^10", "((((10^6)^16)^16)^16)^16", "eval(x[i])", "exp(" * 300 + "x[i]" + ")" * 300, "y[i]", "x[0]",
    "lambda: 1",
])
def test_index_expressions_refuse_what_is_not_math(text):
    with pytest.raises(IndexExprError):
        parse_index_expr(text, {"x": ["K"]})


def test_resolve_names_and_files(tmp_path):
    assert resolve("nyu2020_hw1").name == "nyu2020_hw1.toml"
    with pytest.raises(DeriveError):
        resolve(str(tmp_path / "missing.toml"))


# ---------------------------------------------------------------- solving ahead on every core


def test_parts_solved_ahead_are_what_the_build_reads(tmp_path, monkeypatch):
    import subprocess
    import sys

    from derive.sheets import ahead
    from derive.sheets import solve as solving

    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path / "cache"))
    sheet = load(resolve("nyu2020_hw1"))
    parts = ahead.pending([sheet])
    assert len(parts) >= 2 and all(p.kind in ("target", "network", "identity", "module") for p in parts)
    # Workers are forked only from a single thread, which this test process need not be: a fresh one.
    script = ("from derive.sheets import ahead, resolve; from derive.sheets.loader import load; "
              "print(ahead.solve_ahead([load(resolve('nyu2020_hw1'))], jobs=2))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == str(len(parts))
    assert ahead.pending([sheet]) == []

    def derived_again(*args, **kwargs):
        raise AssertionError("the build derived a part that was solved ahead")

    monkeypatch.setattr(solving, "_derivation", derived_again)
    assert build(sheet).outputs["md"] == (OUTPUT / "nyu2020_hw1.md").read_text(encoding="utf-8")


def test_a_part_that_fails_ahead_is_reported_in_its_place(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path / "cache"))
    path = write(tmp_path, MINIMAL + '\n[[questions]]\ntitle = "Softmax"\ntarget = "softmax"\nwrt = "z"\n')
    assert main(["sheet", str(path), "-j", "2", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"derive: {path}:") and "z" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("jobs", ["0", "-1", "two", ""])
def test_jobs_must_be_a_positive_whole_number(jobs, capsys):
    assert main(["sheet", "nyu2020_hw1", "--jobs", jobs]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("derive: ") and "choose 1 or more" in err and len(err.splitlines()) == 1


def test_nothing_is_solved_ahead_without_a_cache(monkeypatch):
    from derive.sheets import ahead

    monkeypatch.setenv("DERIVE_NO_CACHE", "1")
    assert ahead.solve_ahead([load(resolve("nyu2020_hw1"))], jobs=2) == 0


def test_a_network_part_shows_the_form_it_asks_for(tmp_path):
    def sheet(form):
        return write(tmp_path, f"""\
            title = "Forms"
            [[questions]]
            title = "Two layers"
            network = "affine>relu>affine>mse"
            wrt = "W1"
            {form}
            """, name=f"forms{len(form)}.toml")

    both = build(load(sheet(""))).outputs["md"]
    index = build(load(sheet('form = "index"'))).outputs["md"]
    matrix = build(load(sheet('form = "matrix"'))).outputs["md"]
    assert "with the shape under each factor" in both and "index form:" in both
    assert "entry by entry" in index and "with the shape under each factor" not in index
    assert "with the shape under each factor" in matrix and "index form:" not in matrix and "entry by entry" not in matrix


def test_the_largest_parts_are_solved_ahead_first(tmp_path, monkeypatch):
    from derive.sheets import ahead

    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path / "cache"))
    parts = ahead.pending([load(resolve(n)) for n in BUNDLED])  # the seeds' sheets
    assert parts[0].target == "hinge", "12 entries of a class-indexed loss outweigh every other part"
    sizes = [ahead._estimate(p) for p in parts]
    assert sizes == sorted(sizes, reverse=True)
