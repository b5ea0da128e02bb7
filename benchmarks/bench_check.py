"""Benchmark: checking typical answers through the warm pool, against `simplify(a − b) == 0`.

    python benchmarks/bench_check.py            # full run
    python benchmarks/bench_check.py --quick    # a few seconds, for CI
    python benchmarks/bench_check.py --generated 10000   # also: soundness on 10,000 generated answers

Prints one table: throughput (checks/s) and how many verdicts each method gets wrong on the same
labelled answers; then how long `derive grade` takes to stop on Ctrl-C. The baseline reads each answer with the same parser (it has none of its own),
writes named quantities by their definitions on both sides, and calls `sympy.simplify` on the
difference, one answer at a time with a time limit; a timeout or an exception counts as a wrong
verdict, because the baseline then gives none.

With --generated N, N answers from tests/soundness_cases.py (wrong or equivalent, as established by
an mpmath oracle that does not use the checker) go through the pool too: a second table counts how
each kind was graded; a wrong answer graded "correct" or a checker failure makes the run fail.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# (target, wrt, answer, is it right?) — what students typically hand in, right and wrong.
ANSWERS = [
    ("softmax", "x", r"\beta y_i(\delta_{ij} - y_j)", True),
    ("softmax", "x", r"\beta y_j(\delta_{ij} - y_i)", True),
    ("softmax", "x", r"\beta y_i \delta_{ij} - \beta y_i y_j", True),
    ("softmax", "x", r"\begin{cases} \beta y_i(1-y_i) & i = j \\ -\beta y_i y_j & i \neq j \end{cases}", True),
    ("softmax", "x", r"\begin{cases} y_i(1-y_i) & i = j \\ -y_i y_j & i \neq j \end{cases}", False),
    ("softmax", "x", r"y_i(\delta_{ij} - y_j)", False),
    ("softmax", "x", r"\beta y_i(1 - y_j)", False),
    ("softmax", "x", r"-\beta y_i y_j", False),
    ("sigmoid", "x", "y(1-y)", True),
    ("sigmoid", "x", r"\sigma(x)(1-\sigma(x))", True),
    ("sigmoid", "x", r"\frac{e^{-x}}{(1+e^{-x})^2}", True),
    ("sigmoid", "x", "y(1+y)", False),
    ("sigmoid", "x", "1 - y", False),
    ("tanh", "x", "1 - y^2", True),
    ("tanh", "x", r"1 - \tanh^2(x)", True),
    ("tanh", "x", r"\frac{4}{(e^x + e^{-x})^2}", True),
    ("tanh", "x", "1 - y", False),
    ("relu", "x", r"\mathbb{1}[x > 0]", True),
    ("relu", "x", "1", False),
    ("mse", "yhat", r"2(\hat{y}_i - y_i)", True),
    ("mse", "yhat", r"2\hat{y}_i - 2y_i", True),
    ("mse", "yhat", r"\hat{y}_i - y_i", False),
    ("softmax_cross_entropy", "theta", r"\hat{y}_i - y_i", True),
    ("softmax_cross_entropy", "theta", r"y_i - \hat{y}_i", False),
    ("bce", "yhat", r"\frac{\hat{y}_i - y_i}{K \hat{y}_i(1 - \hat{y}_i)}", True),
    ("bce", "yhat", r"-\frac{y_i}{K \hat{y}_i} + \frac{1 - y_i}{K(1 - \hat{y}_i)}", True),
    ("bce", "yhat", r"\frac{\hat{y}_i - y_i}{\hat{y}_i(1 - \hat{y}_i)}", False),
    ("affine", "W", r"\frac{\partial C}{\partial y_i} x_j", True),
    ("affine", "W", r"\frac{\partial C}{\partial y_i} x_i", False),
    ("affine", "x", r"\sum_k W_{ki} \frac{\partial C}{\partial y_k}", True),
    ("affine", "x", r"\sum_k W_{ik} \frac{\partial C}{\partial y_k}", False),
]


def baseline(answers, limit: float):
    """`simplify(a − b) == 0` on the same readings: (seconds, wrong verdicts, failures)."""
    import sympy as sp

    from derive.api import derivative
    from derive.check.compare import Budget, time_limit
    from derive.check.meaning import read
    from derive.check.parse import parse
    from derive.concrete import substitute_names

    cache, wrong, failed = {}, 0, 0
    start = time.perf_counter()
    for target, wrt, answer, truth in answers:
        d = cache.setdefault((target, wrt), derivative(target, wrt=wrt))
        try:
            with time_limit(limit):
                reading = read(parse(answer), d)
                a = reading.expr if reading.form == "index" else reading.matrix[0, 0]  # scalars: 1×1
                same = sp.simplify(substitute_names(a, d) - substitute_names(d.result, d)) == 0
        except Budget:
            failed += 1
            wrong += 1
            continue
        except Exception:  # noqa: BLE001 - StopIteration and friends: the baseline gives no verdict
            failed += 1
            wrong += 1
            continue
        wrong += same != truth
    return time.perf_counter() - start, wrong, failed


def in_process(answers):
    """derive.check in this process, one core: (seconds, wrong verdicts)."""
    from derive.api import derivative
    from derive.check import check

    cache = {}
    for target, wrt, _, _ in answers:
        cache.setdefault((target, wrt), derivative(target, wrt=wrt))
    for target, wrt, answer, _ in answers:  # warm: references built once per derivation
        check(cache[target, wrt], answer)
    start = time.perf_counter()
    wrong = 0
    for target, wrt, answer, truth in answers:
        wrong += (check(cache[target, wrt], answer).verdict == "correct") != truth
    return time.perf_counter() - start, wrong


def _cpu_seconds(pids: list[int]) -> float | None:
    """CPU time used so far by processes `pids` (Linux /proc), None where that cannot be read."""
    import os

    try:
        ticks = 0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def pooled(answers, workers: int, rounds: int):
    """Through the warm pool on `workers` processes: (checks/s, checks per CPU-second of the workers
    and the parent — what a busy machine does not change much —, wrong verdicts)."""
    from derive.check.pool import CheckPool
    from derive.check.task import Task, request

    tasks = [Task(request(t, w), a) for t, w, a, _ in answers]
    with CheckPool(workers=workers) as pool:
        for _ in range(workers):  # every worker builds its derivations once
            list(pool.map(tasks))
        pids = [slot.proc.pid for slot in pool._all]
        cpu, own = _cpu_seconds(pids), time.process_time()
        start = time.perf_counter()
        for _ in range(rounds):
            verdicts = list(pool.map(tasks))
        elapsed = time.perf_counter() - start
        after = _cpu_seconds(pids) if [slot.proc.pid for slot in pool._all] == pids else None
    n = rounds * len(tasks)
    per_cpu = n / (after - cpu + time.process_time() - own) if cpu is not None and after is not None else None
    wrong = sum((v.verdict == "correct") != truth for v, (*_, truth) in zip(verdicts, answers))
    return n / elapsed, per_cpu, wrong


def interrupted(workers: int) -> tuple[int, float]:
    """`derive grade` of many answers, Ctrl-C once it has graded some: (exit code, seconds to exit)."""
    import csv
    import os
    import re
    import signal
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        answers = Path(tmp) / "answers.csv"
        with open(answers, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "answer"])
            w.writerows([[n, a] for n, (t, _, a, _) in enumerate(ANSWERS * 200) if t == "softmax"])
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        proc = subprocess.Popen([sys.executable, "-m", "derive", "grade", "softmax", str(answers),
                                 "--workers", str(workers)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, start_new_session=True)
        seen = b""
        while not any(int(n) for n in re.findall(rb"(\d+)/\d+ \[", seen)):
            chunk = proc.stderr.read1(4096)
            if not chunk:
                break
            seen += chunk
        start = time.perf_counter()
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole foreground group
        code = proc.wait(timeout=120)  # derive has exited: the shell has its prompt back
        seconds = time.perf_counter() - start
        proc.communicate(timeout=120)
        return code, seconds


def generated(count: int, workers: int, seed: int = 11) -> tuple[str, bool]:
    """The soundness table for `count` generated answers, and whether it holds (0 wrong graded correct)."""
    from collections import Counter

    from derive.check.pool import CheckPool
    from derive.check.task import Task, request

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from soundness_cases import scalar_cases, vector_cases

    start = time.perf_counter()
    cases = scalar_cases(count - count // 12, seed=seed) + vector_cases(count // 12, seed=seed)
    made = time.perf_counter() - start
    counts = Counter()
    with CheckPool(workers=workers) as pool:
        start = time.perf_counter()
        for case, v in zip(cases, pool.map([Task(request(c.target, None), c.latex) for c in cases])):
            failed = any("checker failed" in f for f in v.feedback) or not v.evidence
            counts["failure" if failed else ("wrong" if case.wrong else "equivalent", v.verdict)] += 1
        elapsed = time.perf_counter() - start
    wrong = sum(c.wrong for c in cases)
    lines = [(f"{len(cases)} generated answers ({wrong} wrong, {len(cases) - wrong} equivalent, as the oracle "
              f"established in {made:.0f} s), checked at {len(cases) / elapsed:.1f} checks/s on {workers} workers"),
             f"{'graded':<12} {'wrong':>8} {'equivalent':>11}"]
    for verdict in ("correct", "incorrect", "undecided", "invalid"):
        lines.append(f"{verdict:<12} {counts['wrong', verdict]:>8} {counts['equivalent', verdict]:>11}")
    lines.append(f"checker failures: {counts['failure']}")
    holds = counts["wrong", "correct"] == 0 and counts["failure"] == 0
    return "\n".join(lines), holds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few answers and one round (CI)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--limit", type=float, default=10.0, help="seconds per simplify call")
    parser.add_argument("--generated", type=int, default=0, metavar="N",
                        help="also grade N generated answers of known truth (e.g. 10000) and count the verdicts")
    args = parser.parse_args(argv)
    answers = ANSWERS[::3] if args.quick else ANSWERS
    rounds = 1 if args.quick else args.rounds

    rate, per_cpu, pool_wrong = pooled(answers, args.workers, rounds)
    own_time, own_wrong = in_process(answers)
    base_time, base_wrong, base_failed = baseline(answers, 2.0 if args.quick else args.limit)
    own_rate, base_rate = len(answers) / own_time, len(answers) / base_time

    n = len(answers)
    print(f"{n} labelled answers ({sum(a[3] for a in answers)} right, {sum(not a[3] for a in answers)} wrong)")
    print(f"{'method':<44} {'checks/s':>10} {'wrong verdicts':>15}")
    print(f"{'derive check, warm pool, ' + str(args.workers) + ' workers':<44} {rate:>10.1f} {pool_wrong:>10} / {n}")
    print(f"{'derive check, in process, 1 core':<44} {own_rate:>10.1f} {own_wrong:>10} / {n}")
    print(f"{'simplify(a - b) == 0, 1 core':<44} {base_rate:>10.1f} {base_wrong:>10} / {n}"
          f"   ({base_failed} gave no verdict)")
    print(f"pool vs simplify: {rate / base_rate:.1f}x the throughput; "
          f"one core vs one core: {own_rate / base_rate:.1f}x")
    if per_cpu is not None:
        print(f"warm pool: {per_cpu:.1f} checks per CPU-second (workers and parent): about "
              f"{args.workers * per_cpu:.0f}/s on {args.workers} idle cores")
    print("goal: the warm pool (derive grade) at least 300 checks/s on 2 cores, no wrong verdict")
    code, seconds = interrupted(args.workers)
    print(f"Ctrl-C during derive grade: exit code {code} after {seconds:.2f} s (goal: 130 within 2 s)")
    if args.generated:
        table, holds = generated(args.generated, args.workers)
        print()
        print(table)
        if not holds:
            print("FAILED: a wrong answer was graded correct, or the checker failed", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
