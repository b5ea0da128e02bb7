"""The student's time limit is CPU time: a loaded machine (the check descheduled, waiting) does not
change a verdict; a check that spends its time computing is stopped. The reference is built before
that time starts (tests/test_check_evidence.py), and a claim's own reference too."""

import time

import pytest

import derive
from derive.check import check, compare
from derive.check.symbolic import Budget, time_limit
from derive.check.task import wall_limit


def test_waiting_is_not_the_students_time():
    with time_limit(0.2):
        time.sleep(0.5)  # what a loaded machine looks like from inside: time passes, no CPU is used


def test_computing_past_the_limit_is_stopped():
    with pytest.raises(Budget), time_limit(0.2):
        while True:
            sum(range(1000))


def test_a_check_slowed_by_load_keeps_its_verdict(monkeypatch):
    original = compare.compare

    def loaded(*args, **kwargs):
        time.sleep(0.6)  # the process waits for a core longer than its whole limit
        return original(*args, **kwargs)

    monkeypatch.setattr(compare, "compare", loaded)
    v = check(derive.derivative("tanh"), "1 - y^2", timeout=0.5)
    assert v.verdict == "correct", v.feedback


def test_a_claims_own_reference_is_not_the_students_time(monkeypatch):
    build = compare.Reference.__init__

    def slow(self, *args, **kwargs):
        time.sleep(0.6)
        build(self, *args, **kwargs)

    monkeypatch.setattr(compare.Reference, "__init__", slow)
    d = derive.derivative("affine", wrt="W")
    v = check(d, r"\frac{\partial y_i}{\partial b_j} = \delta_{ij}", timeout=0.5)  # ∂y/∂b: built on the spot
    assert v.verdict == "correct", v.feedback


def test_the_wall_clock_backstop_allows_for_a_loaded_machine():
    assert wall_limit(2.0) >= 3 * 2.0
