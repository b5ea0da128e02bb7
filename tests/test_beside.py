"""Work on the second core (derive.beside): a cold `derive show` checks against sympy.diff in a forked
child while it checks the matrix form and the finite differences; what it prints and refuses is the
same as when the checks run in turn."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace

import pytest

from derive import beside
from derive.beside import Beside
from derive.errors import DeriveError

forks = pytest.mark.skipif(not (sys.platform.startswith("linux") and beside.cores() >= 2),
                           reason="the work forks only on Linux with a second core")


@forks
def test_the_value_is_computed_in_a_child():
    parent = os.getpid()
    assert Beside(os.getpid).result() not in (parent, None)


def test_an_expected_exception_is_raised_again_with_its_message():
    def work():
        raise ValueError("closed form 1 ≠ sympy.diff 2")

    with pytest.raises(ValueError, match="closed form 1 ≠ sympy.diff 2"):
        Beside(work, (ValueError,)).result()


@forks
def test_a_child_that_dies_leaves_the_work_to_the_caller():
    parent = os.getpid()

    def work():
        if os.getpid() != parent:
            os._exit(3)  # a crash: no value written
        return "in the caller"

    assert Beside(work).result() == "in the caller"


@forks
def test_a_defect_in_the_work_fails_in_the_caller_with_its_own_exception():
    def work():
        return {}["missing"]

    with pytest.raises(KeyError):
        Beside(work, (ValueError,)).result()


@forks
def test_cancel_stops_the_child_at_once():
    job = Beside(lambda: time.sleep(60))
    pid = job._pid
    start = time.monotonic()
    job.cancel()
    assert time.monotonic() - start < 5
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: no process of that id is left


@pytest.mark.parametrize("name", ["hinge", "softmax", "attention"])
def test_a_derivation_checked_beside_reports_what_it_reports_in_turn(name):
    from derive.derivation import module_derivative
    from derive.model.request import Request

    together = module_derivative(Request(name), verify=True, beside=True)
    in_turn = module_derivative(Request(name), verify=True)
    assert str(together.report) == str(in_turn.report)
    assert together.result == in_turn.result and together.matrix == in_turn.matrix


@pytest.mark.parametrize("name", ["hinge", "lstm_cell"])
def test_a_wrong_result_is_refused_beside_with_the_line_it_gets_in_turn(monkeypatch, name):
    """A result off by a factor fails both the check against sympy.diff (in the child) and the finite
    differences (in the parent): the line names sympy.diff, as when the checks run in turn."""
    from derive import derivation
    from derive.model.request import Request

    engine = derivation.derive
    monkeypatch.setattr(derivation, "derive", lambda *a, **k: replace(d := engine(*a, **k), result=2 * d.result))
    lines = []
    for together in (True, False):
        with pytest.raises(DeriveError) as refused:
            derivation.module_derivative(Request(name), verify=True, beside=together)
        lines.append(str(refused.value))
    assert lines[0] == lines[1]
    assert "failed verification" in lines[0] and "sympy.diff" in lines[0]


def test_a_stage_that_disagrees_is_named_before_the_whole_both_ways(monkeypatch):
    """A staged derivation's stages are checked in a child of their own: when both the stages and the whole
    disagree, the line names the stage, as when the checks run in turn."""
    from derive import derivation, verify
    from derive.model.request import Request
    from derive.verify import VerificationError

    def stage(d):
        raise VerificationError("stage s: closed form 1 ≠ sympy.diff 2")

    def whole(d, conc):
        raise VerificationError("whole: closed form 1 ≠ sympy.diff 2")

    for module in (derivation, verify):
        monkeypatch.setattr(module, "check_by_stages", stage)
        monkeypatch.setattr(module, "against_diff", whole)
    lines = []
    for together in (True, False):
        with pytest.raises(DeriveError) as refused:
            derivation.module_derivative(Request("gru_cell"), verify=True, beside=together)
        lines.append(str(refused.value))
    assert lines[0] == lines[1]
    assert "stage s" in lines[0]


@forks
def test_a_time_limit_while_the_child_checks_ends_the_child_too(monkeypatch):
    """The child runs no limit of its own: the parent's limit ends the show, and the child with it."""
    from derive import derivation, limits
    from derive.model.request import Request

    started = []

    class Recorded(Beside):
        def _start(self):
            super()._start()
            started.append(self._pid)

    monkeypatch.setattr(derivation, "Beside", Recorded)
    monkeypatch.setattr(derivation, "against_diff", lambda *a, **k: time.sleep(60))  # the child, in the wait
    previous = limits.time_limit_seconds()
    limits.set_time_limit(5)  # the derivation and matrix form take well under 1 s: the limit fires in the wait
    try:
        with pytest.raises(limits.TimeLimitError):
            derivation.module_derivative(Request("softmax"), verify=True, beside=True)
    finally:
        limits.set_time_limit(previous)
    assert len(started) == 1
    with pytest.raises(ProcessLookupError):
        os.kill(started[0], 0)


@forks
def test_the_child_of_the_whole_is_started_before_the_result_is_derived(monkeypatch):
    """The references against sympy.diff are taken while the result is derived: the child is there first."""
    from derive import derivation
    from derive.model.request import Request

    started, seen = [], []

    class Recorded(Beside):
        def _start(self):
            super()._start()
            started.append(self._pid)

    engine = derivation.derive
    monkeypatch.setattr(derivation, "Beside", Recorded)
    monkeypatch.setattr(derivation, "derive", lambda *a, **k: (seen.append(len(started)), engine(*a, **k))[1])
    for name, children in (("hinge", 1), ("gru_cell", 2)):  # a staged definition's stages: once it is derived
        started.clear()
        seen.clear()
        d = derivation.module_derivative(Request(name), verify=True, beside=True)
        assert seen == [1] and len(started) == children
        assert str(d.report) == str(derivation.module_derivative(Request(name), verify=True).report)


@pytest.mark.parametrize("name", ["kl_softmax", "attention"])
def test_a_derivation_not_answering_what_the_child_was_posed_is_checked_with_references_made_again(
        monkeypatch, name):
    """The child takes sympy.diff of the derivation as posed; were the derived one to differ in anything the
    references read (here the definition's body), the child makes them again from the derivation."""
    import sympy as sp

    from derive import derivation
    from derive.model.request import Request

    asked = derivation.posed
    monkeypatch.setattr(derivation, "posed", lambda *a, **k: replace(asked(*a, **k), body=sp.S.Zero))
    together = derivation.module_derivative(Request(name), verify=True, beside=True)
    assert str(together.report) == str(derivation.module_derivative(Request(name), verify=True).report)


@forks
def test_a_child_that_dies_before_the_result_is_sent_leaves_the_check_to_the_caller(monkeypatch):
    from derive import derivation
    from derive.model.request import Request

    parent, references = os.getpid(), derivation.references

    def dying(*a, **k):
        if os.getpid() != parent:
            os._exit(3)
        return references(*a, **k)

    monkeypatch.setattr(derivation, "references", dying)
    together = derivation.module_derivative(Request("batchnorm"), verify=True, beside=True)
    assert str(together.report) == str(derivation.module_derivative(Request("batchnorm"), verify=True).report)
