"""A staged definition (LSTM, GRU, attention) printed stage by stage: one line per named quantity, a
gate beside its pre-activation (f_i = σ((a_f)_i), (a_f)_i = Σ_k (W_f)_ik z_k + (b_f)_i), σ written as
σ and not as 1/(1 + e^{−a}); the definition substituted into one expression runs past any margin.

What is printed is the definition's own stages, rewritten for display only by an exact pattern
(1/(1 + e^{−a}) ↔ σ(a)) whose inverse is checked to give the stage back.
"""

from __future__ import annotations

import sympy as sp
from markupsafe import Markup

from derive.render.lines import latex_lines, width
from derive.render.printer import latex


class Sigmoid(sp.Function):
    """σ(a) = 1/(1 + e^{−a}) as printed; display only, never differentiated or evaluated."""

    def _derive_latex(self, printer) -> str:
        return rf"\sigma\left({printer._print(self.args[0])}\right)"

    def _derive_unicode(self, printer) -> str:
        return f"σ({printer._print(self.args[0])})"


def _as_sigma(e):
    if isinstance(e, sp.Pow) and e.exp == -1 and isinstance(e.base, sp.Add) and len(e.base.args) == 2 \
            and sp.S.One in e.base.args:
        other = next(a for a in e.base.args if a != 1)
        if isinstance(other, sp.exp):
            return Sigmoid(-other.args[0])
    return None


def with_sigma(expr: sp.Expr) -> sp.Expr:
    """`expr` with every 1/(1 + e^{−a}) written σ(a); ValueError if that does not give `expr` back."""
    shown = expr.replace(lambda e: _as_sigma(e) is not None, _as_sigma)
    if shown.replace(Sigmoid, lambda a: 1 / (1 + sp.exp(-a))) != expr:
        raise ValueError(f"σ could not be written into {expr}")
    return shown


def _gate_of(stage, before) -> bool:
    """Whether `stage` is a squashing of the stage just before it, entry by entry (f_i = σ((a_f)_i))."""
    if before is None or len(stage.inputs) != 1 or stage.inputs[0].name != before.output.name:
        return False
    entry = before.output.symbol[stage.index]
    return isinstance(stage.expr, (sp.Function, sp.Pow)) and stage.expr.has(entry) and \
        stage.expr.free_symbols - entry.free_symbols - set(stage.index) == set()


def stage_rows(defn) -> list[tuple[sp.Expr, sp.Expr, tuple]]:
    """(left side, right side, the pre-activation (left, right) it is written beside, or ()) per row."""
    rows, stages = [], list(defn.stages)
    n = 0
    while n < len(stages):
        st = stages[n]
        nxt = stages[n + 1] if n + 1 < len(stages) else None
        if nxt is not None and _gate_of(nxt, st):
            rows.append((defn.entry(nxt.output, nxt.index), with_sigma(nxt.expr),
                         (defn.entry(st.output, st.index), with_sigma(st.expr))))
            n += 2
        else:
            rows.append((defn.entry(st.output, st.index), with_sigma(st.expr), ()))
            n += 1
    return rows


def stage_lines(defn, budget: float) -> list[dict]:
    """The rows as LaTeX for an align*: each {lhs, lines}, a gate and its pre-activation on one row when
    they fit within `budget` ems, else on two (the pre-activation first)."""
    out = []
    for lhs, rhs, pre in stage_rows(defn):
        left, right = latex(lhs), latex(rhs)
        if pre:
            beside = rf"{right}, \quad {latex(pre[0])} = {latex(pre[1])}"
            if width(left) + width(beside) + 1.4 <= budget:
                out.append({"lhs": Markup(left), "lines": [Markup(beside)]})
                continue
            out.append(_row(pre[0], pre[1], budget))
        out.append(_row(lhs, rhs, budget))
    return out


def _row(lhs, rhs, budget: float) -> dict:
    left = latex(lhs)
    return {"lhs": Markup(left), "lines": [Markup(x) for x in latex_lines(rhs, budget - width(left) - 1.4 - 2.0)]}


def stage_markdown(defn) -> list[Markup]:
    """One Markdown line per row: `f_i = σ((a_f)_i)`, with `(a_f)_i = …` beside it."""
    out = []
    for lhs, rhs, pre in stage_rows(defn):
        line = f"${latex(lhs)} = {latex(rhs)}$"
        if pre:
            line += f", where ${latex(pre[0])} = {latex(pre[1])}$"
        out.append(Markup(line))
    return out


def stage_json(defn) -> list[dict]:
    """Each stage of a staged definition, in order: the quantity it names and its definition as printed
    (σ written as σ), in LaTeX and Unicode text; [] for a definition of one line."""
    from derive.render.unicode import unicode_text

    out = []
    for st in defn.stages:
        lhs, rhs = defn.entry(st.output, st.index), with_sigma(st.expr)
        out.append({"output": st.output.name, "latex": f"{latex(lhs)} = {latex(rhs)}",
                    "text": f"{unicode_text(lhs)} = {unicode_text(rhs)}"})
    return out
