"""Folding batch statistics back into a result: Σ_k x_k → N μ, Σ_m (x_m − μ)² → N σ², and
x_m = μ + √(σ² + ε) x̂_m, so a batch norm's gradient is written in μ, σ² and x̂ as a TA writes it.

Each rewrite is an identity of the definitions (the named quantities are expanded back when the
result is verified), so folding can only change the form, never the value.
"""

from __future__ import annotations

import sympy as sp

from derive.calculus.sums import contract_deltas, replace_sum


def _scaled_sum(expr: sp.Expr) -> tuple | None:
    """(c, S) when `expr` is c·S with S a sum and c free of indices; None otherwise."""
    sums = [f for f in sp.Mul.make_args(expr) if isinstance(f, sp.Sum)]
    if len(sums) != 1:
        return None
    c = expr / sums[0]
    return (c, sums[0]) if not c.has(sp.Indexed, sp.Sum) else None


def fold_scalar_sum(expr: sp.Expr, symbol: sp.Symbol, definition: sp.Expr) -> sp.Expr:
    """μ = (1/N) Σ_k x_k: every Σ_k x_k (whatever its index) becomes N μ."""
    root = isinstance(definition, sp.Pow) and definition.exp == sp.S.Half
    inner = definition.base if root else definition  # σ = √(c Σ + ε): Σ = (σ² − ε)/c
    shift = sp.S.Zero
    if root and isinstance(inner, sp.Add):
        shift = sp.Add(*[a for a in inner.args if not a.has(sp.Sum)])
        inner = inner - shift
    found = _scaled_sum(inner)
    if found is None:
        return expr
    c, s = found
    value = ((symbol**2 if root else symbol) - shift) / c
    return replace_sum(expr, s, value)


def fold_normalized(expr: sp.Expr, name: sp.IndexedBase, index, definition: sp.Expr,
                    variable: sp.IndexedBase) -> sp.Expr:
    """x̂_m = (x_m − μ)/s with μ, s free of x: x_m = μ + s x̂_m; kept only if x is then gone."""
    num, den = sp.fraction(sp.together(definition))
    if den.has(variable) or sp.Poly(num, variable[index]).degree() != 1:
        return expr
    slope = num.coeff(variable[index])
    if (num - slope * variable[index]).has(variable):
        return expr
    shift = -(num - slope * variable[index]) / slope
    scale = den / slope
    out = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == variable,
                       lambda e: shift.xreplace({index: e.indices[0]}) + scale * name[e.indices])
    out = _zero_mean(contract_deltas(out), name)
    return out if not out.has(variable) else expr


def _zero_mean(expr: sp.Expr, name: sp.IndexedBase) -> sp.Expr:
    """Σ_k x̂_k = 0: a normalized vector has mean zero."""
    def linear(s: sp.Sum):
        body = sp.expand(s.function)
        (k, lo, hi), = s.limits if len(s.limits) == 1 else ((None, None, None),)
        if k is None:
            return s
        keep = [t for t in sp.Add.make_args(body) if not (t.has(name) and sp.expand(t / name[k]).free_symbols
                                                           .isdisjoint({k}) and not (t / name[k]).has(name))]
        return sp.Sum(sp.Add(*keep), (k, lo, hi)) if keep else sp.S.Zero

    return expr.replace(lambda e: isinstance(e, sp.Sum), linear)


def fold_statistics(expr: sp.Expr, symbol, index: tuple, definition: sp.Expr, variable) -> sp.Expr:
    """The folds above for one named quantity: a scalar defined by a sum, or a vector normalized
    from the variable; `expr` unchanged for any other."""
    if not index:
        return fold_scalar_sum(expr, symbol, definition)
    bases = {e.base for e in definition.atoms(sp.Indexed)}
    if len(index) != 1 or len(bases) != 1:
        return expr
    variable = bases.pop()  # x̂ is normalized from x whatever the derivative is taken by (γ too)
    try:
        return fold_normalized(expr, symbol, index[0], definition, variable)
    except (sp.PolynomialError, sp.GeneratorsNeeded):
        return expr
