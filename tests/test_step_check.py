"""Each step checks itself against the one before it (`Step.check`); verify_steps.check_steps only asks each."""

from dataclasses import replace

import pytest
import sympy as sp

from derive.api import derivative
from derive.steps import Differentiate, SplitCases
from derive.verify import VerificationError
from derive.verify_steps import check_steps


def agree(before, after):
    return None


def test_a_step_that_changes_the_value_is_refused_naming_its_rule():
    d = derivative("softmax", wrt="x")
    n = next(n for n, s in enumerate(d.steps) if n and s.rule != "definition")
    steps = list(d.steps)
    steps[n] = replace(steps[n], after=2 * steps[n].after)
    if n + 1 < len(steps):
        steps[n + 1] = replace(steps[n + 1], before=steps[n].after)
    with pytest.raises(VerificationError, match=rf"step {n} \({d.steps[n].rule}\) changes the value at"):
        check_steps(replace(d, steps=steps))


def test_a_step_that_does_not_start_where_the_last_one_ended_is_refused():
    d = derivative("sigmoid", wrt="x")
    steps = list(d.steps)
    steps[1] = replace(steps[1], before=steps[1].before + 1)
    with pytest.raises(VerificationError, match="step 1 does not start where the step before it ended"):
        check_steps(replace(d, steps=steps))


def test_cases_on_an_index_the_expression_sums_over_are_refused():
    x, K = sp.IndexedBase("x"), sp.Symbol("K")
    i, j, k = sp.symbols("i j k", integer=True)
    before = sp.Sum(x[k] * sp.KroneckerDelta(i, k), (k, 1, K))
    wrong = SplitCases(before, sp.Piecewise((x[i], sp.Eq(i, k)), (0, sp.Ne(i, k))))
    assert wrong.check(None, agree) == "(cases) splits on k, which the expression it splits does not leave free"
    right = SplitCases(before * x[j], sp.Piecewise((x[i] ** 2, sp.Eq(i, j)), (x[i] * x[j], sp.Ne(i, j))))
    assert right.check(None, agree) is None


def test_the_first_step_has_nothing_before_it_and_is_checked_by_value():
    x = sp.Symbol("x")
    said = []
    step = Differentiate(sp.Derivative(x**2, x), 2 * x)
    assert step.check(None, lambda a, b: said.append((a, b)) or "at {}: 1 → 2") == (
        "(differentiate) changes the value at {}: 1 → 2")
    assert said == [(step.before, step.after)]


def test_every_cases_step_the_engine_writes_splits_on_free_indices():
    d = derivative("softmax", wrt="x")
    cases = [s for s in d.steps if isinstance(s, SplitCases)]
    assert cases, "softmax ∂y/∂x is split into i = j and i ≠ j"
    assert all(s.check(None, agree) is None for s in cases)
