"""A network derivation as Markdown, LaTeX, Unicode text and JSON, printed from its steps' trees.

Every matrix formula is a tree (derive.model.matexpr) printed by derive.render.matrix; every index
form is SymPy printed with the network's names (derive.network.names). The prose is in
templates/partials/network*.
"""

from __future__ import annotations

import sympy as sp
from markupsafe import Markup

from derive.network.names import index_latex, net_name, net_text
from derive.render import matrix
from derive.render.environment import render
from derive.render.printer import breakable_chain
from derive.render.printer import text as sympy_text
from derive.render.unicode import unicode_text


def _m(tex: str) -> Markup:
    return Markup(tex)


def printed_shape(shape) -> tuple:
    """A tree's shape as the tables print it: a column (d, 1) is a vector of d entries."""
    shape = tuple(shape)
    return shape[:1] if len(shape) == 2 and shape[1] == "1" and shape[0] != "1" else shape


def shape_latex(shape) -> Markup:
    """`d_{1} \\times N`; a scalar is 1."""
    return _m(r" \times ".join(s if s.isdigit() else net_name(s) for s in shape) if shape else "1")


def shape_text(shape) -> str:
    return " × ".join(shape) if shape else "scalar"


def _partial(top: str, bottom: str, names: dict, fmt: str) -> str:
    name = names.get(f"d{top}_d{bottom}")
    if name is not None:
        return getattr(name, fmt)
    return rf"\frac{{\partial {net_name(top)}}}{{\partial {net_name(bottom)}}}" if fmt == "latex" else \
        f"∂{net_text(top)}/∂{net_text(bottom)}"


def _row_rhs(r, fmt: str) -> str:
    if r.after is not None:
        return getattr(matrix, fmt)(r.after, r.names)
    return index_latex(r.rhs) if fmt == "latex" else unicode_text(r.rhs)


def _row_lhs(r, fmt: str) -> str:
    if r.after is None:  # stated in index form: ŷ_i = e^{s_i} / Σ_k e^{s_k}, L = …
        return index_latex(r.lhs) if fmt == "latex" else unicode_text(r.lhs)
    return getattr(r.names[r.name], fmt)


def _equals(j, fmt: str) -> str:
    if j.after is not None:
        return getattr(matrix, fmt)(j.after, j.names)
    return index_latex(j.entry) if fmt == "latex" else unicode_text(j.entry)


def _wrt(d, fmt: str) -> str:
    return getattr(d.gradient.names[d.gradient.before.name], fmt)


def context(d) -> dict:
    bp, g = d.backprop, d.gradient
    forward = [{
        "label": r.label, "module": r.module, "input": _m(", ".join(net_name(n) for n in r.inputs)),
        "symbol": _m(_row_lhs(r, "latex")), "matrix": _m(_row_rhs(r, "latex")),
        "index": _m(index_latex(sp.Eq(r.lhs, r.rhs, evaluate=False))), "shape": shape_latex(r.shape),
        "expanded": _m(matrix.latex(r.expanded, r.names) if r.expanded is not None else ""),
    } for r in bp.forward]
    return {
        "target": d.target,
        "target_tex": Markup(breakable_chain(d.target)),
        "wrt": d.wrt,
        "wrt_latex": _m(net_name(d.wrt)),
        "batch": d.network.batch,
        "forward": forward,
        "has_expanded": any(r["expanded"] for r in forward),
        "chain_lhs": _m(_wrt(d, "latex")),
        "chain": [{"latex": _m(_partial(j.top, j.bottom, j.names, "latex")), "shape": shape_latex(j.shape),
                   "equals": _m(_equals(j, "latex"))} for j in d.chain],
        "signals": [{"name": _m(s.names[s.name].latex), "general": _m(matrix.latex(s.general, s.names)),
                     "matrix": _m(s.latex), "index": _m(index_latex(sp.Eq(s.lhs, s.rhs, evaluate=False))),
                     "shape": shape_latex(s.shape)} for s in d.signals],
        "gradient": {"lhs": _m(_wrt(d, "latex")), "matrix": _m(g.latex),
                     "factors": [(_m(matrix.latex(f, g.names)), shape_latex(printed_shape(f.shape)))
                                 for f in g.factors],
                     "shape": shape_latex(g.shape), "index": _m(index_latex(sp.Eq(g.lhs, g.rhs, evaluate=False)))},
        "steps": [{"rule": s.rule, "latex": _m(_step(s, "latex")), "reason": s.reason} for s in d.steps],
        "conventions": list(d.conventions),
        "check": check_note(d),
    }


def _step(s, fmt: str) -> str:
    """A step of the network derivation as one equation."""
    names = getattr(s, "names", {})
    if s.rule == "chain":
        dot = r" \cdot " if fmt == "latex" else " · "
        return f"{_printed(s.before, s.after[0].names, fmt)} = " + dot.join(
            _partial(j.top, j.bottom, j.names, fmt) for j in s.after)
    if s.rule == "substitute":  # an error signal: named, general form, written out
        forms = (s.before, s.general, *s.forms)
        return " = ".join(_printed(t, names, fmt) for t in forms)
    return f"{_printed(s.before, names, fmt)} = {_printed(s.after, names, fmt)}"


def _printed(tree, names: dict, fmt: str) -> str:
    return getattr(matrix, fmt)(tree, names)


def check_note(d, lead: str = "Checked") -> str:
    """What was checked before the derivation was stated (derive.network.verify_statements)."""
    from derive.network.verify import RTOL

    r = d.checked
    widths = ", ".join(f"d_{k} = {w}" for k, w in enumerate(r.widths))
    return (f"{lead}: every gradient, as NumPy code, agrees with central differences of the forward pass "
            f"at random values (relative error below {RTOL:g}); every formula shown (forward rows, outputs in "
            f"terms of the input, error signals with ∂L/∂q and f′, gradients, local Jacobians) agrees with that "
            f"code, with its index form and, for a Jacobian, with central differences of its layer, at every "
            f"entry at {widths}" + (f", N = {r.samples}" if d.network.batch else "") + ".")


def _form(form: str | None) -> str | None:
    """None shows both forms; index or matrix only that one."""
    from derive.render.show import known_form

    return form if form is None else known_form(form)


def network_markdown(d, form: str | None = None) -> str:
    return render("partials/network.md.j2", "md", **context(d), form=_form(form)).strip() + "\n"


def network_tex(d, form: str | None = None) -> str:
    return render("partials/network.tex.j2", "tex", **context(d), form=_form(form)).strip() + "\n"


def network_latex(d, form: str | None = None) -> str:
    """`$$`-delimited display math for notebooks: the recursion and the gradient with shapes."""
    return render("partials/network_math.tex.j2", "tex", **context(d), form=_form(form)).strip()


def network_text(d, form: str | None = None) -> str:
    """The forward pass, the chain rule, the error signals and the gradient in Unicode; `form`
    index or matrix states the signals and the gradient only in that form (None: both)."""
    form = _form(form)
    bp, g = d.backprop, d.gradient
    wrt = _wrt(d, "text")
    lines = [f"network {d.target}: {wrt}", "", "forward pass"]
    width = max(len(r.label) for r in bp.forward)
    for r in bp.forward:
        lines.append(f"  {r.label:<{width}}  {_row_lhs(r, 'text')} = {_row_rhs(r, 'text')}   [{shape_text(r.shape)}]")
        if r.expanded is not None and r.expanded != r.after:
            lines.append(f"  {'':<{width}}    in terms of the input: {matrix.text(r.expanded, r.names)}")
    jacobians = [_partial(j.top, j.bottom, j.names, "text") for j in d.chain]
    lines += ["", "chain rule (Jacobians, numerator layout)", f"  {wrt} = " + " · ".join(jacobians)]
    lines += [f"  {name:<12} {shape_text(j.shape):<18} = {_equals(j, 'text')}" for name, j in zip(jacobians, d.chain)]
    lines += ["", "error signals"]
    for s in d.signals:
        if form != "index":
            lines.append(f"  {_step(s, 'text')}   [{shape_text(s.shape)}]")
        if form != "matrix":
            lines.append(f"{'  ' if form else '    index form: '}{unicode_text(s.lhs)} = {unicode_text(s.rhs)}")
    lines += ["", "gradient"]
    if form != "index":
        lines += [f"  {wrt} = {g.text}   [{shape_text(g.shape)}]",
                  "    factors: " + ";  ".join(f"{matrix.text(f, g.names)}: {shape_text(printed_shape(f.shape))}"
                                             for f in g.factors)]
    if form != "matrix":
        lines.append(f"{'  ' if form else '    index form: '}{unicode_text(g.lhs)} = {unicode_text(g.rhs)}")
    lines.append("")
    lines += [f"convention: {c}" for c in d.conventions]
    lines.append(check_note(d, "checked"))
    lines += [f"local derivative: {src}" for s in d.signals for src in s.sources]
    lines.append(f"local derivative: {g.source}")
    return "\n".join(lines) + "\n"


def network_json(d) -> dict:
    bp, g = d.backprop, d.gradient
    r = d.checked
    return {
        "target": d.target,
        "kind": "network",
        "wrt": d.wrt,
        "lhs": unicode_text(g.lhs),
        "result": sympy_text(g.rhs),
        "srepr": sp.srepr(g.rhs),
        "latex": index_latex(g.rhs),
        "equation": index_latex(sp.Eq(g.lhs, g.rhs, evaluate=False)),
        "steps": [{"rule": s.rule, "latex": _step(s, "latex"), "text": _step(s, "text"), "reason": s.reason}
                  for s in d.steps],
        "matrix": {"latex": f"{_wrt(d, 'latex')} = {g.latex}", "text": g.text, "shape": list(g.shape),
                   "factors": [{"latex": matrix.latex(f, g.names), "text": matrix.text(f, g.names),
                                "shape": list(printed_shape(f.shape))} for f in g.factors],
                   "layout": "the gradient has the shape of the variable (denominator layout)"},
        "forward": [{"label": row.label, "module": row.module, "latex": _row_rhs(row, "latex"),
                     "index": index_latex(sp.Eq(row.lhs, row.rhs, evaluate=False)),
                     "text": f"{_row_lhs(row, 'text')} = {_row_rhs(row, 'text')}",
                     "index_text": f"{unicode_text(row.lhs)} = {unicode_text(row.rhs)}",
                     "shape": list(row.shape)} for row in bp.forward],
        "chain": [{"latex": _partial(j.top, j.bottom, j.names, "latex"), "shape": list(j.shape),
                   "equals": _equals(j, "latex"), "text": f"{_partial(j.top, j.bottom, j.names, 'text')} = "
                                                          f"{_equals(j, 'text')}"} for j in d.chain],
        "signals": [{"name": s.name, "latex": s.latex, "general": matrix.latex(s.general, s.names),
                     "text": _step(s, "text"), "index": index_latex(sp.Eq(s.lhs, s.rhs, evaluate=False)),
                     "index_text": f"{unicode_text(s.lhs)} = {unicode_text(s.rhs)}", "shape": list(s.shape),
                     "factors": [{"latex": matrix.latex(t, s.names), "shape": list(printed_shape(t.shape))}
                                 for t in (s.upstream_tree, s.fprime_tree) if t is not None]} for s in d.signals],
        "conventions": list(d.conventions),
        "check": {"max_relative_error": d.check_error,
                  "method": "each gradient along a random direction against central differences of the forward pass",
                  "statements": r.statements, "statements_max_relative_error": r.statement_error,
                  "widths": list(r.widths), "samples": r.samples},
    }
