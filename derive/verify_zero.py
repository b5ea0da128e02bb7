"""A fast exact test that an expression is 0: a numerator over a factored denominator, over QQ.

Every subexpression that is not a rational operation (a function such as exp or log, a float, π,
a power with a symbolic exponent) becomes a generator of its own; a root B^(p/q) becomes t^(p·n/q)
with t = B^(1/n) (B multiplied out), and the numerator is reduced modulo tⁿ − B. A numerator that reduces to 0 is a
proof that the expression vanishes wherever it is defined; anything else is "not shown", never
"nonzero": derive.verify then falls back to SymPy's own cancel, so the test can only be faster.

The expression is built as a polynomial numerator over a product of denominator factors, each factor the
monic polynomial some power divides by: a sum brings its terms to the factors' least common multiple by
matching factors, with no polynomial gcd (a field of fractions cancels by a gcd at every + and ×, which
was most of the test's time). The numerator is not reduced: it is 0 exactly when the expression is.
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.polyerrors import PolynomialError
from sympy.polys.rings import ring

from derive.calculus.budget import within

VANISH_SECONDS = 5.0  # for SymPy's cancel, when this test shows nothing


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


def simplified_to_zero(expr: sp.Expr) -> bool | None:
    """Whether `expr` simplifies to 0 (None: not within VANISH_SECONDS), as derive.verify asks of the closed
    form − sympy.diff at one index assignment: this test first, then SymPy's cancel. A step H(x) is taken as an
    unknown h, shared by H(x, 0) and H(x): what vanishes for every h vanishes wherever no argument of
    a step is 0."""
    if expr.has(sp.Piecewise, sp.Max, sp.Min):
        return False
    steps: dict = {}
    for h in expr.atoms(sp.Heaviside):
        steps[h] = steps.setdefault(sp.Heaviside(h.args[0], 0), sp.Dummy("h"))
    expr = expr.xreplace(steps)
    if vanishes(expr):  # exact and fast; when it shows nothing, SymPy's cancel decides
        return True
    if nonzero_somewhere(expr):  # not 0 off the domain's constraints either: nothing to simplify
        return False

    def cancels() -> bool:
        try:
            return sp.cancel(sp.expand(expr)) == 0
        except (sp.PolynomialError, TypeError):
            return False

    # exp of inner sums (word2vec) can take half a minute to cancel: past the budget, compare by value
    return within(VANISH_SECONDS, cancels, None)


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
        self.R, *gens = ring([k if isinstance(k, (sp.Symbol, sp.Indexed)) else sp.Dummy("a") for k in keys], QQ)
        self.gen = {k: _Quotient(g, {}) for k, g in zip(keys, gens)}
        self.memo: dict = {}

    def of(self, e: sp.Expr) -> _Quotient:
        """`e` as a numerator over its denominator's factors, each distinct subexpression converted once."""
        if e in self.memo:
            return self.memo[e]
        if e.is_Rational:
            out = _Quotient(self.R(QQ.convert(e)), {})
        elif e in self.gen:
            out = self.gen[e]
        elif isinstance(e, sp.Add):
            out = _Quotient(self.R.zero, {})
            for a in e.args:
                out = out + self.of(a)
        elif isinstance(e, sp.Mul):
            out = _Quotient(self.R.one, {})
            for a in e.args:
                out = out * self.of(a)
        elif isinstance(e, sp.Pow) and e.exp.is_Integer:
            out = self.of(e.base) ** int(e.exp)
        elif isinstance(e, sp.exp) or e is sp.E:
            out = _Quotient(self.R.one, {})
            for c, m in _exponent(e):
                g, n = self.exps[m]
                out = out * self.gen[g] ** int(c * n)
        elif isinstance(e, sp.Pow) and _radicand(e.base) in self.roots:
            t, n = self.roots[_radicand(e.base)]
            out = self.gen[t] ** int(e.exp * n)
        else:
            raise ValueError(f"not a rational operation: {e.func}")
        self.memo[e] = out
        return out

    def vanishes(self) -> bool:
        value = self.of(self.expr)
        num = value.num
        relations = []
        for b, (t, n) in self.roots.items():
            base = self.of(b)  # tⁿ = B: tⁿ·den(B) − num(B) = 0
            relations.append(self.gen[t].num ** n * base.denominator() - base.num)
        for rel in relations:
            num = num.rem(rel)
        if num != 0:
            return False
        den = value.denominator()
        for rel in relations:
            den = den.rem(rel)
        return den != 0  # a denominator that vanishes with the roots' relations proves nothing


class _Quotient:
    """num / Π f^k over `den` {f: k}: each f a monic polynomial of positive degree, matched by equality."""

    __slots__ = ("den", "num")

    def __init__(self, num, den: dict):
        self.num, self.den = num, den

    def denominator(self):
        out = self.num.ring.one
        for f, k in self.den.items():
            out *= f ** k
        return out

    def _raised(self, to: dict):
        """The numerator over the denominator `to`, a multiple of this one's."""
        out = self.num
        for f, k in to.items():
            if k > self.den.get(f, 0):
                out *= f ** (k - self.den.get(f, 0))
        return out

    def __add__(self, other: _Quotient) -> _Quotient:
        if not other.num:
            return self
        if not self.num:
            return other
        if self.den == other.den:
            return _Quotient(self.num + other.num, self.den)
        common = dict(self.den)
        for f, k in other.den.items():
            common[f] = max(k, common.get(f, 0))
        return _Quotient(self._raised(common) + other._raised(common), common)

    def __mul__(self, other: _Quotient) -> _Quotient:
        den = dict(self.den)
        for f, k in other.den.items():
            den[f] = den.get(f, 0) + k
        return _Quotient(self.num * other.num, den)

    def __pow__(self, n: int) -> _Quotient:
        if n >= 0:
            return _Quotient(self.num ** n, {f: k * n for f, k in self.den.items()})
        if not self.num:
            raise ZeroDivisionError("a power of 0 with a negative exponent")
        lead = self.num.LC  # 1/num = (1/lead) / monic(num): the factor is monic, so equal factors match
        num, den = self.num.ring.one, {}
        for f, k in self.den.items():
            num *= f ** k
        if self.num.is_ground:
            num = num.quo_ground(lead)
        else:
            num, den = num.quo_ground(lead), {self.num.monic(): 1}
        return _Quotient(num, den) ** -n


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
