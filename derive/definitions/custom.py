"""A user's own module or loss, defined in Python the way the built-in ones are.

    >>> from sympy import IndexedBase, log, exp, symbols
    >>> x, y = IndexedBase("x"), IndexedBase("y")
    >>> i = symbols("i", integer=True)
    >>> d = define("softplus2", y[i], log(1 + exp(x[i])))
    >>> derive.derivative(d, wrt="x").result
    exp(x)/(exp(x) + 1)
"""

from __future__ import annotations

import sympy as sp

from derive.definitions import REGISTRY, Entry
from derive.definitions.model import IDX, Definition, Var, dim
from derive.errors import DeriveError

# Distinct sizes, so that no matrix is square when verified.
SIZES = {"K": 3, "D": 2, "M": 4, "N": 5}


def _index(s: sp.Symbol) -> sp.Symbol:
    if s.name not in IDX:
        raise DeriveError(f"index {s.name!r} is not one of {', '.join(IDX)}")
    return IDX[s.name]


def define(name: str, output, expr: sp.Expr, *, inputs=None, kind: str | None = None,
           shapes: dict | None = None, title: str | None = None, register: bool = False) -> Definition:
    """A Definition from `output = expr` in index notation; `register=True` adds it to the registry.

    `y[i] = f(x[i])` with no sums is an elementwise activation and is derived as y = f(x).
    Shapes default to the sums' ranges, and K for an output index; pass `shapes={"x": ("K",)}`.
    """
    expr = sp.sympify(expr)
    bases = {b.label.name if hasattr(b, "label") else b.name: b for b in expr.atoms(sp.IndexedBase)}
    out_base = output.base if isinstance(output, sp.Indexed) else output
    out_index = tuple(_index(s) for s in output.indices) if isinstance(output, sp.Indexed) else ()
    if _elementwise(expr, output):
        return _scalar(name, output, expr, kind, title, register)

    ranges = {lim[0].name: lim[2] for s in sp.preorder_traversal(expr) if isinstance(s, sp.Sum) for lim in s.limits}
    shapes = dict(shapes or {})
    for ind in [*expr.atoms(sp.Indexed), *([output] if isinstance(output, sp.Indexed) else [])]:
        name_ = ind.base.name
        if name_ not in shapes:
            shapes[name_] = tuple(dim(str(ranges.get(s.name, "K"))) for s in ind.indices)
    scalars = sorted((s for s in expr.free_symbols if not s.is_integer and not isinstance(s, sp.Indexed)
                      and s.name not in bases), key=lambda s: s.name)
    variables = {n: Var(n, tuple(dim(str(d)) for d in shp)) for n, shp in shapes.items() if n != out_base.name}
    variables |= {s.name: Var(s.name) for s in scalars}
    chosen = list(inputs) if inputs else [n for n in variables if variables[n].shape] or list(variables)
    for n in chosen:
        if n not in variables:
            raise DeriveError(f"{n!r} is not a variable of {name}; choose from: {', '.join(variables)}")
    out = Var(out_base.name, tuple(dim(str(d)) for d in shapes[out_base.name]) if out_index else (), role="output")
    body = _own_symbols(expr, variables)
    kind = kind or ("loss" if not out_index else "activation")
    dims = {d for v in (*variables.values(), out) for d in v.shape}
    defn = Definition(
        name=name, kind=kind, title=title or name, output=out, index=out_index, expr=body,
        inputs=tuple(variables[n] for n in chosen),
        others=tuple(replace_role(v) for n, v in variables.items() if n not in chosen),
        sizes={d: SIZES.get(d.name, 3) for d in dims},
    )
    return _maybe_register(defn, register)


def replace_role(v: Var) -> Var:
    return Var(v.name, v.shape, v.latex, "hyper", v.domain)


def _own_symbols(expr: sp.Expr, variables: dict) -> sp.Expr:
    """The user's symbols replaced by ours (real-valued, integer indices)."""
    subs = {}
    for ind in expr.atoms(sp.Indexed):
        var = variables[ind.base.name]
        subs[ind] = var.symbol[tuple(_index_expr(s) for s in ind.indices)]
    for s in expr.free_symbols:
        if isinstance(s, sp.Symbol) and s.name in variables and not variables[s.name].shape:
            subs[s] = variables[s.name].symbol
    out = expr.xreplace(subs)
    return out.replace(lambda e: isinstance(e, sp.Sum),
                       lambda e: sp.Sum(e.function, *[(_index(v), lo, hi) for v, lo, hi in e.limits]))


def _index_expr(s: sp.Expr) -> sp.Expr:
    """An index (`i`) or index arithmetic (`i + k - 1`) in our index symbols."""
    if isinstance(s, sp.Symbol):
        return _index(s)
    return s.xreplace({v: _index(v) for v in s.free_symbols if isinstance(v, sp.Symbol)})


def _elementwise(expr, output) -> bool:
    if not isinstance(output, sp.Indexed) or len(output.indices) != 1 or expr.has(sp.Sum):
        return False
    return all(tuple(ind.indices) == tuple(output.indices) for ind in expr.atoms(sp.Indexed))


def _scalar(name, output, expr, kind, title, register) -> Definition:
    entries = {ind: sp.Symbol(ind.base.name, real=True) for ind in expr.atoms(sp.Indexed)}
    scalar = expr.xreplace(entries)
    inputs = [Var(s.name) for s in sorted(set(entries.values()), key=lambda s: s.name)]
    hypers = [Var(s.name, role="hyper") for s in sorted(scalar.free_symbols - set(entries.values()),
                                                      key=lambda s: s.name)]
    scalar = scalar.xreplace({sp.Symbol(h.name): h.symbol for h in hypers})
    defn = Definition(name=name, kind=kind or "activation", title=title or name,
                      output=Var(output.base.name, role="output"), index=(), expr=scalar,
                      inputs=tuple(inputs), others=tuple(hypers))
    return _maybe_register(defn, register)


def _maybe_register(defn: Definition, register: bool) -> Definition:
    if register:
        from derive.definitions import _BUILT

        REGISTRY[defn.name] = Entry(defn.name, defn.kind, defn.title, lambda: defn)
        _BUILT[defn.name] = defn
    return defn
