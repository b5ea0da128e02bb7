"""Names of a network's quantities: layer k's s, z, δ print as s^{(k)}, z^{(k)}, δ^{(k)}, like W^{(k)}.

The project printer writes `s1` as `s_{1}`, so the entry `s1[i]` would be `s_{1}_{i}`, a double
subscript; here a layer number goes up as a superscript and the index stays down.
"""

from __future__ import annotations

import re

import sympy as sp

from derive.render.printer import DeriveLatexPrinter, name_latex

_LAYERED = re.compile(r"^(s|z|S|Z|delta|Delta|W|b)(\d+)$")


def net_name(name: str) -> str:
    """`delta2` → `\\delta^{(2)}`, `Z1` → `Z^{(1)}`, `d0` → `d_{0}`, `yhat` → `\\hat{y}`."""
    m = _LAYERED.match(name)
    if m:
        return f"{name_latex(m.group(1))}^{{({m.group(2)})}}"
    return name_latex(name)


class NetworkLatexPrinter(DeriveLatexPrinter):
    def _print_Symbol(self, expr, style="plain"):
        return net_name(expr.name)

    def _print_IndexedBase(self, expr):
        return net_name(expr.name)

    def _print_Indexed(self, expr):
        if _LAYERED.match(expr.base.name):
            idx = "".join(self._print(i) for i in expr.indices)
            return f"{net_name(expr.base.name)}_{{{idx}}}"
        return super()._print_Indexed(expr)


def latex(expr: sp.Basic) -> str:
    return NetworkLatexPrinter({}).doprint(expr)
