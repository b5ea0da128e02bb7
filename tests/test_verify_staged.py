"""A staged derivation (attention, LSTM, GRU) is verified stage by stage (derive.verify_staged): each stated
gradient against sympy.diff of the stages that read the quantity, the whole by finite differences."""

from dataclasses import replace

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derive
from derive.calculus.fold import Named
from derive.concrete import Concretizer, Point, assignments, entries, wrt_entry
from derive.verify import VerificationError, diff_at, verified
from derive.verify_staged import check_by_stages, composed_reference

CASES = [("attention", "Q"), ("attention", "K"), ("attention", "V"), ("lstm_cell", "z"), ("lstm_cell", "cprev"),
         ("lstm_cell", "W_f"), ("gru_cell", "hprev"), ("gru_cell", "x"), ("gru_cell", "U_h")]


@pytest.fixture(scope="module")
def derivations():
    return {}


def _derivation(cache, target, wrt):
    if (target, wrt) not in cache:
        cache[target, wrt] = derive.derivative(target, wrt=wrt)
    return cache[target, wrt]


def _refused(d, match=None):
    """Stage by stage, and as the derivation is shown: one line, naming the disagreement."""
    with pytest.raises(VerificationError, match=match):
        check_by_stages(d)
    with pytest.raises(derive.DeriveError) as err:
        verified(d)
    assert "\n" not in str(err.value) and "failed verification" in str(err.value)


def _with_gradient_at(d, name, change):
    """`d` with its gradient at `name` changed where it is stated (through) and where it is expanded (named)."""
    base = f"dC_d{name}"
    named = tuple(Named(nm.symbol, nm.index, change(nm.expr)) if nm.symbol.name == base else nm for nm in d.named)
    through = tuple(replace(t, result=change(t.result)) if t.wrt == name else t for t in d.through)
    return replace(d, named=named, through=through)


@pytest.mark.parametrize("target, wrt", CASES)
def test_every_stated_gradient_is_checked_against_the_stages_sympy_diff(derivations, target, wrt):
    d = _derivation(derivations, target, wrt)
    stated = len(assignments(d)) + sum(len(entries(d.definition.var(t.wrt), d.definition.sizes)) for t in d.through)
    assert check_by_stages(d) == stated
    report = verified(d)
    assert report.stages == stated and "stage by stage" in str(report) and "sympy.diff of the whole" in str(report)


@pytest.mark.parametrize("target, wrt", CASES)
def test_the_stages_joined_by_the_chain_rule_are_sympy_diff_of_the_whole_definition(derivations, target, wrt):
    """The reference the stage checks stand on, composed, equals sympy.diff of the whole definition at a point."""
    d = _derivation(derivations, target, wrt)
    p, got, _ = composed_reference(d, seed=4)
    conc = Concretizer(d)
    along = set(entries(d.definition.var(wrt), d.definition.sizes))
    point = Point(p.values, p.classes)
    for a in assignments(d):
        want = diff_at(d, conc, a, point, along)
        g = complex(got[wrt_entry(d, a)])
        assert abs(g - want) < 1e-20 * (1 + abs(want)), (a, g, want)


@pytest.mark.parametrize("target, wrt", [("attention", "Q"), ("attention", "K"), ("gru_cell", "hprev")])
def test_a_result_off_by_its_sign_is_refused(derivations, target, wrt):
    d = _derivation(derivations, target, wrt)
    _refused(replace(d, result=-d.result), "by sympy.diff of the stages")


def test_a_result_without_its_one_over_root_d_is_refused(derivations):
    d = _derivation(derivations, "attention", "Q")
    D = next(s for s in d.result.free_symbols if s.name == "D")
    _refused(replace(d, result=d.result * sp.sqrt(D)), "by sympy.diff of the stages")


def test_a_result_with_swapped_indices_is_refused(derivations):
    """U_h is square (H × H): its transpose is an expression of existing entries, wrong all the same."""
    d = _derivation(derivations, "gru_cell", "hprev")
    swapped = d.result.replace(lambda e: isinstance(e, sp.Indexed) and e.base.name == "U_h",
                               lambda e: e.base[e.indices[::-1]])
    assert swapped != d.result
    _refused(replace(d, result=swapped), "by sympy.diff of the stages")


def test_a_dropped_stage_reader_is_refused(derivations):
    """hprev is read by four stages (the three pre-activations and the output): a result that forgets one
    fails, because the readers are found from the definition, not from the derivation."""
    d = _derivation(derivations, "gru_cell", "hprev")
    terms = sp.Add.make_args(d.result)
    assert len(terms) == 4
    for n in range(len(terms)):
        _refused(replace(d, result=sp.Add(*(t for k, t in enumerate(terms) if k != n))))


def test_a_wrong_gradient_at_a_name_is_refused_though_the_result_is_right(derivations):
    """∂C/∂S without its row sums (what A ⊙ ∂C/∂A would give): the result ∂C/∂Q = ∂C/∂S K/√d is right
    as a function of ∂C/∂S, the gradient at S is not."""
    d = _derivation(derivations, "attention", "Q")
    wrong = _with_gradient_at(d, "S", lambda e: e.replace(lambda x: isinstance(x, sp.Sum), lambda x: sp.Integer(0)))
    assert {t.wrt: t for t in wrong.through}["S"].result != {t.wrt: t for t in d.through}["S"].result
    _refused(wrong, r"gradient at S\[")


def test_a_gradient_at_a_name_stated_apart_from_what_is_expanded_is_refused(derivations):
    d = _derivation(derivations, "attention", "K")
    named = tuple(Named(nm.symbol, nm.index, -nm.expr) if nm.symbol.name == "dC_dA" else nm for nm in d.named)
    _refused(replace(d, named=named), "stated as")


def test_a_gradient_at_a_name_left_unstated_is_refused(derivations):
    d = _derivation(derivations, "lstm_cell", "z")
    _refused(replace(d, through=tuple(t for t in d.through if t.wrt != "c")), "is not stated")


def test_the_check_is_reproducible_and_uses_several_points(derivations):
    d = _derivation(derivations, "attention", "V")
    assert check_by_stages(d, seed=1) == check_by_stages(d, seed=2) == len(assignments(d))
    with pytest.raises(VerificationError):
        check_by_stages(replace(d, result=d.result * (1 + sp.Rational(1, 10**15))))


def test_what_was_checked_is_said_and_sympy_diff_of_the_whole_is_not_claimed_at_every_point():
    from derive.render.show import check_note, derivation_json

    d = derive.derivative("attention", wrt="V", verify=True)
    note = check_note(d)
    assert note.startswith("Checked: stage by stage") and "sympy.diff of the whole definition at one point" in note
    assert "agrees with sympy.diff of the definition" not in note
    check = derivation_json(d)["check"]
    assert check["stages"] == d.report.stages and check["sympy_diff"] == {"symbolic": 0, "numeric": 15}
    plain = derive.derivative("softmax", verify=True)
    assert "stages" not in derivation_json(plain)["check"] and "stage by stage" not in check_note(plain)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(term=st.integers(0, 3), scale=st.fractions(-2, 2, max_denominator=1000).filter(lambda f: f != 1),
       name=st.sampled_from(["result", "r", "a_h", "z"]))
def test_any_term_of_a_stated_gradient_scaled_is_refused(derivations, term, scale, name):
    """GRU ∂C/∂h′: a term of the result, or of a gradient at a name it goes through, off by any factor."""
    d = _derivation(derivations, "gru_cell", "hprev")

    def off(e):
        terms = sp.Add.make_args(sp.expand(e))
        n = term % len(terms)
        return sp.Add(*(t * sp.Rational(scale.numerator, scale.denominator) if k == n else t
                        for k, t in enumerate(terms)))

    wrong = replace(d, result=off(d.result)) if name == "result" else _with_gradient_at(d, name, off)
    with pytest.raises(VerificationError):
        check_by_stages(wrong)
