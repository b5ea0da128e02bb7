"""`derive check` and `derive grade`: registered with the main parser through `register`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from derive.errors import DeriveError


def _scale(text: str):
    """derive.limits.cost_scale: a Fraction, which the check's request carries."""
    from derive.limits import cost_scale

    return cost_scale(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("the time limit must be between 0 and 600 seconds")
    return value


def _workers(text: str) -> int:
    from derive.check.pool import worker_count

    try:
        value = int(text)
    except ValueError:
        value = text  # not a whole number: refused below with the same line
    try:
        return worker_count(value)
    except DeriveError as exc:
        raise argparse.ArgumentTypeError(exc.message.removeprefix("--workers ")) from None


def _check(args) -> int:
    from derive.check.forked import check_forked
    from derive.check.task import Task, request

    # A child forked after the imports checks the answer: one SymPy import, no pool to start.
    task = Task(request(args.target, args.wrt, args.cost_scale), args.answer)
    verdict = check_forked(task, timeout=args.timeout)
    if args.json:
        print(json.dumps(verdict.to_json(), indent=2, ensure_ascii=False))
    else:
        print(verdict.text(), end="")
    return verdict.exit_code


def _grade(args) -> int:
    import sys

    from derive.check.grade import Interrupted, grade

    if not args.answers.exists():
        raise DeriveError(f"no such file: {args.answers}")
    default = "results.json" if args.format == "gradescope" else args.answers.stem + ".report.csv"
    report = args.output or args.answers.with_name(default)
    try:
        counts = grade(args.target, args.wrt, args.answers, report, scale=args.cost_scale,
                       workers=args.workers, timeout=args.timeout, progress=not args.quiet, fmt=args.format)
    except Interrupted as stop:
        kept = (f"the {stop.graded} graded are in {stop.written} (incomplete)" if stop.written
                else "nothing was written")
        print(f"derive: interrupted after {stop.graded} of {stop.total} answers; {kept}; {report} was not written",
              file=sys.stderr)
        return 130
    total = sum(counts.values())
    summary = ", ".join(f"{n} {v}" for v, n in counts.items())
    print(f"{total} answers: {summary}. Report: {report}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("check", help="check a hand-written answer (LaTeX or plain text)",
                              description="Exit 0 correct, 1 incorrect or undecided, 2 invalid input. "
                                          "Put -- before an answer that starts with a minus sign.")
    p.add_argument("target", help="a registry name, e.g. softmax")
    p.add_argument("--wrt", help="the variable the answer differentiates by (default: the first input)")
    p.add_argument("answer", help=r"the answer, e.g. '\beta y_i(\delta_{ij} - y_j)' or 'yhat - y'")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.add_argument("--timeout", type=_seconds, default=2.0, help="seconds allowed per check (default 2)")
    p.add_argument("--cost-scale", type=_scale, default="1", help="the answer is for c·C instead of C")
    p.set_defaults(run=_check)

    p = subparsers.add_parser("grade", help="check a CSV of answers (columns id, answer) into a report")
    p.add_argument("target")
    p.add_argument("--wrt")
    p.add_argument("answers", type=Path, help="CSV with a header naming the columns id and answer")
    p.add_argument("-o", "--output", type=Path,
                   help="the report (default: ANSWERS.report.csv; results.json beside the answers for gradescope)")
    p.add_argument("--format", choices=("csv", "gradescope"), default="csv",
                   help="csv (default), or gradescope: the autograder's results.json, one test per answer")
    p.add_argument("--workers", type=_workers, default=None,
                   help="worker processes, 1 to 4 per core (default: all cores)")
    p.add_argument("--timeout", type=_seconds, default=2.0, help="seconds allowed per answer (default 2)")
    p.add_argument("--cost-scale", type=_scale, default="1")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_grade)
