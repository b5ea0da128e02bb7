"""A step's reason for a printed page: prose as text, its formulas (between `$` in
`derive.steps.Reason.marked`) as math, so (N′D − ND′)/D² is set like the step beside it.

The formulas are the project's own Unicode (∂x_k/∂x_j = δ_kj, (uⁿ)′ = n uⁿ⁻¹ u′); `unicode_latex`
turns that small vocabulary into LaTeX, character by character, and escapes anything else. A formula
kept as a SymPy expression (`Reason.formulas`) is written by the LaTeX printer.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from derive.model.notation import GREEK_LETTERS, INDICATOR
from derive.render.printer import escape_tex, latex
from derive.steps import FORMULA

_SYMBOLS = {"∂": r"\partial ", "Σ": r"\sum ", "−": "-", "′": "'", "≠": r"\neq ", "⊙": r"\odot ",
            "·": r"\cdot ", "×": r"\times ", "ŷ": r"\hat{y}", "Ŷ": r"\hat{Y}", "𝟙": INDICATOR,
            "ᵀ": r"^{\top}", "≤": r"\leq ", "≥": r"\geq ", "‖": r"\|", "→": r"\to ", "…": r"\ldots ",
            "π": r"\pi ", "∈": r"\in "}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹ⁿ⁻⁺ᵃᵇᵘⁱʲᵏ⁽⁾ˣ", "0123456789n-+abuijk()x"))
_FUNCTIONS = {"log": r"\log ", "exp": r"\exp ", "max": r"\max ", "min": r"\min ", "tanh": r"\tanh ",
              "diag": r"\operatorname{diag}"} | {
    f: rf"\operatorname{{{f}}}" for f in ("softmax", "softplus", "erf", "sign", "sgn", "argmax", "KL", "ReLU")}
_BRACKETED = r"((?:[^()]|\([^()]*\))*)"  # what a pair of round brackets holds, one level nested
_TOKEN = re.compile(r"_\{([^{}]*)\}|_\(" + _BRACKETED + r"\)|_([A-Za-z0-9]+|[" + "".join(GREEK_LETTERS) + r"])"
                    r"|([A-Za-z]{2,8})(?![A-Za-z])|([" + "".join(_SUPERSCRIPTS) + r"]+)|\^\{([^{}]*)\}"
                    r"|√\(" + _BRACKETED + r"\)|√([A-Za-z0-9])|(.)", re.DOTALL)
_PLAIN = re.compile(r"[A-Za-z0-9 ()\[\]/=+,.:;<>!|-]")


def unicode_latex(formula: str) -> str:
    """`∂x_k/∂x_j = δ_kj` → `\\partial x_{k}/\\partial x_{j} = \\delta _{kj}`; unknown characters escaped."""
    out = []
    formula = re.sub("([A-Za-z])([\u0302\u0303])", lambda m: m.group(2) + m.group(1), formula)  # x̂ → \hat x
    for m in _TOKEN.finditer(formula):
        curly, braced, sub, word, sup, power, root, root1, char = m.groups()
        if curly is not None:  # h_{t−1}: a name's own subscript
            out.append("_{" + unicode_latex(curly) + "}")
        elif braced is not None:  # x_(k + l − 1): index arithmetic as a subscript
            out.append("_{" + unicode_latex(braced) + "}")
        elif sub is not None:  # x_kj, h_δ
            out.append(f"_{{{sub}}}" if sub[0].isascii() else "_{" + unicode_latex(sub) + "}")
        elif word is not None:
            out.append(_FUNCTIONS.get(word, word))
        elif sup is not None:
            out.append("^{" + "".join(_SUPERSCRIPTS[c] for c in sup) + "}")
        elif power is not None:  # e^{−x}
            out.append("^{" + unicode_latex(power) + "}")
        elif root is not None or root1 is not None:  # √(2π), √d
            out.append(r"\sqrt{" + unicode_latex(root if root is not None else root1) + "}")
        elif char in ("\u0302", "\u0303"):
            out.append(r"\hat " if char == "\u0302" else r"\tilde ")
        elif char in _SYMBOLS:
            out.append(_SYMBOLS[char])
        elif char in GREEK_LETTERS:
            out.append(f"\\{GREEK_LETTERS[char]} ")
        elif _PLAIN.fullmatch(char):
            out.append(char)
        else:
            out.append(escape_tex(char))
    return "".join(out).strip()


def reason_markup(reason: str, fmt: str, display_over: int | None = None) -> Markup:
    """The reason for `fmt` ('tex' or 'md'): prose escaped for TeX in 'tex', formulas as `$…$` math; in 'tex',
    a formula of more than `display_over` characters of LaTeX set apart, `\\[…\\]` (inline math that long does
    not break and runs into the margin)."""
    marked = getattr(reason, "marked", None)
    if marked is None:  # a plain string (a custom template's, an older pickle): prose only
        return Markup(escape_tex(str(reason)) if fmt == "tex" else str(reason))
    pieces = marked.split("$")
    formulas = {FORMULA.format(n): f for n, f in enumerate(getattr(reason, "formulas", ()))}
    out = []
    for n, piece in enumerate(pieces):
        if n % 2 and piece in formulas:  # a SymPy formula: the LaTeX printer writes it
            tex = latex(formulas[piece])
            wide = fmt == "tex" and display_over is not None and len(tex) > display_over
            out.append(rf"\[{tex}\]" if wide else f"${tex}$")
        elif n % 2:
            out.append(f"${unicode_latex(piece)}$")
        else:
            out.append(escape_tex(piece) if fmt == "tex" else piece)
    return Markup("".join(out))
