"""Grading a CSV of answers: one row per student, checked in parallel, a report written atomically.

The answers are untrusted and the report is opened in spreadsheets, so: a row that cannot be read
(not UTF-8, a cell over 128 KiB) is that row's error and the rest is graded; report cells are
stripped of control characters and a cell that a spreadsheet would read as a formula (starting
with = + - @, a tab or a carriage return) is prefixed with ' as OWASP's CSV-injection guidance
says; the report's folder is checked, and its temporary file made, before any answer is graded.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from derive.check.pool import CheckPool
from derive.check.task import Task, request
from derive.check.verdict import VERDICTS
from derive.errors import DeriveError

REPORT_COLUMNS = ("id", "verdict", "claim", "parsed", "feedback", "counterexample", "evidence", "answer")
MAX_CELL = 128 * 1024  # characters in one cell of the answers file
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# C0 and C1 controls but tab and newline, and the bidirectional overrides that reorder shown text
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by surrogateescape


@dataclass(frozen=True)
class Row:
    """One answer of the file: its line, id, text, and why it cannot be checked (None if it can)."""

    line: int
    ident: str
    answer: str
    problem: str | None = None


def read_rows(path: Path) -> list[Row]:
    """The rows of an answers CSV: a header names the `answer` column and maybe an `id` one, in any
    order (without an id, a row is named by its line). A leading byte-order mark is ignored."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DeriveError(f"cannot read {path}: {exc.strerror}") from None
    text = raw.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff").replace("\0", "\ufffd")
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))  # a long cell is its row's error, not the file's
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DeriveError(f"cannot read {path}: {exc}") from None
    finally:
        csv.field_size_limit(limit)
    if not records:
        raise DeriveError(f"{path} is empty")
    header = [h.strip().lower() for h in records[0]]
    if "answer" in header:
        id_col = header.index("id") if "id" in header else None
        ans_col = header.index("answer")
        records, first = records[1:], 2
    elif len(header) >= 2:
        raise DeriveError(f"{path}: the header needs an 'answer' column (and an 'id' column); "
                          f"found: {', '.join(_clean(h)[:40] for h in records[0])}")
    else:
        raise DeriveError(f"{path}: expected two columns, id and answer")
    rows = []
    for line, record in enumerate(records, start=first):
        if not any(cell.strip() for cell in record):
            continue
        ident = record[id_col] if id_col is not None and id_col < len(record) else f"row {line}"
        answer = record[ans_col] if ans_col < len(record) else ""
        rows.append(Row(line, ident, answer, _problem(ident, answer)))
    return rows


def _problem(*cells: str) -> str | None:
    for cell in cells:
        if _UNDECODABLE.search(cell):
            return "this row is not UTF-8 text"
        if len(cell) > MAX_CELL:
            return f"a cell of this row is longer than {MAX_CELL // 1024} KiB"
    return None


def read_answers(path: Path) -> list[tuple[str, str]]:
    """(id, answer) rows: the columns named id and answer, or else the first and the last."""
    return [(r.ident, r.answer) for r in read_rows(path)]


def _clean(cell: str) -> str:
    """Undecodable bytes and control characters removed (tab and newline kept inside a cell)."""
    return _CONTROL.sub("", _UNDECODABLE.sub("\ufffd", cell))


def safe_cell(value) -> str:
    """A report cell as a spreadsheet shows it and never runs: controls removed, a leading
    formula character (= + - @ tab CR) escaped with ' (OWASP, CSV injection)."""
    text = _clean("" if value is None else str(value))  # first: a removed NUL must not uncover an =
    return "'" + text if text.startswith(FORMULA_START) else text


def duplicates(rows: list[Row]) -> dict:
    """id -> the lines it is on, for each id given more than once."""
    seen: dict = {}
    for r in rows:
        seen.setdefault(r.ident, []).append(r.line)
    return {k: v for k, v in seen.items() if len(v) > 1}


class Report:
    """The report's temporary file, made before grading (so a folder that cannot take it is said at
    once), filled and moved into place at the end, or removed."""

    def __init__(self, path: Path, answers: Path):
        self.path = Path(path)
        folder = self.path.parent if str(self.path.parent) else Path(".")
        if not os.path.isdir(folder):  # os.path: False, not an exception, for a name too long
            raise DeriveError(f"cannot write the report {self.path}: no folder {folder}")
        name_max = _name_max(folder)
        if len(os.fsencode(self.path.name)) > name_max:
            raise DeriveError(f"cannot write the report: its file name is longer than {name_max} bytes")
        if os.path.exists(self.path) and os.path.samefile(self.path, answers):
            raise DeriveError(f"the report {self.path} is the answers file; name another with -o")
        if os.path.isdir(self.path):
            raise DeriveError(f"the report {self.path} is a folder; name a file with -o")
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=".derive-report-", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise DeriveError(f"cannot write the report {self.path}: {exc.strerror}") from None
        self.file = os.fdopen(fd, "w", newline="", encoding="utf-8")

    def write(self, rows: list[dict], fmt: str = "csv") -> None:
        try:
            if fmt == "gradescope":
                json.dump(gradescope(rows), self.file, indent=2, ensure_ascii=False)
            else:
                writer = csv.DictWriter(self.file, fieldnames=REPORT_COLUMNS, quoting=csv.QUOTE_ALL)
                writer.writeheader()
                writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise DeriveError(f"cannot write the report {self.path}: {exc.strerror}") from None

    def discard(self) -> None:
        self.file.close()
        Path(self.tmp).unlink(missing_ok=True)


REPORT_FORMATS = ("csv", "gradescope")


def gradescope(rows: list[dict]) -> dict:
    """Gradescope's autograder results.json: one test per answer (1 point when correct), the
    verdict, feedback and counterexample as the test's output; the student's text stays data."""
    tests = []
    for row in rows:
        right = row["verdict"] == "correct"
        output = "\n".join(x for x in (f"verdict: {row['verdict']}", row.get("claim") and f"claim: {row['claim']}",
                                        row["parsed"] and f"understood: {row['parsed']}",
                                        row["feedback"], row["counterexample"] and
                                        f"counterexample: {row['counterexample']}",
                                        row.get("evidence") and f"evidence: {row['evidence']}") if x)
        tests.append({"name": f"answer {_clean(str(row['id']))}", "score": 1.0 if right else 0.0,
                      "max_score": 1.0, "status": "passed" if right else "failed",
                      "output": _clean(output), "output_format": "text"})
    return {"score": float(sum(t["score"] for t in tests)), "tests": tests}


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def write_atomically(path: Path, rows: list[dict]) -> None:
    """Write the report to a temporary file beside it, then move it into place."""
    Report(path, Path(os.devnull)).write(rows)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during grading: the workers are stopped; the answers graded so far went to `written`."""

    def __init__(self, graded: int, total: int, written: Path | None):
        super().__init__()
        self.graded, self.total, self.written = graded, total, written


def incomplete_path(report: Path) -> Path:
    """Where an interrupted run writes what it graded: REPORT.incomplete.csv beside the report."""
    report = Path(report)
    return report.with_name(f"{report.stem}.incomplete{report.suffix or '.csv'}")


def _lines(graded: list, twice: dict) -> tuple[list, Counter]:
    """The report's rows for (row, verdict or None) pairs, and the count of each verdict."""
    counts = Counter({v: 0 for v in VERDICTS})
    lines = []
    for r, v in graded:
        note = [f"id {r.ident!r} is also on line {', '.join(str(n) for n in twice[r.ident] if n != r.line)}."
                ] if r.ident in twice else []
        if v is None:  # a row that could not be read
            counts["invalid"] += 1
            lines.append({"id": r.ident, "verdict": "invalid", "claim": "", "parsed": "", "feedback": " ".join([r.problem, *note]),
                          "counterexample": "", "evidence": "", "answer": r.answer[:MAX_CELL]})
            continue
        counts[v.verdict] += 1
        lines.append({"id": r.ident, "verdict": v.verdict, "claim": v.claim or "", "parsed": v.parsed or "",
                      "feedback": " ".join([*v.feedback, *note]),
                      "counterexample": (v.counterexample or {}).get("text", ""), "evidence": v.evidence_text,
                      "answer": r.answer})
    return lines, counts


def grade(target: str, wrt: str | None, answers: Path, report: Path, *, scale: object = 1,
          workers: int | None = None, timeout: float = 2.0, progress: bool = True, fmt: str = "csv") -> Counter:
    """Check every answer, write the report, and return the count of each verdict.

    On Ctrl-C the workers are killed at once and Interrupted is raised; the answers graded so far
    are written to `incomplete_path(report)` (if there are any) and the report itself is not.
    """
    from tqdm import tqdm

    rows = read_rows(answers)
    out = Report(report, answers)  # before any work: a report that cannot be written loses nothing
    results: list = [None] * len(rows)
    try:
        todo = [n for n, r in enumerate(rows) if r.problem is None]
        with CheckPool(workers=workers, timeout=timeout) as pool:
            asked = request(target, wrt, scale)  # the scale parsed once, for every answer
            pool.ready(asked)  # an unknown target or variable fails here, once
            tasks = [Task(asked, rows[n].answer) for n in todo]
            with tqdm(total=len(tasks), unit="answer", file=sys.stderr, disable=not progress) as bar:
                for k, verdict in pool.imap_unordered(tasks):
                    results[todo[k]] = verdict
                    bar.update(1)
    except KeyboardInterrupt:  # the pool is closed (its workers killed) on the way out of the with
        out.discard()
        graded = [(r, v) for r, v in zip(rows, results) if v is not None]
        lines, _ = _lines(graded, {})
        written = incomplete_path(report) if lines else None
        if written:
            write_atomically(written, lines)
        raise Interrupted(len(lines), len(rows), written) from None
    except BaseException:
        out.discard()
        raise
    twice = duplicates(rows)
    if twice:
        shown = ", ".join(safe_cell(k)[:40] for k in list(twice)[:5]) + (", …" if len(twice) > 5 else "")
        print(f"derive: warning: {len(twice)} id{'s' if len(twice) > 1 else ''} given more than once ({shown}); "
              "the report marks their rows", file=sys.stderr)
    lines, counts = _lines(list(zip(rows, results)), twice)
    out.write(lines, fmt)
    return counts
