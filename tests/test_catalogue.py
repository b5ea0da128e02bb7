"""`derive list` shows each entry's variables, read from a catalogue that matches the definitions."""

from __future__ import annotations

import json
import subprocess
import sys

from derive.definitions import entries, get
from derive.definitions.catalogue import VARIABLES
from derive.definitions.describe import CATALOGUE, describe, source


def test_the_catalogue_is_the_definitions_own():
    assert CATALOGUE.read_text(encoding="utf-8") == source(), \
        "derive/definitions/catalogue.py is stale; run: python -m derive.definitions.describe"
    from derive.definitions import builtin

    for e in (e for e in entries() if builtin(e.name)):  # not a module another test registered
        assert VARIABLES[e.name] == describe(get(e.name))


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "derive", *args], capture_output=True, text=True,
                          check=True)


def test_list_shows_inputs_hyperparameters_targets_and_output_without_sympy():
    r = _run("list")
    assert "sympy" not in r.stderr  # -X importtime names every module imported
    lines = r.stdout.splitlines()
    assert lines[lines.index(next(x for x in lines if x.startswith("affine "))) + 1].strip() == \
        "wrt W (M × D), b (M), x (D); output y (M)"
    assert "wrt x (K); hyper beta; output y (K)" in r.stdout  # softmax
    assert "wrt o (K); hyper C; target t; output L" in r.stdout  # hinge
    assert "wrt x (entry by entry); output y" in r.stdout  # relu


def test_list_json_gives_the_variables_as_fields():
    rows = {r["name"]: r for r in json.loads(_run("list", "--json").stdout)}
    assert rows["mse"]["inputs"] == [{"name": "yhat", "shape": ["K"]}]
    assert rows["mse"]["targets"] == [{"name": "y", "shape": ["K"]}] and rows["mse"]["output"]["name"] == "L"
    assert {"name", "kind", "title"} <= set(rows["softmax"])
