"""Expressions compiled to Python over NumPy arrays (every point at once) or mpmath numbers (30 digits).

NumPy through the one compile-to-NumPy that verification uses too (derive/numpy_lambdify.py); mpmath
here, for the checker's 30-digit re-check, with inputs printed as argument names the same way.
Nothing here reads student text: the expressions come from the checker's own reading of it.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp
from sympy.printing.pycode import MpmathPrinter

from derive.numpy_lambdify import Named, compile_numpy, inert, numeric_form

__all__ = ["OutOfRange", "compile_exprs", "compile_mp", "inert"]


class OutOfRange(Exception):
    """The answer names an entry that does not exist at the concrete sizes, e.g. y_4 of a 3-vector."""


def compile_exprs(exprs: list, inputs: list):
    """A function of the inputs' values (one array each, n points) giving every expression's n values,
    through the one compile-to-NumPy (derive/numpy_lambdify.py); OutOfRange for an entry not among them."""
    body = [sp.sympify(e) for e in exprs]
    known = set(inputs)
    for b in body:
        labels = {i.base.label for i in b.atoms(sp.Indexed)}
        stray = [a for a in b.atoms(sp.Indexed, sp.Symbol) if a not in known and a not in labels
                 and not (isinstance(a, sp.Symbol) and a in labels)]
        if stray:
            raise OutOfRange(_shown(min(stray, key=sp.default_sort_key)))
    f = compile_numpy(body, inputs, "<derive: answer and reference>")

    def run(values: list, n: int) -> list:
        with np.errstate(all="ignore"):
            out = f(*values)
        return [np.broadcast_to(np.asarray(r), (n,)) for r in out]

    return run


def _shown(entry) -> str:
    """The entry as the answer's reader writes it (∂C/∂S_31, not dC_dS[3, 1])."""
    from derive.render.unicode import unicode_text

    return unicode_text(entry)


class _MpPrinter(Named, MpmathPrinter):
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
    source = "".join(f"def f{n}({args}):\n    return {printer.doprint(numeric_form(e))}\n"
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
