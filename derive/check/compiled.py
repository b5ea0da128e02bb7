"""Expressions compiled to Python over NumPy arrays (every point at once) or mpmath numbers (30 digits).

The inputs — Symbols and Indexed entries — are printed as argument names, not substituted: a
substitution rebuilds every max/min and asks SymPy's assumptions about it again. The printed source
is compiled directly (lambdify does the same with three times the overhead). Nothing here reads
student text: the expressions come from the checker's own reading of it.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import MpmathPrinter


class OutOfRange(Exception):
    """The answer names an entry that does not exist at the concrete sizes, e.g. y_4 of a 3-vector."""


class _Named:
    """A printer mixin: each input (Symbol or Indexed entry) printed as its argument name."""

    def __init__(self, settings=None, names: dict | None = None):
        super().__init__(settings)
        self.names = names or {}

    def _print_Indexed(self, expr):
        return self.names[expr] if expr in self.names else super()._print_Indexed(expr)

    def _print_Symbol(self, expr):
        return self.names[expr] if expr in self.names else super()._print_Symbol(expr)


class _Printer(_Named, NumPyPrinter):
    """np.maximum/np.minimum: `reduce(maximum, [0, x])` fails on a scalar beside an array; np.heaviside:
    SymPy's own printing goes through Piecewise and simplifies logic, seconds for a nested 1[·]."""

    def _print_ComplexInfinity(self, expr):
        return self._module_format("numpy.nan")

    def _print_Piecewise(self, expr):  # SymPy's simplifies every condition's logic first: seconds, nested
        exprs = ",".join(self._print(arg.expr) for arg in expr.args)
        conds = ",".join(self._print(arg.cond) for arg in expr.args)
        return f"{self._module_format('numpy.select')}([{conds}], [{exprs}], default={self._print(sp.nan)})"

    def _print_InertDelta(self, expr):
        a, b = (self._print(x) for x in expr.args)
        return f"(1.0*{self._module_format('numpy.equal')}({a}, {b}))"

    def _print_InertMax(self, expr):
        return self._print_Max(expr)

    def _print_InertMin(self, expr):
        return self._print_Min(expr)

    def _print_InertHeaviside(self, expr):
        return self._print_Heaviside(expr)

    def _print_Heaviside(self, expr):
        h0 = self._print(expr.args[1]) if len(expr.args) > 1 else "0.5"
        return f"{self._module_format('numpy.heaviside')}({self._print(expr.args[0])}, {h0})"

    def _print_Max(self, expr):
        return self._pairwise("numpy.maximum", expr.args)

    def _print_Min(self, expr):
        return self._pairwise("numpy.minimum", expr.args)

    def _pairwise(self, func, args):
        out = self._print(args[0])
        for a in args[1:]:
            out = f"{self._module_format(func)}({out}, {self._print(a)})"
        return out


def _numeric_form(e):
    """What NumPy can evaluate: δ of two non-indices as a comparison, an undefined value as NaN."""
    e = sp.sympify(e)
    if e.has(sp.KroneckerDelta):
        e = e.replace(lambda x: isinstance(x, sp.KroneckerDelta), lambda x: InertDelta(*x.args))
    if e.has(sp.zoo, sp.nan):
        e = e.xreplace({sp.zoo: sp.nan})
    return e


_NUMPY = {**np.__dict__, "numpy": np}  # what the printed NumPy code calls, unqualified
_NUMPY["erf"] = np.vectorize(math.erf, otypes=[float])  # GELU's Φ: NumPy has no erf


def compile_exprs(exprs: list, inputs: list):
    """A function of the inputs' values (one array each) giving every expression's values.

    The inputs (Symbols and Indexed entries) are printed as argument names, not substituted: a
    substitution rebuilds every max/min and asks SymPy's assumptions about it again. The source is
    compiled directly (lambdify does the same with three times the overhead)."""
    names = {a: f"a{n}_" for n, a in enumerate(inputs)}
    body = [_numeric_form(e) for e in exprs]
    for b in body:
        labels = {i.base.label for i in b.atoms(sp.Indexed)}
        stray = [a for a in b.atoms(sp.Indexed, sp.Symbol) if a not in names and a not in labels
                 and not (isinstance(a, sp.Symbol) and a in labels)]
        if stray:
            raise OutOfRange(str(min(stray, key=sp.default_sort_key)))
    printer = _Printer({"fully_qualified_modules": False, "inline": True, "order": "none"}, names)
    source = f"def f({', '.join(names.values())}):\n    return [{', '.join(printer.doprint(e) for e in body)}]\n"
    space: dict = {}
    exec(compile(source, "<derive: answer and reference>", "exec"), _NUMPY, space)  # noqa: S102 - our own printing
    f = space["f"]

    def run(values: list, n: int) -> list:
        with np.errstate(all="ignore"):
            out = f(*values)
        return [np.broadcast_to(np.asarray(r), (n,)) for r in out]

    return run


class InertMax(sp.Function):
    """max that stays as written: SymPy's Max compares its arguments on every substitution."""


class InertMin(sp.Function):
    """min that stays as written."""


class InertDelta(sp.Function):
    """δ(a, b) of two values that are not indices (from 1[a = b]): 1 where they are equal, else 0."""


class InertHeaviside(sp.Function):
    """Heaviside(g, value at 0) that stays as written: SymPy's asks whether g is real each time."""


_INERT = {sp.Max: InertMax, sp.Min: InertMin, sp.Heaviside: InertHeaviside}


def inert(expr: sp.Expr) -> sp.Expr:
    """The expression with max, min and Heaviside that do not evaluate (instantiated many times)."""
    if not isinstance(expr, sp.Basic) or not expr.has(*_INERT):
        return expr
    return expr.replace(lambda e: type(e) in _INERT, lambda e: _INERT[type(e)](*e.args))



class _MpPrinter(_Named, MpmathPrinter):
    """mpmath, for the 30-digit re-check of a difference; 1[·], max and min as Python expressions."""

    def _print_ComplexInfinity(self, expr):
        return "mpmath.nan"

    def _print_InertDelta(self, expr):
        a, b = (self._print(x) for x in expr.args)
        return f"(mpf(1) if {a} == {b} else mpf(0))"

    def _print_Heaviside(self, expr):
        h0 = self._print(expr.args[1]) if len(expr.args) > 1 else "mpf(1)/2"
        g = self._print(expr.args[0])
        return f"_heaviside({g}, {h0})"

    _print_InertHeaviside = _print_Heaviside

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    _print_InertMax, _print_InertMin = _print_Max, _print_Min


def _heaviside(g, h0):
    return mpmath.mpf(1) if g > 0 else mpmath.mpf(h0) if g == 0 else mpmath.mpf(0)


_MPMATH = {"mpmath": mpmath, "mpf": mpmath.mpf, "_heaviside": _heaviside}


def compile_mp(exprs: list, inputs: list):
    """A function of the inputs' values giving every expression's value at 30 digits (None: undefined)."""
    names = {a: f"a{n}_" for n, a in enumerate(inputs)}
    printer = _MpPrinter({"fully_qualified_modules": True, "inline": True, "order": "none"}, names)
    args = ", ".join(names.values())
    source = "".join(f"def f{n}({args}):\n    return {printer.doprint(_numeric_form(e))}\n"
                     for n, e in enumerate(exprs))
    space: dict = {}
    exec(compile(source, "<derive: 30 digits>", "exec"), _MPMATH, space)  # noqa: S102 - our own printing
    funcs = [space[f"f{n}"] for n in range(len(exprs))]

    def run(values: list, which=None) -> list:
        out = []
        with mpmath.workdps(30):
            numbers = [v if isinstance(v, (mpmath.mpf, mpmath.mpc)) else mpmath.mpf(float(v)) for v in values]
            for n in range(len(funcs)) if which is None else which:
                try:
                    out.append(funcs[n](*numbers))
                except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                    out.append(None)  # undefined here
        return out

    return run
