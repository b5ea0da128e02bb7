"""A plain diagram of a network's layers, for a network sheet: the input, one box per layer, the loss
with its target, each arrow labelled with the value it carries and that value's shape; each layer's
parameters beside it. Graphviz source (SVG for Markdown) and TikZ (LaTeX/PDF), drawn from the
derivation's own forward rows, in the sheet's names (z⁽³⁾ where the sheet renames s2).

    >>> from derive.network import network
    >>> print(layers_dot(network("affine>relu>mse").derive()).splitlines()[4])
      "x" [shape=plaintext, label="x"];
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from derive.model import matexpr as mx

if TYPE_CHECKING:
    from derive.network.backprop import NetworkDerivation

PLAIN = ("black", "black!60")  # a name and its shape: not a forward value and a gradient, so no green and red
LOSS, OUTPUT = "loss", "output"
MAX_IN_A_ROW = 5  # boxes  # the labels of the loss row and of a loss's named quantity (ŷ = softmax)


def _plan(d) -> tuple:
    """(values, boxes, arrows): values as (id, text, latex, role); boxes as (id, module); arrows as
    (tail, head, name text, name latex, shape), shape () for a parameter's arrow."""
    from derive.network.render import printed_shape

    rows = [r for r in d.forward if r.label != OUTPUT]
    names = d.backprop.names
    values, boxes, arrows, made = [], [], [], {}
    first = rows[0].inputs[0]
    leaf = next(v for v in mx.leaves(rows[0].after) if v.name == first)  # the input, x or X, in layer 1
    values.append((first, rows[0].names.get(first) or names.name(first), "input"))
    made[first] = (first, printed_shape(leaf.shape))
    drawn = set()
    for r in rows:
        box = f"layer_{r.name}" if r.label != LOSS else "layer_loss"
        boxes.append((box, r.module))
        for v in r.inputs:
            if v in made:
                tail, shape = made[v]
                arrows.append((tail, box, _name(d, r, v), shape))
            else:  # the target
                values.append((v, names.name(v), "target"))
                arrows.append((v, box, None, ()))
        leaves = mx.leaves(r.after) if r.after is not None else ()
        for p in (leaf.name for leaf in leaves if leaf.name in d.network.params and leaf.name not in drawn):
            drawn.add(p)
            values.append((p, r.names.get(p) or names.name(p), "parameter"))
            arrows.append((p, box, None, ()))
        if r.label != LOSS:
            made[r.name] = (box, printed_shape(r.shape))
    values.append(("L", names.name("L"), "output"))
    arrows.append(("layer_loss", "L", names.name("L"), ()))
    return values, boxes, arrows


def _name(d, row, value: str):
    for r in d.forward:
        if r.name == value:
            return r.names[value]
    return row.names.get(value) or d.backprop.names.name(value)


def layers_dot(d: NetworkDerivation) -> str:
    """Graphviz source of the diagram (left to right)."""
    values, boxes, arrows = _plan(d)
    lines = [f'digraph "{d.network.spec.replace(chr(34), "")}" {{', f"  rankdir={_direction(boxes)};", '  node [fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for vid, name, role in values:
        shape = "ellipse" if role == "parameter" else "plaintext"
        lines.append(f'  "{vid}" [shape={shape}, label="{html.escape(name.text)}"];')
    for bid, module in boxes:
        lines.append(f'  "{bid}" [shape=box, style=rounded, label="{html.escape(module)}"];')
    for tail, head, name, shape in arrows:
        chain = head != "L" and (name is not None or tail == "L")  # the layers in one straight row
        attrs = ([f'label="{html.escape(_text(name, shape))}"'] if name is not None and head != "L" else []) + (
            ["weight=8"] if chain else [])
        lines.append(f'  "{tail}" -> "{head}"' + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _direction(boxes: list) -> str:
    """Left to right; top to bottom for a deep network, which in a row would be shrunk past reading."""
    return "TB" if len(boxes) > MAX_IN_A_ROW else "LR"


def _text(name, shape: tuple) -> str:
    return f"{name.text} ({' × '.join(shape)})" if shape else name.text


def layers_tikz(d: NetworkDerivation) -> str:
    """The diagram as a tikzpicture, laid out by Graphviz (in a row, one box after another, without it)."""
    from derive.graph.picture import tikz_laid_out
    from derive.network.render import shape_latex
    from derive.render.printer import escape_tex

    values, boxes, arrows = _plan(d)
    labels = {vid: (f"${name.latex}$", "") for vid, name, _ in values}
    labels |= {bid: (rf"\texttt{{{escape_tex(module)}}}", "op") for bid, module in boxes}
    # one line, as the dot source's label is, set just above its arrow
    edges = [(t, h, None if n is None or h == "L" else rf"{n.latex}\;({shape_latex(s)})" if s else n.latex, None)
             for t, h, n, s in arrows]
    laid = tikz_laid_out(layers_dot(d), labels, [(t, h, a or "", b) for t, h, a, b in edges], colors=PLAIN,
                         on_arrow="left" if _direction(boxes) == "TB" else "above, sloped")  # dot sets parameters right
    if laid is not None:
        return laid
    return _in_a_row(boxes, labels, edges)


def _in_a_row(boxes: list, labels: dict, edges: list) -> str:
    """Without Graphviz: the boxes in a row, each arrow into a box drawn from what feeds it."""
    from derive.graph.picture import _tikz_id

    lines = [(r"\begin{tikzpicture}[>=stealth, op/.style={rectangle, draw, rounded corners, inner sep=3pt}, "
              r"every node/.style={font=\scriptsize}]")]
    placed = {}
    for n, (bid, _) in enumerate(boxes):
        placed[bid] = (3.2 * n, 0.0)
    feeds = [t for t, _, _, _ in edges if t not in placed]
    for k, vid in enumerate(dict.fromkeys(feeds)):
        head = next(h for t, h, _, _ in edges if t == vid)
        x, _ = placed.get(head, (3.2 * len(boxes), 0.0))
        placed[vid] = (x - 1.6, 1.2 + 0.5 * (k % 2)) if vid != "L" else (x + 3.2, 0.0)
    for vid, (x, y) in placed.items():
        tex, style = labels[vid]
        lines.append(f"  \\node[{style}] ({_tikz_id(vid)}) at ({x:.1f}, {y:.1f}) {{{tex}}};")
    for t, h, above, below in edges:
        label = f" node[above] {{${above}$}}" if above else ""
        label += f" node[below] {{${below}$}}" if below else ""
        lines.append(f"  \\draw[->] ({_tikz_id(t)}) --{label} ({_tikz_id(h)});")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines) + "\n"
