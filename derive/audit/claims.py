"""The claims of a written solution: every equation in its math, split the way a reader checks it.

- `a = b = c` is a chain: its head `a` is claimed equal to each later member, and each member to
  the one before it (`links`).
- The rows of `aligned`/`align` are read in order; a row that starts with `=` continues the
  previous row, and a display that starts with `=` continues the previous display.
- A right-hand side that is a `cases` block is one claim per case, with the case's condition;
  `… \\text{ for } i = j` keeps `i = j` as the condition rather than as another equation.
- `\\underbrace{X}_{…}` and `\\overbrace` are read as X; `\\tag`, `\\label`, `\\nonumber` and
  trailing punctuation are dropped.
Math that states no equation (a shape `X: d × N`, a membership, an inequality) gives no claim.
Nothing here judges a claim: `derive.audit.check` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from derive.audit.document import Math

MAX_CLAIM_CHARS = 2_000  # as `derive check` reads at most this much of one answer


@dataclass(frozen=True)
class Claim:
    """`lhs = rhs` as the document states it, on `line` under the headings `section`."""

    line: int
    lhs: str
    rhs: str
    section: tuple[str, ...] = ()
    condition: str = ""  # "i = j" for a case or a `\text{for}` clause
    previous: str = ""  # the member before `rhs` in a chain `lhs = previous = rhs` ("" when it is lhs)
    notes: tuple[str, ...] = field(default=())
    row: int = 0  # k for the output cell of row k of a forward table (its lhs: the row's label)

    @property
    def latex(self) -> str:
        text = f"{self.lhs} = {self.rhs}"
        return f"{text} \\quad \\text{{for }} {self.condition}" if self.condition else text


_OPEN = {"{": "}", "(": ")", "[": "]"}
_NOT_EQUATIONS = re.compile(r"\\(in|notin|subset|subseteq|leq?|geq?|to|rightarrow|mapsto|approx|sim|propto|implies"
                            r"|Rightarrow|iff)"
                            r"(?![A-Za-z])|[<>]")
_CASE_ALONE = re.compile(r"\s*([a-z])\s*(=|\\neq|\\ne|≠)\s*([a-z])\s*(?:\\implies|\\Rightarrow|,|:|\.)?\s*")
_INDEX_EQUALITY = re.compile(r"[a-z]\s*=\s*[a-z]\s*(\\implies|\\Rightarrow|:|,)?")
_CONDITION = re.compile(r"\\(?:text|mathrm|textrm)\{\s*(?:for|if|when|where)\b[^}]*\}|\\(?:quad|qquad)\s*"
                        r"(?:\\text\{\s*(?:for|if)\s*\}\s*)?(?=[a-z]\s*(?:=|\\neq|\\ne)\s*[a-z]\s*$)")


def claims_of(pieces: list[Math]) -> list[Claim]:
    """Every claim of the document's math, in order."""
    out: list[Claim] = []
    last: tuple[str, str] | None = None  # (head, last member) of the previous chain, for a leading "="
    pending = active = ""  # a case stated on its own ("if $i = j$,") and the chain it governs
    section = None
    for piece in pieces:
        if piece.section != section:  # a new heading ends any case
            section, pending, active = piece.section, "", ""
        if piece.row is not None:  # a forward table's output cell: the row's module outputs it
            out.append(Claim(piece.line, piece.row[1], _clean(piece.latex), piece.section, row=piece.row[0]))
            continue
        case = _CASE_ALONE.fullmatch(_clean(piece.latex))
        if case:
            pending = f"{case.group(1)} {'=' if case.group(2) == '=' else chr(92) + 'neq'} {case.group(3)}"
            continue
        for offset, row in [(o, r) for o, whole in _rows(_clean(piece.latex)) for r in _side_by_side(whole)]:
            row, condition = _condition(row)
            line = piece.line + offset
            members = [m.strip() for m in _split_top(row, "=")]
            continues = len(members) > 1 and not members[0] and last is not None
            # `∂A/∂B = 1 if z > 0 else 0` states a derivative, whatever relation its value is written with
            stated = len(members) > 1 and re.match(r"\\frac\s*\{\s*\\(partial|delta)(?![A-Za-z])", members[0])
            if len(members) < 2 or (_states_a_relation(row) and not stated) or any(not m for m in members[1:]):
                continue
            if _INDEX_EQUALITY.fullmatch(row.strip()) or "?" in members:
                continue  # "i = j" is a case being introduced, "= ?" a question being asked
            head, previous = (last[0], last[1]) if continues else (members[0], "")
            if not head:
                continue
            if not continues:  # a new chain: governed by a case stated just before it, else by none
                active, pending = pending, ""
            condition = condition or active
            for n, member in enumerate(members[1:], start=1):
                out.extend(_cases(piece, line, head, member, condition if n == len(members) - 1 else "", previous))
                previous = member
            last = (head, previous)
    return out


def _cases(piece: Math, line: int, head: str, rhs: str, condition: str, previous: str) -> list[Claim]:
    match = re.fullmatch(r"\\begin\{cases\}(.*)\\end\{cases\}", rhs.strip(), flags=re.DOTALL)
    if not match:
        return [Claim(line, head, rhs, piece.section, condition, "" if previous == head else previous)]
    claims = []
    for row in _split_top(match.group(1), "\\\\"):
        cells = _split_top(row, "&")
        if len(cells) >= 1 and cells[0].strip():
            cond = re.sub(r"\\text\{\s*(if|for|when|otherwise|else)?\s*\}", lambda m: "" if m.group(1) in (
                "if", "for", "when", None) else m.group(1), cells[1] if len(cells) > 1 else "").strip(" ,")
            claims.append(Claim(line, head, cells[0].strip(), piece.section, cond or "otherwise"))
    return claims


def _condition(member: str) -> tuple[str, str]:
    """`x_i (1 - x_i) \\text{ for } i = j` → ("x_i (1 - x_i)", "i = j")."""
    match = _CONDITION.search(member)
    if not match:
        return member.strip(), ""
    return member[:match.start()].strip().rstrip(","), member[match.end():].strip()


def _clean(latex: str) -> str:
    text = re.sub(r"\\(tag|label)\*?\{[^{}]*\}|\\nonumber|\\notag", "", latex)
    text = _unbrace(text, ("\\underbrace", "\\overbrace"))
    text = re.sub(r"\\(left|right|big|Big|bigg|Bigg)(?![A-Za-z])", "", text)
    return text.strip().rstrip(".,;").strip()


def _unbrace(text: str, macros: tuple[str, ...]) -> str:
    """`\\underbrace{X}_{note}` → `{X}`: the note is a remark, not part of the claim."""
    for macro in macros:
        while (start := text.find(macro + "{")) >= 0:
            end = matching_brace(text, start + len(macro))
            if end < 0:
                break
            rest = end + 1
            script = re.match(r"\s*[_^]\s*", text[rest:])
            if script:
                rest += script.end()
                rest = matching_brace(text, rest) + 1 if text[rest:rest + 1] == "{" else rest + 1
            text = text[:start] + text[start + len(macro):end + 1] + text[rest:]
    return text


def matching_brace(text: str, start: int) -> int:
    depth = 0
    for k in range(start, len(text)):
        if text[k] == "\\":
            continue
        if text[k] == "{" and (k == 0 or text[k - 1] != "\\"):
            depth += 1
        elif text[k] == "}" and text[k - 1] != "\\":
            depth -= 1
            if depth == 0:
                return k
    return -1


def _rows(latex: str) -> list[tuple[int, str]]:
    """The rows of an `aligned`-like block with how many lines each starts below the block's first."""
    match = re.fullmatch(r"\\begin\{(aligned|align\*?|split|gathered|eqnarray\*?)\}(.*)\\end\{\1\}", latex, re.DOTALL)
    if not match:
        return [(0, latex)]
    rows, start = [], match.start(2)
    for row in _split_top(match.group(2), "\\\\"):
        if row.strip():
            lead = len(row) - len(row.lstrip())
            rows.append((latex.count("\n", 0, start + lead), row.replace("&", " ").strip()))
        start += len(row) + 2
    return rows


_SPACED = re.compile(r"\s*(?:\\q?quad(?![A-Za-z])|\\[,;: ]|~)\s*")


def _side_by_side(row: str) -> list[str]:
    """`a = b, \\qquad c = d` and `L = …,\\ N = 4` as the equations they set side by side; a case's
    condition (`…, \\quad i = j`) stays with its equation."""
    out = []
    for part in _split_top(row, ","):
        spaced = _SPACED.match(part)
        rest = part[spaced.end():] if spaced else ""
        if out and spaced and "=" in rest and "=" in out[-1] and not _INDEX_EQUALITY.fullmatch(rest.strip()):
            out.append(rest)
        elif out:
            out[-1] += "," + part
        else:
            out.append(part)
    return out


def _split_top(text: str, sep: str) -> list[str]:
    """`text` split at `sep` where it stands outside every brace, bracket and environment."""
    parts, depth, env, start, k = [], 0, 0, 0, 0
    while k < len(text):
        if depth == 0 and env == 0 and text.startswith(sep, k):
            parts.append(text[start:k])
            k += len(sep)
            start = k
            continue
        if text[k] == "\\":
            env += text.startswith("\\begin{", k) - text.startswith("\\end{", k)
            k += 1
            if k < len(text) and text[k].isalpha():
                while k < len(text) and text[k].isalpha():
                    k += 1
            else:
                k += 1  # a control symbol such as \{ or \\ is one token
            continue
        if text[k] in "{([":
            depth += 1
        elif text[k] in "})]":
            depth = max(0, depth - 1)
        k += 1
    parts.append(text[start:])
    return parts


def _states_a_relation(row: str) -> bool:
    """True for `X \\in R^K`, `0 < y < 1`, `a \\to b`: a relation other than `=` outside every group,
    environment and case condition."""
    text = re.sub(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", " ", row, flags=re.DOTALL)
    match = _CONDITION.search(text)
    text = text[:match.start()] if match else text
    return bool(_NOT_EQUATIONS.search(_top_level_text(text)))


def _top_level_text(text: str) -> str:
    """`text` without its braced groups, to look for a relation written at the top level."""
    out, depth = [], 0
    for ch in text:
        depth += ch == "{"
        if depth == 0:
            out.append(ch)
        depth -= ch == "}"
    return "".join(out)
