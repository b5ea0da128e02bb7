"""A graph's derivation as text, Markdown and LaTeX: the forward rows, then node by node (last first)
what each node sends back to its inputs, a sum where a value fans out, and the check that was run."""

from __future__ import annotations

from derive.graph.backprop import GraphBackprop, name_of
from derive.render import matrix as printers
from derive.render.printer import entry_latex
from derive.render.unicode import unicode_text


def _form(bp: GraphBackprop, tree, printer: str) -> str:
    return getattr(printers, printer)(tree, bp.names)


def _lines(bp: GraphBackprop, printer: str) -> dict:
    """The statements, each as (name, right-hand side) in the printer's notation; checked first, so
    nothing is printed that derive.graph.verify did not pass."""
    if bp.checked is None:
        from derive.graph.verify import check_graph

        bp.checked = check_graph(bp.graph)
    tex = printer == "latex"
    name = (lambda n: bp.names[n].latex) if tex else (lambda n: bp.names[n].text)
    forward = []
    for row in bp.forward:
        rhs = _form(bp, row.after, printer) if row.after is not None else (
            _index_latex(row.rhs) if tex else unicode_text(row.rhs))
        lhs = name(row.name) if row.after is not None else (_index_latex(row.lhs) if tex else unicode_text(row.lhs))
        forward.append((f"{row.label} = {row.module}({', '.join(row.inputs)})", lhs, rhs))
    for row in bp.losses:
        forward.append((f"{row.label} = {row.module}({', '.join(row.inputs)})",
                        _index_latex(row.lhs) if tex else unicode_text(row.lhs),
                        _index_latex(row.rhs) if tex else unicode_text(row.rhs)))
    total = " + ".join(name_of(r.label).latex if tex else r.label for r in bp.losses)
    backward = []
    for value, g in bp.gradients.items():
        parts = [(p.node, p.source, _form(bp, p.tree, printer)) for p in g.parts]
        backward.append((value, name(f"dL_d{value}"), parts, _form(bp, g.tree, printer), g.step.reason,
                         g.fans_out))
    index = {}  # every parameter's gradient in index form too (checked with its tree)
    for value, g in bp.gradients.items():
        if g.role == "parameter":
            index[value] = (_index_latex(g.lhs), _index_latex(g.rhs)) if tex else (unicode_text(g.lhs),
                                                                                   unicode_text(g.rhs))
    return {"forward": forward, "total": total, "backward": backward, "index": index}


def _index_latex(expr) -> str:
    from derive.network.names import IndexLatexPrinter

    class Braced(IndexLatexPrinter):
        def _print_Indexed(self, expr):  # {W^{(1)}_{kl}}^{2}: a power of an entry of W1 is no double superscript
            name = expr.base.name
            if name.startswith("dL_d"):  # ∂L/∂(o1)_i: the entry of the value, as the value's entries print
                import sympy as sp

                entry = sp.IndexedBase(name[4:], real=True)[expr.indices]
                return rf"{{\frac{{\partial L}}{{\partial {self._print(entry)}}}}}"
            if "_" in name and not name.startswith("dL_d"):  # (W_hh)_{ij}: W_hh_{ij} would be a double subscript
                return f"{{{entry_latex(name_of(name).latex, ''.join(self._print(i) for i in expr.indices))}}}"
            return "{" + super()._print_Indexed(expr) + "}"

    return Braced().doprint(expr)


def graph_text(bp: GraphBackprop) -> str:
    d = _lines(bp, "text")
    out = [f"Graph {bp.graph.name}", "", "Forward pass:"]
    out += [f"  {lhs} = {rhs}    [{what}]" for what, lhs, rhs in d["forward"]]
    out += [f"  L = {d['total']}", "", "Backward pass (each node sends its inputs the engine's local gradient):"]
    for value, lhs, parts, total, reason, fans in d["backward"]:
        if fans:
            for node, source, form in parts:
                out.append(f"  from {node}: {lhs} ⟵ {form}    [{source}]")
            out.append(f"  {lhs} = {total}    [{reason}]")
        else:
            node, source, form = parts[0]
            out.append(f"  {lhs} = {form}    [from {node}: {source}]")
    out += ["", "Each parameter's gradient in index form:"]
    out += [f"  {lhs} = {rhs}" for lhs, rhs in d["index"].values()]
    if bp.checked is not None:
        out += ["", str(bp.checked)]
    return "\n".join(out) + "\n"


def graph_markdown(bp: GraphBackprop) -> str:
    d = _lines(bp, "latex")
    out = [f"### Graph `{bp.graph.name}`", "", "**Forward pass**", ""]
    out += [f"- $${lhs} = {rhs}$$ ({what})" for what, lhs, rhs in d["forward"]]
    out += [f"- $$L = {d['total']}$$", "", "**Backward pass**", ""]
    for value, lhs, parts, total, reason, fans in d["backward"]:
        if fans:
            for node, _, form in parts:
                out.append(f"- from `{node}`: $${lhs} \\mathrel{{+}}= {form}$$")
            out.append(f"- $${lhs} = {total}$$ ({reason})")
        else:
            node, source, form = parts[0]
            out.append(f"- $${lhs} = {form}$$ (from `{node}`: {source})")
    out += ["", "**Each parameter's gradient in index form**", ""]
    out += [f"- $${lhs} = {rhs}$$" for lhs, rhs in d["index"].values()]
    if bp.checked is not None:
        out += ["", f"*{bp.checked.bounded()}*"]
    return "\n".join(out) + "\n"


def graph_latex(bp: GraphBackprop) -> str:
    d = _lines(bp, "latex")
    rows = [f"{lhs} &= {rhs}" for _, lhs, rhs in d["forward"]]
    rows += [f"L &= {d['total']}"]
    for _, lhs, parts, total, _, fans in d["backward"]:
        rows.append(f"{lhs} &= {total}")
    rows += [f"{lhs} &= {rhs}" for lhs, rhs in d["index"].values()]
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
