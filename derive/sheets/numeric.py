"""A module's derivative at the numbers a sheet gives: the inputs, the named quantities, the result.

    [questions.parts.numeric]
    x = [1.0, 2.0, 0.5]
    beta = 2
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import sympy as sp
from markupsafe import Markup

from derive.errors import DeriveError
from derive.render.printer import latex

DIGITS = 4


def fmt_number(v: float, exact: bool = False) -> str:
    if exact and float(v).is_integer():
        return str(int(v))
    text = f"{v:.{DIGITS}f}"
    return "0.0000" if text == "-0.0000" else text


def _grid(values) -> list:
    """A number, a list or a list of lists as rows of floats."""
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        return [[float(values)]]
    if isinstance(values, list) and values and all(isinstance(v, (int, float)) for v in values):
        return [[float(v)] for v in values]
    if (isinstance(values, list) and values and all(isinstance(r, list) for r in values)
            and len({len(r) for r in values}) == 1
            and all(isinstance(v, (int, float)) for r in values for v in r)):
        return [[float(v) for v in r] for r in values]
    raise DeriveError("numeric values must be a number, a list of numbers, or a list of equal rows")


def _table(caption, rows, given: bool = False) -> dict:
    """A captioned grid; given values that are whole numbers print without decimals."""
    return {"caption": Markup(caption), "given": given, "rows": [[fmt_number(v, given) for v in r] for r in rows]}


def module_tables(d, numeric: dict) -> list:
    """Tables (caption as LaTeX, rows of formatted numbers) for one derivation at the given point."""
    from derive.verify import Point, assignments, concrete, value

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
            classes[var.symbol] = int(numeric[name])
            shown.append(_table(latex(var.symbol), [[float(numeric[name])]], True))
            continue
        grid = _grid(numeric[name])
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
    d2 = replace(d, definition=replace(defn, sizes=sizes))
    point = Point(values, classes)

    def at(expr, assignment=None):
        return value(concrete(expr, d2, assignment or {}, point), point).real

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
