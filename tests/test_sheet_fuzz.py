"""Random sheet files (values of wrong types, huge and tiny numbers, long text, markup) through
`derive sheet`: exit 0 or 2, one line on stderr for an error, never a traceback, within the limits."""

from __future__ import annotations

import copy
import json
import math
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.cli import main

MARKUP = ["<svg/onload=alert(1)>", "```", "````\n<script>x</script>", "$\\input{/etc/passwd}$", "\\end{lstlisting}",
          "$$", "*", "[x](javascript:alert(1))", "$x^^41$", "# h", "| a | b |", "\\", "$", "\x00", "\u202e"]
NUMBERS = st.one_of(st.integers(min_value=-10**40, max_value=10**40), st.floats(),
                    st.sampled_from([1e308, -1e308, 5e-324, 1e-30, 0.0, -0.0, math.nan, math.inf]))
TEXT = st.one_of(st.text(max_size=40), st.sampled_from(MARKUP), st.lists(st.sampled_from(MARKUP + ["a ", "$x$ "]),
                                                                         max_size=6).map("".join),
                 st.integers(1, 5000).map(lambda n: "y" * n))
JUNK = st.one_of(NUMBERS, TEXT, st.booleans(), st.lists(st.integers(-5, 70), max_size=4), st.just({}),
                 st.dictionaries(st.sampled_from(["K", "x", "a", "Q"]), st.one_of(st.integers(-3, 70), TEXT),
                                 max_size=2))


LINE = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)
TOKENS = ["x[i]", "x[k]", "exp(", "log(", "tanh(", "sqrt(", ")", "+", "-", "*", "/", "^", "16", "2", "1000000", "a",
          "sum(", ", k, 1, K)", "(", "relu(", "max(", ",", "delta(i,k)", "0", "1.5", "x[i,j]", "b", "((", "^16^16"]
EXPR = st.one_of(st.sampled_from(["exp(a*x[i]) / sum(exp(a*x[k]), k, 1, K)", "a*tanh(x[i])", "log(x[i])", "sum(x[k]^2, k, 1, K)",
                                  "(((x[i]+1)^16)^16)^16", "sqrt(x[i] - 1000000)", "x[i]^16 * x[i]^16"]),
                 st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8).map("".join))
VECTOR = st.lists(st.floats(-3, 3), min_size=1, max_size=4)
MODULE = st.fixed_dictionaries(
    {"name": st.just("m"), "output": st.sampled_from(["y[i]", "L", "y"]), "expr": EXPR, "inputs": st.just(["x"]),
     "shapes": st.fixed_dictionaries({"x": st.just(["K"]), "y": st.just(["K"]), "a": st.just([]),
                                      "L": st.just([])})},
    optional={"sizes": st.fixed_dictionaries({"K": st.integers(1, 4)}), "title": LINE,
              "kind": st.sampled_from(["activation", "loss", "layer"])})
NUMERIC = {
    "target": st.fixed_dictionaries({"x": VECTOR, "beta": st.floats(-3, 3)}),
    "svm": st.fixed_dictionaries({"s": st.just([1.0, 2.0, 0.5]), "t": st.integers(1, 3), "Delta": st.floats(0.1, 2)}),
    "module": st.fixed_dictionaries({"x": VECTOR, "a": st.floats(-3, 3)}),
    "network": st.fixed_dictionaries({"X": st.just([[0.75, 0.2], [0.8, 0.05]]),
                                      "W1": st.just([[0.6, 0.01], [0.7, 0.43]]), "W2": st.just([[0.02, 0.03]]),
                                      "targets": st.just([[1, -1]]), "lr": st.floats(0.01, 1),
                                      "loss": st.sampled_from(["half_mean", "sum", "mean"])}),
}
CHAINS = ["affine_batch>relu>affine_batch>half_frobenius", "affine_batch>sigmoid>affine_batch>half_frobenius",
          "affine>leaky_relu[alpha=0.1]>affine>mse"]
KIND = st.one_of(
    st.fixed_dictionaries({"target": st.sampled_from(["sigmoid", "tanh", "softmax", "affine"])},
                          optional={"scale": st.sampled_from([1, 3, "1/2", 0.25]), "numeric": NUMERIC["target"],
                                    "form": st.sampled_from(["index", "matrix"])}),
    st.fixed_dictionaries({"target": st.just("svm"), "wrt": st.just("s")}, optional={"numeric": NUMERIC["svm"]}),
    st.fixed_dictionaries({"module": MODULE, "wrt": st.just("x")}, optional={"numeric": NUMERIC["module"]}),
    st.fixed_dictionaries({"network": st.sampled_from(CHAINS), "wrt": st.just(["W1"])},
                          optional={"numeric": NUMERIC["network"]}),
    st.fixed_dictionaries({"identity": st.fixed_dictionaries({"lhs": EXPR, "rhs": EXPR, "shapes": st.fixed_dictionaries(
        {"x": st.just(["K"]), "a": st.just([])})})}),
    st.fixed_dictionaries({"solution": TEXT}, optional={"code": TEXT}),
)
PART = st.tuples(KIND, st.fixed_dictionaries({}, optional={"statement": TEXT, "remark": TEXT})).map(
    lambda kv: {**kv[1], **kv[0]})
SHEET = st.fixed_dictionaries(
    {"title": LINE, "questions": st.lists(st.fixed_dictionaries(
        {"title": LINE, "parts": st.lists(PART, min_size=1, max_size=2)}, optional={"statement": TEXT}),
        min_size=1, max_size=2)},
    optional={"course": LINE, "preamble": TEXT})


def places(value, out=None) -> list:
    """Every (table or list, key) in a sheet: where a wrong value can go."""
    out = [] if out is None else out
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        out.append((value, k))
        places(v, out)
    return out


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{ " + ", ".join(f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items()) + " }"


def toml(sheet: dict) -> str:
    """The sheet as TOML: questions and parts as [[tables]] where they are lists of tables, else inline."""

    def tables(table: dict, name: str, nested: str | None) -> list:
        inner = table.get(nested) if nested else None
        sub = isinstance(inner, list) and inner and all(isinstance(t, dict) for t in inner)
        lines = [f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in table.items() if not (sub and k == nested)]
        for t in inner if sub else ():
            lines.append(f"[[{name}.{nested}]]" if name else f"[[{nested}]]")
            lines += tables(t, f"{name}.{nested}" if name else nested, "parts" if nested == "questions" else None)
        return lines

    return "\n".join(tables(sheet, "", "questions")) + "\n"


def raw_html(markdown: str) -> list:
    prose = re.sub(r"(?ms)^(`{3,}).*?^\1`*$", "", markdown)  # fenced blocks show as typed
    prose = re.sub(r"(`+)(.+?)(?<!`)\1(?!`)", "", prose, flags=re.DOTALL)
    return [t for t in re.findall(r"<[A-Za-z/!?][^>]*>?", prose) if t not in ("<sub>", "</sub>")]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                             HealthCheck.function_scoped_fixture])
@given(SHEET, st.data())
def test_any_sheet_file_gives_output_or_one_line(capsys, sheet, data):
    # a plausible sheet, and mostly one value in it made wrong: of another type, huge or tiny, long, markup
    sheet = copy.deepcopy(sheet)  # st.just values are shared between examples: change a copy
    where = places(sheet)
    if data.draw(st.integers(0, 3)):
        table, key = where[data.draw(st.integers(0, len(where) - 1))]
        table[key] = data.draw(JUNK)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.toml"
        path.write_text(toml(sheet), encoding="utf-8")
        capsys.readouterr()  # capsys is shared by the examples: start each one empty
        code = main(["sheet", str(path), "-o", str(Path(tmp) / "out"), "--format", "md,tex", "-j", "1",
                     "--time-limit", "5"])  # a traceback fails the test: main lets only DeriveError become exit 2
        err = capsys.readouterr().err
        assert code in (0, 2), err
        if code == 2:
            assert len(err.splitlines()) == 1 and err.startswith("derive: "), err
            assert not (Path(tmp) / "out").exists()
        else:
            assert all(line.startswith("derive: warning: ") for line in err.splitlines()), err
            assert raw_html((Path(tmp) / "out" / "fuzz.md").read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("module, words", [
    ('output = "y[i]"\nexpr = "log(x[i])"\nkind = "loss"', "a loss has one number as its output"),
    ('output = "y[i]"\nexpr = "sqrt(x[i] - 1000000)"', "finite real numbers"),
])
def test_what_fuzzing_found_is_one_line(tmp_path, capsys, module, words):
    path = tmp_path / "s.toml"
    path.write_text('title = "T"\n[[questions]]\ntitle = "Q"\nwrt = "x"\n[questions.module]\nname = "m"\n'
                    f'{module}\ninputs = ["x"]\nshapes = {{ x = ["K"], y = ["K"] }}\n', encoding="utf-8")
    assert main(["sheet", str(path), "-o", str(tmp_path / "out"), "--format", "md", "-j", "1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and words in err[0]
