"""derive sheet's outputs: a path that cannot be written is one line before any work, nothing is
half-written, and a PDF that failed to build leaves no older one behind."""

from __future__ import annotations

import errno
import os

import pytest

from derive.cli import main
from derive.sheets import builder, files, pdf

SHEET = 'title = "T"\n[[questions]]\ntitle = "Q"\ntarget = "sigmoid"\n'


@pytest.fixture
def sheet(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(SHEET, encoding="utf-8")
    return path


@pytest.fixture
def no_solving(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("solving started")

    monkeypatch.setattr(builder, "solve", refuse)


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def sheet_cmd(path, out, fmt="md,tex"):
    return ["sheet", str(path), "-o", str(out), "--format", fmt, "-j", "1"]


@pytest.mark.parametrize("where, words", [("a-file", "is a file, not a folder"),
                                          ("a-file/sub", "is a file, not a folder"),
                                          ("x" * 300, "at most 255 bytes")])
def test_an_output_that_cannot_be_a_folder_is_one_line_before_any_work(tmp_path, sheet, capsys, no_solving,
                                                                       where, words):
    (tmp_path / "a-file").write_text("mine", encoding="utf-8")
    assert main(sheet_cmd(sheet, tmp_path / where)) == 2
    assert words in one_line(capsys)
    assert (tmp_path / "a-file").read_text(encoding="utf-8") == "mine"


def test_a_read_only_output_folder_is_one_line_before_any_work(tmp_path, sheet, capsys, no_solving, monkeypatch):
    def read_only(*args, **kwargs):  # root writes anywhere: the file system refuses instead
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    assert main(sheet_cmd(sheet, tmp_path / "out")) == 2
    assert "Read-only file system" in one_line(capsys)


def test_a_name_near_the_limit_is_written(tmp_path, capsys):
    path = tmp_path / ("s" * 248 + ".toml")  # s…s.md is 251 bytes: the temporary beside it must be shorter
    path.write_text(SHEET, encoding="utf-8")
    assert main(sheet_cmd(path, tmp_path / "out")) == 0
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".md", ".tex"]


def test_a_full_disk_is_one_line_and_leaves_the_old_files(tmp_path, sheet, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "s.md").write_text("old", encoding="utf-8")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    assert main(sheet_cmd(sheet, out)) == 2
    assert "No space left on device" in one_line(capsys)
    assert sorted(p.name for p in out.iterdir()) == ["s.md"] and (out / "s.md").read_text() == "old"


def test_a_failed_pdf_build_removes_the_older_pdf(tmp_path, sheet, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "s.pdf").write_bytes(b"%PDF an older build")

    def fails(tex, dest, **kwargs):
        raise pdf.TexError("s.tex:12: Undefined control sequence")

    monkeypatch.setattr(pdf, "available", lambda: True)
    monkeypatch.setattr(pdf, "compile_pdf", fails)
    assert main(sheet_cmd(sheet, out, "md,tex,pdf")) == 1
    assert one_line(capsys) == "derive: s.tex:12: Undefined control sequence"
    assert sorted(p.name for p in out.iterdir()) == ["s.md", "s.tex"]


@pytest.mark.parametrize("epoch", ["abc", "-1", "1e9", "99999999999999999999", ""])
def test_a_garbage_source_date_epoch_is_one_line_before_any_work(tmp_path, sheet, capsys, no_solving,
                                                                monkeypatch, epoch):
    monkeypatch.setattr(pdf, "available", lambda: True)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    assert main(sheet_cmd(sheet, tmp_path / "out", "pdf")) == 2
    assert "SOURCE_DATE_EPOCH must be whole seconds since 1970" in one_line(capsys)


def test_help_says_templates_are_code(capsys):
    with pytest.raises(SystemExit):
        main(["sheet", "--help"])
    assert "templates are code" in " ".join(capsys.readouterr().out.split())
