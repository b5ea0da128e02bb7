"""A network derivation as Markdown, LaTeX, Unicode text and JSON, printed from its steps' trees.

Every matrix formula is a tree (derive.model.matexpr) printed by derive.render.matrix; every index
form is SymPy printed with the network's names (derive.network.names). The prose is in
templates/partials/network*.
"""

from __future__ import annotations

import re

import sympy as sp
from markupsafe import Markup

from derive.network.names import net_name
from derive.render import matrix
from derive.render.environment import render
from derive.render.printer import breakable_chain
from derive.render.printer import text as sympy_text


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


def _partial(j, ln, fmt: str) -> str:
    """∂top/∂bottom of a local Jacobian, in the network's names (`ln`: derive.network.names.LayerNames)."""
    name = j.names.get(f"d{j.top}_d{j.bottom}") or ln.name(f"d{j.top}_d{j.bottom}")
    return getattr(name, fmt)


def _index(ln, expr, fmt: str) -> str:
    """An index form in the network's names, as LaTeX or Unicode text."""
    return ln.index_latex(expr) if fmt == "latex" else ln.index_text(expr)


def _eq(ln, lhs, rhs, fmt: str = "latex") -> str:
    return _index(ln, sp.Eq(lhs, rhs, evaluate=False), fmt) if fmt == "latex" else \
        f"{_index(ln, lhs, fmt)} = {_index(ln, rhs, fmt)}"


def _row_rhs(r, ln, fmt: str) -> str:
    if r.after is not None:
        return getattr(matrix, fmt)(r.after, r.names)
    return _index(ln, r.rhs, fmt)


def _row_lhs(r, ln, fmt: str) -> str:
    if r.after is None:  # stated in index form: ŷ_i = e^{s_i} / Σ_k e^{s_k}, L = …
        return _index(ln, r.lhs, fmt)
    return getattr(r.names[r.name], fmt)


def _equals(j, ln, fmt: str) -> str:
    if j.after is not None:
        return getattr(matrix, fmt)(j.after, j.names)
    return _index(ln, j.entry, fmt)


def _wrt(d, fmt: str) -> str:
    return getattr(d.gradient.names[d.gradient.before.name], fmt)


MAX_NESTED_FRACTIONS = 2  # deeper, an output in terms of the input is a tower no one reads: not shown


def _nested_fractions(tex: str) -> int:
    """How deep \\frac nests in `tex`: 1/(1 + e^{-W 1/(1 + e^{-x})}) is 2."""
    depth, stack, deepest, denominator_at = 0, [], 0, -1
    for m in re.finditer(r"\\frac\{|\{|\}", tex):
        if m.group() == "}":
            kind = stack.pop() if stack else ""
            depth -= kind != ""
            denominator_at = m.end() if kind == "numerator" else -1
            continue
        kind = "numerator" if m.group() != "{" else ("denominator" if m.start() == denominator_at else "")
        stack.append(kind)
        depth += kind != ""
        deepest = max(deepest, depth)
    return deepest


def _expanded(r) -> str:
    """A forward row's output in terms of the input, as LaTeX; empty where there is none or it is a tower."""
    if r.expanded is None:
        return ""
    tex = matrix.latex(r.expanded, r.names)
    return tex if _nested_fractions(tex) <= MAX_NESTED_FRACTIONS else ""


def context(d) -> dict:
    bp, g = d.backprop, d.gradient
    ln = bp.names
    forward = [{
        "label": r.label, "module": r.module, "input": _m(", ".join(ln.name(n).latex for n in r.inputs)),
        "symbol": _m(_row_lhs(r, ln, "latex")), "matrix": _m(_row_rhs(r, ln, "latex")),
        "index": _m(_eq(ln, r.lhs, r.rhs)), "shape": shape_latex(r.shape),
        "expanded": _m(_expanded(r)),
    } for r in bp.forward]
    return {
        "target": d.target,
        "target_tex": Markup(breakable_chain(d.target)),
        "wrt": d.wrt,
        "wrt_latex": _m(ln.name(d.wrt).latex),
        "batch": d.network.batch,
        "forward": forward,
        "has_expanded": any(r["expanded"] for r in forward),
        "chain_lhs": _m(_wrt(d, "latex")),
        "chain": [{"latex": _m(_partial(j, ln, "latex")), "shape": shape_latex(j.shape),
                   "equals": _m(_equals(j, ln, "latex"))} for j in d.chain],
        "signals": [{"name": _m(s.names[s.name].latex), "general": _m(matrix.latex(s.general, s.names)),
                     "matrix": _m(s.latex), "index": _m(_eq(ln, s.lhs, s.rhs)),
                     "shape": shape_latex(s.shape)} for s in d.signals],
        "gradient": {"lhs": _m(_wrt(d, "latex")), "matrix": _m(g.latex),
                     "factors": [(_m(matrix.latex(f, g.names)), shape_latex(printed_shape(f.shape)))
                                 for f in g.factors],
                     "shape": shape_latex(g.shape), "index": _m(_eq(ln, g.lhs, g.rhs))},
        "steps": [{"rule": s.rule, "latex": _m(_step(s, ln, "latex")), "reason": s.reason} for s in d.steps],
        "conventions": list(d.conventions),
        "check": check_note(d),
    }


def _step(s, ln, fmt: str) -> str:
    """A step of the network derivation as one equation."""
    names = getattr(s, "names", {})
    if s.rule == "chain":
        dot = r" \cdot " if fmt == "latex" else " · "
        factors = dot.join(_partial(j, ln, fmt) for j in s.after)
        return f"{_printed(s.before, s.after[0].names, fmt)} = {factors}"
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
    cost = d.backprop.names.name("L").text
    widths = ", ".join(f"d_{k} = {w}" for k, w in enumerate(r.widths))
    return (f"{lead}: every gradient, as NumPy code, agrees with central differences of the forward pass "
            f"at random values (relative error below {RTOL:g}); every formula shown (forward rows, outputs in "
            f"terms of the input, error signals with ∂{cost}/∂q and f′, gradients, local Jacobians) agrees with "
            "that "
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
    ln = bp.names
    wrt = _wrt(d, "text")
    lines = [f"network {d.target}: {wrt}", "", "forward pass"]
    width = max(len(r.label) for r in bp.forward)
    for r in bp.forward:
        lines.append(f"  {r.label:<{width}}  {_row_lhs(r, ln, 'text')} = {_row_rhs(r, ln, 'text')}   "
                     f"[{shape_text(r.shape)}]")
        if r.expanded is not None and r.expanded != r.after:
            lines.append(f"  {'':<{width}}    in terms of the input: {matrix.text(r.expanded, r.names)}")
    jacobians = [_partial(j, ln, "text") for j in d.chain]
    lines += ["", "chain rule (Jacobians, numerator layout)", f"  {wrt} = " + " · ".join(jacobians)]
    lines += [f"  {name:<12} {shape_text(j.shape):<18} = {_equals(j, ln, 'text')}"
              for name, j in zip(jacobians, d.chain)]
    lines += ["", "error signals"]
    for s in d.signals:
        if form != "index":
            lines.append(f"  {_step(s, ln, 'text')}   [{shape_text(s.shape)}]")
        if form != "matrix":
            lines.append(f"{'  ' if form else '    index form: '}{_eq(ln, s.lhs, s.rhs, 'text')}")
    lines += ["", "gradient"]
    if form != "index":
        lines += [f"  {wrt} = {g.text}   [{shape_text(g.shape)}]",
                  "    factors: " + ";  ".join(f"{matrix.text(f, g.names)}: {shape_text(printed_shape(f.shape))}"
                                             for f in g.factors)]
    if form != "matrix":
        lines.append(f"{'  ' if form else '    index form: '}{_eq(ln, g.lhs, g.rhs, 'text')}")
    lines.append("")
    lines += [f"convention: {c}" for c in d.conventions]
    lines.append(check_note(d, "checked"))
    lines += [f"local derivative: {src}" for s in d.signals for src in s.sources]
    lines.append(f"local derivative: {g.source}")
    return "\n".join(lines) + "\n"


def network_json(d) -> dict:
    bp, g = d.backprop, d.gradient
    ln = bp.names
    r = d.checked
    return {
        "target": d.target,
        "kind": "network",
        "wrt": d.wrt,
        "lhs": ln.index_text(g.lhs),
        "result": sympy_text(g.rhs),
        "srepr": sp.srepr(g.rhs),
        "latex": ln.index_latex(g.rhs),
        "equation": _eq(ln, g.lhs, g.rhs),
        "steps": [{"rule": s.rule, "latex": _step(s, ln, "latex"), "text": _step(s, ln, "text"),
                   "reason": s.reason} for s in d.steps],
        "matrix": {"latex": f"{_wrt(d, 'latex')} = {g.latex}", "text": g.text, "shape": list(g.shape),
                   "factors": [{"latex": matrix.latex(f, g.names), "text": matrix.text(f, g.names),
                                "shape": list(printed_shape(f.shape))} for f in g.factors],
                   "layout": "the gradient has the shape of the variable (denominator layout)"},
        "forward": [{"label": row.label, "module": row.module, "latex": _row_rhs(row, ln, "latex"),
                     "index": _eq(ln, row.lhs, row.rhs),
                     "text": f"{_row_lhs(row, ln, 'text')} = {_row_rhs(row, ln, 'text')}",
                     "index_text": _eq(ln, row.lhs, row.rhs, "text"),
                     "shape": list(row.shape)} for row in bp.forward],
        "chain": [{"latex": _partial(j, ln, "latex"), "shape": list(j.shape),
                   "equals": _equals(j, ln, "latex"), "text": f"{_partial(j, ln, 'text')} = "
                                                              f"{_equals(j, ln, 'text')}"} for j in d.chain],
        "signals": [{"name": s.name, "latex": s.latex, "general": matrix.latex(s.general, s.names),
                     "text": _step(s, ln, "text"), "index": _eq(ln, s.lhs, s.rhs),
                     "index_text": _eq(ln, s.lhs, s.rhs, "text"), "shape": list(s.shape),
                     "factors": [{"latex": matrix.latex(t, s.names), "shape": list(printed_shape(t.shape))}
                                 for t in (s.upstream_tree, s.fprime_tree) if t is not None]} for s in d.signals],
        "conventions": list(d.conventions),
        "check": {"max_relative_error": d.check_error,
                  "method": "each gradient along a random direction against central differences of the forward pass",
                  "statements": r.statements, "statements_max_relative_error": r.statement_error,
                  "widths": list(r.widths), "samples": r.samples},
    }
