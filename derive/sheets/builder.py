"""From a sheet to its solution: every part derived once, then rendered as Markdown and LaTeX.

Solving (derivations, proofs, numbers) happens here; rendering only reads the results,
through `templates/sheet.{md,tex}.j2` and the partials, which `--templates DIR` can override.
"""

from __future__ import annotations

import os
import string
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from derive.errors import DeriveError
from derive.sheets.loader import SheetError
from derive.sheets.markup import to_markdown, to_tex
from derive.sheets.model import Part, Sheet
from derive.sheets.names import check_names, layer_cost, notation_rows

FORMATS = ("md", "tex")


@dataclass
class Solved:
    """What a part's answer is made of, before rendering."""

    part: Part
    derivations: list = field(default_factory=list)  # derive.steps.Derivation
    proof: dict | None = None  # {"lhs", "rhs", "steps"} as SymPy objects
    numeric: list = field(default_factory=list)  # per derivation: tables
    network: object = None
    missing: str = ""  # what could not be produced, said in the sheet
    requests: list = field(default_factory=list)  # per derivation: its cache request, or None
    printed: list = field(default_factory=list)  # per derivation: its LaTeX, printed once for every format


@dataclass
class Built:
    sheet: Sheet
    outputs: dict  # fmt -> text
    warnings: list


def _at(part: Part, key: str):
    return part.fields.get(key, part.where)


def _derivation(part: Part, wrt, verify: bool = True):
    from derive.api import derivative

    if part.kind == "module":
        from derive.sheets.custom import module_definition

        try:
            target = module_definition(part.module)
        except DeriveError as exc:
            raise SheetError(_at(part, "module"), exc.message) from None
    else:
        target = part.target
    cost = layer_cost(part)
    if cost:  # the homework's name for the cost: the layer is derived with it (∂L/∂W, not ∂C/∂W)
        from dataclasses import replace

        from derive.definitions import get

        target = replace(target if part.kind == "module" else get(target), upstream=cost)
    try:
        return derivative(target, wrt=wrt, scale=part.scale, verify=verify)
    except DeriveError as exc:
        raise SheetError(_at(part, "wrt" if "variable" in exc.message else part.kind), exc.message) from None
    except Exception as exc:  # noqa: BLE001  (the engine's limits, said as one line with the place)
        raise SheetError(_at(part, part.kind), f"cannot derive this {part.kind} with respect to "
                         f"{wrt}: {type(exc).__name__}: {' '.join(str(exc).split())}") from None


def _request(part: Part, wrt) -> dict | None:
    """What a derivation depends on besides the package's source: the cache key's request.

    None (not cached) for a target registered at run time, which the source does not fix.
    """
    from derive import cache

    if part.kind == "module":
        what = {"module": part.module}
    elif isinstance(part.target, str) and cache.builtin(part.target):
        what = {"target": part.target}
    else:
        return None
    cost = layer_cost(part)
    return cache.derivation_request({**what, "cost": cost} if cost else what, wrt, part.scale)


def _derivations(part: Part, verify: bool = True) -> list:
    """The derivation for each `wrt`, checked (its `.report`) unless `verify` is False; checked ones
    come from the cache. A result the checks reject is never printed: it is a SheetError here."""
    from derive import cache

    wrts = part.wrt or (None,)
    if not verify:
        return [_derivation(part, wrt, verify=False) for wrt in wrts]
    return [cache.cached("derivation", _request(part, wrt), lambda wrt=wrt: _derivation(part, wrt)) for wrt in wrts]


def _proof(part: Part) -> dict:
    from derive.sheets.indexexpr import parse_index_expr

    spec = part.identity
    for key in ("lhs", "rhs"):
        if key not in spec:
            raise SheetError(_at(part, "identity"), f"an identity needs {key}")
    shapes = spec.get("shapes", {})
    try:
        lhs = parse_index_expr(spec["lhs"], shapes)
        rhs = parse_index_expr(spec["rhs"], shapes)
    except DeriveError as exc:
        raise SheetError(_at(part, "identity"), exc.message) from None
    try:
        from derive.calculus.identity import prove
    except ModuleNotFoundError as exc:
        if exc.name != "derive.calculus.identity":
            raise
        return {"lhs": lhs, "rhs": rhs, "steps": None}
    try:
        result = prove(lhs, rhs)
    except DeriveError as exc:
        raise SheetError(_at(part, "identity"), exc.message) from None
    steps = getattr(result, "steps", result)
    return {"lhs": lhs, "rhs": rhs, "steps": list(steps)}


def _numeric(part: Part, derivations: list) -> list:
    from derive import cache
    from derive.sheets.numeric import module_tables

    def fresh(d):
        try:
            return module_tables(d, part.numeric)
        except DeriveError as exc:
            raise SheetError(_at(part, "numeric"), exc.message) from None

    request = _request(part, None)
    return [cache.cached("numeric", request and {**request, "wrt": d.wrt, "numeric": part.numeric},
                         lambda d=d: fresh(d)) for d in derivations]


def _network(part: Part):
    from derive import cache
    from derive.sheets.network import solve_network

    def fresh():
        try:
            return solve_network(part)
        except DeriveError as exc:
            raise SheetError(_at(part, "numeric" if "numeric" in exc.message else "network"), exc.message) from None

    return cache.cached("network", network_request(part), fresh)


def network_request(part: Part) -> dict | None:
    """A network part's cache request; None (not cached) for a chain with a module registered at run time."""
    from derive import cache

    if not (isinstance(part.network, str) and cache.builtin(part.network)):
        return None
    request = {"network": part.network, "wrt": part.wrt, "numeric": part.numeric}
    return {**request, "names": part.names} if part.names else request


def solve(sheet: Sheet, *, verify: bool = True) -> tuple[list, list]:
    """Each question's parts solved: ([[Solved, …], …], warnings)."""
    check_names(sheet)
    solved, warnings = [], []
    for q in sheet.questions:
        row = []
        for part in q.parts:
            s, said = solve_part(part, verify=verify)
            row.append(s)
            warnings += said
        solved.append(row)
    return solved, warnings


def solve_part(part: Part, *, verify: bool = True) -> tuple[Solved, list]:
    """One part's derivations, proof, network or numbers, each from the cache when it is there;
    TimeLimitError naming the part after the time limit (derive/limits.py)."""
    from derive import limits

    with limits.time_limit(f"{part.where}: this part"):
        return _solve_part(part, verify)


def _solve_part(part: Part, verify: bool) -> tuple[Solved, list]:
    from derive import cache

    s, warnings = Solved(part), []
    if part.kind in ("target", "module"):
        s.derivations = _derivations(part, verify)
        s.requests = [_request(part, w) if verify else None for w in part.wrt or (None,)]
        if part.numeric:
            s.numeric = _numeric(part, s.derivations)
        for d in s.derivations:
            if d.matrix_refused is not None:
                from derive.render.show import refusal

                warnings.append(f"{part.where}: {refusal(d)}")
            elif part.form == "matrix" and d.matrix is None:
                warnings.append(f"{part.where}: {d.target} with respect to {d.wrt} has no matrix form; "
                                "showing the index form")
    elif part.kind == "identity":
        s.proof = cache.cached("identity", part.identity, lambda: _proof(part))
        if s.proof["steps"] is None:
            s.missing = "proof"
            warnings.append(f"{part.where}: derive.calculus.identity is not available; "
                            "the identity is stated without its proof")
    elif part.kind == "network":
        s.network = _network(part)
    return s, warnings


def print_derivations(s: Solved) -> list:
    """Each derivation's LaTeX (the same for every format), printed once; cached when it can be."""
    from derive import cache

    if len(s.printed) != len(s.derivations):
        from derive import limits

        requests = s.requests or [None] * len(s.derivations)
        with limits.time_limit(f"{s.part.where}: printing this part"):
            s.printed = [cache.cached("printed", r, lambda d=d: _printed(d)) for d, r in zip(s.derivations, requests)]
    return s.printed


# ---------------------------------------------------------------- rendering


def _text(fmt: str, text: str) -> Markup:
    return to_tex(text) if fmt == "tex" else to_markdown(text)


def _math(expr) -> Markup:
    from derive.render.printer import latex

    return Markup(latex(expr))


def _printed(d) -> dict:
    """What the derivation partials read, as LaTeX: the same for Markdown and TeX."""
    from derive.render.printer import latex
    from derive.render.show import context

    return {**context(d), "wrt_latex": Markup(latex(d.definition.var(d.wrt).symbol))}


def _derivation_block(printed: dict, fmt: str, override: str | None, form: str) -> Markup:
    from derive.render.environment import render

    name = "partials/sheet_derivation.tex.j2" if fmt == "tex" else "partials/derivation.md.j2"
    return Markup(render(name, fmt, override, **printed, form=form).strip())


def _network_blocks(part: Part, answer, fmt: str, override: str | None, edition: str = "ta") -> list:
    """The network's rendered blocks; with the bundled templates they are cached, printed once."""
    if answer is None:
        return []
    from derive import cache
    from derive.sheets.network import render_network

    request = {"network": part.network, "wrt": part.wrt, "numeric": part.numeric, "format": fmt, "form": part.form,
               "edition": edition, **({"names": part.names} if part.names else {})}
    if override or not (isinstance(part.network, str) and cache.builtin(part.network)):
        request = None
    blocks = cache.cached("network_blocks", request,
                          lambda: [str(b) for b in render_network(answer, fmt, override, part.form, edition)])
    return [Markup(b) for b in blocks]


def _proof_context(proof: dict) -> dict:
    steps = None
    if proof["steps"] is not None:
        from derive.render.printer import latex
        from derive.render.show import step_lines

        lhs = latex(proof["lhs"])
        steps = [{"latex": _math(getattr(s, "after", s)), "reason": getattr(s, "reason", ""),
                  "rule": getattr(s, "rule", ""), "lines": step_lines(getattr(s, "after", s), lhs)}
                 for s in proof["steps"]]
    rhs = _math(proof["rhs"])
    ends = bool(steps) and str(steps[-1]["latex"]) == str(rhs)
    return {"lhs": _math(proof["lhs"]), "rhs": rhs, "steps": steps, "ends_at_rhs": ends}


EDITIONS = ("ta", "solutions", "exercises")  # the TA's copy, the students' solutions, the questions only


def context(sheet: Sheet, solved: list, fmt: str, override: str | None = None, edition: str = "ta") -> dict:
    """Everything the sheet template reads, for one format and one edition (EDITIONS): the students'
    solutions leave out what the tool says about its own checks, the exercises every answer."""
    from derive.render.environment import render
    from derive.verify import check_note

    ext = "tex" if fmt == "tex" else "md"
    questions = []
    for n, (q, row) in enumerate(zip(sheet.questions, solved), 1):
        parts = []
        lettered = len(q.parts) > 1 or bool(q.parts[0].statement)
        for m, s in enumerate(row):
            p = s.part
            blocks = [_derivation_block(c, fmt, override, p.form if p.form and d.matrix is not None else "index")
                      for c, d in zip(print_derivations(s), s.derivations)]
            notes = [check_note(d) if edition == "ta" else None for d in s.derivations]
            tables = [Markup(render(f"partials/value_table.{ext}.j2", fmt, override, tables=t).strip())
                      for t in s.numeric]
            proof = None
            if s.proof is not None:
                proof = Markup(render(f"partials/proof.{ext}.j2", fmt, override,
                                      **_proof_context(s.proof)).strip())
            parts.append({
                "label": string.ascii_lowercase[m] if lettered else "",
                "statement": _text(fmt, p.statement),
                "solution": _text(fmt, p.solution),
                "remark": _text(fmt, p.remark),
                "code": p.code,
                "fence": _fence(p.code),
                "derivations": [{"block": b, "check": c, "numeric": t}
                                for b, c, t in zip(blocks, notes, tables + [None] * len(blocks))],
                "proof": proof,
                "network": _network_blocks(p, s.network, fmt, override, edition),
                "missing": s.missing,
            })
        questions.append({"number": n, "title": _plain(fmt, q.title), "statement": _text(fmt, q.statement),
                          "parts": parts})
    return {"title": _plain(fmt, sheet.title), "course": _plain(fmt, sheet.course),
            "preamble": _text(fmt, sheet.preamble), "questions": questions, "name": sheet.name,
            "edition": edition, "notation": notation_rows(sheet, fmt, _text)}


def _plain(fmt: str, text: str):
    """A title: escaped for TeX by the template's finalize hook, its raw HTML made text for Markdown."""
    from derive.sheets.markup import markdown_text

    return text if fmt == "tex" else markdown_text(text)


def _fence(code: str) -> str:
    """A Markdown fence longer than any run of backticks in `code`, so the code cannot close it."""
    import re

    return "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", code)), default=0))


def build(sheet: Sheet, *, formats=FORMATS, override: str | None = None, verify: bool = True,
          edition: str = "ta") -> Built:
    """The sheet rendered in each of `formats` (md, tex), as the `edition` (EDITIONS) asks."""
    from derive.render.environment import render

    solved, warnings = solve(sheet, verify=verify)
    outputs = {}
    for fmt in formats:
        text = render(f"sheet.{fmt}.j2", fmt, override, **context(sheet, solved, fmt, override, edition))
        outputs[fmt] = text.rstrip() + "\n"
    return Built(sheet, outputs, warnings)


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `path` whole or not at all: a temporary file in the same folder, then a rename.
    DeriveError (one line) if it cannot be written; what was there before is left as it was."""
    path = Path(path)
    check_name(path)
    output_folder(path.parent)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".derive-", suffix=".tmp", dir=path.parent)  # short: any name fits
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise DeriveError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def output_folder(folder: Path, make: bool = True) -> Path:
    """`folder`, made if missing (with `make`); DeriveError (one line) if it, or the nearest folder
    above it that exists, is a file or cannot be written."""
    folder = Path(folder)
    there = folder
    while not os.path.lexists(there) and there != there.parent:
        check_name(there)
        there = there.parent
    if not os.path.isdir(there):
        raise DeriveError(f"the output {there} is a file, not a folder; name a folder with -o")
    try:  # the only sure test (root passes every permission check; a read-only file system does not)
        fd, probe = tempfile.mkstemp(prefix=".derive-", suffix=".tmp", dir=there)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise DeriveError(f"cannot write in the output folder {there}: {exc.strerror or exc}") from None
    if make:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeriveError(f"cannot make the output folder {folder}: {exc.strerror or exc}") from None
    return folder


def check_name(path: Path) -> None:
    """DeriveError if the file name is longer than the file system allows (about 255 bytes)."""
    try:
        name_max = os.pathconf(path.parent if os.path.isdir(path.parent) else ".", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    if len(os.fsencode(Path(path).name)) > name_max:
        raise DeriveError(f"cannot write {Path(path).name[:40]}…: a name in a path is at most {name_max} bytes")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
