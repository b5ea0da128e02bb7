"""A module's derivative at the numbers a sheet gives: the inputs, the named quantities, the result.

    [questions.parts.numeric]
    x = [1.0, 2.0, 0.5]
    beta = 2
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import sympy as sp
from markupsafe import Markup

from derive.errors import DeriveError
from derive.render.printer import latex

DIGITS = 4


def fmt_number(v: float, exact: bool = False) -> str:
    """A computed value to DIGITS decimals; a given one (`exact`) as written: 2, 0.5, not 0.5000 beside 2."""
    if exact and float(v).is_integer():
        return str(int(v))
    if exact:
        return format(float(v), ".12g")
    text = f"{v:.{DIGITS}f}"
    return "0.0000" if text == "-0.0000" else text


def _grid(values, name: str = "numeric value") -> list:
    """A number, a list or a list of lists as rows of floats, within the limits (derive/limits.py)."""
    from derive.limits import grid

    return grid(values, f"numeric {name}")


def _table(caption, rows, given: bool = False) -> dict:
    """A captioned grid; given values print as written (0.5, 2), computed ones to DIGITS decimals."""
    return {"caption": Markup(caption), "given": given, "rows": [[fmt_number(v, given) for v in r] for r in rows]}


def module_tables(d, numeric: dict) -> list:
    """Tables (caption as LaTeX, rows of formatted numbers) for one derivation at the given point."""
    from derive.concrete import Point, assignments, concrete, value, var_size

    defn = d.definition
    if d.upstream is not None:
        raise DeriveError("numeric data applies to activations, losses and sheet modules, not layers")
    known = {v.name: v for v in (*defn.inputs, *defn.others)}
    for name in numeric:
        if name not in known:
            raise DeriveError(f"numeric value for unknown variable {name!r}; choose from: {', '.join(known)}")
    sizes, values, classes, shown = {}, {}, {}, []
    for name, var in known.items():
        if name not in numeric:
            raise DeriveError(f"numeric data needs a value for {name}")
        if var.domain == "class":
            t = numeric[name]
            if isinstance(t, bool) or not isinstance(t, int):
                raise DeriveError(f"numeric {name} is a class index: a whole number such as 1, not {t!r}")
            classes[var.symbol] = t
            shown.append(_table(latex(var.symbol), [[float(t)]], True))
            continue
        grid = _grid(numeric[name], name)
        if var.rank == 0:
            values[var.symbol] = grid[0][0]
        else:
            flat_shape = (len(grid), len(grid[0])) if var.rank == 2 else (len(grid),)
            for dim_, size in zip(var.shape, flat_shape):
                if sizes.setdefault(dim_, size) != size:
                    raise DeriveError(f"{name} has {size} entries along {dim_}, another variable has {sizes[dim_]}")
            for idx in itertools.product(*(range(1, s + 1) for s in flat_shape)):
                r, c = (idx[0] - 1, idx[1] - 1) if var.rank == 2 else (idx[0] - 1, 0)
                values[var.symbol[idx]] = grid[r][c]
        shown.append(_table(latex(var.symbol), grid if var.rank != 1 else [[r[0] for r in grid]], True))
    missing = [s for s in defn.sizes if s not in sizes]
    if missing:
        raise DeriveError(f"numeric data does not fix the size {missing[0]}")
    for symbol, t in classes.items():
        top = sizes[var_size(defn)]
        if not 1 <= t <= top:
            raise DeriveError(f"numeric {symbol} = {t} is not a class: choose one from 1 to {top}")
    d2 = replace(d, definition=replace(defn, sizes=sizes))
    point = Point(values, classes)

    def at(expr, assignment=None):
        try:
            v = value(concrete(expr, d2, assignment or {}, point), point)
        except (TypeError, ValueError, OverflowError):  # zoo, nan: no number at all
            v = complex("nan")
        if not (math.isfinite(v.real) and abs(v.imag) <= 1e-12 * max(1.0, abs(v.real))):
            raise DeriveError(f"at these numeric values {expr} is {v:.6g}, not a finite real number "
                              "(an overflow, or the log or root of a negative number); choose other values")
        return v.real

    for nm in d.named:
        if nm.index:
            size = sizes[next(v.shape[0] for v in defn.variables if v.symbol == nm.symbol)]
            shown.append(_table(latex(nm.symbol), [[at(nm.expr_at((sp.Integer(m),))) for m in range(1, size + 1)]]))
        else:
            shown.append(_table(latex(nm.symbol), [[at(nm.expr)]]))
    cells = assignments(d2)
    free = list(cells[0]) if cells and cells[0] else []
    vals = [at(d2.result, a) for a in cells]
    if len(free) == 2:
        width = len({a[free[1]] for a in cells})
        rows = [vals[r:r + width] for r in range(0, len(vals), width)]
    else:
        rows = [vals]
    shown.append(_table(latex(d.lhs), rows))
    return shown
