"""derive grade with hostile answer files: the report is safe to open, and nothing is lost."""

from __future__ import annotations

import csv
import errno
import os

import pytest

from derive.check import grade as grading
from derive.check.grade import grade
from derive.cli import main
from derive.errors import DeriveError

RIGHT = "y(1-y)"


def report_rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def run(answers, report, **kwargs):
    return grade("sigmoid", None, answers, report, workers=1, progress=False, **kwargs)


@pytest.fixture
def no_grading(monkeypatch):
    """Fails the test if any answer is checked: the problem must be found before."""

    def refuse(*args, **kwargs):
        raise AssertionError("grading started")

    monkeypatch.setattr(grading, "CheckPool", refuse)


def test_formula_cells_are_neutralised_and_controls_removed(tmp_path):
    answers = tmp_path / "a.csv"
    with open(answers, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "answer"])
        w.writerows([["=cmd|' /C calc'!A0", RIGHT], ["+1", "=1+1"], ["@SUM(A1)", "-y(1-y)"], ["\tt", "\ry"],
                     ["\x00=HYPERLINK(1)", "y\x00(1-y)\x1b[31m\u202e"]])
    run(answers, tmp_path / "r.csv")
    rows = report_rows(tmp_path / "r.csv")
    # a NUL in the file is read as U+FFFD (csv cannot hold it), so the last id is no formula either
    assert [r["id"] for r in rows] == ["'=cmd|' /C calc'!A0", "'+1", "'@SUM(A1)", "'\tt", "\ufffd=HYPERLINK(1)"]
    assert [r["answer"] for r in rows][1:3] == ["'=1+1", "'-y(1-y)"]
    for r in rows:
        for cell in r.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
            assert not any(ord(c) < 32 and c not in "\t\n" or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in cell)


@pytest.mark.parametrize("cell, shown", [("=1+1", "'=1+1"), ("\x00=1", "'=1"), ("\x1b-x", "'-x"),
                                         ("a\tb\nc", "a\tb\nc"), ("x\u202ey", "xy"), ("", "")])
def test_a_report_cell_shows_as_text(cell, shown):
    assert grading.safe_cell(cell) == shown


def test_the_report_may_not_be_the_answers_file(tmp_path, no_grading):
    answers = tmp_path / "a.csv"
    answers.write_text(f"id,answer\ns1,{RIGHT}\n", encoding="utf-8")
    before = answers.read_bytes()
    (tmp_path / "link.csv").symlink_to(answers)
    for report in (answers, tmp_path / "link.csv", tmp_path / "." / "a.csv"):
        with pytest.raises(DeriveError, match="is the answers file"):
            run(answers, report)
    assert answers.read_bytes() == before


@pytest.mark.parametrize("problem, report, words", [
    ("missing folder", "no/such/folder/r.csv", "no folder"),
    ("a folder", ".", "is a folder"),
    ("a long name", "r" * 300 + ".csv", "longer than"),
])
def test_a_report_path_that_cannot_be_written_is_refused_before_grading(tmp_path, no_grading, problem, report, words):
    answers = tmp_path / "a.csv"
    answers.write_text(f"id,answer\ns1,{RIGHT}\n", encoding="utf-8")
    with pytest.raises(DeriveError, match=words):
        run(answers, tmp_path / report)


def test_a_read_only_report_folder_is_refused_before_grading(tmp_path, no_grading, monkeypatch):
    answers = tmp_path / "a.csv"
    answers.write_text(f"id,answer\ns1,{RIGHT}\n", encoding="utf-8")

    def read_only(*args, **kwargs):  # root writes anywhere: the file system refuses instead
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(grading.tempfile, "mkstemp", read_only)
    with pytest.raises(DeriveError, match="Read-only file system"):
        run(answers, tmp_path / "r.csv")


def test_a_full_disk_leaves_the_old_report_and_no_temporary(tmp_path, monkeypatch):
    answers = tmp_path / "a.csv"
    answers.write_text(f"id,answer\ns1,{RIGHT}\n", encoding="utf-8")
    report = tmp_path / "r.csv"
    report.write_text("the old report\n", encoding="utf-8")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(grading.os, "fsync", full)
    with pytest.raises(DeriveError, match="No space left on device"):
        run(answers, report)
    assert report.read_text(encoding="utf-8") == "the old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "r.csv"]


def test_a_bad_cell_is_its_rows_error_and_the_rest_is_graded(tmp_path):
    answers = tmp_path / "a.csv"
    answers.write_bytes(b"id,answer\ns1," + RIGHT.encode() + b"\ns2,y\xff\xfe(1-y)\ns3," + b"y" * (200 * 1024)
                        + b"\ns4,y\n")
    counts = run(answers, tmp_path / "r.csv")
    rows = report_rows(tmp_path / "r.csv")
    assert [(r["id"], r["verdict"]) for r in rows] == [("s1", "correct"), ("s2", "invalid"), ("s3", "invalid"),
                                                       ("s4", "incorrect")]
    assert "not UTF-8" in rows[1]["feedback"] and "128 KiB" in rows[2]["feedback"]
    assert (counts["correct"], counts["incorrect"], counts["invalid"]) == (1, 1, 2)


def test_a_bom_and_any_column_order_are_read(tmp_path):
    answers = tmp_path / "a.csv"
    answers.write_bytes(b"\xef\xbb\xbfanswer,score,ID\r\n" + RIGHT.encode() + b",3,s1\r\ny,4,s2\r\n")
    run(answers, tmp_path / "r.csv")
    assert [(r["id"], r["verdict"]) for r in report_rows(tmp_path / "r.csv")] == [("s1", "correct"),
                                                                                  ("s2", "incorrect")]


def test_without_an_id_column_rows_are_named_by_their_line(tmp_path):
    answers = tmp_path / "a.csv"
    answers.write_text(f"answer\n{RIGHT}\ny\n", encoding="utf-8")
    run(answers, tmp_path / "r.csv")
    assert [r["id"] for r in report_rows(tmp_path / "r.csv")] == ["row 2", "row 3"]


def test_duplicated_ids_are_flagged(tmp_path, capsys):
    answers = tmp_path / "a.csv"
    answers.write_text(f"id,answer\ns1,{RIGHT}\ns2,y\ns1,y\n", encoding="utf-8")
    run(answers, tmp_path / "r.csv")
    rows = report_rows(tmp_path / "r.csv")
    assert "also on line 4" in rows[0]["feedback"] and "also on line 2" in rows[2]["feedback"]
    assert "also on" not in rows[1]["feedback"]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 id given more than once (s1)" in err[0]


def test_the_grade_command_says_a_bad_report_path_in_one_line(tmp_path, capsys):
    answers = tmp_path / "a.csv"
    answers.write_text(f"id,answer\ns1,{RIGHT}\n", encoding="utf-8")
    for report in (str(answers), str(tmp_path), str(tmp_path / "none" / "r.csv")):
        assert main(["grade", "sigmoid", str(answers), "-o", report, "--quiet", "--workers", "1"]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_gradescope_results_have_one_test_per_answer_with_its_evidence(tmp_path, capsys):
    import json

    answers = tmp_path / "answers.csv"
    answers.write_text('id,answer\ns1,"y(1 - y)"\ns2,"y(1 + y)"\n', encoding="utf-8")
    out = tmp_path / "results.json"
    assert main(["grade", "sigmoid", str(answers), "--format", "gradescope", "-o", str(out), "--quiet"]) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["score"] == 1.0
    right, wrong = results["tests"]
    assert (right["name"], right["score"], right["max_score"], right["status"]) == ("answer s1", 1.0, 1.0, "passed")
    assert (wrong["score"], wrong["status"]) == (0.0, "failed")
    assert "verdict: incorrect" in wrong["output"] and "counterexample:" in wrong["output"]
    assert "evidence:" in right["output"]


def test_the_csv_report_says_what_each_verdict_rests_on(tmp_path, capsys):
    answers = tmp_path / "answers.csv"
    answers.write_text('id,answer\ns1,"y(1 - y)"\n', encoding="utf-8")
    out = tmp_path / "report.csv"
    assert main(["grade", "sigmoid", str(answers), "-o", str(out), "--quiet"]) == 0
    (row,) = csv.DictReader(out.open(encoding="utf-8"))
    assert row["verdict"] == "correct" and row["evidence"].startswith("proven symbolically")
