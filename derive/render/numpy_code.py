"""NumPy code of a matrix-expression tree (derive.model.matexpr): `W2.T @ D2`, `(Yhat - Y) * Yhat`.

The third printer of the tree, beside LaTeX and text (derive.render.matrix), dispatching by class
name. Names become code through a table (name → variable, `b1` → `b1[:, None]`); scalars (1/N, α)
print through SymPy's NumPy printer with the dimensions as code (`N` → `X.shape[1]`). The code
acts on whole arrays, so a column of one sample is a block of samples, one per column.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

from derive.model.matexpr import MatExpr, Ones, Scaled, scale

ADD, MUL, POSTFIX, ATOM = 1, 2, 3, 4
_FUNCTIONS = {"exp": "np.exp", "log": "np.log", "tanh": "np.tanh", "sqrt": "np.sqrt"}
_COMPARE = {">": "np.greater", ">=": "np.greater_equal", "<": "np.less", "<=": "np.less_equal"}


class ScalarNumPy(NumPyPrinter):
    """SymPy's NumPy printer with max(0, x) as np.maximum and 1[x > 0] as np.heaviside."""

    def __init__(self, settings=None):
        super().__init__({"fully_qualified_modules": True, **(settings or {})})

    def _print_Max(self, expr):
        args = [self._print(a) for a in expr.args]
        out = args[0]
        for a in args[1:]:
            out = f"np.maximum({out}, {a})"
        return out

    def _print_Heaviside(self, expr):
        h0 = self._print(expr.args[1]) if len(expr.args) > 1 else "0.5"
        return f"np.heaviside({self._print(expr.args[0])}, {h0})"

    def _print_Rational(self, expr):
        return f"{expr.p}/{expr.q}"

    def _print_Pow(self, expr, rational=False):
        if expr.exp.is_Integer and expr.exp < 0:  # 1/N, not N**(-1.0)
            return f"1/{self.parenthesize(sp.Pow(expr.base, -expr.exp), PRECEDENCE['Pow'])}"
        return super()._print_Pow(expr, rational)

    def doprint(self, expr, assign_to=None):
        out = super().doprint(expr, assign_to).replace("numpy.", "np.")
        # a function only math has (erf) takes one number: applied to each entry of an array
        return re.sub(r"(?<![\w.])math\.(\w+)\(", r"np.vectorize(math.\1, otypes=[float])(", out)


class NumpyMatrixPrinter:
    def __init__(self, code: dict, sizes: dict):
        self.code, self.sizes = code, sizes  # name -> code; dimension symbol -> code

    def doprint(self, node: MatExpr) -> str:
        return self.print(node)[0]

    def print(self, node: MatExpr) -> tuple:
        """(code, binding level) of `node`."""
        return getattr(self, "_print_" + type(node).__name__)(node)

    def grouped(self, node: MatExpr, level: int) -> str:
        out, lv = self.print(node)
        return f"({out})" if lv < level else out

    def scalar(self, expr: sp.Expr, stand_in: dict | None = None) -> str:
        subs = {s: sp.Symbol(code) for s, code in self.sizes.items()}
        return ScalarNumPy().doprint(sp.sympify(expr).xreplace({**subs, **(stand_in or {})}))

    def _print_MatSym(self, node):
        return self.code.get(node.name, node.name), ATOM

    def _print_Transpose(self, node):
        return f"{self.grouped(node.arg, ATOM)}.T", POSTFIX

    def _print_MatMul(self, node):
        return " @ ".join(self.grouped(a, POSTFIX) for a in node.args), MUL

    def _print_Hadamard(self, node):
        return " * ".join(self.grouped(a, POSTFIX) for a in node.args), MUL

    def _print_MatAdd(self, node):
        out = []
        for n, term in enumerate(node.args):
            negative = isinstance(term, Scaled) and term.scalar.could_extract_minus_sign()
            body = self.grouped(scale(-term.scalar, term.arg) if negative else term, MUL)
            out.append(("-" if negative else "") + body if n == 0 else (" - " if negative else " + ") + body)
        return "".join(out), ADD

    def _print_Quotient(self, node):
        return f"{self.grouped(node.num, POSTFIX)} / {self.grouped(node.den, POSTFIX)}", MUL

    def _print_Power(self, node):
        return f"{self.grouped(node.base, ATOM)} ** {node.exp}", POSTFIX

    def _print_Scaled(self, node):
        if node.scalar.could_extract_minus_sign():
            return f"-{self.grouped(scale(-node.scalar, node.arg), POSTFIX)}", MUL
        c = self.scalar(node.scalar)
        if isinstance(node.arg, Ones):  # α 𝟏 added entry by entry: the number itself
            return c, (ADD if isinstance(node.scalar, sp.Add) else MUL)
        c = f"({c})" if isinstance(node.scalar, sp.Add) else c
        return f"{c} * {self.grouped(node.arg, POSTFIX)}", MUL

    def _print_Ones(self, node):
        return "1.0", ATOM  # broadcast: a tree adds or multiplies 𝟏 only entry by entry here

    def _print_Apply(self, node):
        return f"{_FUNCTIONS[node.fn]}({self.doprint(node.arg)})", ATOM

    def _print_Indicator(self, node):
        return f"{_COMPARE[node.op]}({self.doprint(node.arg)}, {self.scalar(node.bound)}).astype(float)", ATOM

    def _print_Entrywise(self, node):
        if type(node.arg).__name__ == "MatSym":  # the usual case, f(S1): the variable in place of the entry
            return self.scalar(node.expr, {node.symbol: sp.Symbol(self.doprint(node.arg))}), MUL
        body = self.scalar(node.expr, {node.symbol: sp.Symbol("entry_")})
        return f"(lambda entry_: {body})({self.doprint(node.arg)})", ATOM

    def _print_Stack(self, node):
        return f"np.vstack(({', '.join(self.doprint(a) for a in node.args)}))", ATOM

    def _print_Rows(self, node):
        skip = " + ".join(self.sizes[sp.Symbol(d, integer=True, positive=True)] for d in node.skip)
        rows = self.sizes[sp.Symbol(node.rows, integer=True, positive=True)]
        return f"{self.grouped(node.arg, ATOM)}[{skip}:{skip + ' + ' if skip else ''}{rows}]", POSTFIX

    def _print_Identity(self, node):
        raise ValueError("an identity matrix has no place in the generated code")

    _print_Diag = _print_Identity


def numpy_code(tree: MatExpr, code: dict, sizes: dict) -> str:
    """The tree as a NumPy expression; `code` maps names to variables, `sizes` dimensions to code."""
    return NumpyMatrixPrinter(code, sizes).doprint(tree)
