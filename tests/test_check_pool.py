"""Hostile input through the warm worker pool, the check and grade commands, and the report."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derive.check.pool import CheckPool, Task

ROOT = Path(__file__).resolve().parents[1]

HOSTILE = [
    "__import__('os').getcwd()",
    "().__class__.__base__.__subclasses__()",
    "10**10**10",
    "9^{9^{9}}",
    "factorial(10**9)",
    "(10^6)!",
    "expand((x+y+1)**400)",
    "(" * 60000 + "x" + ")" * 60000,
    "x" * 100000,
    "x\x00\x1b[31m",
    "",
    r"\frac{1}{",
    r"\left( x",
    r"\def\x{\x}\x",
    r"\input{/etc/passwd}",
    r"\csname x\endcsname",
]


@pytest.fixture(scope="module")
def pool():
    with CheckPool(workers=2, timeout=2.0) as p:
        yield p


@pytest.mark.parametrize("answer", HOSTILE, ids=[repr(a[:24]) for a in HOSTILE])
def test_hostile_input_gets_a_one_line_reason_quickly(pool, answer):
    start = time.monotonic()
    v = pool.check("softmax", "x", answer)
    assert time.monotonic() - start < 5
    assert v.verdict in ("invalid", "undecided", "incorrect")
    assert len(v.feedback) == 1 and "\n" not in v.feedback[0] and "Traceback" not in v.feedback[0]


def test_nothing_is_executed(pool, tmp_path):
    marker = tmp_path / "pwned"
    v = pool.check("softmax", "x", f"__import__('os').mkdir('{marker}')")
    assert v.verdict == "invalid" and not marker.exists()


def test_a_stuck_worker_is_killed_and_replaced():
    with CheckPool(workers=1, timeout=0.2) as p:
        slot = p._all[0]
        assert p.check("sigmoid", "x", "y(1-y)").verdict == "correct"
        os.kill(slot.proc.pid, signal.SIGSTOP)  # an alarm cannot reach a stopped process
        v = p.check("sigmoid", "x", "y(1-y)")
        assert v.verdict == "undecided" and "stopped" in v.feedback[0]
        assert p.check("sigmoid", "x", "y(1-y)").verdict == "correct"


def test_a_dead_worker_is_replaced():
    with CheckPool(workers=1) as p:
        p.check("sigmoid", "x", "y")
        p._all[0].proc.kill()
        p._all[0].proc.join()
        assert p.check("sigmoid", "x", "y").verdict == "invalid"  # the answer in flight is reported
        assert p.check("sigmoid", "x", "y(1-y)").verdict == "correct"


def test_the_pool_checks_in_order_on_both_workers(pool):
    tasks = [Task("sigmoid", "x", a) for a in ("y(1-y)", "y", "1 - y", r"\sigma(x)(1-\sigma(x))")]
    assert [v.verdict for v in pool.map(tasks)] == ["correct", "incorrect", "incorrect", "correct"]


def _derive(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_check_command_exit_codes_and_json():
    right = _derive("check", "softmax", r"\beta y_j(\delta_{ij} - y_i)")
    assert right.returncode == 0 and "correct" in right.stdout and right.stdout.startswith("understood:")
    wrong = _derive("check", "affine", "--wrt", "W", "dC/dy * x", "--json")
    assert wrong.returncode == 1
    data = json.loads(wrong.stdout)
    assert set(data) == {"verdict", "parsed", "expected", "feedback", "counterexample", "evidence"}
    assert data["verdict"] == "incorrect" and "transpose" in data["feedback"][0]
    bad = _derive("check", "softmax", r"\def\x{\x}\x")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr + bad.stdout


def test_check_command_unknown_target_is_one_line():
    out = _derive("check", "sofmax", "y")
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "softmax" in out.stderr


def test_grade_writes_a_report_and_counts(tmp_path):
    answers = tmp_path / "answers.csv"
    with open(answers, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "answer"])
        w.writerows([["s1", r"\beta y_i(\delta_{ij} - y_j)"], ["s2", "y_i(1-y_i)"],
                     ["s3", "__import__('os')"], ["s4", r"\beta y_j(\delta_{ij} - y_i)"]])
    report = tmp_path / "report.csv"
    out = _derive("grade", "softmax", str(answers), "-o", str(report))
    assert out.returncode == 0, out.stderr
    assert "2 correct, 1 incorrect, 0 undecided, 1 invalid" in out.stdout
    with open(report, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["s1", "s2", "s3", "s4"]
    assert [r["verdict"] for r in rows] == ["correct", "incorrect", "invalid", "correct"]
    assert rows[2]["feedback"] and not list(tmp_path.glob(".*.tmp"))


def test_grade_needs_an_answer_column(tmp_path):
    answers = tmp_path / "a.csv"
    answers.write_text("who,what\n1,y\n")
    out = _derive("grade", "sigmoid", str(answers))
    assert out.returncode == 2 and "answer" in out.stderr
