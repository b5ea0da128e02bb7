"""The command line as a user meets it: JSON keys, formats, one-line errors with exit 2."""

import json
import subprocess
import sys

import pytest

from derive.cli import main
from tests.conftest import CLOSED


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("target, wrt, result", CLOSED, ids=[f"{t}-{w}" for t, w, _ in CLOSED])
def test_show_json_gives_the_closed_form(capsys, target, wrt, result):
    code, out, _ = run(capsys, "show", target, "--wrt", wrt, "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert {"target", "wrt", "result", "srepr", "latex", "steps"} <= set(data)
    assert data["result"] == result
    assert all({"rule", "latex", "reason"} <= set(s) for s in data["steps"])


def test_show_json_has_the_matrix_form_with_shape(capsys):
    _, out, _ = run(capsys, "show", "affine", "--wrt", "x", "--format", "json")
    matrix = json.loads(out)["matrix"]
    assert matrix["text"] == "Wᵀ ∂C/∂y" and matrix["shape"] == ["D", "1"]
    assert matrix["latex"] == r"\frac{\partial C}{\partial \mathbf{x}} = W^\top \frac{\partial C}{\partial \mathbf{y}}"


def test_show_with_a_cost_scale(capsys):
    _, out, _ = run(capsys, "show", "affine", "--wrt", "b", "--cost-scale", "3", "--format", "json")
    assert json.loads(out)["result"] == "3*dC_dy[i]"


@pytest.mark.parametrize("fmt, marker", [("md", "$$"), ("tex", r"\begin{align*}"), ("text", "result:")])
def test_show_formats(capsys, fmt, marker):
    code, out, _ = run(capsys, "show", "softmax", "--format", fmt)
    assert code == 0 and marker in out


def test_form_matrix_states_the_matrix_form_first(capsys):
    code, out, _ = run(capsys, "show", "affine", "--wrt", "W", "--form", "matrix")
    assert code == 0
    result = out[out.index("result:"):].splitlines()
    assert result[0] == "result: ∂C/∂W = ∂C/∂y xᵀ   shape M x D"
    assert result[1] == "index form: ∂C/∂W_ij = ∂C/∂y_i x_j"
    _, index_first, _ = run(capsys, "show", "affine", "--wrt", "W")
    assert index_first[index_first.index("result:"):].splitlines()[:2] == [
        "result: ∂C/∂W_ij = ∂C/∂y_i x_j", "matrix: ∂C/∂y xᵀ   shape M x D"]
    boxed = r"\boxed{\frac{\partial C}{\partial W} ="
    for fmt in ("md", "tex"):
        _, out, _ = run(capsys, "show", "affine", "--wrt", "W", "--form", "matrix", "--format", fmt)
        assert boxed in out and out.index(boxed) < out.index("In index form"), fmt


@pytest.mark.parametrize("form, present, absent", [
    ("index", ["δ1_i = 𝟙[s1_i > 0] (Σ_{l=1}^{d2} δ2_l W2_li)", "∂L/∂W1_ij = δ1_i x_j"],
     ["(W2ᵀ δ2)", "∂L/∂W1 = δ1 xᵀ", "index form:"]),
    ("matrix", ["δ1 = ∂L/∂z1 ⊙ f_1′(s1) = (W2ᵀ δ2) ⊙ 𝟙[s1 > 0]", "∂L/∂W1 = δ1 xᵀ"], ["δ1_i", "∂L/∂W1_ij"]),
    (None, ["(W2ᵀ δ2) ⊙ 𝟙[s1 > 0]", "index form: δ1_i", "∂L/∂W1 = δ1 xᵀ"], []),
])
def test_a_network_shows_the_form_asked_for(capsys, form, present, absent):
    code, out, _ = run(capsys, "show", "affine>relu>affine>mse", "--wrt", "W1", *(["--form", form] if form else []))
    assert code == 0
    assert all(p in out for p in present) and not any(a in out for a in absent)
    assert "∂L/∂W1 = ∂L/∂ŷ · ∂ŷ/∂z1" in out, "the chain rule is shown in either form"


def test_an_unknown_form_from_python_is_one_line():
    from derive.api import derivative
    from derive.errors import DeriveError

    with pytest.raises(DeriveError, match="unknown form 'matrx'; choose one of: index, matrix"):
        derivative("affine", wrt="W").markdown(form="matrx")


@pytest.mark.parametrize("argv, needle", [
    (["show", "sofmax"], "choose one of: affine"),
    (["show", "affine", "--wrt", "V"], "choose one of: W, b, x"),
    (["show", "hinge", "--form", "matrix"], "no matrix form"),
    (["show", "hinge", "--form", "matrix", "--format", "json"], "no matrix form"),
    (["show", "softmax", "--form", "both"], "invalid choice"),
    (["show", "softmax", "--cost-scale", "3"], "layers only"),
    (["show", "softmax", "--format", "pdf"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_python_m_derive_runs_the_same_cli():
    proc = subprocess.run([sys.executable, "-m", "derive", "show", "nope"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("derive: unknown target 'nope'")


def test_list_json(capsys):
    code, out, _ = run(capsys, "list", "--json")
    names = {row["name"] for row in json.loads(out)}
    assert code == 0 and {"affine", "softmax", "hinge", "svm", "l2", "bce_logits"} <= names


def test_show_checks_what_it_shows(capsys):
    _, out, _ = run(capsys, "show", "sigmoid")
    assert out.rstrip().splitlines()[-1] == ("checked: the result agrees with sympy.diff of the definition at "
                                             "every index, and with central finite differences; the matrix form "
                                             "agrees with it at every entry.")
    _, out, _ = run(capsys, "show", "hinge")  # no matrix form: the line does not claim one
    assert out.rstrip().splitlines()[-1].endswith("and with central finite differences.")
    _, out, _ = run(capsys, "show", "affine", "--wrt", "W", "--format", "json")
    check = json.loads(out)["check"]
    assert check["sizes"] == {"D": 2, "M": 3} and check["max_finite_difference_error"] < 1e-5


# --------------------------------------------------------------------------- the terminal as a person meets it


def test_bare_derive_prints_the_usage_with_examples(capsys):
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    assert err.startswith("usage: derive") and "examples:" in err and "derive show softmax" in err


def test_a_mistyped_command_is_one_line_naming_the_near_miss(capsys):
    code, _, err = run(capsys, "shwo", "softmax")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("derive: ") and not err.startswith("derive: derive")
    assert "did you mean show?" in err and "choose one of: list, show" in err


def test_a_mistyped_target_names_the_near_miss(capsys):
    code, _, err = run(capsys, "show", "sofmax")
    assert code == 2 and "unknown target 'sofmax'; did you mean softmax? choose one of:" in err


def test_an_option_error_says_the_command_once(capsys):
    code, _, err = run(capsys, "show", "--wrt")
    assert code == 2 and err.strip() == "derive: show: argument --wrt: expected one argument"


def test_a_chain_may_be_joined_by_commas_which_a_shell_leaves_alone(capsys):
    _, with_commas, _ = run(capsys, "show", "affine,leaky_relu[alpha=0.1],affine,mse", "--wrt", "W1")
    _, with_arrows, _ = run(capsys, "show", "affine>leaky_relu[alpha=0.1]>affine>mse", "--wrt", "W1")
    assert with_commas == with_arrows and with_commas.startswith("network affine>leaky_relu[alpha=0.1]>affine>mse")
