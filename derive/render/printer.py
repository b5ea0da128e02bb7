"""Printers: LaTeX and plain text the way a person writes backprop.

The LaTeX printer names things by derive.model.notation (ŷ, θ, W^{(1)}, ∂C/∂y), writes ∂ for partial
derivatives, δ_ij for Kronecker deltas and 1[x > 0] for the step function, and puts the
positive term of a difference first. Names not in the map are escaped, never passed through.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from derive.model.notation import GRADIENT_NAME as _UPSTREAM
from derive.model.notation import GREEK, INDICATOR, NAMES, SPOKEN, name_latex, spoken  # noqa: F401  (the names printers use)

_TEX_SPECIAL = {c: "\\" + c for c in "#$%&_{}"} | {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}


# Symbols that turn up in prose (reasons, conventions), as text-mode-safe TeX.
_UNICODE_TEX = {
    "∂": r"\ensuremath{\partial}", "δ": r"\ensuremath{\delta}", "Σ": r"\ensuremath{\Sigma}",
    "σ": r"\ensuremath{\sigma}", "β": r"\ensuremath{\beta}", "α": r"\ensuremath{\alpha}",
    "θ": r"\ensuremath{\theta}", "λ": r"\ensuremath{\lambda}", "Δ": r"\ensuremath{\Delta}",
    "ŷ": r"\ensuremath{\hat{y}}", "Ŷ": r"\ensuremath{\hat{Y}}", "≠": r"\ensuremath{\neq}",
    "≤": r"\ensuremath{\leq}", "≥": r"\ensuremath{\geq}", "→": r"\ensuremath{\to}",
    "⊙": r"\ensuremath{\odot}", "×": r"\ensuremath{\times}", "·": r"\ensuremath{\cdot}",
    "−": "-", "′": r"\ensuremath{'}", "²": r"\ensuremath{^2}", "ⁿ": r"\ensuremath{^n}",
    "⁻": r"\ensuremath{^-}", "¹": r"\ensuremath{^1}", "ᵀ": r"\ensuremath{^\top}", "‖": r"\ensuremath{\|}",
    "…": r"\ldots{}", "“": "``", "”": "''", "’": "'", "—": "---", "–": "--", "½": r"\ensuremath{\tfrac12}",
    "𝟙": r"\ensuremath{" + INDICATOR + "}", "∈": r"\ensuremath{\in}", "ℝ": r"\ensuremath{\mathbb{R}}",
    "μ": r"\ensuremath{\mu}", "ε": r"\ensuremath{\epsilon}", "γ": r"\ensuremath{\gamma}",
    "√": r"\ensuremath{\surd}", "⌈": r"\ensuremath{\lceil}", "⌉": r"\ensuremath{\rceil}",
    "⌊": r"\ensuremath{\lfloor}", "⌋": r"\ensuremath{\rfloor}",
}
_HAT = re.compile("([A-Za-z])([\u0302\u0303])")  # x̂, h̃: a letter and a combining circumflex or tilde


# δ_kj, (a_f)_i, and h_{t−1}: a braced subscript of index arithmetic
_SUBSCRIPTED = re.compile(r"((?<![A-Za-z0-9_])∂?[A-Za-zδΣσβαθλΔŷŶ]|\))_([A-Za-z0-9]{1,3}|\{[A-Za-z0-9+−-]{1,6}\})"
                          r"(?![A-Za-z0-9_])")



def cases(expr: sp.Piecewise) -> list:
    """The (value, condition) rows of `expr` as printed: after one row for i = j, the other says i ≠ j,
    not "otherwise" (the cases of a Kronecker delta, as the step that splits them names them)."""
    rows = list(expr.args)
    if len(rows) == 2 and rows[1][1] is sp.true and isinstance(rows[0][1], sp.Eq):
        rows[1] = (rows[1][0], sp.Ne(*rows[0][1].args))
    return rows

def escape_tex(text: str, names: bool = True) -> str:
    """Plain text made safe for TeX, character by character; other non-ASCII is dropped to '?'.

    A subscripted name in prose (`δ_kj`, `∂x_k`) becomes math: `\\ensuremath{\\delta_{kj}}`; not with
    `names` False (code, where `y_hat` is a name as typed).
    """
    if not names:
        return _escape_chars(text)
    pieces, last = [], 0
    for m in _SUBSCRIPTED.finditer(text):
        pieces.append(_escape_chars(text[last:m.start()]))
        base = "".join(_MATH_NAMES.get(c, c) for c in m.group(1))
        sub = m.group(2).strip("{}").replace("−", "-")
        pieces.append(rf"\ensuremath{{{base}_{{{sub}}}}}")
        last = m.end()
    pieces.append(_escape_chars(text[last:]))
    return "".join(pieces)


_MATH_NAMES = {"∂": r"\partial ", "δ": r"\delta ", "Σ": r"\Sigma ", "σ": r"\sigma ", "β": r"\beta ",
               "α": r"\alpha ", "θ": r"\theta ", "λ": r"\lambda ", "Δ": r"\Delta ", "ŷ": r"\hat{y}",
               "Ŷ": r"\hat{Y}"}


def _escape_chars(text: str) -> str:
    out = []
    # \0 marks a hatted letter, \1 one with a tilde
    for c in _HAT.sub(lambda m: ("\0" if m.group(2) == "\u0302" else "\1") + m.group(1), text):
        if out and out[-1] in ("\0", "\1"):
            out[-1] = rf"\ensuremath{{\{'hat' if out[-1] == chr(0) else 'tilde'}{{{c}}}}}"
        elif c in ("\0", "\1"):
            out.append(c)
        elif c in _TEX_SPECIAL:
            out.append(_TEX_SPECIAL[c])
        elif c in _UNICODE_TEX:
            out.append(_UNICODE_TEX[c])
        elif ord(c) < 32 and c not in "\n\t":
            continue
        elif ord(c) > 126 and not c.isalpha():
            out.append("?")
        else:
            out.append(c)
    return "".join(out)


def _ordered_terms(expr: sp.Add) -> list:
    """Positive terms before negative ones; otherwise SymPy's order."""
    terms = list(expr.as_ordered_terms())
    return sorted(terms, key=lambda t: t.could_extract_minus_sign())


def _ordered_factors(factors) -> list:
    """Numbers, then symbols and entries, then functions, then sums in parentheses."""

    def rank(f):
        if f.is_number:
            return 0
        if isinstance(f, (sp.Symbol, sp.Indexed)):
            return 1
        base = f.base if isinstance(f, sp.Pow) else f
        if isinstance(base, (sp.Symbol, sp.Indexed)):
            return 1
        if isinstance(base, sp.KroneckerDelta):
            return 2
        if isinstance(base, sp.Add):
            return 5
        if isinstance(base, sp.Sum):
            return 4
        return 3

    return sorted(factors, key=rank)


_OWN_SUBSCRIPT = re.compile(r"(?<!\\)_")  # a subscript, not an escaped underscore (\mathrm{W\_hh})


def entry_latex(base: str, idx: str) -> str:
    """W_{ij}; a name with its own subscript takes its indices outside brackets, (W_{i})_{ij} — {W_{i}}_{ij}
    typesets as W_{iij} — as the Unicode text writes (W_i)_ij and the answer reader takes it."""
    if _OWN_SUBSCRIPT.search(base):
        return rf"\left({base}\right)_{{{idx}}}"
    return f"{{{base}}}_{{{idx}}}" if "_" in base else f"{base}_{{{idx}}}"


class DeriveLatexPrinter(LatexPrinter):
    """LaTeX for derivations; see the module docstring."""

    printmethod = "_derive_latex"

    def _print_Symbol(self, expr, style="plain"):
        return name_latex(expr.name)

    def _print_Dummy(self, expr):
        return name_latex(expr.name)

    def _print_IndexedBase(self, expr):
        return name_latex(expr.name)

    def _print_Indexed(self, expr):
        # X_{i+l−1, j+n−1}: a comma once an index is arithmetic, as the text printer writes it
        idx = ("" if all(i.is_Symbol for i in expr.indices) else ", ").join(self._print(i) for i in expr.indices)
        m = _UPSTREAM.fullmatch(expr.base.name)
        if m:  # ∂C/∂y_i rather than (∂C/∂y)_i; ∂C/∂(a_f)_i for a name with its own subscript
            return rf"\frac{{\partial {name_latex(m.group(1))}}}{{\partial {entry_latex(name_latex(m.group(2)), idx)}}}"
        return entry_latex(name_latex(expr.base.name), idx)

    def _print_Pi(self, expr):  # SymPy's own gives \text{\Pi} through our symbol names
        return r"\pi"

    def _print_KroneckerDelta(self, expr, exp=None):
        a, b = (self._print(x) for x in expr.args)
        # δ_{i, k+l−1}: a comma once an index is arithmetic, as the text printer writes it
        out = rf"\delta_{{{a}{b}}}" if all(x.is_Symbol for x in expr.args) else rf"\delta_{{{a}, {b}}}"
        return f"{out}^{{{exp}}}" if exp else out

    def _print_Heaviside(self, expr, exp=None):
        out = rf"{INDICATOR}\left[{self._print(expr.args[0])} > 0\right]"
        return f"{out}^{{{exp}}}" if exp else out

    def _print_Derivative(self, expr):
        var = expr.variables[0]
        inner = expr.expr
        if isinstance(inner, (sp.Symbol, sp.Indexed)):
            return rf"\frac{{\partial {self._print(inner)}}}{{\partial {self._print(var)}}}"
        return rf"\frac{{\partial}}{{\partial {self._print(var)}}} \left({self._print(inner)}\right)"

    def _print_Add(self, expr, order=None):
        out = []
        for n, term in enumerate(_ordered_terms(expr)):
            negative = term.could_extract_minus_sign()
            magnitude = -term if negative else term
            text = self._print(magnitude)
            if isinstance(magnitude, sp.Add):
                text = rf"\left({text}\right)"
            sign = ("- " if negative else "") if n == 0 else (" - " if negative else " + ")
            out.append(sign + text)
        return "".join(out) if out else "0"

    def _print_Mul(self, expr):
        if expr.could_extract_minus_sign():
            return "- " + self._print_Mul_positive(-expr)
        return self._print_Mul_positive(expr)

    def _print_Mul_positive(self, expr):
        num, den = sp.fraction(expr, exact=True)
        if den != 1:
            return rf"\frac{{{self._product(num)}}}{{{self._product(den)}}}"
        return self._product(expr)

    def _product(self, expr):
        factors = _ordered_factors(sp.Mul.make_args(expr))
        parts = []
        for f in factors:
            if f == 1 and len(factors) > 1:
                continue
            text = self._print(f)
            if len(factors) > 1 and (isinstance(f, sp.Add) or (isinstance(f, sp.Sum) and f is not factors[-1])):
                text = rf"\left({text}\right)"
            parts.append(text)
        return " ".join(parts) if parts else "1"

    def _print_Sum(self, expr):
        out = self._print(expr.function)
        if isinstance(expr.function, sp.Add):
            out = rf"\left({out}\right)"
        for var, lo, hi in reversed(expr.limits):
            out = rf"\sum_{{{self._print(var)}={self._print(lo)}}}^{{{self._print(hi)}}} {out}"
        return out

    def _print_Piecewise(self, expr):
        rows = []
        for e, c in cases(expr):
            cond = r"\text{otherwise}" if c is sp.true else self._print(c)
            rows.append(rf"{self._print(e)} & {cond}")
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"

    def _print_Equality(self, expr):
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    def _print_Unequality(self, expr):
        return rf"{self._print(expr.lhs)} \neq {self._print(expr.rhs)}"


class DeriveStrPrinter(StrPrinter):
    """Plain text that parses back: SymPy's syntax, positive terms first."""

    def _print_Add(self, expr, order=None):
        out = []
        for n, term in enumerate(_ordered_terms(expr)):
            negative = term.could_extract_minus_sign()
            text = self.parenthesize(-term if negative else term, sp.printing.precedence.PRECEDENCE["Add"])
            sign = ("-" if negative else "") if n == 0 else (" - " if negative else " + ")
            out.append(sign + text)
        return "".join(out)


def latex(expr, **settings) -> str:
    return DeriveLatexPrinter(settings).doprint(expr)


def text(expr) -> str:
    return DeriveStrPrinter({"order": "none"}).doprint(expr)


def breakable_chain(spec: str) -> str:
    """A chain `affine>relu>…` escaped for \\texttt, with a permitted line break after each >, so a
    long chain in a heading does not run into the margin."""
    # the glue after the break point lets a line that ends there stretch (a chain has few spaces)
    return ">\\allowbreak\\hskip 0pt plus 4em\\relax{}".join(escape_tex(link) for link in spec.split(">"))
