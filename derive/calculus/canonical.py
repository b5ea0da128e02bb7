"""Canonical form: factored when that is shorter, with signs the way a person writes them.

`-(y_j - yhat_j)` becomes `yhat_j - y_j`; `beta*y_i*delta_ij - beta*y_i*y_j` becomes
`beta*y_i*(delta_ij - y_j)`; `1 - y**2` stays as it is.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

import sympy as sp
from sympy.core.assumptions import assumptions

from derive.calculus.sums import fixed_dummy


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


def exp_of_sums(expr: sp.Expr) -> sp.Expr:
    """exp(Σ_l a_l) as written: SymPy's expand, factor and cancel turn it into Π_l exp(a_l), a
    `Product` that neither a person nor the numeric checks read.

    >>> exp_of_sums(Product(exp(U[l, k]*v[l]), (l, 1, D)))
    exp(Sum(U[l, k]*v[l], (l, 1, D)))
    """
    if not expr.has(sp.Product):
        return expr

    def back(p):
        f = sp.powsimp(p.function)
        return sp.exp(sp.Sum(f.args[0], *p.limits)) if isinstance(f, sp.exp) else p

    return expr.replace(lambda e: isinstance(e, sp.Product), back)


def contract_cases(expr: sp.Expr) -> sp.Expr:
    """Σ_k of a Piecewise whose every branch holds δ_ik: the one term k = i (Huber's cases). SymPy
    folds a factor back into a Piecewise inside a Sum, so the delta cannot be taken out first.

    >>> contract_cases(Sum(Piecewise((r[k]*KroneckerDelta(i, k), abs(r[k]) <= d), (d*KroneckerDelta(i, k), True)), (k, 1, K)))
    Piecewise((r[i], d >= Abs(r[i])), (d, True))
    """

    def one(s):
        if len(s.limits) != 1 or not isinstance(s.function, sp.Piecewise):
            return s
        k = s.limits[0][0]
        branches = [{f for f in sp.Mul.make_args(e) if isinstance(f, sp.KroneckerDelta) and k in f.args}
                    for e, _ in s.function.args]
        common = set.intersection(*branches)
        if len(common) != 1:
            return s
        (delta,) = common
        other = delta.args[0] if delta.args[1] == k else delta.args[1]
        if other.has(k):
            return s
        return sp.Piecewise(*[(e.xreplace({delta: 1}), c) for e, c in s.function.args]).xreplace({k: other})

    return expr.replace(lambda e: isinstance(e, sp.Sum), one) if expr.has(sp.Piecewise) else expr


def _ramp_steps(expr: sp.Expr) -> sp.Expr:
    """𝟙[u > 0] max(0, u) = max(0, u): the step the chain rule leaves beside a squared ramp."""
    def drop(m):
        ramps = {f.args[1] if f.args[0] == 0 else f.args[0] for f in m.args
                 if isinstance(f, sp.Max) and len(f.args) == 2 and 0 in f.args}
        kept = [f for f in m.args if not (isinstance(f, sp.Heaviside) and f.args[0] in ramps)]
        return sp.Mul(*kept) if len(kept) != len(m.args) else m

    return expr.replace(lambda e: isinstance(e, sp.Mul), drop) if expr.has(sp.Max, sp.Heaviside) else expr


def merge_sums(expr: sp.Expr) -> sp.Expr:
    """Σ_k a_k − Σ_m b_m → Σ_k (a_k − b_k): sums over the same range, each a whole term, become one.

    >>> merge_sums(Sum(U[i, k]*yhat[k], (k, 1, K)) - Sum(U[i, m]*y[m], (m, 1, K)))
    Sum(U[i, k]*yhat[k] - U[i, k]*y[k], (k, 1, K))
    """
    if not isinstance(expr, sp.Add):
        return expr
    sums, rest = [], []
    for term in expr.args:
        coeff, body = term.as_coeff_Mul()
        if isinstance(body, sp.Sum) and len(body.limits) == 1 and coeff.is_Number:
            sums.append((coeff, body))
        else:
            rest.append(term)
    ranges = {s.limits[0][1:] for _, s in sums}
    if len(sums) < 2 or len(ranges) != 1:
        return expr
    k = sums[0][1].limits[0][0]
    if any(k in t.free_symbols for _, s in sums[1:] for t in [s.function] if s.limits[0][0] != k):
        return expr  # the first sum's index is free in another sum's body: renaming would capture it
    body = sp.Add(*[c * s.function.xreplace({s.limits[0][0]: k}) for c, s in sums])
    return sp.Add(sp.Sum(body, (k, *sums[0][1].limits[0][1:])), *rest)


def canonical(expr: sp.Expr, prefer: tuple = ()) -> sp.Expr:
    """The shortest of the expanded and factored forms, signs normalized; factored on a tie."""
    return _tanh(exp_of_sums(_canonical(merge_sums(_ramp_steps(expr)), prefer)))


def _tanh(expr: sp.Expr) -> sp.Expr:
    """sinh(u)ⁿ/cosh(u)ⁿ is tanh(u)ⁿ, as a person writes log cosh's derivative."""
    if not expr.has(sp.sinh):
        return expr
    if isinstance(expr, sp.Mul):
        powers = [f.as_base_exp() for f in expr.args]
        sinh = {b.args[0]: e for b, e in powers if isinstance(b, sp.sinh)}
        pairs = {b.args[0] for b, e in powers if isinstance(b, sp.cosh) and sinh.get(b.args[0]) == -e}
        if pairs:
            kept = [b ** e for b, e in powers if not (isinstance(b, (sp.sinh, sp.cosh)) and b.args[0] in pairs)]
            expr = sp.Mul(*kept, *(sp.tanh(u) ** sinh[u] for u in sorted(pairs, key=sp.default_sort_key)))
    return expr.func(*(_tanh(a) for a in expr.args)) if expr.args and not expr.is_Atom else expr


def _factored(expr: sp.Expr) -> tuple:
    """factor(together(e)) and factor(e). SymPy's factor factors together(e) itself, so the two are
    one factorization wherever together(together(e)) = together(e), which is far cheaper to ask."""
    combined = sp.together(expr)
    factored = sp.factor(expr)
    return (factored if sp.together(combined) == combined else sp.factor(combined)), factored


@lru_cache(maxsize=1024)
def _canonical(expr: sp.Expr, prefer: tuple = ()) -> sp.Expr:
    """Remembered: a derivation asks for the same term again (the cases, the kept sum, each Σ's body)."""
    return _shortest(expr, prefer)


def _shortest(expr: sp.Expr, prefer: tuple) -> sp.Expr:
    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*[(canonical(e, prefer), c) for e, c in expr.args])
    if isinstance(expr, sp.Sum):
        return sp.Sum(canonical(expr.function, prefer), *expr.limits)
    if expr.has(sp.Sum):  # factor around the sums, each sum standing as one symbol
        # each sum the same symbol on every call, so that a term met again is found in _canonical's memory
        sums = {s: fixed_dummy(f"S{n}") for n, s in enumerate(sorted(expr.atoms(sp.Sum), key=sp.default_sort_key))}
        inner = canonical(expr.xreplace(sums), prefer)
        return inner.xreplace({d: canonical(s, prefer) for s, d in sums.items()})
    candidates = []
    for form in (*_factored(expr), sp.expand(expr)):
        candidates.append(normalize_signs(form, prefer))
    candidates += _collected(sp.expand(expr), prefer)
    candidates.append(normalize_signs(sp.factor_terms(sp.expand(expr)), prefer))  # 1 − h², not (1 − h)(1 + h)
    best = min(candidates, key=lambda e: (sp.count_ops(e), candidates.index(e)))
    if isinstance(best, sp.Mul):  # a factored form: collect inside each factor that is a sum
        factors = [min([f, *_collected(f, prefer)], key=sp.count_ops) for f in sp.Mul.make_args(best)]
        if factors != list(sp.Mul.make_args(best)):
            best = sp.Mul(*factors, evaluate=False)
    if not best.atoms(sp.Indexed):  # an activation's scalar form: σ(1 + x(1 − σ)), not σ(−σx + x + 1)
        best = _nested(best, [p for p in prefer if isinstance(p, sp.Symbol) and best.has(p)])
    return best


def _nested(expr: sp.Expr, symbols: list) -> sp.Expr:
    """A scalar sum written in a person's nesting: linear in one of `symbols`, x a + b with a
    factored, when that is no longer than the sum as it stands; the same inside each factor."""
    if isinstance(expr, sp.Mul):
        factors = [_nested(f, symbols) for f in sp.Mul.make_args(expr)]
        return sp.Mul(*factors, evaluate=False) if factors != list(sp.Mul.make_args(expr)) else expr
    if not isinstance(expr, sp.Add) or not symbols:
        return expr
    best = expr
    for x in reversed(symbols):  # the input last in `prefer`: tried first, kept on a tie
        parts = sp.collect(sp.expand(expr), x, evaluate=False)
        if set(parts) != {x, sp.S.One} or not isinstance(parts[x], sp.Add):
            continue
        inner = _nested(normalize_signs(sp.factor_terms(parts[x]), ()), [s for s in symbols if s != x])
        form = sp.Add(sp.Mul(x, *sp.Mul.make_args(inner), evaluate=False), parts[sp.S.One], evaluate=False)
        if sp.count_ops(form) <= sp.count_ops(best):
            best = form
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
        collected = _collect_on(expr, order)
        if len(collected) > 1:
            out.append(sp.Add(*[_signed(k, v, prefer) for k, v in collected.items()], evaluate=False))
    return out


def _collect_on(expr: sp.Expr, entries: list) -> dict:
    """sympy.collect(expr, entries, evaluate=False) for entries that are not symbols (p_i, p_t). SymPy collects
    on a Dummy standing for each, put in by `subs`; `xreplace` puts them in alike here, at a fraction of the
    cost (collect's time in hinge's derivation went mostly to that substitution)."""
    stand = {e: sp.Dummy(**assumptions(e)) for e in entries}
    back = {d: e for e, d in stand.items()}
    found = sp.collect(expr.xreplace(stand), [stand[e] for e in entries], evaluate=False)
    return {k.xreplace(back): v.xreplace(back) for k, v in found.items()}


def _signed(entry: sp.Expr, coefficient: sp.Expr, prefer: tuple) -> sp.Expr:
    """One term of a collected sum: − p_t(δ_it − p_i) rather than p_t(p_i − δ_it)."""
    if entry == 1:
        return coefficient
    if isinstance(coefficient, sp.Add) and leads_negative(coefficient, prefer):
        flipped = sp.expand(-coefficient)
        if not leads_negative(flipped, prefer):
            return sp.Mul(-1, entry, flipped, evaluate=False)
    return sp.Mul(entry, coefficient, evaluate=False)
