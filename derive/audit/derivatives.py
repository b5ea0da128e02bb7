"""The fractions a written solution states derivatives with: ∂A/∂V, dA/dV and a homework's δℓ/δŷ."""

from __future__ import annotations

import re
from dataclasses import replace

from derive.audit.claims import Claim, matching_brace
from derive.definitions.model import INDEX_NAMES

_PARTIAL = re.compile(r"^\s*(\\partial|\\delta|∂)(?![A-Za-z])\s*")


def derivative_of(lhs: str) -> tuple[str, str] | None:
    """(numerator, denominator) of `\\frac{\\partial A}{\\partial V}`, braces matched; δℓ/W⁽²⁾ with the
    second ∂ forgotten still names W⁽²⁾. None for any other left-hand side."""
    text = lhs.strip()
    if not text.startswith("\\frac"):
        return None
    start = text.find("{")
    if start < 0 or text[5:start].strip():
        return None
    end = matching_brace(text, start)
    second = end + 1 + (len(text[end + 1:]) - len(text[end + 1:].lstrip()))
    if end < 0 or text[second:second + 1] != "{" or matching_brace(text, second) != len(text) - 1:
        return None
    top, bottom = text[start + 1:end].strip(), text[second + 1:-1].strip()
    if top.startswith("d") and bottom.startswith("d"):  # dy/dx
        return top[1:].strip(), bottom[1:].strip()
    if not _PARTIAL.match(top):
        return None
    return _PARTIAL.sub("", top, count=1).strip(), _PARTIAL.sub("", bottom, count=1).strip()


def partials(latex: str) -> str:
    """`\\frac{\\delta ℓ}{\\delta ŷ}` written with ∂: homeworks use δ (and d) for the partial sign, and a
    left-hand side `\\frac{\\delta ℓ}{W}` that forgot the second one means ∂ℓ/∂W (as `derivative_of` reads it).
    Only fractions whose numerator opens with δ change: δ_ij elsewhere stays Kronecker's."""
    out, k, first = [], 0, True
    while (start := latex.find("\\frac", k)) >= 0:
        top = start + 5 + (len(latex[start + 5:]) - len(latex[start + 5:].lstrip()))
        end = matching_brace(latex, top) if latex[top:top + 1] == "{" else -1
        bottom = end + 1 + (len(latex[end + 1:]) - len(latex[end + 1:].lstrip())) if end >= 0 else -1
        stop = matching_brace(latex, bottom) if end >= 0 and latex[bottom:bottom + 1] == "{" else -1
        numerator = latex[top + 1:end] if stop >= 0 else ""
        if stop < 0 or not re.match(r"\s*\\delta(?![A-Za-z])", numerator):
            out.append(latex[k:start + 5])
            k, first = start + 5, False
            continue
        denominator = latex[bottom + 1:stop]
        lead = re.match(r"\s*\\delta(?![A-Za-z])\s*", denominator)
        if lead:
            denominator = denominator[lead.end():]
        elif not (first and not latex[:start].strip()):  # a forgotten ∂ is read on the left-hand side only
            out.append(latex[k:start + 5])
            k, first = start + 5, False
            continue
        numerator = re.sub(r"^\s*\\delta(?![A-Za-z])\s*", "", numerator)
        out.append(f"{latex[k:start]}\\frac{{\\partial {numerator}}}{{\\partial {denominator}}}")
        k, first = stop + 1, False
    return "".join(out) + latex[k:]


D_ENTRY = re.compile(r"D_\{\s*([a-z])\s*,?\s*([a-z])\s*\}\s*([A-Za-z]_\{?\s*[a-z]\s*\}?)")


def d_entry(claim: Claim, name: str) -> tuple[Claim, str] | None:
    """`D_{i,j} y_t = …` as `∂y_t/∂{name}_{i,j} = …` (an index letter derive does not use, t, renamed to
    one the claim does not use), and how it was read; None for any other left-hand side."""
    written = D_ENTRY.fullmatch(claim.lhs.strip())
    if written is None:
        return None
    i, j, top = written.groups()
    lhs = rf"\frac{{\partial {top}}}{{\partial {name}_{{{i},{j}}}}}"
    how = f"D_{{{i},{j}}} read as ∂/∂{name}_{{{i},{j}}}, {name} being the question's only variable with two indices"
    read = replace(claim, lhs=lhs)
    letter = top.strip("}")[-1]
    if letter in INDEX_NAMES:
        return read, how
    text = f"{claim.rhs} {claim.condition} {lhs}"
    spare = next(c for c in INDEX_NAMES if not re.search(rf"(?<![A-Za-z\\]){c}(?![A-Za-z])", text))
    alone = re.compile(rf"(?<![A-Za-z\\]){letter}(?![A-Za-z])")

    def renamed(text: str) -> str:  # t alone, and in a subscript of index letters: δ_{it}
        text = re.sub(r"_\{([a-z,\s]+)\}", lambda m: "_{" + m.group(1).replace(letter, spare) + "}", text)
        return alone.sub(spare, text)

    read = replace(read, lhs=renamed(read.lhs), rhs=renamed(read.rhs), condition=renamed(read.condition))
    return read, f"{how} (the index {letter} written {spare})"
