"""Grading a CSV of answers: one row per student, checked in parallel, a report written atomically."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from derive.check.pool import CheckPool, Task
from derive.check.verdict import VERDICTS
from derive.errors import DeriveError

REPORT_COLUMNS = ("id", "verdict", "parsed", "feedback", "counterexample", "answer")


def read_answers(path: Path) -> list[tuple[str, str]]:
    """(id, answer) rows: the columns named id and answer, or else the first and the last."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DeriveError(f"cannot read {path}: {exc}") from None
    if not rows:
        raise DeriveError(f"{path} is empty")
    header = [h.strip().lower() for h in rows[0]]
    if "answer" in header:
        id_col = header.index("id") if "id" in header else 0
        ans_col = header.index("answer")
        rows = rows[1:]
    elif len(header) >= 2:
        raise DeriveError(f"{path}: the header needs an 'answer' column (and an 'id' column); "
                          f"found: {', '.join(rows[0])}")
    else:
        raise DeriveError(f"{path}: expected two columns, id and answer")
    out = []
    for n, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        ident = row[id_col] if id_col < len(row) else f"row {n}"
        answer = row[ans_col] if ans_col < len(row) else ""
        out.append((ident, answer))
    return out


def write_atomically(path: Path, rows: list[dict]) -> None:
    """Write the report to a temporary file beside it, then move it into place."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=REPORT_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during grading: the workers are stopped; the answers graded so far went to `written`."""

    def __init__(self, graded: int, total: int, written: Path | None):
        super().__init__()
        self.graded, self.total, self.written = graded, total, written


def incomplete_path(report: Path) -> Path:
    """Where an interrupted run writes what it graded: REPORT.incomplete.csv beside the report."""
    report = Path(report)
    return report.with_name(f"{report.stem}.incomplete{report.suffix or '.csv'}")


def grade(target: str, wrt: str | None, answers: Path, report: Path, *, scale: str = "1",
          workers: int | None = None, timeout: float = 2.0, progress: bool = True) -> Counter:
    """Check every answer, write the report, and return the count of each verdict.

    On Ctrl-C the workers are killed at once and Interrupted is raised; the answers graded so far
    are written to `incomplete_path(report)` (if there are any) and the report itself is not.
    """
    from tqdm import tqdm

    rows = read_answers(answers)
    results: list = [None] * len(rows)
    interrupted = False
    try:
        with CheckPool(workers=workers, timeout=timeout) as pool:
            pool.prepare(target, wrt, scale)  # an unknown target or variable fails here, once
            tasks = [Task(target, wrt, answer, scale) for _, answer in rows]
            with tqdm(total=len(tasks), unit="answer", file=sys.stderr, disable=not progress) as bar:
                for n, verdict in pool.imap_unordered(tasks):
                    results[n] = verdict
                    bar.update(1)
    except KeyboardInterrupt:  # the pool is closed (its workers killed) on the way out of the with
        interrupted = True
    graded = [(row, v) for row, v in zip(rows, results) if v is not None]
    counts = Counter({v: 0 for v in VERDICTS})
    out = []
    for (ident, answer), v in graded:
        counts[v.verdict] += 1
        out.append({"id": ident, "verdict": v.verdict, "parsed": v.parsed or "",
                    "feedback": " ".join(v.feedback),
                    "counterexample": (v.counterexample or {}).get("text", ""), "answer": answer})
    if interrupted:
        written = incomplete_path(report) if out else None
        if written:
            write_atomically(written, out)
        raise Interrupted(len(out), len(rows), written)
    write_atomically(report, out)
    return counts
