"""Derivatives of a written expression: `∂(Σ_l e^{o_l})/∂o_j = e^{o_j}`, a step of a solution's working.

The numerator is read in the names of the question's module (the answer checker's reader), made a module
of its own (derive.sheets.custom) whose output q stands for it, and the claim is judged as
`∂q/∂o_j = …` by the answer checker, so the derivative is sympy.diff's and the verdict has its evidence.
Only a numerator with no free index (a number), written in the module's independent variables (not its
output or intermediates, which would not depend on the variable once read as names), is read here.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.str import StrPrinter

from derive.errors import DeriveError

_OUTPUT = "q"


class _IndexExprPrinter(StrPrinter):
    """SymPy in derive's index-expression syntax: sum(body, k, 1, K), max, min, delta."""

    def _print_Sum(self, expr):
        (k, lo, hi), = expr.limits
        return f"sum({self._print(expr.function)}, {k}, {self._print(lo)}, {self._print(hi)})"

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_KroneckerDelta(self, expr):
        return f"delta({self._print(expr.args[0])}, {self._print(expr.args[1])})"


def expression_derivative(numerator: str, denominator: str, rhs: str, d):
    """(derivation of the numerator as a module, the claim as `∂q/∂v = rhs`) when `numerator` reads as a
    number in `d`'s names and `denominator` is an entry of one of its vector variables; None otherwise."""
    from derive.check.meaning import read
    from derive.check.parse import parse
    from derive.check.screen import InvalidAnswer, screen
    from derive.definitions.model import IDX
    from derive.network.chain import derivative
    from derive.sheets.custom import module_definition

    try:
        wrt = parse(screen(denominator))
        value = read(parse(screen(numerator)), d).expr
    except (InvalidAnswer, ValueError, DeriveError):
        return None
    from derive.check import parse as t

    if not (isinstance(wrt, t.Sub) and isinstance(wrt.base, t.Word)) or value is None:
        return None
    var = next((v for v in d.definition.variables if v.name == wrt.base.text and len(v.shape) == 1), None)
    if var is None or value.free_symbols & set(IDX.values()) - _bound(value) or not value.has(var.symbol):
        return None  # a free index in the numerator, or not a function of the variable at all
    named = [v for v in d.definition.variables if v.symbol in value.free_symbols
             or any(getattr(a, "base", None) == v.symbol for a in value.atoms(sp.Indexed))]
    computed = {d.definition.output.name, *(it.var.name for it in d.definition.intermediates)}
    if any(v.role == "output" or v.name in computed for v in named):
        return None  # p = softmax(o) read as a variable of its own would not depend on o
    shapes = {v.name: [str(s) for s in v.shape] for v in named}
    spec = {"name": "written_expression", "output": _OUTPUT, "inputs": [var.name],
            "expr": _IndexExprPrinter().doprint(value), "shapes": {**shapes, var.name: [str(var.shape[0])],
                                                                  _OUTPUT: []}}
    try:
        made = derivative(module_definition(spec), wrt=var.name)
    except DeriveError:
        return None
    return made, f"\\frac{{\\partial {_OUTPUT}}}{{\\partial {denominator}}} = {rhs}"


def _bound(value: sp.Expr) -> set:
    return {k for s in value.atoms(sp.Sum) for k in s.variables}
