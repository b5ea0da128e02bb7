"""A fast exact test that an expression is 0: its rational-function normal form over QQ.

Every subexpression that is not a rational operation (a function such as exp or log, a float, π,
a power with a symbolic exponent) becomes a generator of its own; a root B^(p/q) becomes t^(p·n/q)
with t = B^(1/n) (B multiplied out), and the numerator is reduced modulo tⁿ − B. A numerator that reduces to 0 is a
proof that the expression vanishes wherever it is defined; anything else is "not shown", never
"nonzero": derive.verify then falls back to SymPy's own cancel, so the test can only be faster.
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.fields import field
from sympy.polys.polyerrors import PolynomialError


def vanishes(expr: sp.Expr) -> bool:
    """True only when `expr` is proven to be identically 0 (False: not proven)."""
    if expr == 0:
        return True
    if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):  # nan − nan is not 0
        return False
    logs = expr.atoms(sp.log)
    if logs:  # log(e^a / S) = a − log S for real a and positive S (SymPy's assumptions decide, as in expand)
        expr = expr.xreplace({g: sp.expand_log(g) for g in logs})
    try:
        return _Field(expr).vanishes()
    except (PolynomialError, ValueError, TypeError, ZeroDivisionError, NotImplementedError):
        return False


def nonzero_somewhere(expr: sp.Expr, seed: int = 0) -> bool:
    """Whether `expr` is clearly not 0 at one point with every variable drawn in (0.3, 1.3), to 30 digits:
    then it is not identically 0 and no simplification can show it is (a one-hot target's Σ y = 1,
    say, is a constraint of the domain, not an identity). False when the value says nothing."""
    import random

    rng = random.Random(seed)
    point = {s: sp.Float(rng.uniform(0.3, 1.3), 30) for s in _generators(expr)}
    try:
        z = complex(sp.N(expr.xreplace(point), 30))
    except (TypeError, ValueError, OverflowError):  # zoo, nan
        return False
    return math.isfinite(abs(z)) and abs(z) > 1e-12


class _Field:
    """`expr` as an element of QQ(generators): roots and opaque subexpressions named once each."""

    def __init__(self, expr: sp.Expr):
        self.expr = expr
        roots: dict = {}
        plain, opaque, powers = set(), [], {}  # powers: a monomial m of an exponent -> denominators
        todo, seen = [expr], set()
        while todo:  # one walk over the distinct subexpressions (SymPy's atoms() revisits shared ones)
            e = todo.pop()
            if e in seen:
                continue
            seen.add(e)
            if isinstance(e, (sp.Symbol, sp.Indexed)):
                plain.add(e)
            elif isinstance(e, sp.exp) or e is sp.E:
                for c, m in _exponent(e):
                    powers.setdefault(m, set()).add(c.q)
            elif _opaque(e):
                opaque.append(e)
            elif isinstance(e, sp.Pow) and not e.exp.is_Integer:
                base = _radicand(e.base)
                roots.setdefault(base, set()).add(int(e.exp.q))
                todo.append(base)
            else:
                todo.extend(e.args)
        self.roots = {b: (sp.Dummy("t"), math.lcm(*qs)) for b, qs in roots.items()}
        ts = [t for t, _ in self.roots.values()]  # roots first (lex order): tⁿ leads tⁿ − B
        # exp(Σ c m) = Π exp(m/n)^(c·n), n the common denominator of m's coefficients: exact for all complex values
        self.exps = {m: (sp.Dummy("e"), math.lcm(*qs)) for m, qs in powers.items()}
        keys = ts + sorted(plain, key=str) + opaque + [g for g, _ in self.exps.values()]
        self.K, *gens = field([k if isinstance(k, (sp.Symbol, sp.Indexed)) else sp.Dummy("a") for k in keys], QQ)
        self.gen = dict(zip(keys, gens))
        self.memo: dict = {}

    def of(self, e: sp.Expr):
        """`e` in the field, each distinct subexpression converted once."""
        if e in self.memo:
            return self.memo[e]
        if e.is_Rational:
            out = self.K(QQ.convert(e))
        elif e in self.gen:
            out = self.gen[e]
        elif isinstance(e, sp.Add):
            out = self.K.zero
            for a in e.args:
                out += self.of(a)
        elif isinstance(e, sp.Mul):
            out = self.K.one
            for a in e.args:
                out *= self.of(a)
        elif isinstance(e, sp.Pow) and e.exp.is_Integer:
            out = self.of(e.base) ** int(e.exp)
        elif isinstance(e, sp.exp) or e is sp.E:
            out = self.K.one
            for c, m in _exponent(e):
                g, n = self.exps[m]
                out *= self.gen[g] ** int(c * n)
        elif isinstance(e, sp.Pow) and _radicand(e.base) in self.roots:
            t, n = self.roots[_radicand(e.base)]
            out = self.gen[t] ** int(e.exp * n)
        else:
            raise ValueError(f"not a rational operation: {e.func}")
        self.memo[e] = out
        return out

    def vanishes(self) -> bool:
        value = self.of(self.expr)
        num, den = value.numer, value.denom
        relations = [(self.gen[t] ** n - self.of(b)).numer for b, (t, n) in self.roots.items()]
        for rel in relations:
            num = num.rem(rel)
        if num != 0:
            return False
        for rel in relations:
            den = den.rem(rel)
        return den != 0  # a denominator that vanishes with the roots' relations proves nothing


def _exponent(e: sp.Expr) -> list:
    """exp(a) as [(c, m)]: a = Σ c m, each c rational (a float coefficient stays in its monomial); the
    number e is exp(1), so e and exp(1/3) share their generator."""
    if e is sp.E:
        return [(sp.Integer(1), sp.Integer(1))]
    out = []
    for term in sp.Add.make_args(sp.expand(e.args[0])):
        c, m = term.as_coeff_Mul()
        out.append((c, m) if c.is_Rational else (sp.Integer(1), term))
    return out


def _radicand(base: sp.Expr) -> sp.Expr:
    """A root's base multiplied out, so √((a + b)² + 1) and √(a² + 2ab + b² + 1) share one generator."""
    return sp.expand(base, power_exp=False, power_base=False, log=False)


def _opaque(e: sp.Expr) -> bool:
    """A subexpression the field takes as a generator: anything but symbols, entries and +, ×, powers."""
    if e.is_Rational or e is sp.E or isinstance(e, (sp.Symbol, sp.Indexed, sp.Add, sp.Mul, sp.exp)):
        return False
    return not (isinstance(e, sp.Pow) and e.exp.is_Rational)


def _generators(e: sp.Expr) -> set:
    """The symbols and indexed entries of `e`, not the labels of the entries' bases."""
    indexed = e.atoms(sp.Indexed)
    return (e.atoms(sp.Symbol) | indexed) - {i.base.label for i in indexed}
