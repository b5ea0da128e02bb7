"""`derive sheet NAME|FILE… [--all] [-o DIR] [--format md,tex,pdf] [--edition ta,solutions,exercises]
[--templates DIR]`."""

from __future__ import annotations

import sys
from pathlib import Path

from derive import limits
from derive.errors import DeriveError
from derive.network.chain import builtin

ALL_FORMATS = ("md", "tex", "pdf")


def _listed(text: str, choices: tuple, what: str) -> tuple:
    """A comma list of `what`s, each one of `choices` (once each, in the order given)."""
    chosen = tuple(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    for c in chosen:
        if c not in choices:
            raise DeriveError(f"unknown {what} {c!r}; choose from: {', '.join(choices)}")
    if not chosen:
        raise DeriveError(f"no {what} given; choose from: {', '.join(choices)}")
    return chosen


def _formats(text: str) -> tuple:
    return _listed(text, ALL_FORMATS, "format")


def _editions(text: str) -> tuple:
    from derive.sheets.builder import EDITIONS

    return _listed(text, EDITIONS, "edition")


def stem(sheet, edition: str = "ta") -> str:
    """The file name of an edition: NAME for the TA's copy, NAME-solutions, NAME-exercises."""
    return sheet.name if edition == "ta" else f"{sheet.name}-{edition}"


def _jobs(text: str) -> int:
    import argparse

    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a number of processes: {text!r}; choose 1 or more")
    return int(text)


def run(args) -> int:
    from derive.sheets import bundled, resolve
    from derive.sheets.ahead import solve_ahead
    from derive.sheets.loader import load
    from derive.sheets.pdf import HINT, TexError, available, source_date_epoch

    formats = _formats(args.format)
    editions = _editions(args.edition)
    names = list(args.sheets)
    if args.all:
        names += [n for n in bundled() if n not in names]
    if not names:
        raise DeriveError(f"name a sheet or pass --all; bundled sheets: {', '.join(bundled())}")
    if args.templates and not Path(args.templates).is_dir():
        raise DeriveError(f"--templates {args.templates}: not a folder")
    out = Path(args.output)
    sheets = [load(resolve(n)) for n in names]  # every file read before anything is written
    no_tex = "pdf" in formats and not available()
    want_pdf = "pdf" in formats and not no_tex
    check_output(out, sheets, formats, editions)  # and the output checked before any work
    if want_pdf:
        source_date_epoch()
    try:
        solve_ahead(sheets, args.templates, args.jobs)
        status = 0
        for sheet in sheets:
            for edition in editions:
                try:
                    for path in write_sheet(sheet, out,
                                            formats if want_pdf else tuple(f for f in formats if f != "pdf"),
                                            args.templates, edition=edition,
                                            warn=lambda w: print(f"derive: warning: {w}", file=sys.stderr)):
                        print(path)
                except TexError as exc:
                    print(f"derive: {exc.message}", file=sys.stderr)
                    status = 1
    finally:
        limits.expired.clear()
    if no_tex:  # last: a sheet that fails is one line, not a hint and its error
        print(f"derive: {HINT}", file=sys.stderr)
    return status


def write_sheet(sheet, out: Path, formats=("md", "tex"), templates: str | None = None, warn=None,
                edition: str = "ta") -> list:
    """Render `sheet` into `out` (each file written atomically); the paths written, in order.
    `edition`: ta (NAME.md, today's TA copy), solutions (NAME-solutions.md: no notes of the tool's own
    checks, no footer) or exercises (NAME-exercises.md: the questions only).

    A TeX failure raises TexError after the Markdown and LaTeX are in place and leaves no PDF (an
    older one is removed: it would not match them). An output that cannot be written is said
    before any work.
    """
    from derive import cache
    from derive.sheets.builder import build
    from derive.sheets.files import write_atomic
    from derive.sheets.pdf import TexError, compile_pdf

    _editions(edition)
    check_output(out, [sheet], formats, (edition,))

    def fresh():
        built = build(sheet, formats=("md", "tex"), override=templates, edition=edition)
        return built.outputs, built.warnings, built.pictures

    request = sheet_request(sheet, templates)
    outputs, warnings, pictures = cache.cached("sheet", request and {**request, "edition": edition}, fresh)
    for w in warnings:
        if warn:
            warn(w)
    written = []
    if "md" in formats:  # the pictures first, so the Markdown never shows a missing one
        for name, svg in pictures.items():
            write_atomic(Path(out) / name, svg)
            written.append(Path(out) / name)
    for fmt in ("md", "tex"):
        if fmt in formats:
            path = Path(out) / f"{stem(sheet, edition)}.{fmt}"
            write_atomic(path, outputs[fmt])
            written.append(path)
    if "pdf" in formats:
        pdf = Path(out) / f"{stem(sheet, edition)}.pdf"
        try:
            written.append(compile_pdf(outputs["tex"], pdf, name=f"{stem(sheet, edition)}.tex"))
        except TexError:
            pdf.unlink(missing_ok=True)
            raise
    return written


def check_output(out: Path, sheets, formats, editions=("ta",)) -> None:
    """DeriveError (one line) unless every file the sheets give can be written into `out`."""
    from derive.sheets.files import check_name, output_folder

    output_folder(out, make=False)  # made when the first file is written, so a failed build leaves none
    for sheet in sheets:
        for edition in editions:
            for fmt in formats:
                check_name(Path(out) / f"{stem(sheet, edition)}.{fmt}")


def sheet_request(sheet, templates: str | None = None) -> dict | None:
    """The whole sheet is a function of its file, the engine's source and the bundled templates;
    None (not cached) with templates of one's own or a module registered at run time."""
    if templates or not _fixed_by_source(sheet):
        return None
    return {"sheet": sheet.name, "source": Path(sheet.path).read_text(encoding="utf-8")}


def _fixed_by_source(sheet) -> bool:
    """Whether the sheet names only built-in modules (one registered at run time is not in any key)."""

    names = [p.target if p.kind == "target" else p.network for q in sheet.questions for p in q.parts
             if p.kind in ("target", "network")]
    return all(isinstance(n, str) and builtin(n) for n in names)


def register(subparsers) -> None:
    p = subparsers.add_parser("sheet", help="render problem-set files as solution sheets (md, tex, pdf)")
    p.add_argument("sheets", nargs="*", metavar="NAME|FILE", help="a bundled sheet name or a .toml file")
    p.add_argument("--all", action="store_true", help="every bundled sheet")
    p.add_argument("-o", "--output", default="output", metavar="DIR", help="folder for the results (default output/)")
    p.add_argument("--format", default="md,tex,pdf", help="comma-separated: md, tex, pdf (default all three; "
                   "pdf only when latexmk is installed)")
    p.add_argument("--edition", default="ta", metavar="ta,solutions,exercises",
                   help="comma-separated: ta (default: worked solutions with the notes of what was checked), "
                   "solutions (for students: no notes of the tool's checks, no footer; NAME-solutions.*), "
                   "exercises (the questions only; NAME-exercises.*)")
    p.add_argument("--templates", metavar="DIR", help="a folder whose templates override the bundled ones; "
                   "templates are code (Jinja is not sandboxed): use only a folder you trust as you trust a script")
    p.add_argument("-j", "--jobs", type=_jobs, default=None, metavar="N",
                   help="solve parts in N processes ahead of rendering (default: one per core; 1: none)")
    limits.add_time_limit(p, "each part of a sheet")
    p.set_defaults(run=run)
