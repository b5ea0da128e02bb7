"""`derive check`: one answer in a child forked after the imports, with the pool's limits."""

import os
import resource
import signal
import time

import pytest

from derive.check import worker
from derive.check.forked import can_fork, check_forked
from derive.check.task import MARGIN, Task, request
from derive.errors import DeriveError

pytestmark = pytest.mark.skipif(not can_fork(), reason="a forked check is for Linux; elsewhere the pool")

SOFTMAX = Task(request("softmax", None), r"\beta y_j(\delta_{ij} - y_i)")


def test_a_forked_check_gives_the_same_verdict_as_the_pool():
    from derive.check.pool import CheckPool

    tasks = [SOFTMAX, Task(request("softmax", None), r"y_i(\delta_{ij} - y_j)"), Task(request("sigmoid", "x"), "y(1-y)"),
             Task(request("affine", "W"), "dC/dy * x"), Task(request("softmax", None), r"\def\x{\x}\x")]
    with CheckPool(workers=1) as pool:
        assert [check_forked(t).to_json() for t in tasks] == [pool.run(t).to_json() for t in tasks]


def test_a_bad_target_is_said_in_the_parent():
    with pytest.raises(DeriveError, match="unknown target 'sofmax'"):
        check_forked(Task(request("sofmax", None), "y"))


def test_the_child_has_the_memory_limit_and_leaves_ctrl_c_to_the_parent(monkeypatch):
    def limits(task, timeout):
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        return {"verdict": "undecided", "feedback": [f"{soft} {ignored} {os.getpid()}"]}

    monkeypatch.setattr(worker, "answer", limits)  # the child is a fork: it runs this
    soft, ignored, pid = check_forked(SOFTMAX, memory_mb=1234).feedback[0].split()
    assert int(soft) == 1234 * 1024 * 1024 and ignored == "True" and int(pid) != os.getpid()
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # the parent's Ctrl-C still works


def test_a_child_that_ignores_its_alarm_is_killed(monkeypatch):
    def stuck(task, timeout):
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        time.sleep(60)

    monkeypatch.setattr(worker, "answer", stuck)
    v = check_forked(SOFTMAX, timeout=0.1)
    assert v.verdict == "undecided" and "longer than 0.1 s" in v.feedback[0]
    assert MARGIN < 60  # the parent did not wait for the sleep


def test_a_child_that_dies_is_replaced_once(monkeypatch, tmp_path):
    tries = tmp_path / "tries"

    def dies_once(task, timeout):
        with open(tries, "a") as f:
            f.write("x")
        if tries.read_text() == "x":
            os.kill(os.getpid(), signal.SIGKILL)
        return {"verdict": "correct", "feedback": []}

    monkeypatch.setattr(worker, "answer", dies_once)
    assert check_forked(SOFTMAX).verdict == "correct" and tries.read_text() == "xx"


def test_a_child_that_dies_twice_makes_the_answer_invalid(monkeypatch):
    monkeypatch.setattr(worker, "answer", lambda task, timeout: os.kill(os.getpid(), signal.SIGKILL))
    v = check_forked(SOFTMAX)
    assert v.verdict == "invalid" and "twice" in v.feedback[0]


def test_the_derivation_is_prepared_before_the_fork(monkeypatch):
    worker.prepare(request("softmax", None))
    calls = []
    monkeypatch.setattr(worker, "_prepared", lambda *a: calls.append(a))
    assert check_forked(SOFTMAX).verdict == "correct" and calls == []


@pytest.mark.parametrize("target, wrt, answers", [
    ("softmax", None, [r"\beta y_i(\delta_{ij} - y_j)", r"y_i(\delta_{ij} - y_j)", r"-\beta y_i y_j"]),
    ("bce", "yhat", [r"\frac{\hat{y}_i - y_i}{K \hat{y}_i(1 - \hat{y}_i)}", r"\hat{y}_i - y_i"]),
    ("affine", "W", [r"\frac{\partial C}{\partial y} x^T", "dC/dy * x"]),
])
def test_a_derivation_from_the_cache_gives_the_verdicts_a_fresh_one_gives(target, wrt, answers):
    from derive import cache
    from derive.api import derivative
    from derive.check import check
    from derive.check.compare import Reference, remember

    d = derivative(target, wrt=wrt, verify=True)
    loaded = remember(Reference(cache.loads(cache.dumps(d))))
    assert loaded.d is not d
    for answer in answers:
        assert check(loaded.d, answer).to_json() == check(d, answer).to_json()
