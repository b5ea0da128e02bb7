"""Pictures of circuits and graphs: Graphviz (SVG for Markdown and notebooks) and TikZ (LaTeX/PDF),
forward values above and gradients below each edge, as course notes draw circuits; and the tables
beside them in text and Markdown."""

from __future__ import annotations

import html
import shutil
import subprocess
from fractions import Fraction

import sympy as sp

from derive.errors import DeriveError
from derive.graph.circuit import FD_RTOL

SYMBOL = {"add": "+", "multiply": "×", "subtract": "−", "max": "max", "sigmoid": "σ", "tanh": "tanh",
          "relu": "ReLU"}
TEX_SYMBOL = {"add": "+", "multiply": r"\times", "subtract": "-", "max": r"\max", "sigmoid": r"\sigma",
              "tanh": r"\tanh", "relu": r"\mathrm{ReLU}"}


def number(x) -> str:
    """−12, 3/4, 0.7311: exact where the value is, four significant digits otherwise."""
    x = sp.sympify(x)
    if x.is_Integer:
        return str(int(x)).replace("-", "−")
    if x.is_Rational and x.q <= 64:
        return str(Fraction(int(x.p), int(x.q))).replace("-", "−")
    return f"{float(x):.4g}".replace("-", "−")


def factor(x) -> str:
    """A number as a factor of a product: −4 in brackets, (−4)."""
    text = number(x)
    return f"({text})" if text.startswith("−") else text


def _tex_number(x) -> str:
    return number(x).replace("−", "-")


def circuit_text(r) -> str:
    out = [f"Circuit {r.circuit}: forward values, then gradients of {r.output}", ""]
    for g in r.gates:
        args = ", ".join(v for _, v in g.binds)
        out.append(f"  {g.name} = {g.module}({args}) = {number(r.values[g.name])}")
    out.append("")
    for e in r.edges:
        out.append(f"  {e.source} → {e.gate}: local ∂{e.gate}/∂{e.source} = {number(e.local)}, "
                   f"∂{r.output}/∂{e.source} gets {factor(r.gradients[e.gate])} · {factor(e.local)} = {number(e.backward)}")
    out.append("")
    out += [f"  ∂{r.output}/∂{k} = {number(v)}" for k, v in r.gradients.items()]
    out += ["", (f"checked: every gradient agrees with central differences of the forward pass "
                f"(relative error {r.check_error:.1e})")]
    return "\n".join(out) + "\n"


def circuit_markdown(r) -> str:
    out = [f"**Circuit `{r.circuit}`**", "", f"| value | forward | ∂{r.output}/∂value |", "|---|---|---|"]
    out += [f"| {k} | {number(r.values[k])} | {number(r.gradients[k])} |" for k in r.values]
    out += ["", "| edge | local gradient | gradient flowing back |", "|---|---|---|"]
    out += [f"| {e.source} → {e.gate} ({e.var}) | {number(e.local)} | {factor(r.gradients[e.gate])} · "
            f"{factor(e.local)} = {number(e.backward)} |" for e in r.edges]
    out += ["", (f"*checked: every gradient agrees with central differences of the forward pass "
                f"(relative error below {FD_RTOL:.0e})*")]
    return "\n".join(out) + "\n"


def _edge_label(forward, backward) -> str:
    return (f'<<font color="darkgreen">{html.escape(number(forward))}</font><br/>'
            f'<font color="firebrick">{html.escape(number(backward))}</font>>')


def circuit_dot(r) -> str:
    """Graphviz source: inputs as names, gates as circles; forward (green) over gradient (red) on each edge."""
    lines = [f'digraph "{r.circuit}" {{', "  rankdir=LR;", '  node [fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=11];']
    for k in r.values:
        if not any(g.name == k for g in r.gates):
            lines.append(f'  "{k}" [shape=plaintext];')
    for g in r.gates:
        lines.append(f'  "{g.name}" [shape=circle, label="{html.escape(SYMBOL.get(g.module, g.module))}", '
                     f'xlabel="{g.name}"];')
    lines.append(f'  "{r.output}__out" [shape=plaintext, label="{r.output}"];')
    for e in r.edges:
        lines.append(f'  "{e.source}" -> "{e.gate}" [label={_edge_label(e.forward, e.backward)}];')
    lines.append(f'  "{r.output}" -> "{r.output}__out" [label={_edge_label(r.values[r.output], 1)}];')
    return "\n".join(lines) + "\n}\n"


def svg(dot_source: str) -> str:
    """The picture as SVG, drawn by Graphviz's dot."""
    dot = shutil.which("dot")
    if dot is None:
        raise DeriveError("drawing needs Graphviz's dot; install it (apt-get install graphviz)")
    done = subprocess.run([dot, "-Tsvg"], input=dot_source, capture_output=True, text=True, timeout=30,
                          check=False)
    if done.returncode != 0:
        raise DeriveError(f"dot could not draw the picture: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout[done.stdout.index("<svg"):]


def maybe_svg(dot_source: str) -> str | None:
    """SVG where Graphviz is installed, else None (a notebook then shows the other forms)."""
    try:
        return svg(dot_source)
    except DeriveError:
        return None


def _layers(r) -> dict:
    """Column of each value: inputs 0, a gate one right of its furthest input."""
    col = {k: 0 for k in r.values}
    for g in r.gates:
        col[g.name] = 1 + max(col[v] for _, v in g.binds)
    return col


def circuit_tikz(r) -> str:
    """A tikzpicture, laid out by Graphviz where it is installed: forward value above, gradient below
    each edge."""
    labels = {k: (f"${name_tex(k)}$", "") for k in r.values}
    for g in r.gates:
        symbol = TEX_SYMBOL.get(g.module, rf"\mathrm{{{g.module}}}")
        labels[g.name] = (f"${symbol}$", "gate")
    labels[f"{r.output}__out"] = (f"${name_tex(r.output)}$", "")
    edges = [(e.source, e.gate, _tex_number(e.forward), _tex_number(e.backward)) for e in r.edges]
    edges.append((r.output, f"{r.output}__out", _tex_number(r.values[r.output]), "1"))
    laid = tikz_laid_out(circuit_dot(r), labels, edges)
    return laid if laid is not None else _circuit_tikz_plain(r)


def name_tex(name: str) -> str:
    from derive.graph.backprop import name_of

    return name_of(name).latex


def _circuit_tikz_plain(r) -> str:
    col = _layers(r)
    rows: dict = {}
    lines = [r"\begin{tikzpicture}[>=stealth, gate/.style={circle, draw, minimum size=7mm}]"]
    for k in r.values:
        y = rows.setdefault(col[k], 0)
        rows[col[k]] += 1
        gate = next((g for g in r.gates if g.name == k), None)
        symbol = TEX_SYMBOL.get(gate.module, rf"\mathrm{{{gate.module}}}") if gate else k
        label = f"${symbol}$"
        style = "gate" if gate else ""
        lines.append(f"  \\node[{style}] ({k}) at ({2.6 * col[k]:.1f}, {-1.4 * y:.1f}) {{{label}}};")
    last = max(col.values()) + 1
    lines.append(f"  \\node (out) at ({2.6 * last:.1f}, {-1.4 * 0:.1f}) {{${r.output}$}};")
    for e in r.edges:
        lines.append(f"  \\draw[->] ({e.source}) -- node[above, sloped, text=green!50!black] "
                     f"{{${_tex_number(e.forward)}$}} node[below, sloped, text=red!70!black] "
                     f"{{${_tex_number(e.backward)}$}} ({e.gate});")
    lines.append(f"  \\draw[->] ({r.output}) -- node[above, text=green!50!black] {{${_tex_number(r.values[r.output])}$}} "
                 f"node[below, text=red!70!black] {{$1$}} (out);")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines) + "\n"


def _numbers(arr, decimals: int = 2) -> str:
    """A small array on an edge: [0.5, −1] for a column, [0.5, −1; 1, 0] for a matrix."""
    import numpy as np

    arr = np.round(np.asarray(arr, dtype=float), decimals) + 0.0
    rows = arr.T if arr.shape[1] == 1 else arr
    text = "; ".join(", ".join(f"{x:g}" for x in row) for row in rows)
    return f"[{text}]".replace("-", "−")


def _edge_texts(graph, example, v: str, node: str, var: str) -> tuple:
    """(above, below) for the arrow from value v into `node` (as its `var`): v's shape and the name
    of its gradient, or, for a worked example, v's numbers and the numbers of the gradient flowing back
    along this arrow (its part of ∂L/∂v; the parts add up where v fans out)."""
    value = graph.by_name[v]
    if example is None:
        return " × ".join(value.shape), (None if value.role == "target" else f"∂L/∂{v}")
    forward = example.given.get(v, example.values.get(v))
    part = example.parts.get((node, var))
    return _numbers(forward), (None if part is None else _numbers(part))


def graph_dot(graph, example=None) -> str:
    """A graph's diagram: values as boxes (inputs and parameters as ellipses), one arrow per use,
    labelled with the value's shape above and the name of its gradient below; for a worked example
    (derive.graph.example) with its numbers above and its gradient's numbers below."""
    lines = [f'digraph "{graph.name.replace(chr(34), "")}" {{', "  rankdir=LR;", '  node [fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for v in graph.values:
        if v.role in ("input", "parameter", "target"):
            shape = "ellipse" if v.role != "target" else "plaintext"
            lines.append(f'  "{v.name}" [shape={shape}];')
    for n in graph.nodes:
        lines.append(f'  "{n.name}" [shape=box, label="{n.name} = {html.escape(n.module)}"];')
    for n in graph.nodes:
        for var, v in n.binds:
            above, below = _edge_texts(graph, example, v, n.name, var)
            grad = "" if below is None else f'<br/><font color="firebrick">{html.escape(below)}</font>'
            lines.append(f'  "{v}" -> "{n.name}" [label=<<font color="darkgreen">{html.escape(above)}</font>{grad}>];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph_tikz(graph, example=None) -> str:
    """The diagram laid out by Graphviz where it is installed (else by depth, below)."""
    labels = {}
    for v in graph.values:
        if v.role in ("input", "parameter", "target"):
            labels[v.name] = (f"${name_tex(v.name)}$", "")
    for n in graph.nodes:
        labels[n.name] = (rf"${name_tex(n.name)} = \mathrm{{{_tex_text(n.module)}}}$", "op")
    edges = []
    for n in graph.nodes:
        for var, v in n.binds:
            if example is None:
                value = graph.by_name[v]
                above = r" \times ".join(name_tex(d) for d in value.shape)
                below = None if value.role == "target" else rf"\partial L/\partial {name_tex(v)}"
            else:
                above, below = (None if t is None else _tex(t) for t in _edge_texts(graph, example, v, n.name, var))
            edges.append((v, n.name, above, below))
    laid = tikz_laid_out(graph_dot(graph, example), labels, edges)
    return laid if laid is not None else _graph_tikz_plain(graph, example)


def _graph_tikz_plain(graph, example=None) -> str:
    """A graph's diagram as a tikzpicture: a column per depth, a value's shape above each arrow and
    its gradient's name below."""

    col: dict = {v: 0 for v in graph.inputs}
    for n in graph.nodes:  # a node one column right of the values it is computed from
        col[n.name] = 1 + max((col[v] for _, v in n.binds if v in col), default=0)
    for n in graph.nodes:  # a parameter or target one column left of the first node that uses it
        for _, v in n.binds:
            col.setdefault(v, max(col[n.name] - 1, 0))
    col = dict(sorted(col.items(), key=lambda kv: graph.by_name[kv[0]].role in ("parameter", "target")))
    rows: dict = {}
    lines = [(r"\begin{tikzpicture}[>=stealth, op/.style={rectangle, draw, rounded corners, inner sep=3pt}, "
             r"every node/.style={font=\scriptsize}]")]
    for name, c in col.items():
        y = rows.setdefault(c, 0)
        rows[c] += 1
        node = next((n for n in graph.nodes if n.name == name), None)
        label = rf"${name_tex(name)} = \mathrm{{{_tex_text(node.module)}}}$" if node else f"${name_tex(name)}$"
        lines.append(f"  \\node[{'op' if node else ''}] ({_tikz_id(name)}) at ({4.2 * c:.1f}, {-1.6 * y:.1f}) "
                     f"{{{label}}};")
    for n in graph.nodes:
        for var, v in n.binds:
            value = graph.by_name[v]
            if example is None:
                shape = r" \times ".join(name_tex(d) for d in value.shape)
                grad = "" if value.role == "target" else (
                    f" node[below, sloped, text=red!70!black] {{$\\partial L/\\partial {name_tex(v)}$}}")
            else:
                above, below = _edge_texts(graph, example, v, n.name, var)
                shape = _tex(above)
                grad = "" if below is None else f" node[below, sloped, text=red!70!black] {{${_tex(below)}$}}"
            lines.append(f"  \\draw[->] ({_tikz_id(v)}) -- node[above, sloped, text=green!50!black] {{${shape}$}}"
                         f"{grad} ({_tikz_id(n.name)});")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines) + "\n"


def _tex(numbers: str) -> str:
    return numbers.replace("−", "-").replace("[", "\\left[").replace("]", "\\right]")


def _tikz_id(name: str) -> str:
    return "v-" + name.replace("_", "-")


def _tex_text(text: str) -> str:
    from derive.render.printer import escape_tex

    return escape_tex(text)


def circuit_latex(r) -> str:
    """The circuit's numbers as two LaTeX tables: each value with its gradient, each edge with its
    local gradient and the product sent back."""

    def n(x) -> str:
        return _tex_number(x)

    def f(x) -> str:
        text = n(x)
        return f"({text})" if text.startswith("-") else text

    out = [r"\begin{tabular}{lrr}", rf"value & forward & $\partial {name_tex(r.output)}/\partial\,\cdot$ \\",
           r"\hline"]
    out += [f"${name_tex(k)}$ & ${n(r.values[k])}$ & ${n(r.gradients[k])}$ \\\\" for k in r.values]
    out += [r"\end{tabular}", r"\qquad", r"\begin{tabular}{lrl}", r"edge & local & sent back \\", r"\hline"]
    out += [f"${name_tex(e.source)} \\to {name_tex(e.gate)}$ & ${n(e.local)}$ & "
            f"${f(r.gradients[e.gate])} \\cdot {f(e.local)} = {n(e.backward)}$ \\\\" for e in r.edges]
    out.append(r"\end{tabular}")
    return "\n".join(out) + "\n"


def _plain(dot_source: str):
    """Graphviz's layout of the picture (`dot -Tplain`): (width in inches, node → (x, y), edges as
    (tail, head, bezier points, label position)); None where dot is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    done = subprocess.run([dot, "-Tplain"], input=dot_source, capture_output=True, text=True, timeout=30,
                          check=False)
    if done.returncode != 0:
        return None
    width, nodes, edges = 0.0, {}, []
    for line in done.stdout.splitlines():
        words = line.split()
        if words[:1] == ["graph"]:
            width = float(words[2])
        elif words[:1] == ["node"]:
            nodes[words[1].strip('"')] = (float(words[2]), float(words[3]))
        elif words[:1] == ["edge"]:
            n = int(words[3])
            points = [(float(words[4 + 2 * k]), float(words[5 + 2 * k])) for k in range(n)]
            label = (float(words[-4]), float(words[-3])) if len(words) > 4 + 2 * n + 2 else None
            edges.append((words[1].strip('"'), words[2].strip('"'), points, label))
    return width, nodes, edges


def tikz_laid_out(dot_source: str, labels: dict, edge_labels: list,
                  colors: tuple = ("green!50!black", "red!70!black"), on_arrow: str = "") -> str | None:
    """A tikzpicture placed as Graphviz lays out `dot_source`: `labels` maps a node to (TeX, style),
    `edge_labels` lists (tail, head, above, below) in the order of the dot source's edges, set in
    `colors` (a forward value's and a gradient's). Wider than the text, it is scaled to the line width
    (graphicx); `on_arrow` ("above, sloped", "left") sets a one-line label so beside the middle of its
    arrow instead of where dot put it.
    None without Graphviz."""
    laid = _plain(dot_source)
    if laid is None:
        return None
    width, nodes, edges = laid
    cm = 1.6  # dot sizes its labels at 10-14 pt, ours are \\scriptsize: the layout drawn at about 2/3
    lines = [(r"\begin{tikzpicture}[>=stealth, op/.style={rectangle, draw, rounded corners, inner sep=3pt}, "
             r"gate/.style={circle, draw, minimum size=7mm}, every node/.style={font=\scriptsize}]")]
    for name, (x, y) in nodes.items():
        tex, style = labels[name]
        lines.append(f"  \\node[{style}] ({_tikz_id(name)}) at ({x * cm:.2f}, {y * cm:.2f}) {{{tex}}};")
    queue = list(edge_labels)
    for tail, head, points, at in edges:
        k = next(i for i, e in enumerate(queue) if e[:2] == (tail, head))
        _, _, above, below = queue.pop(k)
        path = " .. ".join(
            f"controls ({points[i][0] * cm:.2f}, {points[i][1] * cm:.2f}) and ({points[i + 1][0] * cm:.2f}, "
            f"{points[i + 1][1] * cm:.2f}) .. ({points[i + 2][0] * cm:.2f}, {points[i + 2][1] * cm:.2f})"
            for i in range(1, len(points) - 2, 3))
        label = f" node[midway, {on_arrow}, text={colors[0]}] {{${above}$}}" if on_arrow and above else ""
        lines.append(f"  \\draw[->] ({points[0][0] * cm:.2f}, {points[0][1] * cm:.2f}) .. {path}{label};")
        if at is not None and not on_arrow:
            text = rf"\textcolor{{{colors[0]}}}{{${above}$}}" + (
                rf"\\\textcolor{{{colors[1]}}}{{${below}$}}" if below else "")
            lines.append(f"  \\node[align=center] at ({at[0] * cm:.2f}, {at[1] * cm:.2f}) {{{text}}};")
    lines.append(r"\end{tikzpicture}")
    body = "\n".join(lines)
    if width * cm > 16:
        body = "\\resizebox{\\linewidth}{!}{%\n" + body + "%\n}"
    return body + "\n"
