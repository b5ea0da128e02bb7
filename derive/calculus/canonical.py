"""Canonical form: factored when that is shorter, with signs the way a person writes them.

`-(y_j - yhat_j)` becomes `yhat_j - y_j`; `beta*y_i*delta_ij - beta*y_i*y_j` becomes
`beta*y_i*(delta_ij - y_j)`; `1 - y**2` stays as it is.
"""

from __future__ import annotations

from itertools import product

import sympy as sp


def _rank(term: sp.Expr, prefer: tuple) -> int:
    """Which term of a sum should lead: a delta, then a number, then the preferred names."""
    if term.has(sp.KroneckerDelta):
        return 0
    if term.is_number:
        return 1
    for n, base in enumerate(prefer):
        if term.has(base):
            return 2 + n
    return 2 + len(prefer)


def leads_negative(add: sp.Add, prefer: tuple) -> bool:
    """Whether the sum, written the way a person orders it, starts with a minus: δ_ij − y_j does
    not; 1 − δ_ij does not either (a positive number leads when the delta is subtracted)."""
    lead = min(add.args, key=lambda t: (_rank(t, prefer), sp.default_sort_key(t)))
    if lead.could_extract_minus_sign() and any(t.is_number and t > 0 for t in add.args):
        return False
    return lead.could_extract_minus_sign()


def _add_power(factor):
    """(base, exponent) when the factor is a sum or an integer power of one."""
    if isinstance(factor, sp.Add):
        return factor, 1
    if isinstance(factor, sp.Pow) and isinstance(factor.base, sp.Add) and factor.exp.is_integer:
        return factor.base, factor.exp
    return None


def normalize_signs(expr: sp.Expr, prefer: tuple) -> sp.Expr:
    """Choose the signs of the factors so that as few as possible lead with a minus."""
    if not isinstance(expr, (sp.Mul, sp.Pow)):
        return expr
    factors = list(sp.Mul.make_args(expr))
    slots = [n for n, f in enumerate(factors) if _add_power(f) is not None]
    if not slots or len(slots) > 5:
        return expr
    coefficient = sp.Mul(*[f for f in factors if f.is_number])
    rest = [f for n, f in enumerate(factors) if not f.is_number and n not in slots]
    best, best_score = expr, None
    for flips in product((False, True), repeat=len(slots)):
        sign, sums, negative_leads = 1, [], 0
        for n, flip in zip(slots, flips):
            base, exp = _add_power(factors[n])
            if flip:
                base, sign = sp.expand(-base), sign * (-1) ** exp
            negative_leads += leads_negative(base, prefer)
            sums.append(sp.Pow(base, exp, evaluate=False) if exp != 1 else base)
        c = coefficient * sign
        score = (negative_leads + int(bool(c < 0)), sum(flips))
        if best_score is None or score < best_score:
            args = ([c] if c != 1 else []) + rest + sums
            best, best_score = sp.Mul(*args, evaluate=False), score
    return best


def canonical(expr: sp.Expr, prefer: tuple = ()) -> sp.Expr:
    """The shortest of the expanded and factored forms, signs normalized; factored on a tie."""
    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*[(canonical(e, prefer), c) for e, c in expr.args])
    if isinstance(expr, sp.Sum):
        return sp.Sum(canonical(expr.function, prefer), *expr.limits)
    if expr.has(sp.Sum):  # factor around the sums, each sum standing as one symbol
        sums = {s: sp.Dummy(f"S{n}") for n, s in enumerate(sorted(expr.atoms(sp.Sum), key=sp.default_sort_key))}
        inner = canonical(expr.xreplace(sums), prefer)
        return inner.xreplace({d: canonical(s, prefer) for s, d in sums.items()})
    candidates = []
    for form in (sp.factor(sp.together(expr)), sp.factor(expr), sp.expand(expr)):
        candidates.append(normalize_signs(form, prefer))
    candidates += _collected(sp.expand(expr), prefer)
    best = min(candidates, key=lambda e: (sp.count_ops(e), candidates.index(e)))
    if isinstance(best, sp.Mul):  # a factored form: collect inside each factor that is a sum
        factors = [min([f, *_collected(f, prefer)], key=sp.count_ops) for f in sp.Mul.make_args(best)]
        if factors != list(sp.Mul.make_args(best)):
            best = sp.Mul(*factors, evaluate=False)
    return best


def _collected(expr: sp.Expr, prefer: tuple) -> list:
    """p_l(δ_il − p_i) − p_t(δ_it − p_i): the expanded sum collected on each entry of the leading
    names in turn, each term's signs normalized. Chosen only when strictly shorter."""
    if not isinstance(expr, sp.Add):
        return []
    entries = sorted((e for e in expr.atoms(sp.Indexed) if e.base in prefer[:1]), key=sp.default_sort_key)
    if not 2 <= len(entries) <= 4:
        return []
    out = []
    for order in (entries, entries[::-1]):
        collected = sp.collect(expr, order, evaluate=False)
        if len(collected) > 1:
            out.append(sp.Add(*[_signed(k, v, prefer) for k, v in collected.items()], evaluate=False))
    return out


def _signed(entry: sp.Expr, coefficient: sp.Expr, prefer: tuple) -> sp.Expr:
    """One term of a collected sum: − p_t(δ_it − p_i) rather than p_t(p_i − δ_it)."""
    if entry == 1:
        return coefficient
    if isinstance(coefficient, sp.Add) and leads_negative(coefficient, prefer):
        flipped = sp.expand(-coefficient)
        if not leads_negative(flipped, prefer):
            return sp.Mul(-1, entry, flipped, evaluate=False)
    return sp.Mul(entry, coefficient, evaluate=False)
