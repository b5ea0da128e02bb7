"""derive audit: every claim of a written solution tied to its question and judged, with its line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from derive.audit.audit import audit, loss_convention
from derive.sheets import load, resolve

SOLUTION = r"""# Solutions

## 1. Warm-up

$$\frac{\partial L}{\partial W} = \frac{\partial L}{\partial y} x^T$$

$$\frac{\partial L}{\partial b} = 2\frac{\partial L}{\partial y}$$

## 2. Softmax

$$\frac{\partial y_i}{\partial x_j} = \beta y_i (\delta_{ij} - y_j)$$

$$\frac{\partial y_i}{\partial x_j} = y_i (\delta_{ij} - y_j)$$

We write $y = Wx + b$ again.
"""


ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's derive, from any folder
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          check=False)


def test_each_claim_is_judged_against_the_part_it_answers():
    result = audit(SOLUTION, load(resolve("nyu2019_hw1")), document="sol.md")
    rows = [(f.line, f.question, f.verdict) for f in result.findings]
    assert rows == [(5, "1. Warm-up: the affine map", "correct"), (7, "1. Warm-up: the affine map", "incorrect"),
                    (11, "2. Softmax", "correct"), (13, "2. Softmax", "incorrect"), (15, "2. Softmax", "not checked")]
    by_line = {f.line: f for f in result.findings}
    assert any("factor 2" in s for s in by_line[7].feedback)
    assert any("missing factor β" in s for s in by_line[13].feedback)
    assert by_line[11].evidence and by_line[7].evidence  # every verdict says what it rests on
    assert by_line[15].reason  # a definition is listed, with why it is not checked
    assert result.exit_code == 1
    assert result.summary == {"claims": 5, "correct": 2, "incorrect": 2, "undecided": 0, "not checked": 1,
                              "checked_share": 0.8}


DEFINITIONS = r"""# Answers

## 1. Warm-up

The layer is $y = Wx + b$, entry by entry $y = W x$.

## 2. Softmax

$$y_k = \frac{e^{\beta x_k}}{\sum_n e^{\beta x_n}}$$

$$y_i = \frac{e^{x_i}}{\sum_j e^{x_j}}$$

$$y_i = y_i$$
"""


def test_a_module_definition_is_judged_against_the_sheets_definition_with_a_counterexample():
    result = audit(DEFINITIONS, load(resolve("nyu2019_hw1")))
    rows = [(f.line, f.question[:2], f.verdict) for f in result.findings]
    assert rows == [(5, "1.", "correct"), (5, "1.", "incorrect"), (9, "2.", "correct"), (11, "2.", "incorrect"),
                    (13, "2.", "not checked")]
    wrong = result.findings[3]
    assert "the definition is" in wrong.counterexample and wrong.evidence
    assert "cannot use y itself" in result.findings[4].reason


def test_a_derivative_the_sheet_does_not_ask_for_is_not_checked_against_another():
    text = "## Softmax\n\n$$\\frac{\\partial y_i}{\\partial \\beta} = y_i (x_i - \\sum_k y_k x_k)$$\n"
    (finding,) = audit(text, load(resolve("nyu2019_hw1"))).findings
    assert finding.verdict == "not checked" and "with respect to x, not \\beta" in finding.reason


def uva_numbers(c: float):
    """The UvA sheet's worked example computed directly with NumPy (not by derive): c‖Ŷ − Y‖², η = 0.5."""
    X = np.array([[0.75, 0.2, -0.75, 0.2], [0.8, 0.05, 0.8, -0.05]])
    W1 = np.array([[0.6, 0.01], [0.7, 0.43], [0.0, 0.88]])
    W2 = np.array([[0.02, 0.03, 0.09]])
    T = np.array([[1.0, 1.0, -1.0, -1.0]])
    S1 = W1 @ X
    Z1 = np.maximum(S1, 0)
    Yhat = W2 @ Z1
    D = 2 * c * (Yhat - T)
    return {"Z_1": Z1, "\\hat{Y}": Yhat, "\\frac{\\partial L}{\\partial W_2}": D @ Z1.T,
            "L": c * np.sum((Yhat - T) ** 2)}


def bmatrix(a) -> str:
    rows = np.atleast_2d(a)
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(f"{v:.4f}" for v in r) for r in rows) + r" \end{bmatrix}"


def test_printed_numbers_are_judged_and_a_second_loss_convention_is_reported():
    mean, half = uva_numbers(1 / 8), uva_numbers(1 / 2)
    wrong_gradient = bmatrix(half[r"\frac{\partial L}{\partial W_2}"])
    text = "\n\n".join([
        "## Exercise 1", r"$$L = \frac{1}{2}\|Y_{out} - Y\|_F^2$$",
        "## Exercise 2", *(f"$${name} = {bmatrix(value)}$$" for name, value in mean.items() if name != "L"),
        f"$$L = {mean['L']:.4f}$$",
        r"$$\frac{\partial L}{\partial W_2} = " + wrong_gradient + "$$"])
    result = audit(text, load(resolve("uva2018_pen_paper")))
    verdicts = [f.verdict for f in result.findings if f.question.startswith("2.")]
    assert verdicts == ["correct"] * 4 + ["incorrect"]
    wrong = result.findings[-1]
    assert "they are under L = ½‖Ŷ − Y‖²_F" in wrong.feedback[0]
    assert any("line 3 defines the loss as ½‖Ŷ − Y‖²" in n and "(1/2N)" in n for n in result.notes)


def test_loss_conventions_are_read_from_written_losses():
    assert loss_convention(r"\frac{1}{2}||Y_{out} - Y_{gt}||_F^2") == "half"
    assert loss_convention(r"\frac{1}{2N} \sum_n (y_n - t_n)^2") == "half_mean"
    assert loss_convention(r"\| \hat{y}-y \|^2") == "sum"
    assert loss_convention(r"-\sum_i y_i \log \hat{y}_i") is None


def test_the_command_line_writes_text_markdown_and_json(tmp_path):
    sol = tmp_path / "sol.md"
    sol.write_text(SOLUTION, encoding="utf-8")
    text = run("audit", str(sol), "--sheet", "nyu2019_hw1")
    assert text.returncode == 1, text.stderr
    assert f"{sol}:13  incorrect  [2. Softmax]" in text.stdout and "missing factor β" in text.stdout
    data = json.loads(run("audit", str(sol), "--sheet", "nyu2019_hw1", "--json").stdout)
    assert set(data) == {"document", "sheet", "claims", "notes", "summary"}
    assert set(data["claims"][0]) == {"line", "latex", "question", "verdict", "feedback", "evidence", "reason",
                                      "counterexample"}
    report = tmp_path / "report.md"
    md = run("audit", str(sol), "--sheet", "nyu2019_hw1", "--format", "md", "-o", str(report))
    assert md.returncode == 1 and report.read_text(encoding="utf-8").startswith("# Audit of")
    assert "| 13 | 2. Softmax | $\\frac{\\partial y_i}{\\partial x_j} = y_i (\\delta_{ij} - y_j)$ | incorrect |" in \
        report.read_text(encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (["audit", "missing.md", "--sheet", "nyu2019_hw1"], "no such file: missing.md"),
    (["audit", "sol.md", "--sheet", "nyu2091"], "unknown sheet 'nyu2091'"),
    (["audit", "sol.md", "--sheet", "nyu2019_hw1", "-o", "sol.md"], "is the solution itself"),
    (["audit", "binary.md", "--sheet", "nyu2019_hw1"], "is not UTF-8 text"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    (tmp_path / "sol.md").write_text(SOLUTION, encoding="utf-8")
    (tmp_path / "binary.md").write_bytes(b"%PDF-1.5\n\xff\xfe\x00")
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1
    assert (tmp_path / "sol.md").read_text(encoding="utf-8") == SOLUTION  # nothing overwritten


def test_markdown_report_keeps_student_text_out_of_html_and_tables(tmp_path):
    text = "## Softmax\n\n$$\\frac{\\partial y_i}{\\partial x_j} = |x| \\text{ if } x < 0 <script>alert(1)</script>$$\n"
    from derive.audit.report import markdown

    out = markdown(audit(text, load(resolve("nyu2019_hw1")), document="<b>x</b>.md"))
    assert "<script>" not in out and "<b>" not in out
    row = next(line for line in out.splitlines() if line.startswith("| 3 |"))
    assert row.count(" | ") == 4  # the claim's | did not open a new cell


SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed homeworks are not on this machine")
def test_the_uva_seed_audit_finds_its_mistakes_and_accepts_its_numbers():
    path = next(SEEDS.glob("004_*"))
    result = audit(path.read_text(encoding="utf-8"), load(resolve("uva2018_pen_paper")))
    numbers = [f for f in result.findings if f.question.startswith("2.") and f.latex.count("&") >= 1]
    assert numbers and all(f.verdict == "correct" for f in numbers)
    hinge = [f for f in result.findings if f.question.startswith("3.") and f.verdict == "incorrect"]
    assert hinge and all("also the free index" in " ".join(f.feedback) for f in hinge)
    assert any("½‖Ŷ − Y‖²" in n and "(1/2N)" in n for n in result.notes)


def test_a_derivative_left_hand_side_is_read_with_its_braces_matched():
    from derive.audit.audit import derivative_of

    assert derivative_of(r"\frac{\partial L}{\partial W_3}") == ("L", "W_3")
    assert derivative_of(r"\frac {\partial C}{\partial \mathbf W}") == ("C", r"\mathbf W")
    assert derivative_of(r"\frac{\partial (\frac{a}{b})}{\partial e^{o_j}}") == (r"(\frac{a}{b})", "e^{o_j}")
    assert derivative_of(r"\frac{\delta \ell}{W^{(2)}}") == (r"\ell", "W^{(2)}")  # the second ∂ forgotten
    assert derivative_of(r"\frac{1}{2}") is None and derivative_of("y_i") is None
    assert derivative_of(r"\frac{dy}{dx}") == ("y", "x")


def test_delta_written_for_the_partial_sign_is_read_as_partial():
    from derive.audit.audit import partials

    assert partials(r"\frac{\delta \ell}{W^{(2)}} = \frac{\delta \ell}{\delta \hat{y}} \frac{\delta \hat{y}}{\delta W}") \
        == r"\frac{\partial \ell}{\partial W^{(2)}} = \frac{\partial \ell}{\partial \hat{y}} " \
           r"\frac{\partial \hat{y}}{\partial W}"
    kronecker = r"\frac{\partial y_i}{\partial x_j} = \beta y_i (\delta_{ij} - y_j) \frac{\delta}{2}"
    assert partials(kronecker) == kronecker  # δ_ij, and δ over a plain denominator right of the =, stay


def test_a_chain_rule_that_skips_a_layer_is_found_in_delta_notation():
    text = ("## Regression\n\n$$\\frac{\\delta \\ell}{\\delta W^{(1)}} = \\frac{\\delta \\ell}{\\delta \\hat{y}} "
            "\\frac{\\delta \\hat{y}}{\\delta z_3} \\frac{\\delta z_2}{\\delta z_1} \\frac{\\delta z_2}{\\delta W^{(1)}}$$\n")
    (finding,) = audit(text, load(resolve("nyu_two_layer"))).findings
    assert finding.verdict == "incorrect" and any("missing" in s for s in finding.feedback)


SHOW_THAT = r"""# Softmax

$$\mathrm{softmax}(x + c)_j = \frac{e^{x_j + c}}{\sum_k e^{x_k + c}} = \frac{e^{x_j} e^{c}}{\sum_k e^{x_k} e^{c}}
= \frac{e^{x_j}}{\sum_k e^{c x_k}}$$

# Neural network basics

$$\sigma'(t) = \frac{e^{-t}}{(1 + e^{-t})^2} = \sigma(t)(1 + \sigma(t))$$

$$\sigma(t) = \frac{1}{1 + e^{-t}}$$
"""


def test_each_step_of_a_show_that_chain_is_judged_against_the_identity_the_sheet_proves():
    result = audit(SHOW_THAT, load(resolve("cs224n_a1")))
    steps = [f for f in result.findings if f.question.startswith("1.")]
    assert [f.verdict for f in steps] == ["correct", "correct", "incorrect"]
    assert all("a step of the identity" in f.evidence for f in steps)
    assert steps[2].counterexample  # the wrong step: a point where it is not the left side


def test_an_activation_named_by_its_function_is_judged_as_that_part_of_the_sheet():
    result = audit(SHOW_THAT, load(resolve("cs224n_a1")))
    sigma = [(f.verdict, bool(f.evidence)) for f in result.findings if f.question.startswith("2.")]
    assert sigma == [("correct", True), ("incorrect", True), ("correct", True)]  # σ'(t), σ(t)(1 + σ(t)), σ(t)


CHAINS = r"""## 1. The affine module

$$\frac{\partial C}{\partial \mathbf W} = \frac{\partial C}{\partial \mathbf y} \cdot \frac{\partial \mathbf y}{\partial \mathbf W}$$

$$\frac{\partial C}{\partial b} = \frac{\partial C}{\partial y} \frac{\partial x}{\partial b}$$

$$\frac{\partial C_2}{\partial b} = \frac{\partial C_2}{\partial C} \frac{\partial C}{\partial y} x$$

$$\frac{\partial C_2}{\partial b} = \frac{\partial C_2}{\partial C} \frac{\partial C}{\partial y}$$
"""


def test_a_chain_rule_product_is_checked_for_linking_up_and_a_given_factor_by_its_value():
    rows = audit(CHAINS, load(resolve("nyu2020_hw1"))).findings
    assert [f.verdict for f in rows] == ["undecided", "incorrect", "incorrect", "correct"]
    assert "names the factors without their values" in rows[0].feedback[0]
    assert "a factor ∂y/∂x is missing" in rows[1].feedback[0]
    assert all("∂C2/∂C read as 3" in f.evidence for f in rows[2:])  # C₂ = 3C on the sheet


FORWARD_TABLE = r"""# Regression

| Module | Input | Output |
|---|---|---|
| $\mathrm{Linear}_1$ | $x$ | $W^{(1)\top} x + b^{(1)}$ |
| $f$ | $z_1$ | $\max(0, W^{(1)} x + b^{(1)})$ |
| $\mathrm{Linear}_2$ | $z_2$ | $W^{(2)} z_2 + b^{(2)}$ |
"""


def test_each_output_cell_of_a_forward_table_is_the_claim_that_its_module_outputs_it():
    rows = audit(FORWARD_TABLE, load(resolve("nyu_two_layer"))).findings
    assert [(f.line, f.verdict) for f in rows] == [(5, "incorrect"), (6, "correct"), (7, "correct")]
    assert "transpose" in rows[0].feedback[0] and rows[1].evidence


def test_a_restated_scaled_cost_and_kroneckers_delta_are_judged_by_what_the_sheet_and_sympy_say():
    text = ("## 1. The affine module\n\n$C_2(y) = 3 C(y)$ and $C_2(y) = 2 \\ast C(y)$\n\n"
            "$$\\delta_{ij} = \\begin{cases} 1 & i = j \\\\ 1 & i \\neq j \\end{cases}$$\n")
    rows = audit(text, load(resolve("nyu2020_hw1"))).findings
    assert [f.verdict for f in rows] == ["correct", "incorrect", "correct", "incorrect"]
    assert "C2 = 3·C" in rows[0].evidence and "not 2·C" in rows[1].feedback[0]
    assert "KroneckerDelta" in rows[3].evidence


def test_a_loss_written_as_a_function_of_its_arguments_is_that_loss_of_the_question():
    text = ("## Neural network basics\n\n$$CE(y, \\hat{y}) = - \\sum_i y_i \\log(\\hat{y}_i)$$\n\n"
            "$$CE(y, \\hat{y}) = \\sum_i y_i \\log(\\hat{y}_i)$$\n")
    rows = audit(text, load(resolve("cs224n_a1"))).findings
    assert [f.verdict for f in rows] == ["correct", "incorrect"]
    assert "sign" in rows[1].feedback[0]


CONDITIONED = r"""# Answers

## 2. Neural network basics

The target is one-hot with its one at class $j$:

$$y_j = 1$$

$$\frac{\partial CE(y, \hat{y})}{\partial \theta_j} = -1 + \hat{y}_j$$

$$\frac{\partial CE(y, \hat{y})}{\partial \theta_j} = \hat{y}_j - y_j$$

$$CE(y, \hat{y}) = -\theta_j + \log(\sum_k e^{\theta_k}) = \log(\frac{e^{\theta_j}}{\sum_k e^{\theta_k}})$$
"""


def test_claims_that_use_a_stated_one_hot_condition_are_judged_under_it():
    sheet = load(resolve("cs224n_a1"))
    findings = audit(CONDITIONED, sheet, document="c.md").findings
    assert [(f.line, f.verdict) for f in findings] == [(7, "not checked"), (9, "correct"), (11, "correct"),
                                                        (13, "correct"), (13, "incorrect")]
    assert "y_j = 1" in findings[0].reason
    assert "judged under y_j = 1 (line 7)" in findings[1].evidence  # −1 + ŷ_j holds at the class j
    assert "sign error" in findings[4].feedback[0]  # the loss at the class is −log ŷ_j: the minus dropped
    # without the condition the same derivative is wrong in general, and said so
    bare = audit(CONDITIONED.replace("$$y_j = 1$$", ""), sheet, document="c.md").findings
    assert [f.verdict for f in bare][:2] == ["incorrect", "correct"]


LETTERED = r"""# Answers

## 3. Layer normalization

### (b)

$$\frac{\partial y_i}{\partial x_j} = \delta_{ij} - \frac{1}{D}$$
"""


def test_a_part_heading_b_ties_the_claim_to_the_questions_second_part():
    sheet = load(resolve("normalization_layers"))  # 3 (a) is layer norm, 3 (b) a centering layer: both in x
    [finding] = audit(LETTERED, sheet, document="l.md").findings
    assert finding.verdict == "correct", finding.feedback
    [unlettered] = audit(LETTERED.replace("### (b)\n", ""), sheet, document="l.md").findings
    assert unlettered.verdict == "incorrect"  # read as a claim about layer norm, which it is not
