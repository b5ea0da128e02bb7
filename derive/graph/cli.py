"""`derive graph FILE`: a graph sheet (derive.graph.sheet) derived, checked and written out."""

from __future__ import annotations

import argparse
from pathlib import Path

from derive.errors import DeriveError

FORMATS = ("text", "md", "tex")


def register(sub) -> None:
    from derive.limits import add_time_limit

    p = sub.add_parser("graph", help="a computation graph or gate circuit from a TOML sheet: backprop, "
                                     "code, worked example, picture")
    p.add_argument("file", nargs="?", default="", help="a graph sheet (.toml) or a bundled one by name (residual, rnn_bptt, …); see README, "
                                "'Computation graphs'")
    p.add_argument("--all", action="store_true", help="every bundled graph sheet (with -o)")
    p.add_argument("--format", choices=(*FORMATS, "numpy", "dot"), default="text",
                   help="text, md or tex to stdout (or files with -o); numpy: the generated code; dot: the "
                        "picture's Graphviz source")
    p.add_argument("-o", "--output", help="write FILE.md (with its SVG picture) and FILE.tex into this folder")
    add_time_limit(p, "the graph's derivation and its checks")
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from derive import limits
    from derive.graph import sheet as sheets

    if args.all:
        if not args.output:
            raise DeriveError("--all writes files: give -o FOLDER")
        for name in sheets.bundled():
            s = sheets.load(name)
            with limits.time_limit(f"graph sheet {name}"):
                solved = sheets.solve(s)
            _write(s, solved, Path(args.output), name)
        return 0
    if not args.file:
        raise DeriveError("give a graph sheet (.toml) or a bundled one by name: " + ", ".join(sheets.bundled()))
    s = sheets.load(args.file)
    with limits.time_limit(f"graph sheet {args.file}"):
        solved = sheets.solve(s)
    if args.format == "numpy":
        if s.is_circuit:
            raise DeriveError("a circuit has no generated code; use --format text, md or tex")
        print(solved["numpy"], end="")
        return 0
    if args.format == "dot":
        print(solved["dot"], end="")
        return 0
    if args.output:
        return _write(s, solved, Path(args.output), sheets.resolve(args.file).stem)
    if args.format == "md":
        print(sheets.markdown(s, solved, None), end="")
    elif args.format == "tex":
        print(sheets.tex(s, solved), end="")
    else:
        print(solved["circuit"].text() if s.is_circuit else _text(solved), end="")
    return 0


def _text(solved: dict) -> str:
    out = solved["derivation"].text()
    if "example" in solved:
        out += "\n" + solved["example"].text()
    return out


def _write(s, solved: dict, folder: Path, stem: str) -> int:
    """Every file made in memory first, then written, so a failure leaves nothing half-written."""
    from derive.graph import sheet as sheets
    from derive.graph.picture import svg

    picture = svg(solved["dot"])
    files = {f"{stem}.svg": picture, f"{stem}.md": sheets.markdown(s, solved, f"{stem}.svg"),
             f"{stem}.tex": sheets.tex(s, solved)}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, body in files.items():
            tmp = folder / f".{name}.tmp"
            tmp.write_text(body, encoding="utf-8")
            tmp.replace(folder / name)
    except OSError as exc:
        raise DeriveError(f"cannot write into {folder}: {exc.strerror}") from None
    for name in files:
        print(folder / name)
    return 0
