"""A graph's worked example as text and Markdown: given numbers, forward values, gradients, the step."""

from __future__ import annotations

import numpy as np

from derive.graph.example import FD_RTOL


def _fmt(arr: np.ndarray, decimals: int) -> str:
    arr = np.round(np.asarray(arr, dtype=float), decimals) + 0.0  # no −0
    rows = [" ".join(f"{x:g}" for x in row) for row in arr]
    if arr.shape[1] == 1:
        return "[" + ", ".join(f"{x:g}" for x in arr[:, 0]) + "]" + ("ᵀ" if arr.shape[0] > 1 else "")
    return "[" + "; ".join(rows) + "]"


def _rule(ex) -> list:
    lines = []
    for p in ex.graph.params:
        if p in ex.frozen:
            lines.append(f"{p} is frozen: it keeps its value")
        elif ex.decay.get(p):
            lines.append(f"{p} ← {p} − η (∂L/∂{p} + λ {p}) with η = {ex.lr:g}, λ = {ex.decay[p]:g}")
        else:
            lines.append(f"{p} ← {p} − η ∂L/∂{p} with η = {ex.lr:g}")
    return lines


def example_text(ex) -> str:
    d = ex.decimals
    out = [f"Worked example on graph {ex.graph.name}", "", "Given:"]
    out += [f"  {k} = {_fmt(v, d)}" for k, v in ex.given.items()]
    out += ["", "Forward pass:"] + [f"  {k} = {_fmt(v, d)}" for k, v in ex.values.items()]
    out += [f"  L = {ex.loss:.{d}g}", "", "Gradients:"]
    out += [f"  ∂L/∂{k} = {_fmt(v, d)}" for k, v in ex.gradients.items()]
    out += ["", "One SGD step:"] + [f"  {r}" for r in _rule(ex)]
    out += [f"  {p} = {_fmt(v, d)}" for p, v in ex.updated.items()]
    out += [f"  L after the step = {ex.loss_after:.{d}g}", "",
            (f"checked: every parameter's gradient at these numbers agrees with central differences, entry by "
            f"entry (relative error {ex.check_error:.1e})")]
    return "\n".join(out) + "\n"


def example_markdown(ex) -> str:
    d = ex.decimals
    out = [f"**Worked example on `{ex.graph.name}`**", "", "| quantity | value |", "|---|---|"]
    out += [f"| {k} (given) | `{_fmt(v, d)}` |" for k, v in ex.given.items()]
    out += [f"| {k} | `{_fmt(v, d)}` |" for k, v in ex.values.items()]
    out += [f"| L | `{ex.loss:.{d}g}` |"]
    out += [f"| ∂L/∂{k} | `{_fmt(v, d)}` |" for k, v in ex.gradients.items()]
    out += [f"| {p} after the step | `{_fmt(v, d)}` |" for p, v in ex.updated.items()]
    out += [f"| L after the step | `{ex.loss_after:.{d}g}` |", ""]
    out += [f"- {r}" for r in _rule(ex)]
    out += ["", (f"*checked: every parameter's gradient at these numbers agrees with central differences "
                f"(relative error below {FD_RTOL:.0e})*")]
    return "\n".join(out) + "\n"


def _bmatrix(arr: np.ndarray, decimals: int) -> str:
    arr = np.round(np.asarray(arr, dtype=float), decimals) + 0.0
    rows = [" & ".join(f"{x:g}" for x in row) for row in arr]
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def example_latex(ex) -> str:
    """The example as a LaTeX table (amsmath): given, forward, gradients, the step and the new loss."""
    from derive.graph.backprop import name_of

    d = ex.decimals

    def row(lhs: str, arr) -> str:
        return f"${lhs}$ & ${_bmatrix(arr, d)}$ \\\\"

    out = [r"\begin{longtable}{ll}"]
    out += [row(name_of(k).latex, v) for k, v in ex.given.items()]
    out += [r"\hline"] + [row(name_of(k).latex, v) for k, v in ex.values.items()]
    out += [f"$L$ & ${ex.loss:.{d}g}$ \\\\", r"\hline"]
    out += [row(name_of("dL_d" + k).latex, v) for k, v in ex.gradients.items()]
    out += [r"\hline"]
    for p in ex.graph.params:
        w = name_of(p).latex
        if p in ex.frozen:
            out.append(f"${w}$ & frozen: it keeps its value \\\\")
            continue
        decay = rf" + {ex.decay[p]:g}\, {w}" if ex.decay.get(p) else ""
        out.append(rf"${w} \leftarrow {w} - {ex.lr:g}\left(\frac{{\partial L}}{{\partial {w}}}{decay}\right)$ & "
                   f"${_bmatrix(ex.updated[p], d)}$ \\\\")
    out += [f"$L$ after the step & ${ex.loss_after:.{d}g}$ \\\\", r"\end{longtable}"]
    return "\n".join(out) + "\n"
