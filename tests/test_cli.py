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
    assert matrix["text"] == "W.T @ dC/dy" and matrix["shape"] == ["D", "1"]


def test_show_with_a_cost_scale(capsys):
    _, out, _ = run(capsys, "show", "affine", "--wrt", "b", "--cost-scale", "3", "--format", "json")
    assert json.loads(out)["result"] == "3*dC_dy[i]"


@pytest.mark.parametrize("fmt, marker", [("md", "$$"), ("tex", r"\begin{align*}"), ("text", "result:")])
def test_show_formats(capsys, fmt, marker):
    code, out, _ = run(capsys, "show", "softmax", "--format", fmt)
    assert code == 0 and marker in out


@pytest.mark.parametrize("argv, needle", [
    (["show", "sofmax"], "choose one of: affine"),
    (["show", "affine", "--wrt", "V"], "choose one of: W, b, x"),
    (["show", "hinge", "--form", "matrix"], "no matrix form"),
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
