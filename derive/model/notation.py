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

# The indicator 𝟙[x > 0] in LaTeX: a bold 1, which every renderer has (MathJax 2 in classic Jupyter and
# nbconvert, MathJax 3, KaTeX, TeX); none of their blackboard-bold fonts has the digit, so \mathbb{1}
# shows a plain 1. The checker reads it back like 1[·] and \mathbb{1}[·].
INDICATOR = r"\mathbf{1}"

# a recurrent cell's previous state is written h_{t−1} (c_{t−1}): a prime would read as a derivative
NAMES = {"hprev": "h_{t-1}", "cprev": "c_{t-1}", "htilde": r"\tilde{h}", "yhat": r"\hat{y}", "Yhat": r"\hat{Y}", "xhat": r"\hat{x}", "lam": r"\lambda", "sigma2": r"\sigma^2"}
# A name as it reads in prose (step reasons) and plain text: only characters TeX escaping turns into math.
GREEK_LETTERS = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "θ": "theta",
                 "λ": "lambda", "μ": "mu", "σ": "sigma", "φ": "phi", "τ": "tau", "η": "eta", "ζ": "zeta",
                 "ρ": "rho", "ω": "omega", "Δ": "Delta", "Λ": "Lambda", "Σ": "Sigma", "Φ": "Phi", "Ω": "Omega"}
SPOKEN = {"hprev": "h_{t−1}", "cprev": "c_{t−1}", "htilde": "h̃", "yhat": "ŷ", "Yhat": "Ŷ", "xhat": "x̂", "sigma2": "σ²", "lam": "λ"} | {word: letter for letter, word in
                                                                         GREEK_LETTERS.items()}

_SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
GRADIENT_NAME = re.compile(r"d([A-Za-z0-9]+)_d([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z])?)")
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
    m = GRADIENT_NAME.fullmatch(name)
    if m:
        return rf"\frac{{\partial {name_latex(m.group(1))}}}{{\partial {name_latex(m.group(2))}}}"
    m = re.fullmatch(r"([A-Za-z]+)_([A-Za-z])", name)
    if m:  # a gate's weights and pre-activation: W_f → W_{f}, a_f → a_{f}
        return f"{name_latex(m.group(1))}_{{{m.group(2)}}}"
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
    if latex.startswith((r"\hat{", r"\tilde{")) and latex.endswith("}"):
        accent, _, inner = latex.partition("{")
        return accent + "{" + bold(inner[:-1]) + "}"
    if re.fullmatch(r"[A-Za-z]_\{[^{}]*\}", latex):  # h_{t-1}: the letter bold, not its subscript
        return bold(latex[0]) + latex[1:]
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


# -- names a sheet declares ("the homework's own names"): a small notation, parsed, never passed raw
_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304"}
_SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPT_DIGITS = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")
_SCRIPT = {"B": "ℬ", "E": "ℰ", "F": "ℱ", "H": "ℋ", "I": "ℐ", "L": "ℒ", "M": "ℳ", "R": "ℛ"}
_LETTER = r"(?:[A-Za-z]|\\(?:" + "|".join(sorted(GREEK)) + r"|ell))"
_WRITTEN = re.compile(
    r"^(?:(?P<letter>" + _LETTER + r")|\\(?P<accent>hat|tilde|bar)\{\s*(?P<accented>" + _LETTER + r")\s*\}"
    r"|\\mathcal\{\s*(?P<script>[A-Z])\s*\})"
    r"(?:_(?:(?P<sub1>[A-Za-z0-9])|\{\s*(?P<sub>[A-Za-z0-9]{1,8})\s*\}))?"
    r"(?:\^(?:(?P<sup1>[A-Za-z0-9])|\{\s*(?P<sup>\(?[A-Za-z0-9]{1,4}\)?)\s*\}))?$")
WRITTEN_HELP = (r"a letter or \greek (or \hat{y}, \mathcal{L}), then _1, _{out} or ^{(1)}, "
                r"e.g. z_1, Y_{out}, \delta_3")


def _letter(tex: str) -> tuple:
    """`\\delta` → (`\\delta`, δ), `\\ell` → (`\\ell`, ℓ), `y` → (`y`, y)."""
    if tex == r"\ell":
        return tex, "ℓ"
    return (tex, SPOKEN[tex[1:]]) if tex.startswith("\\") else (tex, tex)


def written_parts(value: str) -> dict | None:
    """The pieces of a declared name (base, sub, sup), or None if it is not in the notation."""
    m = _WRITTEN.match(value.strip()) if isinstance(value, str) and len(value) <= 60 else None
    return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}


def is_family(value: str) -> bool:
    """Whether a declared name stands for a whole family, its layer written k: `S_k`, `W^{(k)}`."""
    p = written_parts(value) or {}
    return (p.get("sub1") or p.get("sub")) == "k" or (p.get("sup1") or p.get("sup")) in ("k", "(k)")


def written(value: str, layer: int | None = None) -> Name:
    """A name as a sheet declares it (`z_1`, `Y_{out}`, `\\delta_3`, `\\hat{y}`, `\\mathcal{L}`, `W^{(1)}`),
    rebuilt from its parsed pieces as LaTeX and Unicode text; ValueError if it is not in that notation.
    With `layer`, a family's k (`S_k`, `W^{(k)}`) is that layer's number."""
    p = written_parts(value)
    if p is None:
        raise ValueError(f"{value!r} is not a name; write {WRITTEN_HELP}")
    if layer is not None:
        layered = {key for key, v in p.items() if key.startswith(("sub", "sup")) and v.strip("()") == "k"}
        p = {key: v.replace("k", str(layer)) if key in layered else v for key, v in p.items()}
    if "letter" in p:
        tex, text = _letter(p["letter"])
    elif "accent" in p:
        inner, text = _letter(p["accented"])
        tex, text = rf"\{p['accent']}{{{inner}}}", text + _ACCENTS[p["accent"]]
    else:
        c = p["script"]
        tex, text = rf"\mathcal{{{c}}}", _SCRIPT.get(c) or chr(0x1D49C + ord(c) - ord("A"))
    sub = p.get("sub1") or p.get("sub")
    if sub:
        upright = len(sub) > 1 and not sub.isdigit()
        tex += f"_{{\\mathrm{{{sub}}}}}" if upright else f"_{{{sub}}}"
        text += sub.translate(_SUBSCRIPT_DIGITS) if sub.isdigit() else f"_{sub}"
    sup = p.get("sup1") or p.get("sup")
    if sup:
        if sup.count("(") != sup.count(")") or (sup.startswith(")") or sup.endswith("(")):
            raise ValueError(f"{value!r}: unbalanced brackets in the superscript")
        tex += f"^{{{sup}}}"
        digits = sup.strip("()").isdigit()
        text += sup.translate(_SUPERSCRIPT_DIGITS) if digits else f"^{sup}"
    return Name(tex, text, "sup" if sup else ("sub" if sub else "plain"))
