"""Expressions compiled to Python over NumPy arrays (every point at once) or mpmath numbers (30 digits).

NumPy through the one compile-to-NumPy that verification uses too (derive/numpy_lambdify.py), and
mpmath from there as well, for the checker's 30-digit re-check.
Nothing here reads student text: the expressions come from the checker's own reading of it.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from derive.numpy_lambdify import compile_mp, compile_numpy, inert

__all__ = ["OutOfRange", "compile_exprs", "compile_mp", "inert"]


class OutOfRange(Exception):
    """The answer names an entry that does not exist at the concrete sizes, e.g. y_4 of a 3-vector;
    or (`entry` False) a quantity without indices that the reference cannot evaluate."""

    def __init__(self, shown: str, entry: bool = True):
        super().__init__(shown)
        self.entry = entry


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
            first = min(stray, key=sp.default_sort_key)
            raise OutOfRange(_shown(first), isinstance(first, sp.Indexed))
    return _Values(compile_numpy(body, inputs, "<derive: answer and reference>"))


class _Values:
    """run(values, n): every expression's n values (a class, not a closure, so a reference pickles)."""

    def __init__(self, f):
        self.f = f

    def __call__(self, values: list, n: int) -> list:
        with np.errstate(all="ignore"):
            out = self.f(*values)
        return [np.broadcast_to(np.asarray(r), (n,)) for r in out]


def _shown(entry) -> str:
    """The entry as the answer's reader writes it (∂C/∂S_31, not dC_dS[3, 1])."""
    from derive.render.unicode import unicode_text

    return unicode_text(entry)
