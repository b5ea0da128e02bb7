"""The engine's shortcuts give what the longer way gives: sums compared up to their index, collection on
entries, a definition's inversion for a stand-in, no solving for a term of a sum, the remembered canonical form."""

import sympy as sp

from derive.calculus.canonical import _collect_on, canonical
from derive.calculus.fold import _U, _candidates, _inverted, _inverted_for
from derive.calculus.sums import same_sum
from derive.definitions.model import IDX

i, k, l, m = (IDX[c] for c in "iklm")
t = sp.Symbol("t", integer=True, positive=True)
K, N, D = (sp.Symbol(c, integer=True, positive=True) for c in "KND")
x, y, p, u, v = (sp.IndexedBase(c, real=True) for c in ("x", "y", "p", "u", "v"))


def test_sums_are_the_same_up_to_the_name_of_their_index_only():
    assert same_sum(sp.Sum(x[k] * y[k], (k, 1, K)), sp.Sum(x[m] * y[m], (m, 1, K)))
    assert not same_sum(sp.Sum(x[k], (k, 1, K)), sp.Sum(x[m], (m, 1, N)))
    assert not same_sum(sp.Sum(x[k], (k, 1, K)), sp.Sum(y[m], (m, 1, K)))
    assert not same_sum(sp.Sum(x[k] * y[i], (k, 1, K)), sp.Sum(x[m] * y[m], (m, 1, K)))


def test_collecting_on_entries_gives_what_sympy_collect_gives():
    c = sp.Symbol("C", real=True)
    step = sp.Heaviside(c + p[i] - p[t], 0)
    s0, s1 = sp.symbols("s0 s1")
    delta = sp.KroneckerDelta(i, t)
    expr = sp.expand(-s0 * p[i] - s1 * delta * p[t] + s1 * p[i] * p[t] - step * delta * p[i] + step * p[i] + delta * p[t])
    for order in ([p[i], p[t]], [p[t], p[i]]):
        ours, sympys = _collect_on(expr, order), sp.collect(expr, order, evaluate=False)
        assert ours == sympys and list(ours) == list(sympys)
        assert set(ours) == {p[i], p[t]}


def test_an_inversion_for_a_stand_in_is_the_inversion_for_the_entry():
    r = sp.IndexedBase("r", real=True)
    q = sp.Symbol("q", real=True)
    equation = 1 / (1 + sp.exp(_U))
    for entry in (r[i], r[k], q):
        assert _inverted_for(equation, entry) == _inverted.__wrapped__(equation, entry)
        assert _inverted_for(equation, entry) == (sp.log(-1 + 1 / entry),)


def test_no_term_of_a_sum_is_a_candidate_to_solve_for():
    definition = 1 / (1 + sp.exp(-sp.Sum(u[l] * v[l], (l, 1, D))))
    found = [a for a, _, _ in _candidates(definition, v)]
    assert sp.Sum(u[l] * v[l], (l, 1, D)) in found
    assert all(l not in a.free_symbols for a in found)


def test_the_canonical_form_met_again_is_the_same():
    expr = p[t] ** 2 * sp.Sum(x[l], (l, 1, K)) - p[t] * sp.Sum(x[l] * p[l], (l, 1, K)) + p[t]
    first = canonical(expr, (p,))
    assert canonical(expr, (p,)) == first
    assert first != expr and sp.expand(first - expr) == 0  # factored, and equal
