"""Printers of matrix-expression trees (derive.model.matexpr): LaTeX and Unicode text.

Each printer dispatches by class name (`_print_<Node>`) the way SymPy's printers do, and takes
brackets from the tree: a child is bracketed when it binds more loosely than its place needs,
and ⊙ and juxtaposition never share a level without them. Names come from the form's notation
table (derive.model.notation); scalars (β, 1/N) print through the derivation printers.

    >>> from derive.model.matexpr import MatSym, add, diag, matmul, scale
    >>> y = MatSym("y", ("K", "1"))
    >>> text(scale(sp.Symbol("beta"), add(diag(y), scale(-1, matmul(y, y.T)))), {})
    'β (diag(y) − y yᵀ)'
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp
from sympy.printing.printer import Printer

from derive.model.matexpr import MatExpr, Scaled, scale
from derive.model.notation import INDICATOR, Name, declared, name_latex
from derive.render.printer import DeriveLatexPrinter
from derive.render.unicode import UnicodePrinter, name_text

ADD, PRODUCT, POSTFIX, ATOM = 1, 2, 3, 4


class _ScalarLatex(DeriveLatexPrinter):
    """A scalar (β, 1/N) with the form's names."""

    def __init__(self, names: dict):
        super().__init__()
        self.names = names

    def _print_Symbol(self, expr, style="plain"):
        return self.names[expr.name].latex if expr.name in self.names else name_latex(expr.name)


class _ScalarText(UnicodePrinter):
    """A scalar or an entrywise expression as blackboard text, with the form's names."""

    def __init__(self, names: dict):
        super().__init__({"order": "none"})
        self.names = names

    def _print_Symbol(self, expr):
        return self.names[expr.name].text if expr.name in self.names else name_text(expr.name)


class _MatrixPrinter(Printer):
    """What the LaTeX and the text printer share: the tree's structure and its brackets."""

    levels: ClassVar[dict] = {"MatAdd": ADD, "MatMul": PRODUCT, "Hadamard": PRODUCT, "Scaled": PRODUCT, "Quotient": PRODUCT,
              "Transpose": POSTFIX, "Power": POSTFIX}
    scalar_printer = None  # set by each subclass

    def __init__(self, names: dict):
        super().__init__()
        self.names = names
        self.scalars = self.scalar_printer(names)

    def level(self, node: MatExpr) -> int:
        return self.levels.get(type(node).__name__, ATOM)

    def name(self, name: str) -> Name:
        return self.names.get(name) or declared(name)

    def grouped(self, node: MatExpr, tight: bool, **kw) -> str:
        out = self._print(node, **kw)
        return self.brackets(out) if tight else out

    def factor(self, node: MatExpr, op: str, **kw) -> str:
        """A factor of a product: bracketed below product level, or at it with another operator."""
        lv = self.level(node)
        return self.grouped(node, lv < PRODUCT or (lv == PRODUCT and type(node).__name__ != op), **kw)

    def _print_MatAdd(self, node, **kw) -> str:
        out = []
        for n, term in enumerate(node.args):
            negative = isinstance(term, Scaled) and term.scalar.could_extract_minus_sign()
            magnitude = scale(-term.scalar, term.arg) if negative else term
            body = self.grouped(magnitude, negative and self.level(magnitude) == ADD, scalar_ones=True)
            sign = (self.minus_first if negative else "") if n == 0 else (self.minus if negative else self.plus)
            out.append(sign + body)
        return "".join(out)

    def _print_MatMul(self, node, **kw) -> str:
        return self.juxtapose([self.factor(a, "MatMul") for a in node.args])

    def _print_Hadamard(self, node, **kw) -> str:
        return self.odot.join(self.factor(a, "Hadamard", scalar_ones=True) for a in node.args)

    def _print_Scaled(self, node, scalar_ones=False, **kw) -> str:
        c, arg = node.scalar, node.arg
        if c.could_extract_minus_sign():
            inner = self._print(scale(-c, arg), scalar_ones=scalar_ones)
            return self.minus_first + (self.brackets(inner) if self.level(scale(-c, arg)) == ADD else inner)
        coeff = self.coefficient(c)
        if scalar_ones and type(arg).__name__ == "Ones":
            return coeff
        return self.juxtapose([coeff, self.grouped(arg, self.level(arg) < PRODUCT, scalar_ones=scalar_ones)])

    def _print_Ones(self, node, scalar_ones=False, **kw) -> str:
        return "1" if scalar_ones else self.ones(node)

    def _print_Identity(self, node, **kw) -> str:
        return "I"

    def _print_Entrywise(self, node, **kw) -> str:
        """The scalar expression with each entry's symbol standing for the whole argument, bracketed
        where the symbol is a factor or a base (max(0, W x + b), but e^{−(W x + b)})."""
        tight = self.level(node.arg) < ATOM and _in_product(node.expr, node.symbol)
        arg = self.grouped(node.arg, tight, scalar_ones=True)
        stand_in = sp.Symbol("entry·")  # no variable is named so
        names = {**self.names, stand_in.name: Name(arg, arg)}
        return self.scalar_printer(names).doprint(node.expr.xreplace({node.symbol: stand_in}))

    def juxtapose(self, parts: list) -> str:
        return " ".join(parts)


def _in_product(expr: sp.Expr, symbol: sp.Symbol) -> bool:
    """Whether `symbol` occurs as a factor of a product or in a power (where a sum needs brackets)."""
    return any(isinstance(e, (sp.Mul, sp.Pow)) and symbol in e.args for e in sp.preorder_traversal(expr))


class LatexMatrixPrinter(_MatrixPrinter):
    scalar_printer = _ScalarLatex
    plus, minus, minus_first, odot = " + ", " - ", "-", r" \odot "
    levels: ClassVar[dict] = {**_MatrixPrinter.levels, "Quotient": ATOM}  # \frac delimits itself
    functions: ClassVar[dict] = {"exp": r"\exp", "log": r"\log", "tanh": r"\tanh"}
    comparisons: ClassVar[dict] = {">": ">", ">=": r"\geq", "<": "<", "<=": r"\leq"}

    def brackets(self, text: str) -> str:
        return rf"\left({text}\right)"

    def coefficient(self, c: sp.Expr) -> str:
        out = self.scalars.doprint(c)
        return self.brackets(out) if isinstance(c, sp.Add) else out

    def ones(self, node) -> str:
        rows, cols = node.shape
        if cols == "1":
            return rf"\mathbf{{1}}_{{{self.dim(rows)}}}"
        if rows == "1":
            return rf"\mathbf{{1}}_{{{self.dim(cols)}}}^\top"
        return rf"\mathbf{{1}}_{{{self.dim(rows)} \times {self.dim(cols)}}}"

    def dim(self, d: str) -> str:
        return name_latex(d)

    def superscripted(self, node: MatExpr, sup: str) -> str:
        """`x^\\top`; `\\left(\\frac{∂C}{∂Y}\\right)^\\top`, `{W^{(1)}}^\\top` and `(A B)^\\top` bracketed."""
        if type(node).__name__ == "MatSym":
            name = self.name(node.name)
            if name.kind == "layer" and sup == r"\top":  # W^{(1)\top}: the layer and the transpose in one superscript
                return name.latex[:-1] + r"\top}"
            if name.kind in ("sup", "layer"):
                return f"{{{name.latex}}}^{sup}"
            return f"{self.brackets(name.latex) if name.kind == 'frac' else name.latex}^{sup}"
        return f"{self.grouped(node, self.level(node) < ATOM or type(node).__name__ == 'Quotient')}^{sup}"

    def _print_MatSym(self, node, **kw) -> str:
        return self.name(node.name).latex

    def _print_Transpose(self, node, **kw) -> str:
        return self.superscripted(node.arg, r"\top")

    def _print_Power(self, node, **kw) -> str:
        entrywise = r"\odot " if "1" not in node.shape else ""  # Y^2 of a matrix would read as Y Y
        return self.superscripted(node.base, f"{{{entrywise}{node.exp}}}")

    def _print_Quotient(self, node, **kw) -> str:
        return rf"\frac{{{self._print(node.num, scalar_ones=True)}}}{{{self._print(node.den, scalar_ones=True)}}}"

    def _print_Diag(self, node, **kw) -> str:
        return rf"\operatorname{{diag}}\left({self._print(node.arg)}\right)"

    def _print_Apply(self, node, **kw) -> str:
        arg = self._print(node.arg, scalar_ones=True)
        return rf"\sqrt{{{arg}}}" if node.fn == "sqrt" else rf"{self.functions[node.fn]}\left({arg}\right)"

    def _print_Indicator(self, node, **kw) -> str:
        bound = self.scalars.doprint(node.bound)
        arg = self._print(node.arg, scalar_ones=True)
        return rf"{INDICATOR}\left[{arg} {self.comparisons[node.op]} {bound}\right]"

    def _print_Stack(self, node, **kw) -> str:
        return r"\begin{bmatrix}" + r" \\ ".join(self._print(a) for a in node.args) + r"\end{bmatrix}"

    def _print_Rows(self, node, **kw) -> str:
        first, last = _row_range(node, self.dim)
        arg = self._print(node.arg)
        arg = self.brackets(arg) if self.level(node.arg) < ATOM or _frac(self, node.arg) else arg
        return rf"{arg}_{{{first}:{last}}}"


class TextMatrixPrinter(_MatrixPrinter):
    """Unicode text: β (diag(y) − y yᵀ), ∂C/∂Y ⊙ Y ⊙ (1 − Y), (∂C/∂Y)ᵀ 𝟏."""

    scalar_printer = _ScalarText
    plus, minus, minus_first, odot = " + ", " − ", "−", " ⊙ "
    comparisons: ClassVar[dict] = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}
    superscripts: ClassVar[dict] = {2: "²", 3: "³"}

    def brackets(self, text: str) -> str:
        return f"({text})"

    def coefficient(self, c: sp.Expr) -> str:
        out = self.scalars.doprint(c)
        den = sp.fraction(c)[1]
        return self.brackets(out) if isinstance(c, sp.Add) or den != 1 else out

    def ones(self, node) -> str:
        return "𝟏ᵀ" if node.shape[0] == "1" and node.shape[1] != "1" else "𝟏"

    def base(self, node: MatExpr) -> str:
        if type(node).__name__ == "MatSym":
            name = self.name(node.name)
            return self.brackets(name.text) if name.kind == "frac" else name.text
        return self.grouped(node, self.level(node) < ATOM)

    def _print_MatSym(self, node, **kw) -> str:
        return self.name(node.name).text

    def _print_Transpose(self, node, **kw) -> str:
        return self.base(node.arg) + "ᵀ"

    def _print_Power(self, node, **kw) -> str:
        if "1" not in node.shape:
            return f"{self.base(node.base)}^⊙{node.exp}"
        return self.base(node.base) + self.superscripts.get(node.exp, f"^{node.exp}")

    def _print_Quotient(self, node, **kw) -> str:
        num, den = (self.grouped(a, self.level(a) < POSTFIX, scalar_ones=True) for a in (node.num, node.den))
        return f"{num} / {den}"

    def _print_Diag(self, node, **kw) -> str:
        return f"diag({self._print(node.arg)})"

    def _print_Apply(self, node, **kw) -> str:
        return f"{node.fn}({self._print(node.arg, scalar_ones=True)})"

    def _print_Indicator(self, node, **kw) -> str:
        bound = self.scalars.doprint(node.bound)
        return f"𝟙[{self._print(node.arg, scalar_ones=True)} {self.comparisons[node.op]} {bound}]"

    def _print_Stack(self, node, **kw) -> str:
        return "[" + "; ".join(self._print(a) for a in node.args) + "]"

    def _print_Rows(self, node, **kw) -> str:
        first, last = _row_range(node, name_text)
        return f"{self.base(node.arg)}[{first} : {last}]"


def _row_range(node, dim) -> tuple:
    """(first, last) row of a block, each a sum of dimension names: (1, d_a), (d_a + 1, d_a + d_b)."""
    skip = [dim(d) for d in node.skip]
    first = " + ".join([*skip, "1"]) if skip else "1"
    return first, " + ".join([*skip, dim(node.rows)])


def _frac(printer, node) -> bool:
    return type(node).__name__ == "MatSym" and printer.name(node.name).kind == "frac"


def latex(tree: MatExpr, names: dict) -> str:
    """The tree as LaTeX, each name as `names` (name → notation.Name) writes it."""
    return LatexMatrixPrinter(names).doprint(tree)


def text(tree: MatExpr, names: dict) -> str:
    """The tree as Unicode text that the answer checker reads back."""
    return TextMatrixPrinter(names).doprint(tree)
