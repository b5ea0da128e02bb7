"""A derivation as Markdown, LaTeX, text and JSON. The prose is in templates/partials."""

from __future__ import annotations

import sympy as sp
from markupsafe import Markup

from derive.model import FORMS
from derive.model.matexpr import Quotient, walk
from derive.model.notation import spoken
from derive.render.lines import latex_lines, width
from derive.render.matrix import latex as matrix_latex
from derive.render.matrix import text as matrix_text
from derive.render.printer import latex, text
from derive.render.stages import stage_json, stage_lines, stage_markdown
from derive.render.unicode import unicode_text
from derive.steps import FORMULA, Derivation, Reason


def render(template: str, fmt: str, **context) -> str:
    """derive.render.environment.render, imported at the first use: text output needs no Jinja (0.05 s)."""
    from derive.render.environment import render as rendered

    return rendered(template, fmt, **context)


def check_note(d: Derivation) -> str | None:
    """What was checked of the derivation, in a sentence (None when nothing was)."""
    sizes = ", ".join(f"{k} = {v}" for k, v in sorted(d.definition.sizes.items(), key=lambda kv: str(kv[0])))
    where = f" at {sizes}" if sizes else ""
    matrix = d.matrix is not None and d.matrix.max_error is not None
    if d.report is None:
        return f"Checked: the matrix form agrees with the index form{where} at every entry." if matrix else None
    also = "; the matrix form agrees with it at every entry" if matrix else ""
    if getattr(d.report, "stages", 0):  # derive.verify_staged: what was checked, not sympy.diff of the whole
        return (f"Checked: stage by stage, each gradient stated agrees{where} at every entry with sympy.diff of the "
                "stages that read the quantity; the result with sympy.diff of the whole definition at one "
                f"point and with central finite differences of it{also}.")
    return (f"Checked: the result agrees with sympy.diff of the definition{where} at every index, "
            f"and with central finite differences{also}.")


def _m(expr) -> Markup:
    return Markup(latex(expr))


# A printed page (11 pt, A4, 2.4 cm margins) is 41.8 em wide; a step's reason column takes 0.28 of it
# (templates/partials/sheet_derivation.tex.j2, proof.tex.j2).
PAGE_EM = 41.8
REASON_EM = 0.28 * PAGE_EM + 1.2  # the column and the gap before it
SAFETY = 0.9  # the width estimate is within about 15 % of TeX's


def step_lines(expr, lhs_tex: str) -> list:
    """A step's right-hand side as LaTeX lines that fit beside its left side and its reason."""
    budget = SAFETY * (PAGE_EM - width(lhs_tex) - 1.4 - REASON_EM) - 2.0  # 2 em: the indent of later lines
    return [Markup(line) for line in latex_lines(expr, budget)]


def definition_layout(defn) -> tuple[bool, list]:
    """Whether the definition fits inline after its title (sums with their limits beside them), and its
    right-hand side as display lines for when it does not."""
    tex = latex(defn.expr)
    inline = width(tex, display=False) + 0.5 * len(defn.title) + 14.0 <= SAFETY * PAGE_EM
    lhs = latex(defn.entry(defn.output, defn.index))
    return inline, [Markup(line) for line in latex_lines(defn.expr, SAFETY * (PAGE_EM - width(lhs) - 1.4) - 2.0)]


class _MatrixEquation:
    """A stage's checked matrix form, `lhs = expr`, as a formula of a Reason: printed by the matrix printers."""

    def __init__(self, form):
        self.form = form

    def _derive_latex(self, printer) -> str:
        return f"{matrix_latex(self.form.lhs, self.form.names)} = {matrix_latex(self.form.expr, self.form.names)}"

    def _derive_unicode(self, printer) -> str:
        return f"{matrix_text(self.form.lhs, self.form.names)} = {self.form.text}"


def stated(d) -> list:
    """The conventions, then the gradient at each named stage the result is written in (attention's
    ∂C/∂S): in its matrix form, checked against its index form, and entry by entry — as a Reason, so a
    page sets its formulas as math."""
    said = []
    for g in getattr(d, "through", ()):
        entry = sp.Eq(g.lhs, g.result, evaluate=False)
        if g.matrix is not None:
            marked = f"where ${FORMULA.format(0)}$, entry by entry ${FORMULA.format(1)}$"
            said.append(Reason(marked, (_MatrixEquation(g.matrix), entry)))
        else:
            said.append(Reason(f"where ${FORMULA.format(0)}$", (entry,)))
    return [*d.conventions, *said]


def context(d) -> dict:
    """Everything a template needs about a derivation, as LaTeX (Markup) and plain text."""
    defn = d.definition
    lhs = latex(d.lhs)
    return {
        "target": d.target,
        "title": defn.title,
        "wrt": d.wrt,
        "definition": _m(sp.Eq(defn.entry(defn.output, defn.index), defn.expr, evaluate=False)),
        "lhs": _m(d.lhs),
        "result": _m(d.result),
        "equation": _m(d.equation),
        "steps": [{"rule": s.rule, "latex": _m(s.after), "reason": s.reason, "lines": step_lines(s.after, lhs)}
                  for s in d.steps],
        "definition_lhs": _m(defn.entry(defn.output, defn.index)),
        **dict(zip(("definition_inline", "definition_lines"), definition_layout(defn))),
        # a result wider than the page is boxed as lines, like a step's
        "result_lines": [Markup(x) for x in latex_lines(d.result, SAFETY * (PAGE_EM - width(lhs) - 2.4) - 2.0)],
        # a staged definition (a cell's gates, attention's S, A, Y): printed stage by stage, never expanded
        "stages": stage_lines(defn, SAFETY * PAGE_EM) if defn.stages else [],
        "stages_md": stage_markdown(defn) if defn.stages else [],
        "cases": [{"latex": _m(e), "condition": _m(c)} for e, c in d.cases.pieces] if d.cases else [],
        "matrix": _matrix(d),
        "matrix_refused": (Markup(matrix_latex(d.matrix_refused.lhs, d.matrix_refused.names))
                           if d.matrix_refused is not None else None),
        "conventions": stated(d),
        "upstream": _m(d.upstream.symbol) if d.upstream is not None else None,
    }


LAYOUTS = {"denominator": "the gradient has the shape of the variable (denominator layout)",
           "numerator": "numerator layout: the transpose of the variable's shape"}


def layout(d) -> Reason:
    """The layout sentence stated with a matrix form; an entrywise activation's gives its Jacobian."""
    mf, defn = d.matrix, d.definition
    out, var = spoken(defn.output.name), spoken(d.wrt)
    if mf.layout == "jacobian":
        sentence = f"Jacobian: row $i$ holds $∂{out}_i$, column $j$ is $∂/∂{var}_j$"
    elif mf.layout == "entrywise":
        sentence = f"entrywise ($⊙$); the Jacobian $∂{out}/∂{var}$ is ${matrix_text(mf.jacobian, mf.names)}$"
    else:
        sentence = LAYOUTS[mf.layout]
    if any(isinstance(n, Quotient) for n in walk(mf.expr)):
        sentence += "; the fraction is taken entry by entry"
    return Reason(sentence)  # a str of plain text; its formulas set as math on a page


def _matrix(d):
    mf = d.matrix
    if mf is None:
        return None

    def tex(tree):
        return Markup(matrix_latex(tree, mf.names))

    return {"lhs": tex(mf.lhs), "expr": tex(mf.expr), "shape": mf.shape, "layout": layout(d),
            "factors": [(tex(f), [Markup(n if n == "1" else latex(sp.Symbol(n))) for n in f.shape])
                        for f in mf.factors]}


def refusal(d) -> str | None:
    """The one line said instead of a matrix form that failed its check."""
    mf = d.matrix_refused
    if mf is None:
        return None
    return (f"the matrix form of {matrix_text(mf.lhs, mf.names)} for {d.target} failed its check "
            "against the index form; not shown")


def known_form(form: str) -> str:
    """`form` checked against the forms a result is stated in (index, matrix); a one-line error otherwise."""
    from derive.errors import DeriveError

    if form not in FORMS:
        raise DeriveError(f"unknown form {form!r}; choose one of: {', '.join(FORMS)}")
    return form


def form_of(d, form: str) -> str:
    """`form` checked: index, or matrix where the derivation has one (one-line error otherwise)."""
    from derive.errors import DeriveError

    if known_form(form) == "matrix" and d.matrix is None:
        if d.matrix_refused is not None:
            raise DeriveError(f"{refusal(d)}; use --form index")
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
    lines = [f"{d.target}: {unicode_text(d.lhs)}", ""]
    for n, s in enumerate(d.steps, 1):
        lines.append(f"{n}. [{s.rule}] {s.reason}")
        lines.append(f"   = {unicode_text(s.after)}")
    index = [f"{unicode_text(d.lhs)} = {unicode_text(d.result)}"] + [
        f"   {unicode_text(e)}   if {unicode_text(c)}" for e, c in (d.cases.pieces if d.cases else ())]
    mf = d.matrix
    if form_of(d, form) == "matrix":
        lines += ["", f"result: {matrix_text(mf.lhs, mf.names)} = {mf.text}   shape {' x '.join(mf.shape)}",
                  "index form: " + index[0], *index[1:]]
    else:
        lines += ["", "result: " + index[0], *index[1:]]
        if mf is not None:
            lines.append(f"matrix: {mf.text}   shape {' x '.join(mf.shape)}")
        elif d.matrix_refused is not None:
            lines.append(f"matrix: {refusal(d)}")
    lines += [f"convention: {c}" for c in stated(d)]
    if d.report is not None:
        lines.append(check_note(d).replace("Checked: ", "checked: "))
    return "\n".join(lines) + "\n"


def derivation_json(d) -> dict:
    out = {
        "target": d.target,
        "wrt": d.wrt,
        "lhs": unicode_text(d.lhs),
        "result": text(d.result),
        "srepr": sp.srepr(d.result),
        "latex": latex(d.result),
        "equation": latex(d.equation),
        "steps": [{"rule": s.rule, "latex": latex(s.after), "text": unicode_text(s.after), "reason": s.reason}
                  for s in d.steps],
        "cases": [{"latex": latex(e), "condition": latex(c)} for e, c in d.cases.pieces] if d.cases else [],
        "conventions": stated(d),
        "stages": stage_json(d.definition),  # a staged definition (a cell's gates, attention's S, A, Y)
    }
    if d.report is not None:
        r = d.report
        out["check"] = {"sympy_diff": {"symbolic": r.symbolic, "numeric": r.numeric},
                        "max_finite_difference_error": r.max_fd_error,
                        "sizes": {str(k): int(v) for k, v in d.definition.sizes.items()}}
        if getattr(r, "stages", 0):  # derive.verify_staged: sympy_diff is then of the whole at one point
            out["check"]["stages"] = r.stages
    mf = d.matrix
    if mf is not None:
        expr = matrix_latex(mf.expr, mf.names)
        out["matrix"] = {"latex": f"{matrix_latex(mf.lhs, mf.names)} = {expr}", "expr": expr,
                         "text": mf.text, "shape": list(mf.shape),
                         "factors": [{"latex": matrix_latex(f, mf.names), "shape": list(f.shape)} for f in mf.factors],
                         "layout": layout(d), "max_error": float(mf.max_error)}
    elif d.matrix_refused is not None:
        out["matrix_refused"] = refusal(d)
    return out


def proof_context(p) -> dict:
    lhs = latex(p.lhs)
    return {"lhs": _m(p.lhs), "rhs": _m(p.rhs), "ends_at_rhs": bool(p.steps) and p.steps[-1].after == p.rhs,
            "steps": [{"rule": s.rule, "latex": _m(s.after), "reason": s.reason, "lines": step_lines(s.after, lhs)}
                      for s in p.steps]}


def proof_markdown(p) -> str:
    return render("partials/proof.md.j2", "md", **proof_context(p)).strip() + "\n"


def proof_latex(p) -> str:
    """One `$$` block: the chain of equalities, for notebooks."""
    ctx = proof_context(p)
    rows = [rf"{ctx['lhs'] if n == 0 else ''} &= {s['latex']} && \text{{{s['rule']}}}" for n, s in enumerate(ctx["steps"])]
    return "$$\\begin{aligned}" + r" \\ ".join(rows) + "\\end{aligned}$$"
