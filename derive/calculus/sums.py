"""Sums and Kronecker deltas: linearity of Σ, and Σ_k f(k) δ_kj = f(j) (indices are in range)."""

from __future__ import annotations

import functools

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
    function = function.replace(lambda e: _branch_deltas(e, k), _split_branches)
    for term in sp.Add.make_args(distribute(function)):
        outside, inside = [], []
        for factor in sp.Mul.make_args(term):
            (inside if factor.has(k) else outside).append(factor)
        inside = [g for f in inside for g in _delta_out(f, k)]
        outside, body = sp.Mul(*outside), sp.Mul(*inside)
        contracted = _contract_one(inside, body, k, lo, hi)
        if contracted is not None:
            total += outside * contracted
            continue
        if (len(inside) == 1 and isinstance(body, sp.Sum) and not any(
                b.has(k) for lim in body.limits for b in lim[1:])
                and any(_indicator(f, k) for f in sp.Mul.make_args(body.function))):
            # Σ_k Σ_n f = Σ_n Σ_k f (n's range is free of k), so k's range condition reaches its sum
            total += outside * sp.Sum(_linear_one(body.function, limit), *body.limits)
            continue
        lo_k, hi_k, body = _fold_range(body, k, lo, hi)
        single = _single(lo_k, hi_k)
        if single is not None:  # a window of exactly one k: Σ_{l=⌈i/K⌉}^{⌊(i+K−1)/K⌋} f(l) = f(⌈i/K⌉)
            at, cond = single
            total += outside * (sp.Piecewise((body.xreplace({k: at}), cond), (0, True)) if cond != sp.true
                                else body.xreplace({k: at}))
        elif body == 1:
            total += outside * (hi_k - lo_k + 1 if (lo_k, hi_k) == (lo, hi) else sp.Max(0, hi_k - lo_k + 1))
        else:
            total += outside * sp.Sum(body, (k, lo_k, hi_k))
    return total


def _residue(cond) -> tuple | None:
    """(a, c) for a condition holding Eq(Mod(a, c), 0) (c divides a); None otherwise."""
    for r in (cond.args if isinstance(cond, sp.And) else (cond,)):
        if isinstance(r, sp.Eq) and r.rhs == 0 and isinstance(r.lhs, sp.Mod) and r.lhs.args[1].is_Integer:
            return r.lhs.args
    return None


def _merge_exclusive(expr: sp.Expr) -> sp.Expr:
    """{a if i odd …; 0} + {b if i even …; 0} as one {a if …; b if …; 0}: the conditions exclude each
    other (different residues of one modulus), so at most one term is nonzero."""
    terms = sp.Add.make_args(expr)
    pieces = [t for t in terms if _zero_tail(t)]
    residues = [_residue(t.args[0].cond) for t in pieces]
    if len(pieces) < 2 or any(r is None for r in residues) or len({c for _, c in residues}) != 1:
        return expr
    c = residues[0][1]
    for n, (a, _) in enumerate(residues):
        for b, _ in residues[n + 1:]:
            gap = sp.expand(a - b)
            if not (gap.is_Integer and gap % c != 0):
                return expr
    rest = [t for t in terms if t not in pieces]
    return sp.Add(*rest, sp.Piecewise(*[(t.args[0].expr, t.args[0].cond) for t in pieces], (sp.S.Zero, True)))


def _nested(e) -> bool:
    """{{v if c₁; 0} if c₂; 0}, which is {v if c₁ and c₂; 0}."""
    return _zero_tail(e) and _zero_tail(e.args[0].expr)


def _zero_tail(e) -> bool:
    return (isinstance(e, sp.Piecewise) and len(e.args) == 2 and e.args[1].expr == 0
            and e.args[1].cond == sp.true)


def _branch_deltas(e, k) -> bool:
    """A Piecewise whose branches hold different deltas on k (a max-pool's argmax)."""
    if not isinstance(e, sp.Piecewise):
        return False
    sets = [frozenset(d for d in sp.Mul.make_args(b) if isinstance(d, sp.KroneckerDelta) and k in d.free_symbols)
            for b, _ in e.args if b != 0]
    return len(sets) > 1 and all(sets) and not frozenset.intersection(*sets)


def _split_branches(e: sp.Piecewise) -> sp.Expr:
    """{a if c₁; b otherwise} = {a if c₁; 0} + {b if not c₁; 0}: one delta per term, each contracted."""
    terms, before = [], []
    for value, cond in e.args:
        terms.append(sp.Piecewise((value, sp.And(cond, *[sp.Not(c) for c in before])), (sp.S.Zero, True)))
        before.append(cond)
    return sp.Add(*terms)


def _delta_out(f: sp.Expr, k) -> list:
    """`Piecewise((2 x_k δ_ik, x_k > 1), (0, True))` as [δ_ik, Piecewise((2 x_k, x_k > 1), (0, True))]:
    a delta on k that every nonzero branch carries comes out, so the sum over k contracts it."""
    if not isinstance(f, sp.Piecewise):
        return [f]
    branches = [e for e, _ in f.args if e != 0]
    common = set.intersection(*[{d for d in sp.Mul.make_args(e) if isinstance(d, sp.KroneckerDelta)
                                 and k in d.free_symbols} for e in branches]) if branches else set()
    if not common:
        return [f]
    delta = min(common, key=sp.default_sort_key)
    return [delta, sp.Piecewise(*[(e / delta if e != 0 else e, c) for e, c in f.args])]


def _contract_one(inside: list, body: sp.Expr, k, lo, hi) -> sp.Expr | None:
    """Σ_k f(k) δ_{k+c, j} = f(j − c), kept only where lo ≤ j − c ≤ hi (index arithmetic runs out
    of range at the borders: a convolution's x_{i+k−1}); None if no delta solves for k."""
    for delta in (f for f in inside if isinstance(f, sp.KroneckerDelta)):
        a, b = delta.args
        diff = sp.expand(a - b)
        coeff = diff.coeff(k)
        if not (coeff.is_Integer and coeff != 0) or (diff - coeff * k).has(k):
            continue
        rest = diff - coeff * k
        at = sp.expand(-rest / coeff)
        out = body.xreplace({delta: sp.S.One}).xreplace({k: at})
        if k in (a, b) and at.is_Symbol:  # Σ_k f(k) δ_kj: a plain index j is in range by assumption
            return out
        cond = in_range(at, lo, hi)
        if abs(coeff) != 1:  # δ_{i, 2k}: some k hits i only when 2 divides i
            cond = sp.And(sp.Eq(sp.Mod(rest, abs(coeff)), 0), cond)
        return sp.Piecewise((out, cond), (sp.S.Zero, True))
    return None


def in_range(at: sp.Expr, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    """lo ≤ at ≤ hi, the condition a sum over an index in `at` folds into its limits."""
    return sp.And(sp.Le(lo, at), sp.Le(at, hi))


def _bound(rel: sp.Rel, k) -> tuple | None:
    """`lo ≤ u` or `u ≤ hi` as (lower, upper) bounds on k when u is linear in k with a positive
    integer or ±1 coefficient; None otherwise."""
    gap = sp.expand(rel.gts - rel.lts)  # gap ≥ 0
    c = gap.coeff(k)
    rest = gap - c * k
    if c == 0 or rest.has(k) or not (c.is_integer and (c.is_positive or c.is_negative)):
        return None
    if c.is_positive:  # c k + rest ≥ 0  ⇔  k ≥ −rest/c
        return (-rest if c == 1 else sp.ceiling(-rest / c)), None
    return None, (rest if c == -1 else sp.floor(rest / -c))


def _fold_range(body: sp.Expr, k, lo, hi) -> tuple:
    """Range conditions on k (from `_contract_one`) moved into the limits of Σ_k:
    Σ_{k=1}^{K} f(k) [1 ≤ i − k + 1 ≤ M] = Σ_{k=max(1, i−M+1)}^{min(K, i)} f(k); conditions on
    other indices stay with the term."""
    factors = []
    for f in sp.Mul.make_args(body):
        found = _indicator(f, k)
        if found is None:
            factors.append(f)
            continue
        value, bounds, others = found
        factors.append(sp.Piecewise((value, sp.And(*others)), (sp.S.Zero, True)) if others else value)
        for lower, upper in bounds:
            lo = lo if lower is None else sp.Max(lo, lower)
            hi = hi if upper is None else sp.Min(hi, upper)
    return lo, hi, sp.Mul(*factors)


def _single(lo_k, hi_k) -> tuple | None:
    """(⌈a/c⌉, its condition) when the narrowed range is ⌈a/c⌉ … ⌊(a + c − 1)/c⌋, which holds one
    integer, the other bounds of the range becoming the condition; None otherwise."""
    lower = lo_k.args if isinstance(lo_k, sp.Max) else (lo_k,)
    upper = hi_k.args if isinstance(hi_k, sp.Min) else (hi_k,)
    for low in (b for b in lower if isinstance(b, sp.ceiling)):
        for high in (b for b in upper if isinstance(b, sp.floor)):
            a_num, a_den = sp.fraction(sp.together(low.args[0]))
            b_num, b_den = sp.fraction(sp.together(high.args[0]))
            if a_den == b_den and sp.expand(b_num - a_num - a_den + 1) == 0:
                cond = sp.And(*[sp.Le(b, low) for b in lower if b != low], *[sp.Le(low, b) for b in upper if b != high])
                return low, cond
    return None


def _indicator(f: sp.Expr, k) -> tuple | None:
    """(value, bounds on k, other conditions) for `Piecewise((value, conditions), (0, True))`."""
    if not (isinstance(f, sp.Piecewise) and len(f.args) == 2 and f.args[1].expr == 0
            and f.args[1].cond == sp.true and f.args[0].cond.has(k) and not f.args[0].expr.has(sp.Piecewise)):
        return None
    cond = f.args[0].cond
    rels = cond.args if isinstance(cond, sp.And) else (cond,)
    if not all(isinstance(r, (sp.LessThan, sp.GreaterThan)) for r in rels):
        return None
    mine = [r for r in rels if r.has(k)]
    bounds = [_bound(r, k) for r in mine]
    if any(b is None for b in bounds):
        return None
    return f.args[0].expr, bounds, [r for r in rels if not r.has(k)]


def contract_deltas(expr: sp.Expr) -> sp.Expr:
    """Apply linearity to every Σ and contract Kronecker deltas, innermost sums first.

    >>> contract_deltas(Sum(x[k] * KroneckerDelta(k, j), (k, 1, K)))
    x[j]
    """
    out = expr.replace(lambda e: isinstance(e, sp.Sum), _linear)
    if out.has(sp.Piecewise):
        out = out.replace(_nested, lambda e: sp.Piecewise(
            (e.args[0].expr.args[0].expr, sp.And(e.args[0].expr.args[0].cond, e.args[0].cond)), (sp.S.Zero, True)))
        out = _merge_exclusive(out)
    # a range condition left outside every sum holds the whole term: w_{j−i+1} if 1 ≤ j − i + 1 ≤ K
    return sp.Add(*[sp.piecewise_fold(t) if isinstance(t, sp.Mul) and t.has(sp.Piecewise) else t
                    for t in sp.Add.make_args(out)]) if out.has(sp.Piecewise) and not expr.has(sp.Piecewise) else out


def same_sum(a: sp.Basic, b: sp.Basic) -> bool:
    """Σ_k f(k) and Σ_m f(m) are the same sum."""
    if not (isinstance(a, sp.Sum) and isinstance(b, sp.Sum)) or len(a.limits) != len(b.limits):
        return a == b
    if a == b:
        return True
    if any(x[1:] != y[1:] for x, y in zip(a.limits, b.limits)):
        return False  # the ranges are compared as written: different ranges, different sums
    return _renamed(a) == _renamed(b)


@functools.lru_cache(maxsize=1024)
def _renamed(s: sp.Sum) -> sp.Expr:
    """The sum's body with its indices named by position (one fixed dummy each), so that two sums that
    differ only in the names of their indices give the same body. Remembered: `replace_sum` asks for
    its target's at every sum it meets."""
    return s.function.xreplace({lim[0]: fixed_dummy(f"s{n}") for n, lim in enumerate(s.limits)})


def fixed_dummy(name: str, **assumptions) -> sp.Dummy:
    """The same Dummy on every call with this name and these assumptions (a fixed dummy index, above any SymPy
    hands out in a session), so that what is built with it is found again in a memory (lru_cache) where a fresh
    Dummy would miss. Two names never meet: a Dummy's name is part of what it is."""
    return sp.Dummy(name, dummy_index=_FIXED, **assumptions)


_FIXED = 7_000_000_000


def replace_sum(expr: sp.Expr, target: sp.Sum, by: sp.Expr) -> sp.Expr:
    """Replace every sum equal to `target` up to its dummy index."""
    return expr.replace(lambda e: isinstance(e, sp.Sum) and same_sum(e, target), lambda e: by)
