"""A sum written with dots, `e^{βx_1} + e^{βx_2} + … + e^{βx_K}`, read as `Σ_{m=1}^{K} e^{βx_m}`.

The first two terms fix the pattern (their one subscript differs, 1 then 2), the last gives the upper
limit (a capital, a size); every other written term must fit the pattern. Anything else is left as it
is, and the checker's reason (an ellipsis is read only inside a matrix) stands.
"""

from __future__ import annotations

import re

_DOTS = re.compile(r"\\[cl]?dots(?![A-Za-z])|\.\.\.|…")
_SUB = re.compile(r"_\s*(\{[^{}]*\}|[0-9A-Za-z])")
_HOLE = "\x00"


def _braced(term: str) -> str:
    """Every subscript in braces, spaces dropped: x_1 and x_{1} are one term."""
    braced = _SUB.sub(lambda m: "_{" + m.group(1).strip("{}").strip() + "}", term)
    return re.sub(r"\s+", " ", re.sub(r"(?<![A-Za-z])\s+|\s+(?![A-Za-z])", "", braced))  # \beta x keeps a space


def _terms(text: str) -> list[str] | None:
    """The top-level `+` terms of `text` (None when a `-` stands between them)."""
    terms, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        depth += ch in "{([" and 1 or ch in "})]" and -1 or 0
        if depth == 0 and ch in "+-" and k > start:
            if ch == "-":
                return None
            terms.append(text[start:k].strip())
            start = k + 1
    terms.append(text[start:].strip())
    return terms


def _group(text: str, at: int) -> tuple[int, int] | None:
    """(start, end) of the content of the innermost {…} or (…) around position `at`."""
    depth = 0
    for k in range(at, -1, -1):
        if text[k] in "})":
            depth += 1
        elif text[k] in "{(":
            if depth == 0:
                close = {"{": "}", "(": ")"}[text[k]]
                level = 0
                for e in range(k, len(text)):
                    level += text[e] == text[k] and 1 or text[e] == close and -1 or 0
                    if level == 0:
                        return k + 1, e
                return None
            depth -= 1
    return None


def summed(text: str) -> tuple[str, str] | None:
    """(`text` with its dotted sum written with Σ, how it was read), or None when there is none to read."""
    dots = _DOTS.search(text)
    span = _group(text, dots.start()) if dots else None
    if span is None:
        return None
    terms = _terms(text[span[0]:span[1]])
    written = [t for t in terms or [] if not _DOTS.fullmatch(t)]
    if terms is None or len(written) < 3 or _DOTS.search(" ".join(written)):
        return None
    first, second = _braced(written[0]), _braced(written[1])
    template = next((first[:m.start()] + "_{" + _HOLE + "}" + first[m.end():] for m in _SUB.finditer(first)
                     if m.group(1) == "{1}" and first[:m.start()] + "_{2}" + first[m.end():] == second), None)
    if template is None:
        return None
    pattern = re.compile(re.escape(template).replace(_HOLE, r"([A-Za-z0-9+\-]+)"))
    values = [pattern.fullmatch(_braced(t)) for t in written]
    if not all(values) or not re.fullmatch(r"[A-Z]", values[-1].group(1)):
        return None
    upper = values[-1].group(1)
    letter = next(c for c in "mnpqrs" if not re.search(rf"(?<![A-Za-z\\]){c}(?![A-Za-z])", text))
    body = template.replace(_HOLE, letter)
    return (f"{text[:span[0]]}\\sum_{{{letter}=1}}^{{{upper}}} {body}{text[span[1]:]}",
            f"the sum written with dots read as Σ_{letter}=1..{upper} of its terms' pattern")
