"""Reading a sheet file (TOML): the file, the line and the problem in one line when it is wrong."""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from derive import limits
from derive.errors import DeriveError
from derive.model import FORMS
from derive.sheets.markup import StatementError, check_statement
from derive.sheets.model import KINDS, Part, Question, Sheet, Where

SHEET_KEYS = ("title", "course", "preamble", "names", "questions")
QUESTION_KEYS = ("title", "statement", "parts")
PART_KEYS = ("statement", *KINDS, "wrt", "form", "scale", "numeric", "solution", "remark", "code", "seed")
SEED_KEYS = ("line", "claim")
MAX_SEED_CLAIM = 2_000  # as `derive check` reads at most this much of one answer
MODULE_KEYS = ("name", "title", "output", "expr", "inputs", "shapes", "sizes", "kind", "named")
IDENTITY_KEYS = ("lhs", "rhs", "shapes")
TEXT_KEYS = ("preamble", "statement", "solution", "remark")
MAX_BYTES = 1_000_000


class SheetError(DeriveError):
    """`path:line: problem` — one line, exit 2."""

    def __init__(self, where: Where, problem: str):
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")


def locate(text: str) -> dict:
    """The line of each table and key: ("questions", 0, "parts", 1, "wrt") -> 23.

    TOML readers keep no positions, so the file is scanned for headers and `key =` lines;
    multi-line strings are skipped so a statement cannot fake a header.
    """
    lines: dict = {}
    counts: dict = {}
    prefix: tuple = ()
    in_string = None
    for n, line in enumerate(text.splitlines(), 1):
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        m = _HEADER.match(line)
        if m:
            names = [s.strip().strip("\"'") for s in m.group(2).split(".")]
            path: list = []
            for depth, name in enumerate(names):
                path.append(name)
                if depth == len(names) - 1 and m.group(1) == "[[":
                    key = tuple(path)
                    counts[key] = counts.get(key, -1) + 1
                    # entries of any deeper array restart for this new entry
                    for k in list(counts):
                        if len(k) > len(key) and k[: len(key)] == key:
                            del counts[k]
                    path.append(counts[key])
                elif tuple(path) in counts:
                    path.append(counts[tuple(path)])
            prefix = tuple(path)
            lines.setdefault(prefix, n)
            continue
        m = _KEY.match(line)
        if m:
            lines.setdefault(prefix + (m.group(1).strip("\"'"),), n)
            rest = line[m.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_string = quote
    return lines


class _Locator:
    def __init__(self, path: Path, lines: dict):
        self.path, self.lines = path, lines

    def __call__(self, *keys) -> Where:
        """The line of the deepest of `keys` the scan found."""
        for end in range(len(keys), 0, -1):
            if keys[:end] in self.lines:
                return Where(self.path, self.lines[keys[:end]])
        return Where(self.path, 1)


def load(path: str | Path) -> Sheet:
    """The sheet in `path`; SheetError (`path:line: problem`) if it is malformed."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DeriveError(f"cannot read sheet {path}: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise SheetError(Where(path, 1), f"file larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SheetError(Where(path, raw[: exc.start].count(b"\n") + 1), "not UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line = int(m.group(1)) if m else 1
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "invalid TOML"
        raise SheetError(Where(path, line), f"invalid TOML: {problem}") from None
    return from_dict(data, path, _Locator(path, locate(text)))


def _unknown(at: Where, key: str, allowed) -> SheetError:
    return SheetError(at, f"unknown key {key!r}; choose from: {', '.join(allowed)}")


def _text(value, at: Where, key: str) -> str:
    if not isinstance(value, str):
        raise SheetError(at, f"{key} must be a string")
    return value


def _line(value, at: Where, key: str) -> str:
    """A title: one line of text, at most 200 characters (a newline would end a Markdown heading)."""
    value = _text(value, at, key)
    if len(value) > 200 or re.search(r"[\x00-\x1f\x7f]", value):
        raise SheetError(at, f"{key} must be one line of at most 200 characters")
    return value


def _checked_text(value, loc, keys: tuple) -> str:
    """A Markdown field; its math is checked now, so the error names the line."""
    at = loc(*keys)
    value = textwrap.dedent(_text(value, at, keys[-1])).strip("\n")
    try:
        check_statement(value)
    except StatementError as exc:
        # A multi-line string starts on the line after `key = """`.
        offset = exc.line if '\n' in value else 0
        raise SheetError(Where(at.path, at.line + offset), exc.message) from None
    return value


def from_dict(data: dict, path: Path, loc) -> Sheet:
    for key in data:
        if key not in SHEET_KEYS:
            raise _unknown(loc(key), key, SHEET_KEYS)
    if "title" not in data:
        raise SheetError(Where(path, 1), "a sheet needs a title")
    questions = data.get("questions", [])
    if not isinstance(questions, list) or not questions:
        raise SheetError(loc("questions"), "a sheet needs at least one [[questions]] table")
    names = _names(data.get("names", {}), loc)
    sheet = Sheet(
        name=path.stem,
        title=_line(data["title"], loc("title"), "title"),
        course=_line(data.get("course", ""), loc("course"), "course"),
        preamble=_checked_text(data.get("preamble", ""), loc, ("preamble",)),
        questions=tuple(_question(q, n, loc) for n, q in enumerate(questions)),
        path=path,
        names=names,
        names_at={k: loc("names", k) for k in names},
    )
    if not names:
        return sheet
    return replace(sheet, questions=tuple(replace(q, parts=tuple(replace(p, names=names) for p in q.parts))
                                          for q in sheet.questions))


_NAME_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,15}$")


def _names(table, loc) -> dict:
    """[names]: the homework's own names, each key a quantity (s1, yhat, delta2), a family (S, W) or
    `cost`, each value a name in derive.model.notation's notation; checked against a network when built."""
    from derive.model.notation import WRITTEN_HELP, written

    if not isinstance(table, dict):
        raise SheetError(loc("names"), 'names must be a table such as [names] with s1 = "z_1", cost = "L"')
    for key, value in table.items():
        at = loc("names", key)
        if not _NAME_KEY.match(key):
            raise SheetError(at, f"names: {key!r} is not a quantity; use a name such as s1, z1, yhat, "
                             "delta2, a family such as S or W, or cost")
        spellings = value if isinstance(value, list) and value else [value]  # the printed one, then others read
        if not all(isinstance(v, str) for v in spellings):
            raise SheetError(at, f'names: {key} must be a string such as "z_1", or a list of them (the first is '
                             'printed, the others are also read in answers)')
        for v in spellings:
            try:
                written(v)
            except ValueError:
                raise SheetError(at, f"names: {key} = {v!r} is not a name; write {WRITTEN_HELP}") from None
    return dict(table)


def _question(q, n: int, loc) -> Question:
    here = ("questions", n)
    if not isinstance(q, dict):
        raise SheetError(loc(*here), "each entry of questions must be a table")
    part_keys = [k for k in q if k in PART_KEYS and k != "statement"]
    for key in q:
        if key not in QUESTION_KEYS and key not in PART_KEYS:
            raise _unknown(loc(*here, key), key, QUESTION_KEYS + PART_KEYS)
    if "parts" in q and part_keys:
        raise SheetError(loc(*here, part_keys[0]), f"{part_keys[0]} belongs in a part when the question has parts")
    if "parts" in q:
        if not isinstance(q["parts"], list) or not q["parts"]:
            raise SheetError(loc(*here, "parts"), "parts must be a non-empty list of tables")
        if len(q["parts"]) > limits.MAX_PARTS:
            raise SheetError(loc(*here, "parts"), f"a question has at most {limits.MAX_PARTS} parts, (a) to (z); "
                             f"this one has {len(q['parts'])}: split it into questions")
        parts = tuple(_part(p, here + ("parts", m), loc) for m, p in enumerate(q["parts"]))
        statement = q.get("statement", "")
    else:  # a question with one unlettered part
        parts = (_part({k: v for k, v in q.items() if k not in ("title", "statement")}, here, loc),)
        statement = q.get("statement", "")
    return Question(
        title=_line(q.get("title", ""), loc(*here, "title"), "title"),
        statement=_checked_text(statement, loc, here + ("statement",)),
        parts=parts,
        where=loc(*here),
    )


def _part(p, here: tuple, loc) -> Part:
    if not isinstance(p, dict):
        raise SheetError(loc(*here), "each part must be a table")
    for key in p:
        if key not in PART_KEYS:
            raise _unknown(loc(*here, key), key, PART_KEYS)
    kinds = [k for k in KINDS if k in p]
    if len(kinds) > 1:
        raise SheetError(loc(*here, kinds[1]), f"a part derives one thing; it has both {kinds[0]} and {kinds[1]}")
    kind = kinds[0] if kinds else "prose"
    fields = {k: loc(*here, k) for k in p}
    wrt = p.get("wrt", [])
    if isinstance(wrt, str):
        wrt = [wrt]
    if not isinstance(wrt, list) or not all(isinstance(w, str) for w in wrt):
        raise SheetError(fields["wrt"], "wrt must be a name or a list of names")
    form = p.get("form")  # not given: index form first for a module, both forms for a network
    if form is not None and form not in FORMS:
        raise SheetError(fields["form"], f"unknown form {form!r}; choose one of: {', '.join(FORMS)}")
    try:
        scale = limits.scale(p.get("scale", 1))
    except DeriveError as exc:
        raise SheetError(fields["scale"], exc.message) from None
    if kind == "target" and not isinstance(p["target"], str):
        raise SheetError(fields["target"], "target must be a registry name such as \"softmax\"")
    for key, allowed in (("module", MODULE_KEYS), ("identity", IDENTITY_KEYS)):
        if key in p:
            if not isinstance(p[key], dict):
                raise SheetError(fields[key], f"{key} must be a table")
            for k in p[key]:
                if k not in allowed:
                    raise _unknown(loc(*here, key, k), k, allowed)
    if "network" in p and not isinstance(p["network"], str):
        raise SheetError(fields["network"], "network must be a chain such as \"affine>relu>affine>mse\"")
    if "numeric" in p and not isinstance(p["numeric"], dict):
        raise SheetError(fields["numeric"], "numeric must be a table such as { x = [1.0, 2.0], beta = 2 }")
    if kind == "prose" and not p.get("solution") and not p.get("code"):
        raise SheetError(loc(*here), "a part needs something to derive (target, module, network, identity) "
                         "or a written solution")
    return Part(
        statement=_checked_text(p.get("statement", ""), loc, here + ("statement",)),
        where=loc(*here),
        kind=kind,
        target=p.get("target"),
        wrt=tuple(wrt),
        form=form,
        scale=scale,
        module=p.get("module"),
        network=p.get("network"),
        identity=p.get("identity"),
        numeric=p.get("numeric"),
        solution=_checked_text(p.get("solution", ""), loc, here + ("solution",)),
        remark=_checked_text(p.get("remark", ""), loc, here + ("remark",)),
        code=_code(p.get("code", ""), loc(*here, "code")),
        seed=_seed(p.get("seed", []), loc, here),
        fields=fields,
    )


def _seed(value, loc, here) -> tuple:
    """[[questions.parts.seed]] tables: the line of a seed homework's claim and the claim (LaTeX)."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SheetError(loc(*here, "seed"), "seed must be tables [[questions.parts.seed]] with line and claim")
    out = []
    for n, v in enumerate(value):
        for k in v:
            if k not in SEED_KEYS:
                raise _unknown(loc(*here, "seed", n, k), k, SEED_KEYS)
        line, claim = v.get("line"), v.get("claim")
        if not isinstance(line, int) or isinstance(line, bool) or line < 1:
            raise SheetError(loc(*here, "seed", n), "a seed claim needs line, a line number such as 40")
        if not isinstance(claim, str) or "=" not in claim or len(claim) > MAX_SEED_CLAIM:
            raise SheetError(loc(*here, "seed", n), f"a seed claim needs claim, an equation in LaTeX of at most "
                             f"{MAX_SEED_CLAIM:,} characters")
        out.append((line, claim))
    return tuple(out)


def _code(value, at: Where) -> str:
    code = textwrap.dedent(_text(value, at, "code")).strip("\n")
    if re.search(r"\\end\s*\{\s*lstlisting\s*\}", code):
        raise SheetError(at, "code may not contain \\end{lstlisting}")
    return code
