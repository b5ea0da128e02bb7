"""A numeric worked example as Markdown, LaTeX, text and JSON; the prose is in templates/partials/numeric*."""

from __future__ import annotations

import numpy as np
from markupsafe import Markup

from derive.render.environment import render
from derive.render.printer import breakable_chain


def number(v: float, decimals: int) -> str:
    """`0.4580`, `-0.0045`; a rounded zero prints without a sign."""
    out = f"{v:.{decimals}f}"
    return out[1:] if out.startswith("-") and float(out) == 0 else out


def bmatrix(a: np.ndarray, decimals: int) -> str:
    rows = [" & ".join(number(v, decimals) for v in row) for row in np.atleast_2d(a)]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def _values(values, decimals) -> list:
    return [{"name": v.name, "latex": Markup(v.latex), "matrix": Markup(bmatrix(v.array, decimals)),
             "shape": " × ".join(str(s) for s in v.array.shape)} for v in values]


def _cost(ex):
    from derive.network.backprop import backprop

    return backprop(ex.network).names.name("L")


def context(ex) -> dict:
    d = ex.decimals
    return {
        "cost": Markup(_cost(ex).latex),
        "target": ex.network.spec,
        "target_tex": Markup(breakable_chain(ex.network.spec)),
        "convention": ex.convention,
        "convention_latex": Markup(ex.convention_latex),
        "lr": ex.lr,
        "decimals": d,
        "inputs": _values(ex.inputs, d),
        "forward": _values(ex.forward, d),
        "loss": number(ex.loss, d),
        "signals": _values(ex.signals, d),
        "gradients": _values(ex.gradients, d),
        "updated": _values(ex.updated, d),
        "loss_after": number(ex.loss_after, d),
        "check_error": f"{ex.check_error:.1e}",
        "check_step": f"{ex.check_step:.0e}",
        "at_kink": ex.at_kink,
    }


KINK_NOTE = ("; it is that large only where an activation's input sits on its kink (ReLU at 0), where central "
             "differences average the two sides and the derivation takes ReLU′(0) = 0")


def numeric_markdown(ex) -> str:
    return render("partials/numeric.md.j2", "md", **context(ex)).strip() + "\n"


def numeric_tex(ex) -> str:
    return render("partials/numeric.tex.j2", "tex", **context(ex)).strip() + "\n"


def numeric_latex(ex) -> str:
    return render("partials/numeric_math.tex.j2", "tex", **context(ex)).strip()


def _text_matrix(a: np.ndarray, decimals: int, indent: str) -> str:
    cells = [[number(v, decimals) for v in row] for row in np.atleast_2d(a)]
    width = max(len(c) for row in cells for c in row)
    return "\n".join(indent + "[" + "  ".join(c.rjust(width) for c in row) + "]" for row in cells)


def numeric_text(ex) -> str:
    d = ex.decimals
    cost = _cost(ex).text
    lines = [f"worked example: {ex.network.spec}", (f"loss: {ex.convention}; learning rate {ex.lr}; "
             f"values rounded to {d} decimals for display"), ""]
    for title, group in (("given", ex.inputs), ("forward pass", ex.forward)):
        lines.append(title)
        for v in group:
            lines += [f"  {v.printed} =", _text_matrix(v.array, d, "    ")]
        lines.append("")
    lines += [f"{cost} = {number(ex.loss, d)}", "", "error signals"]
    for v in ex.signals:
        lines += [f"  {v.printed} =", _text_matrix(v.array, d, "    ")]
    lines += ["", "gradients"]
    for v in ex.gradients:
        lines += [f"  {v.printed} =", _text_matrix(v.array, d, "    ")]
    lines += ["", f"after one SGD step (learning rate {ex.lr})"]
    for v in ex.updated:
        lines += [f"  {v.printed} =", _text_matrix(v.array, d, "    ")]
    lines += ["", f"{cost} after the step = {number(ex.loss_after, d)}",
              (f"gradient check: largest |derived - central difference| = {ex.check_error:.1e} "
              f"(step {ex.check_step:.0e})" + (KINK_NOTE if ex.at_kink else ""))]
    return "\n".join(lines) + "\n"


def numeric_json(ex) -> dict:
    def arrays(group):
        return {v.name: v.array.tolist() for v in group}

    return {
        "target": ex.network.spec, "convention": ex.convention, "loss_scale": ex.loss_scale, "lr": ex.lr,
        "decimals": ex.decimals, "inputs": arrays(ex.inputs), "forward": arrays(ex.forward), "loss": ex.loss,
        "signals": arrays(ex.signals), "gradients": arrays(ex.gradients), "updated": arrays(ex.updated),
        "loss_after": ex.loss_after, "check": {"max_abs_error": ex.check_error, "step": ex.check_step,
                                               "at_kink": ex.at_kink},
    }
