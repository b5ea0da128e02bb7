"""Bounded work: every input that grows the work is refused in one line naming the field and the
limit, and each derivation and sheet part runs under a time limit."""

from __future__ import annotations

import textwrap

import pytest

from derive import limits
from derive.cli import main

HEAD = 'title = "T"\n[[questions]]\ntitle = "Q"\n'


def module(expr="tanh(x[i])", sizes=""):
    return textwrap.dedent(f'''\
        wrt = "x"
        [questions.module]
        name = "m"
        output = "y[i]"
        expr = "{expr}"
        inputs = ["x"]
        shapes = {{ x = ["K"], y = ["K"] }}
        ''') + (f"sizes = {sizes}\n" if sizes else "")


UVA = ('network = "affine_batch>relu>affine_batch>half_frobenius"\nwrt = ["W1"]\n'
       'numeric = {{ X = [[0.75, 0.2], [0.8, 0.05]], W1 = [[0.6, 0.01], [0.7, 0.43]], W2 = [[0.02, 0.03]], '
       'targets = [[1, -1]], lr = {lr}, loss = "half_mean" }}\n')

REFUSED = [
    # (the part, words the one-line refusal must hold: the field and the limit)
    (module("(((x[i]+1)^16)^16)^16"), ["power 4096", "at most 16"]),
    ('target = "softmax"\nnumeric = { x = [' + ", ".join(["0.5"] * 3000) + '], beta = 1 }\n',
     ["numeric x", "3000 entries", "at most 10"]),
    (module(sizes="{ K = 60 }"), ["sizes K", "from 1 to 10", "60"]),
    (module(sizes="{ K = 0 }"), ["sizes K", "from 1 to 10"]),
    (module(sizes="{ K = -3 }"), ["sizes K", "from 1 to 10"]),
    (module(sizes='{ K = "abc" }'), ["sizes K", "from 1 to 10", "'abc'"]),
    (module(sizes="{ Q = 3 }"), ["sizes names 'Q'", "K"]),
    ('target = "affine"\nscale = "1e999999999"\n', ["scale", "at most 40 characters"]),
    ('target = "affine"\nscale = nan\n', ["scale", "finite"]),
    ('target = "affine"\nscale = inf\n', ["scale", "finite"]),
    ('target = "affine"\nscale = -inf\n', ["scale", "finite"]),
    ('target = "affine"\nscale = 1e300\n', ["scale", "at most 1e+06"]),
    ('target = "affine"\nscale = 1e-30\n', ["scale", "at least 1e-06"]),
    ('target = "affine"\nscale = "1/0"\n', ["scale", "division by zero"]),
    ('[questions.identity]\nlhs = "x[i]"\nrhs = "x[i]"\nshapes = "K"\n', ["shapes must be a table"]),
    ('[questions.identity]\nlhs = "x[i]"\nrhs = "x[i]"\nshapes = { x = "K" }\n', ["shape of x", "list of dimensions"]),
    ('[questions.identity]\nlhs = "exp(exp(1000000))"\nrhs = "1"\nshapes = {}\n', ["exp of a number", "1000"]),
    ('[questions.identity]\nlhs = "exp(x[i] + 1000)"\nrhs = "exp(x[i])*exp(1000)"\nshapes = { x = ["K"] }\n',
     ["cannot be checked by value", "not a finite number"]),
    ('target = "svm"\nnumeric = { s = [1.0, 2.0, 0.5], t = [1], Delta = 1 }\n', ["numeric t", "class index"]),
    ('target = "svm"\nnumeric = { s = [1.0, 2.0, 0.5], t = 7, Delta = 1 }\n', ["numeric t", "from 1 to 3"]),
    ('target = "softmax"\nnumeric = { x = [1.0, nan, 2.0], beta = 1 }\n', ["numeric x", "finite"]),
    ('target = "softmax"\nnumeric = { x = [1.0, 1e300, 2.0], beta = 1 }\n', ["numeric x", "at most 1e+06"]),
    ('network = "affine>relu>affine>mse"\nnumeric = "abc"\n', ["numeric must be a table"]),
    ('network = ["affine"]\n', ["network must be a chain"]),
    (UVA.format(lr='"fast"'), ["numeric lr", "must be a number"]),
    (UVA.format(lr="inf"), ["numeric lr", "finite"]),
    ('network = "affine>leaky_relu[alpha=12345678901234567890123456789012345]>affine>mse"\n',
     ["leaky_relu[alpha]", "at most 1e+06"]),
    ('network = "affine>leaky_relu[alpha=1e400]>affine>mse"\n', ["leaky_relu[alpha]", "finite"]),
    ("".join('[[questions.parts]]\nstatement = "p"\ntarget = "sigmoid"\n' for _ in range(27)),
     ["at most 26 parts", "27"]),
]


@pytest.mark.parametrize("body, words", REFUSED, ids=[f"case{n}" for n in range(len(REFUSED))])
def test_an_input_past_a_limit_is_refused_in_one_line(tmp_path, capsys, body, words):
    path = tmp_path / "sheet.toml"
    path.write_text(HEAD + body, encoding="utf-8")
    assert main(["sheet", str(path), "-o", str(tmp_path / "out"), "--format", "md", "-j", "1"]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"derive: {path}:"), err
    for word in words:
        assert word in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, words", [
    (["show", "affine", "--cost-scale", "1e999999999"], ["--cost-scale", "at most 40 characters"]),
    (["show", "affine", "--cost-scale", "nan"], ["--cost-scale"]),
    (["show", "affine", "--cost-scale", "1e30"], ["--cost-scale", "at most 1e+06"]),
    (["check", "affine", "--cost-scale", "1e999999999", "x"], ["--cost-scale", "at most 40 characters"]),
    (["show", "affine>leaky_relu[alpha=12345678901234567890123456789012345]>affine>mse"], ["leaky_relu[alpha]"]),
    (["show", "affine", "--time-limit", "-1"], ["--time-limit"]),
    (["sheet", "nyu2020_hw1", "--time-limit", "nan"], ["--time-limit"]),
])
def test_a_command_line_number_past_a_limit_is_refused_in_one_line(capsys, argv, words):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    for word in words:
        assert word in err[0]


@pytest.mark.parametrize("text, value", [("3", 3), ("1/2", 0.5), ("-2.5e-3", -0.0025), (0.1, 0.1), (7, 7)])
def test_numbers_within_the_limits_are_read_exactly(text, value):
    assert limits.scale(text) == pytest.approx(value)


def test_the_time_limit_stops_a_loop_that_swallows_exceptions(monkeypatch):
    monkeypatch.setattr(limits, "_seconds", 0.2)

    def stubborn():
        while True:
            try:
                while True:
                    pass
            except Exception:  # noqa: BLE001, S110  (what SymPy does in places: the limit must not be lost)
                pass

    with pytest.raises(limits.TimeLimitError, match="the loop took longer than 0.2 s"), limits.time_limit("the loop"):
        stubborn()
    with limits.time_limit("a quick one"):  # disarmed after: nothing fires later
        pass


def _forever(*args, **kwargs):
    while True:
        pass


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_sheet_part_past_the_time_limit_is_refused_naming_the_part(tmp_path, capsys, monkeypatch, jobs):
    from derive.sheets import solve

    monkeypatch.setattr(solve, "_solve_part", _forever)  # forked workers inherit the endless part
    path = tmp_path / "sheet.toml"
    path.write_text(HEAD + "".join(f'[[questions.parts]]\nstatement = "p"\ntarget = "{t}"\n'
                                   for t in ("tanh", "sigmoid")), encoding="utf-8")
    argv = ["sheet", str(path), "-o", str(tmp_path / "out"), "--format", "md", "-j", jobs, "--time-limit", "0.5"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [(f"derive: {path}:4: this part took longer than 0.5 s, the time limit "
                    "(--time-limit SECONDS to change it)")]
    assert not (tmp_path / "out").exists() and not limits.expired
    assert limits.time_limit_seconds() == limits.TIME_LIMIT  # the option lasts one command


def test_derive_show_runs_under_the_time_limit(capsys, monkeypatch):
    import derive.network.chain

    monkeypatch.setenv("DERIVE_NO_CACHE", "1")
    monkeypatch.setattr(derive.network.chain, "derive_request", _forever)  # what `show` calls for a module
    assert main(["show", "softmax", "--wrt", "x", "--time-limit", "0.3"]) == 2
    assert capsys.readouterr().err == ("derive: deriving softmax with respect to x took longer than 0.3 s, "
                                       "the time limit (--time-limit SECONDS to change it)\n")
