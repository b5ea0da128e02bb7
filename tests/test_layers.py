"""The package is in layers: a module imports only from its own layer or from the layers below.

From the bottom up, each layer is made of the ones below it, and none knows what is above:

1. foundation (`errors`, `limits`, `cache`, `doors`, `numpy_lambdify`, `float_compile`, `warm`, `beside`):
   one-line errors, bounds and time limits, the pickle cache, the table of doors, the compilers to NumPy
   and to floats, a start without collections, work on a second core; nothing of
   derive's own beneath them.
2. model (`model/`): the matrix-expression tree, its one evaluator, the notation of names.
3. definitions (`definitions/`): the registry; what each module computes, in index notation.
4. steps (`steps`): a derivation as data: typed steps, each able to check itself, matrix form.
5. concrete (`concrete`): a derivation at concrete sizes and random points, sums written out.
6. calculus (`calculus/`): the engine that makes derivations and proofs; it neither prints
   nor verifies, so it sits below both.
7. verify (`verify`, `verify_matrix`, `verify_staged`, `verify_steps`, `verify_zero`,
   `derivation`): every result checked before it is shown;
   `derivation` is the one way the layers above get a module's derivation, so that networks, the
   checker and sheets never go through the public API (which sits on top of them all).
8. render (`render/`): the printers (LaTeX, Unicode text, NumPy code) and the templates'
   environment; they read derivations and reports and compute nothing, so they need nothing
   above verification (the sentence saying what was checked is theirs, not verify's).
9. network (`network/`): chains of registry modules. A network is built from everything below:
   the engine's local derivations, their verification, and the printers for its own pages and
   generated code; nothing below needs a network.
    graph (`graph/`): graphs of modules (skip connections, tied weights, RNNs, circuits), made of
    the network's pieces, so it sits just above network.
10. check (`check/`): the answer checker compares an answer with a module's or a network's
    derivation, so it sits above both.
11. sheets (`sheets/`): a sheet solves, checks and renders its parts.
    audit (`audit/`): a written solution's claims, tied to a sheet's questions and checked by
    the checker against the sheet's derivations, so it sits just above sheets.
12. serve (`serve/`): the checking page, over the checker and the bundled sheets.
13. front (`api`, `cli`, the package root): the public functions and the command line.

A value made low (a Derivation, a proof, a network's derivation) still offers `.latex()` and
`.check(answer)`: such a method opens a door by name (derive.doors), and the package root, which
is above every layer, names the function that serves it. Imports inside functions are held to the
same order; those that remain go downward and keep start-up fast (`derive list`, `derive --help`).

A module also imports no private name (`_name`) from another package of derive: what one package
offers the others is public.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "derive"

LAYERS = [
    ("foundation", ["errors", "limits", "cache", "doors", "numpy_lambdify", "float_compile", "warm", "beside"]),
    ("model", ["model"]),
    ("definitions", ["definitions"]),
    ("steps", ["steps"]),
    ("concrete", ["concrete"]),
    ("calculus", ["calculus"]),
    ("verify", ["verify", "verify_matrix", "verify_staged", "verify_steps", "verify_zero", "derivation"]),
    ("render", ["render"]),
    ("network", ["network"]),
    ("graph", ["graph"]),
    ("check", ["check"]),
    ("sheets", ["sheets"]),
    ("audit", ["audit"]),
    ("serve", ["serve"]),
    ("front", ["api", "cli", "__main__", "__init__"]),
]
RANK = {unit: (rank, name) for rank, (name, units) in enumerate(LAYERS) for unit in units}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit(module: str) -> str:
    """The layer unit of a module: its folder under derive/, or its own name at the top level."""
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def imports(path: Path, module: str | None = None):
    """(line, imported module, names) for every import in `path` (the module `module`), at any depth."""
    module = module or module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            yield node.lineno, target, tuple(a.name for a in node.names)


def targets(imported: str, names: tuple) -> list[str]:
    """The modules an import reaches: `from derive import cache` reaches derive.cache."""
    if imported == "derive":
        return [f"derive.{n}" for n in names] or ["derive"]
    return [imported]


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_unit_has_a_layer():
    units = {unit(module_name(p)) for p in sources()}
    assert units <= set(RANK), f"modules with no layer: {sorted(units - set(RANK))}"
    assert set(RANK) <= units, f"layers name modules that do not exist: {sorted(set(RANK) - units)}"


MODULE_TEXT = re.compile(r"derive(\.\w+)+(:\w+)?")


def test_no_module_names_one_above_it_to_import_by_text():
    """`import_module("derive.check")` would go upward unseen by the scan: a module's text constants
    name no module of a layer above it (the package root's table of doors is at the top)."""
    wrong = []
    for path in sources():
        here = unit(module_name(path))
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and MODULE_TEXT.fullmatch(text):
                there = unit(text.partition(":")[0])
                if there in RANK and RANK[there][0] > RANK[here][0]:
                    wrong.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {text!r}")
    assert not wrong, "modules named by text from a layer below:\n" + "\n".join(wrong)


def test_imports_go_only_downward():
    wrong = []
    for path in sources():
        here = unit(module_name(path))
        for line, imported, names in imports(path):
            if imported != "derive" and not imported.startswith("derive."):
                continue
            for target in targets(imported, names):
                there = unit(target)
                if there in RANK and RANK[there][0] > RANK[here][0]:
                    wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {RANK[here][1]} ({here}) "
                                 f"imports {target} from the layer above, {RANK[there][1]}")
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_private_name_crosses_a_package():
    wrong = []
    for path in sources():
        here = unit(module_name(path))
        for line, imported, names in imports(path):
            if not imported.startswith("derive.") or unit(imported) == here:
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {', '.join(private)} "
                             f"from {imported}")
    assert not wrong, "private names imported from another package:\n" + "\n".join(wrong)


def test_the_scan_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("import os\n\ndef f():\n    from derive.check import check\n    from . import lines\n")
    assert list(imports(source, "derive.render.probe")) == [
        (1, "os", ()), (4, "derive.check", ("check",)), (5, "derive.render", ("lines",))]


def test_every_door_leads_to_a_function():
    import importlib

    import derive
    from derive import doors

    assert set(doors.HANDLERS) == set(derive.DOORS)
    for door, handler in doors.HANDLERS.items():
        module, _, name = handler.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), door
