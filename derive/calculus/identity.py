"""“Show that” identities, proven by rewriting: each step a named rule, each checked by value.

    >>> p = prove(apply_definition("softmax", x=lambda k: x[k] + c), apply_definition("softmax"))
    >>> [s.rule for s in p.steps]
    ['rewrite', 'sum', 'cancel']
"""

from __future__ import annotations

import cmath
import random
from dataclasses import dataclass

import sympy as sp

from derive.calculus.sums import contract_deltas, same_sum
from derive.doors import open_door
from derive.errors import DeriveError
from derive.steps import Reason, Step, step


@dataclass(frozen=True)
class Proof:
    lhs: sp.Expr
    rhs: sp.Expr
    steps: list

    @property
    def equation(self) -> sp.Eq:
        return sp.Eq(self.lhs, self.rhs, evaluate=False)

    def latex(self) -> str:
        return open_door("proof.latex", self)

    def markdown(self) -> str:
        return open_door("proof.markdown", self)

    def _repr_latex_(self) -> str:
        return self.latex()

    def _repr_markdown_(self) -> str:
        return self.markdown()


def _power_of_sums(e: sp.Expr) -> sp.Expr:
    def split(p):
        terms = sp.Add.make_args(sp.expand(p.args[0]))
        return sp.Mul(*[sp.exp(t) for t in terms]) if len(terms) > 1 else p

    return e.replace(lambda a: isinstance(a, sp.exp), split)


def _pull_constants(e: sp.Expr) -> sp.Expr:
    return contract_deltas(e)


def _cancel(e: sp.Expr) -> sp.Expr:
    return sp.powsimp(sp.cancel(e))


def _expand_log(e: sp.Expr) -> sp.Expr:
    return sp.expand_log(e, force=True)


# Tried in order, each only when it changes the expression; all are identities.
RULES = (
    ("rewrite", "$eᵃ⁺ᵇ = eᵃ eᵇ$", _power_of_sums),
    ("sum", "a factor that does not depend on the summation index comes out of the sum, and cancels",
     _pull_constants),
    ("rewrite", "$log(ab) = log a + log b$ and $log eᵃ = a$", _expand_log),
    ("cancel", "cancel the common factor of numerator and denominator", _cancel),
)


def _equal(a: sp.Expr, b: sp.Expr) -> bool:
    if a == b:
        return True
    sa, sb = sorted(a.atoms(sp.Sum), key=str), sorted(b.atoms(sp.Sum), key=str)
    if len(sa) == len(sb) and all(same_sum(x, y) for x, y in zip(sa, sb)):
        return a.xreplace(dict(zip(sa, sb))) == b
    return False


def prove(lhs: sp.Expr, rhs: sp.Expr, *, limit: int = 8) -> Proof:
    """Rewrite `lhs` into `rhs` by the rules above; DeriveError when they do not get there."""
    steps: list[Step] = []
    current = lhs
    for _ in range(limit):
        if _equal(current, rhs):
            break
        for rule, reason, fn in RULES:
            after = fn(current)
            if after != current:
                steps.append(step(rule, current, after, Reason(reason)))
                current = after
                break
        else:
            break
    if not _equal(current, rhs):
        raise DeriveError("could not rewrite the left side into the right side with the rules "
                          + ", ".join(dict.fromkeys(r for r, _, _ in RULES)))
    _check_by_value(lhs, rhs, steps)
    return Proof(lhs, rhs, steps)


def _check_by_value(lhs, rhs, steps, sizes=(3,), tries=3) -> None:
    """Every step and the identity itself hold at random points of a concrete size."""
    rng = random.Random(0)
    exprs = [lhs, *[s.after for s in steps], rhs]
    dims = sorted({s for e in exprs for s in e.free_symbols if s.is_integer and s.name.isupper()}, key=str)
    free_idx = sorted({s for e in exprs for s in e.free_symbols if s.is_integer and not s.name.isupper()}, key=str)
    from derive.concrete import unroll

    for _ in range(tries):
        subs = {d: sizes[0] for d in dims} | {f: 1 + rng.randrange(sizes[0]) for f in free_idx}
        concrete = [unroll(e.xreplace(subs)).doit() for e in exprs]
        atoms = set().union(*(c.free_symbols | c.atoms(sp.Indexed) for c in concrete))
        vals = {a: sp.Float(rng.uniform(-2, 2), 30) for a in atoms if not isinstance(a, sp.IndexedBase)}
        try:
            values = [complex(sp.N(c.xreplace(vals), 30)) for c in concrete]
            differs = any(abs(v - values[0]) > 1e-20 * (1 + abs(values[0])) for v in values)
        except (OverflowError, TypeError, ValueError):  # too large for a float, or no number (zoo)
            values, differs = [], True
        if not values or not all(cmath.isfinite(v) for v in values):  # NaN would agree with anything
            raise DeriveError("the identity cannot be checked by value: a side is not a finite number at random "
                              "points (an overflow, or undefined there); use smaller constants")
        if differs:
            raise DeriveError(f"a rewriting step changed the value: {values}")


def apply_definition(target: str, **substitutions) -> sp.Expr:
    """The right side of a registry definition, with variables replaced.

    `apply_definition("softmax", x=lambda k: x[k] + c)` is softmax(x + c)_i; a substitution is
    an expression (scalar variable) or a function of the entry's indices (vector, matrix).
    """
    from derive.definitions import get

    defn = get(target)
    expr = defn.expr
    names = {v.name: v for v in defn.variables}
    for name, by in substitutions.items():
        if name not in names:
            raise DeriveError(f"{target} has no variable {name!r}; choose one of: {', '.join(names)}")
        var = names[name]
        if var.rank:
            base = var.symbol
            expr = expr.replace(lambda e, b=base: isinstance(e, sp.Indexed) and e.base == b,
                                lambda e, f=by: f(*e.indices))
        else:
            expr = expr.xreplace({var.symbol: by})
    return expr
