"""Sums and Kronecker deltas: linearity of Σ, and Σ_k f(k) δ_kj = f(j) (indices are in range)."""

from __future__ import annotations

import sympy as sp


def distribute(expr: sp.Expr) -> sp.Expr:
    """Multiply out products over sums at the top level only; denominators stay as written."""
    return sp.expand(expr, deep=False, power_exp=False, power_base=False, multinomial=False, log=False)


def _linear(s: sp.Sum) -> sp.Expr:
    """Σ_k (a f(k) + g(k)) → a Σ_k f(k) + Σ_k g(k), contracting a δ_kj on the way."""
    out = s.function
    for limit in s.limits:  # innermost first
        out = _linear_one(out, limit)
    return out


def _linear_one(function: sp.Expr, limit: tuple) -> sp.Expr:
    k, lo, hi = limit
    total = sp.Integer(0)
    for term in sp.Add.make_args(distribute(function)):
        outside, inside = [], []
        for factor in sp.Mul.make_args(term):
            (inside if factor.has(k) else outside).append(factor)
        outside, body = sp.Mul(*outside), sp.Mul(*inside)
        delta = next((f for f in inside if isinstance(f, sp.KroneckerDelta) and k in f.args), None)
        if delta is not None:
            other = delta.args[0] if delta.args[1] == k else delta.args[1]
            if not other.has(k):
                total += outside * body.xreplace({delta: sp.S.One}).xreplace({k: other})
                continue
        if body == 1:
            total += outside * (hi - lo + 1)
        else:
            total += outside * sp.Sum(body, (k, lo, hi))
    return total


def contract_deltas(expr: sp.Expr) -> sp.Expr:
    """Apply linearity to every Σ and contract Kronecker deltas, innermost sums first.

    >>> contract_deltas(Sum(x[k] * KroneckerDelta(k, j), (k, 1, K)))
    x[j]
    """
    return expr.replace(lambda e: isinstance(e, sp.Sum), _linear)


def same_sum(a: sp.Basic, b: sp.Basic) -> bool:
    """Σ_k f(k) and Σ_m f(m) are the same sum."""
    if not (isinstance(a, sp.Sum) and isinstance(b, sp.Sum)) or len(a.limits) != len(b.limits):
        return a == b
    dummies = [sp.Dummy() for _ in a.limits]

    def norm(s):
        sub = {lim[0]: d for lim, d in zip(s.limits, dummies)}
        return s.function.xreplace(sub), tuple((d, lo, hi) for d, (_, lo, hi) in zip(dummies, s.limits))

    return norm(a) == norm(b)


def replace_sum(expr: sp.Expr, target: sp.Sum, by: sp.Expr) -> sp.Expr:
    """Replace every sum equal to `target` up to its dummy index."""
    return expr.replace(lambda e: isinstance(e, sp.Sum) and same_sum(e, target), lambda e: by)
