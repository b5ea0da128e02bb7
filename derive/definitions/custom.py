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

from derive import limits
from derive.definitions import REGISTRY, Entry
from derive.definitions.model import IDX, Definition, Var, dim, written_out
from derive.definitions.ranges import check_index_ranges
from derive.errors import DeriveError

# Distinct sizes, so that no matrix is square when verified.
SIZES = {"K": 3, "D": 2, "M": 4, "N": 5, "T": 6, "H": 7}


def _index(s: sp.Symbol) -> sp.Symbol:
    if s.name not in IDX:
        raise DeriveError(f"index {s.name!r} is not one of {', '.join(IDX)}")
    return IDX[s.name]


def define(name: str, output, expr: sp.Expr, *, inputs=None, kind: str | None = None,
           shapes: dict | None = None, sizes: dict | None = None, title: str | None = None,
           named: dict | None = None, register: bool = False) -> Definition:
    """A Definition from `output = expr` in index notation; `register=True` adds it to the registry.

    `y[i] = f(x[i])` with no sums is an elementwise activation and is derived as y = f(x).
    Shapes default to the sums' ranges, and K for an output index; pass `shapes={"x": ("K",)}`
    (needed for a variable indexed by index arithmetic, x[i + k - 1]) and `sizes={"N": 6}` for the
    concrete sizes it is checked at. A two-index output is a layer (∂C/∂x of a cost C).
    `named={xhat[i]: (x[i] - mu) / sigma, A[i, k]: …}` declares quantities the results are written in
    (in order; each may use the ones before it, and `expr` may use them all).
    """
    expr = _plain_symbols(sp.sympify(expr))
    declared = _declared(named)
    for key, value, _ in reversed(declared):  # the definition in the inputs alone: each name written out
        expr = _written_out(expr, key, value)
    _supported(expr, output)
    bases = {b.label.name if hasattr(b, "label") else b.name: b for b in expr.atoms(sp.IndexedBase)}
    out_base = output.base if isinstance(output, sp.Indexed) else output
    out_index = tuple(_index(s) for s in output.indices) if isinstance(output, sp.Indexed) else ()
    if kind is not None and kind not in ("activation", "layer", "loss"):
        raise DeriveError(f"kind must be one of activation, layer, loss, not {kind!r}")
    if _elementwise(expr, output) and kind in (None, "activation"):
        return _scalar(name, output, expr, inputs, title, register, declared)

    ranges = {lim[0].name: lim[2] for s in sp.preorder_traversal(expr) if isinstance(s, sp.Sum) for lim in s.limits}
    spare = [d for d in ("K", "M", "D", "N", "T", "H") if d not in {str(r) for r in ranges.values()}]
    entries = sorted(expr.atoms(sp.Indexed), key=sp.default_sort_key)  # a set's order would make the inputs' order
    axes = {(ind.base.name, n): ranges[s.name] for ind in entries  # (the default variable) differ from run to run
            for n, s in enumerate(ind.indices) if isinstance(s, sp.Symbol) and s.name in ranges}
    for s in out_index:  # an output index takes the size of an axis a sum runs over, else one of its own
        found = [axes[(ind.base.name, n)] for ind in entries for n, t in enumerate(ind.indices)
                 if getattr(t, "name", None) == s.name and (ind.base.name, n) in axes]
        ranges.setdefault(s.name, found[0] if found else spare.pop(0) if spare else "K")
    shapes = dict(shapes or {})
    for ind in [*entries, *([output] if isinstance(output, sp.Indexed) else [])]:
        name_ = ind.base.name
        if name_ in shapes:
            continue
        arithmetic = [s for s in ind.indices if not isinstance(s, sp.Symbol)]
        if arithmetic:
            axes = ("N", "H")[:len(ind.indices)]
            raise DeriveError(f"{ind} is indexed by {arithmetic[0]} (index arithmetic): give the shapes, "
                              f"e.g. shapes={{'{name_}': {axes}, '{out_base.name}': {('M', 'T')[:len(out_index)]}}}")
        shapes[name_] = tuple(dim(str(ranges.get(s.name, "K"))) for s in ind.indices)
    scalars = sorted((s for s in expr.free_symbols if not s.is_integer and not isinstance(s, sp.Indexed)
                      and s.name not in bases), key=lambda s: s.name)
    variables = {n: Var(n, tuple(dim(str(d)) for d in shp)) for n, shp in shapes.items() if n != out_base.name}
    variables |= {s.name: Var(s.name) for s in scalars}
    chosen = _chosen(name, inputs, [n for n in variables if variables[n].shape] or list(variables), variables)
    if out_base.name not in shapes and out_index:
        raise DeriveError(f"give the shape of the output {out_base.name}, e.g. shapes={{'{out_base.name}': ('K',)}}")
    out = Var(out_base.name, tuple(dim(str(d)) for d in shapes[out_base.name]) if out_index else (), role="output")
    if len(out.shape) != len(out_index):
        raise DeriveError(f"the output {output} has {len(out_index)} indices, its shape {len(out.shape)}")
    body = _own_symbols(expr, variables)
    kind = kind or ("loss" if not out_index else "activation" if len(out_index) == 1 else "layer")
    if kind == "loss" and out_index:
        raise DeriveError(f"a loss has one number as its output, such as L; {output} has an index")
    quantities = _intermediates(declared, variables, ranges, shapes)
    dims = {d for v in (*variables.values(), out, *(q.var for q in quantities)) for d in v.shape}
    defn = Definition(
        name=name, kind=kind, title=title or name, output=out, index=out_index, expr=body,
        inputs=tuple(variables[n] for n in chosen),
        others=tuple(replace_role(v) for n, v in variables.items() if n not in chosen),
        sizes=_sizes(dims, sizes), intermediates=quantities,
    )
    check_index_ranges(defn)
    return _maybe_register(defn, register)


_NODES = (sp.Add, sp.Mul, sp.Pow, sp.Sum, sp.Indexed, sp.IndexedBase, sp.Symbol, sp.Number, sp.NumberSymbol,
          sp.Tuple, sp.exp, sp.log, sp.tanh, sp.sinh, sp.cosh, sp.sin, sp.cos, sp.Max, sp.Min, sp.Abs, sp.sign,
          sp.erf, sp.Piecewise, sp.KroneckerDelta, sp.Heaviside, sp.Rel, sp.And, sp.Or, sp.Not,
          sp.logic.boolalg.BooleanAtom, sp.floor, sp.ceiling, sp.Mod)
_SUPPORTED = ("+ − × / powers, Σ (Sum), exp, log, tanh, sinh, cosh, sin, cos, erf, Abs, sign, Max, Min, "
              "Piecewise, KroneckerDelta, Heaviside, entries x[i] with index arithmetic")


def _declared(named) -> list:
    """The named quantities as (name[index] or name, expression in the user's symbols), checked."""
    if named is None:
        return []
    if not isinstance(named, dict):
        raise DeriveError("named must be a dict {name[i]: expression, …}, e.g. {xhat[i]: (x[i] - mu) / sigma}")
    out = []
    for key, value in named.items():
        positive = bool(getattr(sp.sympify(key), "is_positive", False))  # σ = Symbol("sigma", positive=True)
        key = _plain_symbols(sp.sympify(key))
        if not isinstance(key, (sp.Indexed, sp.Symbol)):
            raise DeriveError(f"a named quantity is a name or an entry such as xhat[i], not {key}")
        value = _plain_symbols(sp.sympify(value))
        _supported(value, key)
        out.append((key, value, "positive" if positive else "real"))
    return out


def _written_out(expr: sp.Expr, key, value: sp.Expr) -> sp.Expr:
    """`expr` with each entry of the named quantity replaced by its definition at that entry."""
    if isinstance(key, sp.Symbol):
        return written_out(expr, key, (), value)
    return written_out(expr, key.base, tuple(key.indices), value)


def _intermediates(declared: list, variables: dict, ranges: dict, shapes: dict) -> tuple:
    """Intermediate per named quantity, in our symbols (the ones before it known by name)."""
    from derive.definitions.model import Intermediate

    known, out = dict(variables), []
    for key, value, domain in declared:
        base = key.base.name if isinstance(key, sp.Indexed) else key.name
        index = tuple(_index(s) for s in key.indices) if isinstance(key, sp.Indexed) else ()
        missing = sorted({b.label.name for b in value.atoms(sp.IndexedBase)} - set(known))
        if missing:
            raise DeriveError(f"the named quantity {key} uses {', '.join(missing)}, which the definition does not")
        shape = shapes.get(base) or tuple(dim(str(ranges.get(s.name, "K"))) for s in index)
        var = Var(base, tuple(dim(str(d)) for d in shape), role="output", domain=domain)
        known[base] = var
        out.append(Intermediate(var, index, _own_symbols(value, known)))
    return tuple(out)


def _supported(expr: sp.Expr, output) -> None:
    """One line naming a construct the engine does not derive, or an index nothing binds."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Basic) and not isinstance(node, _NODES):
            what = type(node).__name__
            raise DeriveError(f"{what} is not supported in a definition; use: {_SUPPORTED}")
    own = {s.name for s in output.indices} if isinstance(output, sp.Indexed) else set()
    bound = {lim[0].name for e in sp.preorder_traversal(expr) if isinstance(e, sp.Sum) for lim in e.limits}
    used = {a.name for e in expr.atoms(sp.Indexed) for t in e.indices for a in t.free_symbols}
    used |= {a.name for e in expr.atoms(sp.KroneckerDelta) for t in e.args for a in t.free_symbols}
    loose = sorted(n for n in used - own - bound if n in IDX)
    if loose and own:  # of a loss (a scalar output), a free index is a class index: softmax(Uᵀv)_o
        raise DeriveError(f"index {', '.join(loose)} is neither in the output {output} nor summed over")


def _plain_symbols(expr: sp.Expr) -> sp.Expr:
    """The user's symbols by name only: Symbol("a", positive=True) and Symbol("a") are one variable
    (their assumptions would otherwise make two, one of which has no value when verified)."""
    subs = {s: sp.Symbol(s.name) for s in expr.free_symbols
            if isinstance(s, sp.Symbol) and not isinstance(s, sp.Dummy) and not s.is_integer}
    subs |= {b: sp.IndexedBase(b.label.name) for b in expr.atoms(sp.IndexedBase)}
    return expr.xreplace(subs)


def _chosen(name: str, inputs, default: list, variables: dict) -> list:
    chosen = [inputs] if isinstance(inputs, str) else list(inputs) if inputs else default
    for n in chosen:
        if n not in variables:
            raise DeriveError(f"{n!r} is not a variable of {name}; choose from: {', '.join(variables)}")
    return chosen


def _sizes(dims: set, given: dict | None) -> dict:
    given = dict(given or {})
    known = {d.name for d in dims}
    for k, v in given.items():
        if k not in known:
            raise DeriveError(f"sizes names {k!r}, a dimension no variable has; the shapes use: "
                              f"{', '.join(sorted(known)) or '(none)'}")
        limits.size(v, f"sizes {k}")
    return {d: int(given.get(d.name, SIZES.get(d.name, 3))) for d in dims}


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


def _scalar(name, output, expr, chosen, title, register, declared=()) -> Definition:
    entries = {ind: sp.Symbol(ind.base.name, real=True) for ind in expr.atoms(sp.Indexed)}
    scalar = expr.xreplace(entries)
    names = sorted({s.name for s in entries.values()} | {s.name for s in scalar.free_symbols})
    plain = {s.name: s for s in scalar.free_symbols}
    variables = {n: Var(n) for n in names}
    picked = _chosen(name, chosen, sorted(s.name for s in set(entries.values())), variables)
    scalar = scalar.xreplace({plain[n]: variables[n].symbol for n in names})
    from derive.definitions.model import Intermediate

    known, quantities = dict(variables), []
    for key, value, domain in declared:  # σ = 1/(1 + e^{−x}) for y = x σ: scalars too, each in the names before it
        base = key.base.name if isinstance(key, sp.Indexed) else key.name
        value = value.xreplace({ind: sp.Symbol(ind.base.name, real=True) for ind in value.atoms(sp.Indexed)})
        missing = sorted(s.name for s in value.free_symbols if s.name not in known)
        if missing:
            raise DeriveError(f"the named quantity {base} uses {', '.join(missing)}, which the definition does not")
        known[base] = Var(base, role="output", domain=domain)
        quantities.append(Intermediate(known[base], (), value.xreplace(
            {s: known[s.name].symbol for s in value.free_symbols})))
    defn = Definition(name=name, kind="activation", title=title or name,
                      output=Var(output.base.name, role="output"), index=(), expr=scalar,
                      inputs=tuple(variables[n] for n in picked),
                      others=tuple(Var(n, role="hyper") for n in names if n not in picked),
                      intermediates=tuple(quantities))
    return _maybe_register(defn, register)


def _maybe_register(defn: Definition, register: bool) -> Definition:
    if register:
        from derive.definitions import _BUILT

        REGISTRY[defn.name] = Entry(defn.name, defn.kind, defn.title, lambda: defn)
        _BUILT[defn.name] = defn
    return defn
