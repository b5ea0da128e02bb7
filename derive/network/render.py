"""A network derivation as Markdown, LaTeX, text and JSON. The prose is in templates/partials/network*."""

from __future__ import annotations

import sympy as sp
from markupsafe import Markup

from derive.network.backprop import _elementwise
from derive.network.matrix import Product, product_latex, product_text
from derive.network.printer import latex, net_name
from derive.render.environment import render
from derive.render.printer import text

EXPANDED_DEPTH = 3  # the forward table writes outputs in terms of x only for shallow networks


def _m(tex: str) -> Markup:
    return Markup(tex)


def shape_latex(shape) -> Markup:
    """`d_{1} \\times N`; a scalar is 1."""
    return _m(r" \times ".join(s if s.isdigit() else net_name(s) for s in shape) if shape else "1")


def shape_text(shape) -> str:
    return " x ".join(shape) if shape else "scalar"


class _Product(sp.Symbol):
    """A matrix product such as W^{(1)} x, kept whole inside a SymPy expression: signs and brackets
    around it are then SymPy's arithmetic and the printer's precedence, never text substitution."""

    def _derive_latex(self, printer) -> str:
        return self.name


def _expanded(d) -> dict:
    """Each layer's output in terms of x and the parameters only: (W2 max(0, W1 x + b1) + b2)."""
    from derive.network.backprop import _Names
    from derive.network.matrix import read_product

    net, bp = d.network, d.backprop
    if net.depth > EXPANDED_DEPTH:
        return {}
    names = _Names(net)
    current = {net.input_name: sp.Symbol(net.input_name)}

    def factor_latex(name: str) -> str:
        if name not in current:
            return net_name(name)
        tex = latex(current[name])
        return rf"\left({tex}\right)" if isinstance(current[name], sp.Add) else tex

    out = {}
    for row in bp.forward:
        if row.label == "loss" or (row.rhs.has(sp.Sum) and not row.label.startswith("affine")):
            continue
        if row.label.startswith("affine"):
            expr = sp.Integer(0)
            for term in sp.Add.make_args(row.rhs):
                if isinstance(term, sp.Indexed) and len(term.indices) == 1:
                    expr += _Product(net_name(term.base.name))  # one class with W x: sorts after it
                else:
                    prod = read_product(term, names.column, names.vectors)
                    expr += _Product(product_latex(prod, factor_latex))
        else:
            inner = {s: current[s.name] for s in _elementwise(row.rhs).free_symbols if s.name in current}
            expr = _elementwise(row.rhs).xreplace(inner)
        current[row.lhs.base.name] = expr
        out[row.lhs.base.name] = latex(expr)
    return out


def context(d) -> dict:
    bp = d.backprop
    expanded = _expanded(d)
    forward = [{
        "label": r.label, "module": r.module, "input": _m(r.input), "symbol": _m(r.symbol),
        "matrix": _m(r.matrix), "index": _m(latex(sp.Eq(r.lhs, r.rhs, evaluate=False))),
        "shape": shape_latex(r.shape), "expanded": _m(expanded.get(getattr(r.lhs, "base", r.lhs).name, "")),
    } for r in bp.forward]
    g = d.gradient
    return {
        "target": d.target,
        "wrt": d.wrt,
        "wrt_latex": _m(net_name(d.wrt)),
        "batch": d.network.batch,
        "forward": forward,
        "has_expanded": bool(expanded),
        "chain_lhs": _m(rf"\frac{{\partial L}}{{\partial {net_name(d.wrt)}}}"),
        "chain": [{"latex": _m(j.latex), "shape": shape_latex(j.shape), "equals": _m(j.equals)} for j in d.chain],
        "signals": [{"name": _m(net_name(s.name)), "general": _m(s.general), "matrix": _m(s.matrix),
                     "index": _m(latex(sp.Eq(s.lhs, s.rhs, evaluate=False))), "shape": shape_latex(s.shape),
                     "factors": [(_m(f), shape_latex(sh)) for f, sh in s.factors]} for s in d.signals],
        "gradient": {"lhs": _m(rf"\frac{{\partial L}}{{\partial {net_name(g.wrt)}}}"), "matrix": _m(g.matrix),
                     "factors": [(_m(f), shape_latex(sh)) for f, sh in g.factors], "shape": shape_latex(g.shape),
                     "index": _m(latex(sp.Eq(g.lhs, g.rhs, evaluate=False)))},
        "steps": [{"rule": s.rule, "latex": _m(s.latex), "reason": s.reason} for s in d.steps],
        "conventions": list(d.conventions),
        "check": check_note(d),
    }


def check_note(d) -> str:
    """What was checked before the derivation was stated (derive.network.verify.check_gradients)."""
    from derive.network.verify import RTOL

    return ("Checked: every gradient, as NumPy code, agrees with central differences of the forward pass "
            f"at random values (relative error below {RTOL:g}).")


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


def _matrix_text(s) -> str:
    up = product_text(s.upstream) if isinstance(s.upstream, Product) else text(_elementwise(s.upstream))
    if s.derivative is None:
        return up
    return f"({up}) ⊙ ({text(_elementwise(s.derivative))})"


def network_text(d, form: str | None = None) -> str:
    """The forward pass, the chain rule, the error signals and the gradient; `form` index or
    matrix states the signals and the gradient only in that form (None: both)."""
    form = _form(form)
    bp, g = d.backprop, d.gradient
    lines = [f"network {d.target}: dL/d{d.wrt}", "", "forward pass"]
    width = max(len(r.label) for r in bp.forward)
    for r in bp.forward:
        lhs = text(r.lhs) if r.label == "loss" else r.lhs.base.name
        rhs = text(r.rhs) if (r.label == "loss" or r.rhs.has(sp.Sum) and not r.label.startswith("affine")) else (
            _affine_text(r, d.network) if r.label.startswith("affine") else text(_elementwise(r.rhs)))
        lines.append(f"  {r.label:<{width}}  {lhs} = {rhs}   [{shape_text(r.shape)}]")
    lines += ["", "chain rule (Jacobians, numerator layout)",
              f"  dL/d{d.wrt} = " + " . ".join(_jac_text(j.latex) for j in d.chain)]
    lines += [f"  {_jac_text(j.latex):<12} {shape_text(j.shape):<16} = {_tex_text(j.equals)}" for j in d.chain]
    lines += ["", "error signals"]
    for s in d.signals:
        if form != "index":
            lines.append(f"  {s.name} = {_matrix_text(s)}   [{shape_text(s.shape)}]")
        if form != "matrix":
            lines.append(f"{'  ' if form else '    index form: '}{text(s.lhs)} = {text(s.rhs)}")
    lines += ["", "gradient"]
    if form != "index":
        lines += [f"  dL/d{d.wrt} = {product_text(g.product)}   [{shape_text(g.shape)}]",
                  "    factors: " + ";  ".join(f"{_tex_text(f)}: {shape_text(sh)}" for f, sh in g.factors)]
    if form != "matrix":
        lines.append(f"{'  ' if form else '    index form: '}{text(g.lhs)} = {text(g.rhs)}")
    lines.append("")
    lines += [f"convention: {c}" for c in d.conventions]
    lines.append(check_note(d).replace("Checked: ", "checked: "))
    lines += [f"local derivative: {src}" for s in d.signals for src in s.sources]
    lines.append(f"local derivative: {g.source}")
    return "\n".join(lines) + "\n"


def _affine_text(r, net) -> str:
    from derive.network.backprop import _Names
    from derive.network.matrix import read_product

    names = _Names(net)
    parts = []
    for term in sorted(sp.Add.make_args(r.rhs), key=lambda t: isinstance(t, sp.Indexed)):
        if isinstance(term, sp.Indexed) and len(term.indices) == 1:
            parts.append(term.base.name)
        else:
            parts.append(product_text(read_product(term, names.column, names.vectors)))
    return " + ".join(parts)


def _jac_text(tex: str) -> str:
    return _tex_text(tex).replace(" ", "")


def _tex_text(tex: str) -> str:
    """A rough plain-text reading of our own LaTeX, for the text format."""
    import re

    out = tex
    out = re.sub(r"\\frac\{\\partial ([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\{\\partial ([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}",
                 r"d\1/d\2", out)
    for a, b in ((r"\left(", "("), (r"\right)", ")"), (r"\hat{y}", "yhat"), (r"\hat{Y}", "Yhat"),
                 (r"\delta", "delta"), (r"\Delta", "Delta"), (r"\top", "T"), (r"\operatorname{diag}", "diag"),
                 (r"\mathbb{1}", "1"), (r"\left[", "["), (r"\right]", "]"), (r"\odot", "⊙"), (r"\mathbf{1}", "1")):
        out = out.replace(a, b)
    out = re.sub(r"\^\{\((\d+)\)T\}", r"\1^T", out)
    out = re.sub(r"\^\{\((\d+)\)\}", r"\1", out)
    out = re.sub(r"\^\{T\}", "^T", out)
    out = re.sub(r"_\{(\w+)\}", r"\1", out)
    return out


def network_json(d) -> dict:
    bp, g = d.backprop, d.gradient
    return {
        "target": d.target,
        "kind": "network",
        "wrt": d.wrt,
        "lhs": text(g.lhs),
        "result": text(g.rhs),
        "srepr": sp.srepr(g.rhs),
        "latex": latex(g.rhs),
        "equation": latex(sp.Eq(g.lhs, g.rhs, evaluate=False)),
        "steps": [{"rule": s.rule, "latex": s.latex, "text": s.text, "reason": s.reason} for s in d.steps],
        "matrix": {"latex": rf"\frac{{\partial L}}{{\partial {net_name(g.wrt)}}} = {g.matrix}",
                   "text": product_text(g.product), "shape": list(g.shape),
                   "factors": [{"latex": f, "shape": list(sh)} for f, sh in g.factors],
                   "layout": "the gradient has the shape of the variable (denominator layout)"},
        "forward": [{"label": r.label, "module": r.module, "latex": r.matrix,
                     "index": latex(sp.Eq(r.lhs, r.rhs, evaluate=False)), "text": f"{text(r.lhs)} = {text(r.rhs)}",
                     "shape": list(r.shape)} for r in bp.forward],
        "chain": [{"latex": j.latex, "shape": list(j.shape), "equals": j.equals} for j in d.chain],
        "signals": [{"name": s.name, "latex": s.matrix, "general": s.general, "text": f"{text(s.lhs)} = {text(s.rhs)}",
                     "index": latex(sp.Eq(s.lhs, s.rhs, evaluate=False)), "shape": list(s.shape),
                     "factors": [{"latex": f, "shape": list(sh)} for f, sh in s.factors]} for s in d.signals],
        "conventions": list(d.conventions),
        "check": {"max_relative_error": d.check_error,
                  "method": "each gradient along a random direction against central differences of the forward pass"},
    }
