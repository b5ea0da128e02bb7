"""Every registry entry, for every variable, is verified automatically: a new module needs no new test."""

import pytest

from derive.api import derivative
from derive.definitions.ranges import has_index_arithmetic
from derive.verify import check_against_diff, check_finite_differences
from derive.verify_matrix import check_matrix_form
from derive.verify_steps import check_steps
from tests.conftest import NO_MATRIX_FORM, registry_cases

CASES = registry_cases()


@pytest.mark.parametrize("target, wrt", CASES)
def test_closed_form_equals_sympy_diff_of_the_expanded_definition(target, wrt):
    symbolic, numeric = check_against_diff(derivative(target, wrt=wrt))
    assert symbolic + numeric > 0


@pytest.mark.parametrize("target, wrt", CASES)
def test_closed_form_agrees_with_central_finite_differences(target, wrt):
    assert check_finite_differences(derivative(target, wrt=wrt)) < 1e-5


@pytest.mark.parametrize("target, wrt", CASES)
def test_each_step_equals_the_one_before(target, wrt):
    d = derivative(target, wrt=wrt)
    assert d.steps, "a derivation has at least one step"
    check_steps(d)
    assert d.steps[-1].after == d.result


@pytest.mark.parametrize("target, wrt", CASES)
def test_matrix_form_equals_index_form_where_there_is_one(target, wrt):
    d = derivative(target, wrt=wrt)
    if d.matrix is None:
        # index arithmetic (x_{i+k−1}) has no product of whole matrices: README, Conventions
        scalar = not d.definition.var(wrt).shape  # ∂C/∂γ is a number: no matrix to state
        assert (target, wrt) in NO_MATRIX_FORM or has_index_arithmetic(d.definition) or scalar, \
            f"{target} lost its matrix form"
        return
    assert check_matrix_form(d) < 1e-9


def test_verification_catches_a_wrong_closed_form():
    from dataclasses import replace

    from derive.verify import VerificationError

    d = derivative("softmax", wrt="x")
    wrong = replace(d, result=d.result / d.definition.others[0].symbol)  # drop β
    with pytest.raises(VerificationError):
        check_against_diff(wrong)
    with pytest.raises(VerificationError):
        check_finite_differences(wrong)


def test_verification_catches_a_wrong_step_function():
    """A step H(x) is compared as an unknown shared with H(x, 0) only: H(−x) is not taken for it."""
    from dataclasses import replace

    import sympy as sp

    from derive.verify import VerificationError

    d = derivative("hinge", wrt="o")
    flipped = d.result.replace(lambda e: isinstance(e, sp.Heaviside), lambda e: sp.Heaviside(-e.args[0], 0))
    assert flipped != d.result
    with pytest.raises(VerificationError):
        check_against_diff(replace(d, result=flipped))
    assert check_against_diff(d) == (12, 0), "hinge (4 entries, 3 true classes) is proven symbolically"


@pytest.mark.parametrize("target, wrt", CASES)
def test_concrete_expressions_equal_the_definitions_expanded_first(target, wrt):
    """The verifier writes sums out before expanding the named quantities (each once); the value
    is the one the plain route gives: definitions substituted first, then sums written out."""
    import random

    from derive.concrete import Concretizer, assignments, sample, substitute_names, unroll, value

    d = derivative(target, wrt=wrt)
    conc, rng = Concretizer(d), random.Random(5)
    point = sample(d.definition, rng, d.upstream)
    subs = {**{s: int(v) for s, v in d.definition.sizes.items()}, **point.classes}
    for a in assignments(d)[:6]:
        fast = value(conc(d.result, a, point.classes), point)
        plain = value(unroll(substitute_names(conc.inputs_only(d.result)[0], d).xreplace({**subs, **a})).doit(), point)
        assert abs(fast - plain) <= 1e-20 * (1 + abs(plain)), (a, fast, plain)


def test_sizes_are_distinct_and_non_square_where_a_matrix_is_involved():
    from derive.definitions import entries, get

    for e in entries():
        defn = get(e.name)
        for v in defn.variables:
            if v.rank == 2 and v.shape[0] != v.shape[1]:  # an RNN's W (H × H) is square by definition
                a, b = (int(defn.sizes[s]) for s in v.shape)
                assert a != b, f"{e.name}.{v.name} is square at its test size"


@pytest.mark.parametrize("target, wrt", CASES)
def test_printed_text_of_every_step_parses_back_unchanged(target, wrt):
    """The text printer keeps every parenthesis: our own output parsed back is the same expression."""
    import sympy as sp

    from derive.definitions.model import IDX
    from derive.render.printer import text

    d = derivative(target, wrt=wrt)
    for expr in [d.result] + [s.after for s in d.steps if not s.after.has(sp.Derivative)]:
        names = dict(IDX) | {s.name: s for s in expr.free_symbols if isinstance(s, sp.Symbol)}
        names |= {b.name: b for b in expr.atoms(sp.IndexedBase)}
        names |= {"Sum": sp.Sum, "KroneckerDelta": sp.KroneckerDelta, "Heaviside": sp.Heaviside,
                  "Piecewise": sp.Piecewise, "Eq": sp.Eq, "Ne": sp.Ne, "exp": sp.exp, "log": sp.log,
                  "Max": sp.Max, "tanh": sp.tanh}
        back = sp.parse_expr(text(expr), local_dict=names, evaluate=True)  # our own output, not user text
        assert back == expr or sp.simplify(back - expr) == 0 or sp.srepr(back) == sp.srepr(sp.sympify(expr)), \
            f"{text(expr)} parsed back as {back}"


def test_a_max_is_written_out_unevaluated_only_where_its_arguments_are_symbolic():
    """Comparing symbolic arguments asks SymPy's assumptions (most of hinge's concrete expressions' time): a max
    of distinct symbolic arguments is kept as it stands, one whose arguments are numbers is evaluated; the
    value is the same."""
    import sympy as sp

    from derive.concrete import written

    s, i = sp.IndexedBase("s", real=True), sp.Symbol("i", integer=True)
    margin = sp.Max(0, 1 + s[i] - s[2])
    kept = written(margin, {i: 1})
    assert isinstance(kept, sp.Max) and set(kept.args) == {sp.S.Zero, 1 + s[1] - s[2]}
    assert written(margin, {i: 2}) == 1  # the true class's own term: max(0, 1)
    for a, b in ((0.3, 2.0), (2.5, 0.1), (-1.0, -1.0)):
        at = {s[1]: a, s[2]: b}
        assert float(kept.xreplace(at)) == float(sp.Max(0, 1 + s[1] - s[2]).xreplace(at)) == max(0.0, 1 + a - b)
