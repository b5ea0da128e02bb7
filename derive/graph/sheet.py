"""The graph sheet: a small TOML form for a graph (or a circuit) and its worked example.

    title = "A residual block"
    [graph]                      # or: chain = "affine>relu>affine>mse", [circuit], or
                                 #     rnn = { steps = 3, loss = "mse" } (unrolled, derive.graph.rnn)
    name = "residual"
    inputs = { x = ["d0"] }      # a circuit's inputs are numbers: { x = -2, y = 5 }
    [[node]]
    name = "h"
    module = "affine"            # a registry entry, a gate (add, multiply, subtract, max)
    x = "x"                      # the module's variables, bound to values by name
    W = "W1"
    b = "b1"
    [example]                    # optional: numbers, one SGD step
    lr = 0.1
    weight_decay = 0.01          # or { W1 = 0.01 }
    frozen = ["b1"]
    values = { x = [1, 2], W1 = [[0.5, -0.5], [1, 0]], … }

Everything in it is checked as the Python form is; a mistake is one line naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tomllib

from derive.errors import DeriveError

TOP = ("title", "intro", "graph", "circuit", "chain", "rnn", "node", "example")
NODE_KEYS = ("name", "module", "size")
EXAMPLE_KEYS = ("lr", "weight_decay", "frozen", "values", "hypers", "decimals")
MAX_BYTES = 200_000


@dataclass
class GraphSheet:
    title: str
    intro: str
    graph: object  # derive.graph.Graph, or a Circuit
    example: dict | None
    source: str

    @property
    def is_circuit(self) -> bool:
        from derive.graph.circuit import Circuit

        return isinstance(self.graph, Circuit)


def _unknown(where: str, keys, allowed) -> None:
    bad = sorted(set(keys) - set(allowed))
    if bad:
        raise DeriveError(f"{where}: unknown key {bad[0]!r}; choose from: {', '.join(allowed)}")


BUNDLED = Path(__file__).resolve().parent / "sheets"


def bundled() -> list:
    """The names of the bundled graph sheets (derive/graph/sheets/NAME.toml)."""
    return sorted(p.stem for p in BUNDLED.glob("*.toml"))


def resolve(name_or_file: str) -> Path:
    """A sheet file, or a bundled sheet by name (`derive graph residual`)."""
    path = Path(name_or_file)
    if path.exists() or path.suffix == ".toml" or any(c in name_or_file for c in "/\\"):
        return path
    if name_or_file in bundled():
        return BUNDLED / f"{name_or_file}.toml"
    from derive.errors import unknown

    raise unknown("graph sheet", name_or_file, bundled())


def load(path: str | Path) -> GraphSheet:
    path = resolve(str(path))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DeriveError(f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise DeriveError(f"{path} is larger than {MAX_BYTES} bytes")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DeriveError(f"{path}: not valid TOML ({exc})") from None
    return parse(data, str(path))


def parse(data: dict, source: str = "<sheet>") -> GraphSheet:
    from derive.graph import graph as make_graph
    from derive.graph.circuit import Circuit
    from derive.graph.model import Graph

    _unknown(source, data, TOP)
    kinds = [k for k in ("graph", "circuit", "chain", "rnn") if k in data]
    if len(kinds) != 1:
        raise DeriveError(f"{source}: give exactly one of [graph], [circuit], chain = \"…\" or rnn = {{ steps = 3 }}")
    nodes = data.get("node", [])
    if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes):
        raise DeriveError(f"{source}: write each node as a [[node]] table")
    if kinds[0] in ("chain", "rnn") and nodes:
        raise DeriveError(f"{source}: a {kinds[0]} has its nodes already; drop the [[node]] tables or use [graph]")
    if "chain" in data:
        g = make_graph(str(data["chain"]))
    elif "rnn" in data:
        from derive.graph.rnn import rnn

        spec = data["rnn"]
        if not isinstance(spec, dict):
            raise DeriveError(f"{source}: write rnn = {{ steps = 3 }} (and optionally loss = \"mse\", every_step = false)")
        _unknown("rnn", spec, ("steps", "loss", "every_step"))
        g = rnn(spec.get("steps"), str(spec.get("loss", "mse")), bool(spec.get("every_step", True)))
    else:
        head = data[kinds[0]]
        if not isinstance(head, dict):
            raise DeriveError(f"{source}: [{kinds[0]}] is a table with name and inputs")
        _unknown(f"[{kinds[0]}]", head, ("name", "inputs"))
        g = (Circuit if kinds[0] == "circuit" else Graph)(str(head.get("name", Path(source).stem)))
        inputs = head.get("inputs", {})
        if not isinstance(inputs, dict):
            said = "-2" if kinds[0] == "circuit" else '["d0"]'
            raise DeriveError(f"[{kinds[0]}] inputs: a table, e.g. inputs = {{ x = {said} }}")
        for name, value in inputs.items():
            if kinds[0] == "circuit":
                g.input(name, value)
            else:
                g.input(name, *(value if isinstance(value, list) else [value]))
        for n, node in enumerate(nodes, 1):
            if "name" not in node or "module" not in node:
                raise DeriveError(f"node {n}: give its name and module, e.g. name = \"h\", module = \"affine\"")
            binds = {k: v for k, v in node.items() if k not in NODE_KEYS}
            if kinds[0] == "circuit":
                if "size" in node:
                    raise DeriveError(f"gate {node['name']}: a circuit's values are numbers; drop size")
                g.node(str(node["name"]), str(node["module"]), **binds)
            else:
                g.node(str(node["name"]), str(node["module"]), size=node.get("size"), **binds)
    example = data.get("example")
    if example is not None:
        if kinds[0] == "circuit":
            raise DeriveError(f"{source}: a circuit's numbers are its inputs; drop [example]")
        if not isinstance(example, dict):
            raise DeriveError(f"{source}: [example] is a table")
        _unknown("[example]", example, EXAMPLE_KEYS)
    return GraphSheet(str(data.get("title", Path(source).stem)), str(data.get("intro", "")), g, example, source)


def solve(sheet: GraphSheet) -> dict:
    """Everything the sheet shows, each checked: the derivation (or the circuit's numbers), the code,
    the example, the picture's source."""
    from derive.graph.picture import graph_dot

    if sheet.is_circuit:
        result = sheet.graph.run()
        return {"circuit": result, "dot": result.dot()}
    bp = sheet.graph.derive()
    out = {"derivation": bp, "numpy": sheet.graph.numpy(), "dot": graph_dot(sheet.graph.resolved())}
    if sheet.example is not None:
        ex = dict(sheet.example)
        values = ex.pop("values", None)
        if not isinstance(values, dict):
            raise DeriveError("[example] values: a table of every input, target and parameter")
        frozen = ex.pop("frozen", ())
        out["example"] = sheet.graph.example(values=values, frozen=tuple(frozen), **ex)
        out["dot"] = graph_dot(sheet.graph.resolved(), out["example"])  # the example's numbers on the edges
    return out


def markdown(sheet: GraphSheet, solved: dict, picture: str | None) -> str:
    out = [f"# {sheet.title}", ""]
    if sheet.intro:
        out += [sheet.intro.strip(), ""]
    if picture:
        out += [f"![{sheet.title}]({picture})", ""]
    if sheet.is_circuit:
        return "\n".join(out + [solved["circuit"].markdown()])
    out += [solved["derivation"].markdown(), "", "**NumPy code** (checked by central differences):", "",
            "```python", solved["numpy"].rstrip(), "```", ""]
    if "example" in solved:
        out += [solved["example"].markdown()]
    return "\n".join(out)


def tex(sheet: GraphSheet, solved: dict) -> str:
    from derive.graph.circuit import FD_RTOL as CIRCUIT_RTOL
    from derive.graph.example import FD_RTOL as EXAMPLE_RTOL
    from derive.graph.example_render import example_latex
    from derive.graph.picture import circuit_latex, graph_tikz
    from derive.render.printer import escape_tex

    out = [r"\documentclass{article}", r"\usepackage{amsmath,amssymb,tikz,longtable,graphicx,listings}",
           r"\usepackage[margin=2cm]{geometry}",
           (r"\lstset{basicstyle=\ttfamily\small,columns=fullflexible,keepspaces=true,breaklines=true,"
            r"upquote=true}"),  # a long line of the generated code breaks at the margin
           r"\begin{document}", rf"\section*{{{escape_tex(sheet.title)}}}"]
    if sheet.intro:
        out.append(escape_tex(sheet.intro.strip()))
    if sheet.is_circuit:
        r = solved["circuit"]
        out += [r"\begin{center}", r.tikz(), r"\end{center}", r"\begin{center}", circuit_latex(r), r"\end{center}",
                escape_tex(f"checked: every gradient agrees with central differences of the forward pass "
                           f"(relative error below {CIRCUIT_RTOL:.0e})")]
    else:
        bp = solved["derivation"]
        out += [r"\begin{center}", graph_tikz(bp.graph, solved.get("example")), r"\end{center}", r"\[", bp.latex(), r"\]",
                escape_tex(bp.checked.bounded()), r"\begin{lstlisting}[language=Python]", solved["numpy"].rstrip(),
                r"\end{lstlisting}"]
        if "example" in solved:
            ex = solved["example"]
            out += [r"\subsection*{Worked example}", example_latex(ex),
                    escape_tex(f"checked: every parameter's gradient at these numbers agrees with central "
                               f"differences, entry by entry (relative error below {EXAMPLE_RTOL:.0e})")]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"
