"""The fast zero test (derive.verify_zero) proves only what is 0, and proves the registry's differences."""

from __future__ import annotations

import random

import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from derive.verify_zero import nonzero_somewhere, vanishes

a, b, c = sp.symbols("a b c", real=True)
x = sp.IndexedBase("x", real=True)


def test_fractions_are_brought_to_common_factors_without_cancelling():
    """Denominators are kept as factors, matched by equality up to a constant; numerators are never reduced,
    so a difference is 0 exactly when its numerator is."""
    assert vanishes(1 / (a + b) + 1 / (a - b) - 2 * a / (a ** 2 - b ** 2))
    assert vanishes((a ** 2 - b ** 2) / (a - b) - a - b)
    assert vanishes(1 / (2 * a + 2 * b) - 1 / (4 * (a + b)) * 2)
    assert vanishes((1 / (a + b)) ** -2 - (a + b) ** 2)
    assert not vanishes(1 / (a + b) - 1 / (a - b))
    assert not vanishes(a / (a + b) - 1)
    assert not vanishes(1 / (a - a + 0 * b))  # 1/0 is zoo, never 0


def test_rational_identities_with_roots_are_proven():
    s = x[1] ** 2 + x[2] ** 2 + 1
    # d/dx1 of x1/√s written two ways: the quotient rule, and the closed form over s^(3/2)
    quotient = (sp.sqrt(s) - x[1] * x[1] / sp.sqrt(s)) / s
    closed = (x[2] ** 2 + 1) / s ** sp.Rational(3, 2)
    assert vanishes(quotient - closed)
    assert vanishes(1 / sp.sqrt(s) * (1 / sp.sqrt(s)) - 1 / s)


def test_exponentials_are_split_over_their_exponents():
    softmax = sp.exp(a) / (sp.exp(a) + sp.exp(b))
    assert vanishes(softmax * (1 - softmax) - sp.exp(a + b) / (sp.exp(a) + sp.exp(b)) ** 2)
    assert vanishes((sp.exp(a) + sp.exp(b)) ** 2 - sp.exp(2 * a) - 2 * sp.exp(a) * sp.exp(b) - sp.exp(2 * b))
    assert vanishes(sp.exp(a / 2) ** 2 * sp.exp(-a) - 1)


def test_a_log_of_a_quotient_is_split_only_where_sympy_allows():
    total = sp.exp(a) + sp.exp(b)
    assert vanishes(sp.log(sp.exp(a) / total) - a + sp.log(total))
    p = sp.Symbol("p")  # no assumptions: log(p/q) ≠ log p − log q in general
    assert not vanishes(sp.log(p / c) - sp.log(p) + sp.log(c))


def test_what_is_not_zero_is_never_proven():
    s = x[1] ** 2 + 1
    assert not vanishes(sp.sqrt(s) - s)
    assert not vanishes(sp.exp(a) - sp.exp(b))
    assert not vanishes(sp.exp(a) * sp.exp(b) - sp.exp(a) - sp.exp(b))
    assert not vanishes(sp.Heaviside(a) - sp.Heaviside(-a))
    assert not vanishes(sp.sqrt(s) + sp.sqrt(s))  # t = −√s also satisfies t² = s: a root is not its negative
    assert not vanishes(sp.nan - sp.nan)


def test_a_constraint_of_the_domain_is_not_an_identity():
    y1, y2 = sp.symbols("y1 y2")
    one_hot_only = (y1 + y2) * a - a  # 0 only where y1 + y2 = 1
    assert not vanishes(one_hot_only)
    assert nonzero_somewhere(one_hot_only)
    assert not nonzero_somewhere(sp.exp(a + b) - sp.exp(a) * sp.exp(b))


_leaves = st.sampled_from([a, b, c, x[1], x[2], sp.Integer(2), sp.Rational(1, 3)])


def _grow(children):
    return st.one_of(
        st.tuples(children, children).map(lambda t: t[0] + t[1]),
        st.tuples(children, children).map(lambda t: t[0] * t[1]),
        children.map(lambda e: 1 / (e ** 2 + 1)),
        children.map(lambda e: sp.sqrt(e ** 2 + 1)),
        children.map(sp.exp),
    )


_exprs = st.recursive(_leaves, _grow, max_leaves=6)


def _value(expr: sp.Expr, seed: int) -> complex:
    rng = random.Random(seed)
    gens = (expr.atoms(sp.Symbol) | expr.atoms(sp.Indexed)) - {x.label}
    return complex(sp.N(expr.xreplace({g: sp.Float(rng.uniform(-1.5, 1.5), 30) for g in gens}), 30))


@settings(max_examples=60, deadline=None)
@given(_exprs, _exprs)
def test_a_proof_of_zero_holds_at_random_points(e, f):
    """Soundness: whatever is said to vanish is 0 by value at random points."""
    for expr in (e - f, e * f - f * e, (e + f) ** 2 - e ** 2 - 2 * e * f - f ** 2, e / (f ** 2 + 1) - e):
        if vanishes(expr):  # 0 to 30 digits against the size of its terms (exp(exp(exp(a))) is large)
            for seed in range(3):
                size = sum(abs(_value(t, seed)) for t in sp.Add.make_args(expr))
                assert abs(_value(expr, seed)) <= 1e-20 * (1 + size), expr


@settings(max_examples=60, deadline=None)
@given(_exprs, _exprs)
@example(a, 1 / ((a + sp.exp(sp.Rational(1, 3))) ** 2 + 1))  # expand writes exp(1/3)³ as E: one generator
def test_an_expanded_rewrite_is_proven_equal(e, f):
    """Completeness on the registry's kind of expression: a product written out equals itself."""
    assert vanishes(sp.expand((e + f) * (e - f)) - (e ** 2 - f ** 2))
