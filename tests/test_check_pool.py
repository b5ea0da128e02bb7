"""Hostile input through the warm worker pool, the check and grade commands, and the report."""

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from derive.check.pool import CheckPool, Closed
from derive.check.task import Task, request
from derive.errors import DeriveError

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


def test_a_dead_worker_is_replaced_and_its_answer_tried_again():
    with CheckPool(workers=1) as p:
        p.check("sigmoid", "x", "y")
        dead = p._all[0].proc
        dead.kill()
        dead.join()
        assert p.check("sigmoid", "x", "y").verdict == "incorrect"  # retried in the fresh worker
        assert p._all[0].proc is not dead and p._all[0].proc.is_alive()
        assert p.check("sigmoid", "x", "y(1-y)").verdict == "correct"


def test_an_answer_whose_worker_dies_twice_is_invalid():
    with CheckPool(workers=1) as p:
        slot = p._all[0]
        p.check("sigmoid", "x", "y")
        send, killed = slot._call, []

        def dying(message, limit):  # the worker dies with each attempt at the answer
            if isinstance(message, Task):
                slot.proc.kill()
                slot.proc.join()
                killed.append(slot.proc.pid)
            return send(message, limit)

        slot._call = dying
        v = p.check("sigmoid", "x", "y(1-y)")
        assert v.verdict == "invalid" and "twice" in v.feedback[0]
        assert len(set(killed)) == 2  # the first worker, then the fresh one
        slot._call = send
        assert p.check("sigmoid", "x", "y(1-y)").verdict == "correct"


@pytest.mark.parametrize("workers", [-1, 0, 10_000, 1.5, "2"])
def test_a_worker_count_out_of_range_is_refused_with_the_range(workers):
    with pytest.raises(DeriveError, match=r"from 1 to \d+"):
        CheckPool(workers=workers)


@pytest.mark.parametrize("workers", ["-1", "0", "abc", "100000"])
def test_grade_refuses_a_worker_count_out_of_range_in_one_line(tmp_path, workers):
    answers = tmp_path / "a.csv"
    answers.write_text("id,answer\n1,y\n")
    out = _derive("grade", "sigmoid", str(answers), "--workers", workers)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "from 1 to" in out.stderr
    assert "Traceback" not in out.stderr and not list(tmp_path.glob("*report*"))


def test_a_closed_pool_starts_no_worker_and_refuses_answers():
    p = CheckPool(workers=2)
    procs = [s.proc for s in p._all]
    p.close()
    assert not any(proc.is_alive() for proc in procs)
    with pytest.raises(Closed):
        p._all[0].run(Task(request("sigmoid", "x"), "y"))
    assert all(s.proc is proc for s, proc in zip(p._all, procs))


def test_the_pool_checks_in_order_on_both_workers(pool):
    tasks = [Task(request("sigmoid", "x"), a) for a in ("y(1-y)", "y", "1 - y", r"\sigma(x)(1-\sigma(x))")]
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
    assert set(data) == {"verdict", "parsed", "expected", "feedback", "counterexample", "evidence", "claim"}
    assert data["claim"] == "∂C/∂W"
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


def _session_processes(sid: int) -> list[int]:
    """Live (not zombie) processes of session `sid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # fields: state, ppid, pgrp, session, …
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads sessions from /proc")
def test_ctrl_c_during_grade_stops_the_workers_and_keeps_what_was_graded(tmp_path):
    answers, report = tmp_path / "answers.csv", tmp_path / "report.csv"
    report.write_text("an earlier report\n")
    with open(answers, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "answer"])
        w.writerows([[f"s{n}", r"\beta y_i(\delta_{ij} - y_j)" if n % 2 else r"y_i(1 - y_j)"] for n in range(5000)])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "derive", "grade", "softmax", str(answers), "-o", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    seen = b""
    while not any(int(n) for n in re.findall(rb"(\d+)/5000", seen)):  # the progress bar shows answers graded
        chunk = proc.stderr.read1(4096)
        assert chunk, "grade ended before it showed progress"
        seen += chunk
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    last = err.decode().strip().splitlines()[-1]
    assert last.startswith("derive: interrupted after") and "Traceback" not in err.decode()
    assert report.read_text() == "an earlier report\n"  # the report is not replaced by half of one
    with open(tmp_path / "report.incomplete.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert 0 < len(rows) < 5000 and f"after {len(rows)} of 5000" in last
    assert all(r["verdict"] == ("correct" if int(r["id"][1:]) % 2 else "incorrect") for r in rows)
    assert [int(r["id"][1:]) for r in rows] == sorted(int(r["id"][1:]) for r in rows)
    assert not list(tmp_path.glob(".*.tmp"))
    for _ in range(100):  # the forkserver leaves once its parent has gone; no worker is left checking
        if not _session_processes(proc.pid):
            break
        time.sleep(0.1)
    assert not _session_processes(proc.pid)


def test_a_task_carries_one_request_made_without_sympy_in_the_parent():
    code = ("import sys\nfrom derive.check.pool import CheckPool\nfrom derive.check.task import Task, request\n"
            "t = Task(request('sigmoid', 'x', '0.5'), 'y')\n"
            "print(repr(t.request.scale), t.request.cache_key()['scale'], 'sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.split() == ["Fraction(1,", "2)", "1/2", "False"]


def test_a_scale_is_parsed_once_where_the_request_is_made():
    with pytest.raises(DeriveError, match="the cost scale must be a number"):
        request("sigmoid", "x", "abc")
    assert request("sigmoid", "x", "0.5") == request("sigmoid", "x", Fraction(1, 2))  # one prepared derivation


def test_the_pool_checks_a_scaled_request(pool):
    assert pool.check("affine", "b", r"2 \frac{\partial C}{\partial y}", scale="2").verdict == "correct"
    assert pool.check("affine", "b", r"\frac{\partial C}{\partial y}", scale=2).verdict == "incorrect"
