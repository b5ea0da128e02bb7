"""A derivation as Markdown, LaTeX, text and JSON. The prose is in templates/partials."""

from __future__ import annotations

import sympy as sp
from markupsafe import Markup

from derive.render.environment import render
from derive.render.printer import latex, text
from derive.verify import check_note


def _m(expr) -> Markup:
    return Markup(latex(expr))


def context(d) -> dict:
    """Everything a template needs about a derivation, as LaTeX (Markup) and plain text."""
    defn = d.definition
    return {
        "target": d.target,
        "title": defn.title,
        "wrt": d.wrt,
        "definition": _m(sp.Eq(defn.entry(defn.output, defn.index), defn.expr, evaluate=False)),
        "lhs": _m(d.lhs),
        "result": _m(d.result),
        "equation": _m(d.equation),
        "steps": [{"rule": s.rule, "latex": _m(s.after), "reason": s.reason} for s in d.steps],
        "cases": [{"latex": _m(e), "condition": _m(c)} for e, c in d.cases.pieces] if d.cases else [],
        "matrix": _matrix(d.matrix),
        "conventions": list(d.conventions),
        "upstream": _m(d.upstream.symbol) if d.upstream is not None else None,
    }


def _matrix(mf):
    if mf is None:
        return None
    return {"lhs": Markup(mf.lhs), "expr": Markup(mf.expr), "shape": mf.shape, "layout": mf.layout,
            "factors": [(Markup(f), [Markup(n if n == "1" else latex(sp.Symbol(n))) for n in s]) for f, s in mf.factors]}


def known_form(form: str) -> str:
    """`form` checked against the forms a result is stated in (index, matrix); a one-line error otherwise."""
    from derive.errors import DeriveError
    from derive.sheets.model import FORMS

    if form not in FORMS:
        raise DeriveError(f"unknown form {form!r}; choose one of: {', '.join(FORMS)}")
    return form


def form_of(d, form: str) -> str:
    """`form` checked: index, or matrix where the derivation has one (one-line error otherwise)."""
    from derive.errors import DeriveError

    if known_form(form) == "matrix" and d.matrix is None:
        raise DeriveError(f"{d.target} with respect to {d.wrt} has no matrix form; use --form index")
    return form


def derivation_latex(d, form: str = "index") -> str:
    """`$$`-delimited display math: the steps, then the boxed result (for notebooks too)."""
    return render("partials/derivation_math.tex.j2", "tex", **context(d), form=form_of(d, form)).strip()


def derivation_markdown(d, form: str = "index") -> str:
    return render("partials/derivation.md.j2", "md", **context(d), form=form_of(d, form),
                  check=check_note(d)).strip() + "\n"


def derivation_tex(d, form: str = "index") -> str:
    return render("partials/derivation.tex.j2", "tex", **context(d), form=form_of(d, form),
                  check=check_note(d)).strip() + "\n"


def derivation_text(d, form: str = "index") -> str:
    """The steps, then the result; `form` = matrix states the matrix form first, the index form after."""
    lines = [f"{d.target}: d/d{d.wrt}", ""]
    for n, s in enumerate(d.steps, 1):
        lines.append(f"{n}. [{s.rule}] {s.reason}")
        lines.append(f"   = {text(s.after)}")
    index = [f"{text(d.lhs)} = {text(d.result)}"] + [f"   {text(e)}   if {text(c)}" for e, c in
                                                       (d.cases.pieces if d.cases else ())]
    if form_of(d, form) == "matrix":
        lines += ["", f"result: {_matrix_lhs(d)} = {d.matrix.text}   shape {' x '.join(d.matrix.shape)}",
                  "index form: " + index[0], *index[1:]]
    else:
        lines += ["", "result: " + index[0], *index[1:]]
        if d.matrix is not None:
            lines.append(f"matrix: {d.matrix.text}   shape {' x '.join(d.matrix.shape)}")
    lines += [f"convention: {c}" for c in d.conventions]
    if d.report is not None:
        lines.append(check_note(d).replace("Checked: ", "checked: "))
    return "\n".join(lines) + "\n"


def _matrix_lhs(d) -> str:
    """dC/dW, dy/dx, dL/dyhat: what the matrix form is the derivative of, as plain text."""
    if d.cost is not None:
        top = str(d.cost)
    elif d.definition.elementwise:  # its matrix form is the gradient ∂C/∂y ⊙ f′ passed down
        top = d.definition.upstream
    else:
        top = d.definition.output.name
    return f"d{top}/d{d.wrt}"


def derivation_json(d) -> dict:
    out = {
        "target": d.target,
        "wrt": d.wrt,
        "lhs": text(d.lhs),
        "result": text(d.result),
        "srepr": sp.srepr(d.result),
        "latex": latex(d.result),
        "equation": latex(d.equation),
        "steps": [{"rule": s.rule, "latex": latex(s.after), "text": text(s.after), "reason": s.reason}
                  for s in d.steps],
        "cases": [{"latex": latex(e), "condition": latex(c)} for e, c in d.cases.pieces] if d.cases else [],
        "conventions": list(d.conventions),
    }
    if d.report is not None:
        r = d.report
        out["check"] = {"sympy_diff": {"symbolic": r.symbolic, "numeric": r.numeric},
                        "max_finite_difference_error": r.max_fd_error,
                        "sizes": {str(k): int(v) for k, v in d.definition.sizes.items()}}
    if d.matrix is not None:
        out["matrix"] = {"latex": f"{d.matrix.lhs} = {d.matrix.expr}", "expr": d.matrix.expr,
                         "text": d.matrix.text, "shape": list(d.matrix.shape),
                         "factors": [{"latex": f, "shape": list(s)} for f, s in d.matrix.factors],
                         "layout": d.matrix.layout}
    return out


def proof_context(p) -> dict:
    return {"lhs": _m(p.lhs), "rhs": _m(p.rhs), "ends_at_rhs": bool(p.steps) and p.steps[-1].after == p.rhs,
            "steps": [{"rule": s.rule, "latex": _m(s.after), "reason": s.reason} for s in p.steps]}


def proof_markdown(p) -> str:
    return render("partials/proof.md.j2", "md", **proof_context(p)).strip() + "\n"


def proof_latex(p) -> str:
    """One `$$` block: the chain of equalities, for notebooks."""
    ctx = proof_context(p)
    rows = [rf"{ctx['lhs'] if n == 0 else ''} &= {s['latex']} && \text{{{s['rule']}}}" for n, s in enumerate(ctx["steps"])]
    return "$$\\begin{aligned}" + r" \\ ".join(rows) + "\\end{aligned}$$"
