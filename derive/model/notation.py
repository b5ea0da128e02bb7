"""How names are written: LaTeX and Unicode text, from the definitions' own `Var.latex`.

A name without declared LaTeX follows a few rules: `yhat` → \\hat{y}, `beta` → \\beta,
`W1` → W^{(1)}, `C_2` → C_{2}, `dC_dy` → ∂C/∂y. A table (`Name` per name) is made for each
matrix form by `table`, and the printers read only the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "theta", "lambda", "mu", "sigma", "phi", "tau",
         "eta", "rho", "omega", "zeta", "Delta", "Lambda", "Sigma", "Phi", "Omega"}

NAMES = {"yhat": r"\hat{y}", "Yhat": r"\hat{Y}", "xhat": r"\hat{x}", "lam": r"\lambda", "sigma2": r"\sigma^2"}
# A name as it reads in prose (step reasons) and plain text: only characters TeX escaping turns into math.
GREEK_LETTERS = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "θ": "theta",
                 "λ": "lambda", "μ": "mu", "σ": "sigma", "φ": "phi", "τ": "tau", "η": "eta", "ζ": "zeta",
                 "ρ": "rho", "ω": "omega", "Δ": "Delta", "Λ": "Lambda", "Σ": "Sigma", "Φ": "Phi", "Ω": "Omega"}
SPOKEN = {"yhat": "ŷ", "Yhat": "Ŷ", "xhat": "x̂", "sigma2": "σ²", "lam": "λ"} | {word: letter for letter, word in
                                                                         GREEK_LETTERS.items()}

_SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_DERIVATIVE = re.compile(r"d([A-Za-z0-9]+)_d([A-Za-z0-9]+)")
_TEX_SPECIAL = {c: "\\" + c for c in "#$%&_{}"} | {"\\": r"\backslash{}", "^": r"\hat{}", "~": r"\sim{}"}


def spoken(name: str) -> str:
    """`theta` → θ, `yhat` → ŷ: a variable's name as a step's reason and plain text say it."""
    return SPOKEN.get(name, name)


def name_latex(name: str) -> str:
    """`yhat` → `\\hat{y}`, `beta` → `\\beta`, `W1` → `W^{(1)}`, `C_2` → `C_{2}`; anything odd escaped."""
    if name in NAMES:
        return NAMES[name]
    if name in GREEK:
        return "\\" + name
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+)", name)
    if m and m.group(1) in ("W", "b"):
        return f"{name_latex(m.group(1))}^{{({m.group(2)})}}"
    if m:
        return f"{name_latex(m.group(1))}_{{{m.group(2)}}}"
    m = _DERIVATIVE.fullmatch(name)
    if m:
        return rf"\frac{{\partial {name_latex(m.group(1))}}}{{\partial {name_latex(m.group(2))}}}"
    if _SAFE.match(name):
        return name if len(name) == 1 else rf"\mathrm{{{name}}}"
    return rf"\mathrm{{{_escape(name)}}}"


def _escape(name: str) -> str:
    """A name made safe inside \\mathrm{}: TeX's special characters escaped, Greek letters as commands."""
    out = []
    for c in name:
        if c in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[c])
        elif c in GREEK_LETTERS:
            out.append(f"\\{GREEK_LETTERS[c]} ")
        else:
            out.append(c if 32 <= ord(c) <= 126 else "?")
    return "".join(out)


@dataclass(frozen=True)
class Name:
    """A name as printed. `kind` says what a superscript after it needs: plain, `frac` (∂C/∂y:
    brackets), `sup` (W^{(1)}: braces) or `layer` (a network's W^{(1)}: ᵀ joins the layer, W^{(1)\\top})."""

    latex: str
    text: str
    kind: str = "plain"


def bold(latex: str) -> str:
    """A vector's LaTeX: x → \\mathbf{x}, \\hat{y} → \\hat{\\mathbf{y}}, \\theta → \\boldsymbol{\\theta}."""
    if latex.startswith((r"\mathbf", r"\boldsymbol", r"\frac")):
        return latex
    if latex.startswith(r"\hat{") and latex.endswith("}"):
        return r"\hat{" + bold(latex[5:-1]) + "}"
    return rf"\boldsymbol{{{latex}}}" if latex.startswith("\\") else rf"\mathbf{{{latex}}}"


def declared(name: str, latex: str = "", vector: bool = False) -> Name:
    """The Name of a variable: its declared LaTeX (else the rules above), bold as a vector when
    it was declared without LaTeX or as a scalar (an elementwise activation's x)."""
    tex = latex or name_latex(name)
    if vector:
        tex = bold(tex)
    return Name(tex, spoken(name), "sup" if "^" in tex else "plain")


def derivative(top: Name, bottom: Name) -> Name:
    """∂top/∂bottom, e.g. ∂C/∂y for the gradient arriving from above."""
    return Name(rf"\frac{{\partial {top.latex}}}{{\partial {bottom.latex}}}", f"∂{top.text}/∂{bottom.text}", "frac")
