"""The second case after i = j is printed as i ≠ j (not "otherwise"), and a sheet's name for the cost
reaches a loss part too (CS224n's J = −Σ y log ŷ), in every printer."""

from __future__ import annotations

import derive
from derive.render.printer import latex
from derive.render.unicode import unicode_text
from derive.sheets import load, resolve
from derive.sheets.builder import build


def _cases_step():
    d = derive.derivative("softmax", wrt="x")
    return d, next(s for s in d.steps if "cases" in str(s.reason))


def test_the_case_after_i_equals_j_is_named_i_not_equal_j():
    _, step = _cases_step()
    assert unicode_text(step.after).endswith("if i = j; −β y_i y_j if i ≠ j}")
    assert r"& i \neq j \end{cases}" in latex(step.after) and "otherwise" not in latex(step.after)


def test_the_printed_cases_read_back_as_the_derivation():
    d, step = _cases_step()
    assert d.check(latex(step.after)).verdict == "correct"
    assert d.check(latex(step.after).replace(r"i \neq j", r"i = j")).verdict != "correct"


def test_a_sheets_cost_name_renames_a_loss_output():
    md = build(load(resolve("cs224n_a1"))).outputs["md"]
    assert r"Definition: $J = - \sum_{i=1}^{K}" in md and r"$$\boxed{\frac{\partial J}{\partial \theta_{i}}" in md
    assert r"\partial L}" not in md and "write $J$ by its definition" in md


def test_show_takes_a_networks_names(capsys):
    from derive.cli import main

    assert main(["show", "affine>relu>affine>mse", "--names", "s1=z_1,z1=z_2", "--names", r"cost=\ell"]) == 0
    out = capsys.readouterr().out
    assert "z₁ = W1 x + b1" in out and "z₂ = max(0, z₁)" in out and "∂ℓ/∂W1" in out


def test_show_refuses_names_it_cannot_use_in_one_line(capsys):
    from derive.cli import main

    for argv, said in ((["affine>relu>affine>mse", "--names", "q1=z_1"], "has no quantity 'q1'; choose from: cost"),
                       (["softmax", "--names", "cost=L"], "--names renames a network's quantities"),
                       (["affine>relu>affine>mse", "--names", "s1"], "'s1' is not KEY=NAME")):
        try:
            code = main(["show", *argv])
        except SystemExit as exit_:
            code = exit_.code
        err = capsys.readouterr().err
        assert code == 2 and said in err and err.count("\n") == 1, (argv, err)
