"""A convention for a printed page: plain Unicode prose whose formulas are set as math.

A definition states its conventions as one line of Unicode (`z = [h_{t−1}; x] is the previous state …`),
which the terminal and JSON show as written. On a Markdown page the formulas in it become `$…$` math,
as a step's reasons do (derive.render.reason), and the prose around them is escaped. The prose is
told from the formulas word by word: a word of two or more letters with a lower-case one (`state`,
`PyTorch's`) or of three capitals (`GRU`) is prose, unless it is a function applied (`softmax(S)`,
`ReLU′`); the article `a` is prose before a word; what lies between prose words, split at unmatched
brackets and at a comma, semicolon, colon or full stop, is a formula where it holds more than a number.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from derive.render.printer import escape_tex
from derive.render.reason import reason_markup, unicode_latex

_MARKS = "\u0302\u0303"  # combining circumflex and tilde: x̂, h̃
_FUNCTION = r"(?:softmax|softplus|tanh|log|exp|erf|max|min|sign|sgn|argmax|KL|ReLU)(?=[′(\[])"
_WORD = re.compile(rf"(?<![_A-Za-z{_MARKS}\\]){_FUNCTION}|(?<![_A-Za-z{_MARKS}\\])(\d+-[A-Za-z]+|[A-Za-z]"
                   rf"(?:[A-Za-z{_MARKS}'’-]*[A-Za-z{_MARKS}])?)(?![A-Za-z{_MARKS}])")
_OPEN, _CLOSE = "([{", ")]}"
_OPERATORS = "=+−-×⊙/·≤≥≠<>|‖∈→"
_STOP = re.compile(r"[,;:.](?=\s|$)")  # a comma, semicolon, colon or full stop ends a formula
_SAFE = re.compile(r"[A-Za-z0-9\s" + _MARKS + r"α-ωΑ-ΩŷŶ𝟙=+−\-×⊙/·≤≥≠<>|‖∈→∂√′ᵀˣ²³ⁿ⁻¹()\[\]{}_^,;:.…]+")
_TAG = re.compile(r"<[A-Za-z/!?]")
_MARKDOWN = re.compile(r"([\\`*_$<>\[\]|#])")


def _is_prose(word: str, before: str, rest: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    if word[0].isdigit():  # 2-D
        return True
    if len(letters) == 1:  # a letter is a name, but for the article before a word (A only opening a sentence)
        opening = word == "a" or not before.strip() or before.rstrip().endswith(".")
        return word in ("a", "A") and opening and re.match(r"\s+[A-Za-z]{2}", rest) is not None
    return any(c.islower() for c in letters[1:]) or (len(letters) >= 3 and not rest.startswith("ᵀ"))


def pieces(text: str) -> list[tuple[bool, str]]:
    """`text` as (is it a formula, piece) pairs, in order; the pieces join to `text`."""
    out: list[tuple[bool, str]] = []
    last = 0
    for m in _WORD.finditer(text):
        if m.group(1) is None or not _is_prose(m.group(1), text[:m.start()], text[m.end():]):
            continue  # a function or a name: part of the formula around it
        out += _formulas(text[last:m.start()])
        out.append((False, m.group(0)))
        last = m.end()
    out += _formulas(text[last:])
    merged: list[tuple[bool, str]] = []
    for is_math, piece in out:  # neighbouring prose in one piece: two formulas never touch
        if merged and not is_math and not merged[-1][0]:
            merged[-1] = (False, merged[-1][1] + piece)
        elif piece:
            merged.append((is_math, piece))
    return merged


def _formulas(span: str) -> list[tuple[bool, str]]:
    """The text between two prose words: its formulas, and the brackets and stops around them as prose."""
    unmatched, stack = set(), []
    for n, c in enumerate(span):
        if c in _OPEN:
            stack.append(n)
        elif c in _CLOSE:
            if stack and _OPEN.index(span[stack[-1]]) == _CLOSE.index(c):
                stack.pop()
            else:
                unmatched.add(n)
    unmatched |= set(stack)
    aside = set()
    for n, c in enumerate(span):  # x_i (i = 1, …, N), Y (K × N): a bracket after a space and a name is an aside
        before = span[:n].rstrip()
        if c == "(" and n not in unmatched and before and len(before) < n and before[-1] not in _OPERATORS:
            aside |= {n, _matching(span, n)}
    depth, cuts = 0, []
    for n, c in enumerate(span):
        if n in unmatched or n in aside:
            cuts.append((n, n + 1))
        if n in unmatched:
            continue
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
        elif depth == 0 and _STOP.match(span, n):
            cuts.append((n, n + 1))
    out, last = [], 0
    for a, b in [*cuts, (len(span), len(span))]:
        out += _trimmed(span[last:a])
        out.append((False, span[a:b]))
        last = b
    return out


def _matching(span: str, n: int) -> int:
    depth = 0
    for k in range(n, len(span)):
        depth += (span[k] in _OPEN) - (span[k] in _CLOSE)
        if depth == 0:
            return k
    raise ValueError(span)  # unreachable: only matched brackets are asked for


def _trimmed(piece: str) -> list[tuple[bool, str]]:
    core = piece.strip()
    if not core or not re.search(r"[^\d\s.,]", core) or not _SAFE.fullmatch(core) or _TAG.search(core):
        # nothing, a number, or what is not written as math (`*`, `$`, a backslash, <b>): prose, escaped
        return [(False, piece)]
    start = piece.index(core)
    return [(False, piece[:start]), (True, core), (False, piece[start + len(core):])]


def prose_markdown(text: str) -> str:
    """`z = [h_{t−1}; x] is …` → `$z = [h_{t-1}; x]$ is …`: formulas as Markdown math, prose escaped."""
    return "".join(f"${unicode_latex(p)}$" if is_math else _MARKDOWN.sub(r"\\\1", p) for is_math, p in pieces(text))


def convention_markup(convention: str, fmt: str) -> Markup:
    """A convention for `fmt` ('md' or 'tex'): one with marked formulas as a reason is; plain prose with its
    formulas as math in Markdown, escaped name by name for TeX."""
    if getattr(convention, "marked", None) is not None:
        return reason_markup(convention, fmt, display_over=160)  # a page's width, not a side column's
    return Markup(escape_tex(str(convention)) if fmt == "tex" else prose_markdown(str(convention)))
