"""`derive audit SOLUTION --sheet SHEET`: exit 0 when no claim is incorrect, 1 otherwise, 2 for bad input."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from derive.errors import DeriveError

FORMATS = ("text", "md", "json")


def _read(path: Path) -> str:
    from derive.audit.document import MAX_DOCUMENT_CHARS

    if not path.is_file():
        raise DeriveError(f"no such file: {path}")
    if path.stat().st_size > 4 * MAX_DOCUMENT_CHARS:  # before reading it: a document, not a disk image
        raise DeriveError(f"{path} has {path.stat().st_size:,} bytes; a solution of at most "
                          f"{MAX_DOCUMENT_CHARS:,} characters is read")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DeriveError(f"{path} is not UTF-8 text (byte {exc.start}); is it a PDF or a Word file? "
                          "give the Markdown or LaTeX source") from None


def _write(report: Path, text: str, solution: Path) -> None:
    """The report written whole or not at all (a temporary file renamed into place)."""
    if report.resolve() == solution.resolve():
        raise DeriveError(f"-o {report} is the solution itself; choose another file for the report")
    if not report.parent.is_dir():
        raise DeriveError(f"no such folder for the report: {report.parent}")
    fd, tmp = tempfile.mkstemp(dir=report.parent, prefix=f".{report.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, report)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _audit(args) -> int:
    from derive.audit.audit import audit
    from derive.audit.report import render
    from derive.sheets import load, resolve

    fmt = "json" if args.json else args.format
    if args.output is not None and args.output.resolve() == args.solution.resolve():
        raise DeriveError(f"-o {args.output} is the solution itself; choose another file for the report")
    sheet = load(resolve(args.sheet))
    text = _read(args.solution)
    result = audit(text, sheet, document=str(args.solution), fmt=args.document_format)
    out = render(result, fmt)
    if args.output is None:
        print(out, end="")
    else:
        _write(args.output, out, args.solution)
        print(f"{result.summary['claims']} claims, {result.summary['incorrect']} incorrect. Report: {args.output}")
    return result.exit_code


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "audit", help="check every claim of a written solution (Markdown or LaTeX) against a sheet",
        description="Reads every equation of SOLUTION, ties it to a question of SHEET and checks it: derivatives "
                    "with the answer checker, printed numbers against the worked example at their printed "
                    "precision. Exit 0 when no claim is incorrect, 1 otherwise, 2 for invalid input.")
    p.add_argument("solution", type=Path, help="the written solution: a .md or .tex file")
    p.add_argument("--sheet", required=True, help="the problem set it answers: a bundled sheet's name or a .toml file")
    p.add_argument("--format", choices=FORMATS, default="text", help="text (default), md or json")
    p.add_argument("--json", action="store_true", help="the same as --format json")
    p.add_argument("--document-format", choices=("md", "tex"), default=None,
                   help="how to read SOLUTION (default: LaTeX if it has \\documentclass or \\section, else Markdown)")
    p.add_argument("-o", "--output", type=Path, help="write the report here instead of printing it")
    p.set_defaults(run=_audit)
