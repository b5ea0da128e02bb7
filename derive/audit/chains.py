"""Chain-rule products of a written solution, read by the names of their factors.

`∂L/∂W = ∂L/∂y · ∂y/∂W` states the chain rule without the factors' values: it is checked for
linking up — the first factor starts where the left-hand side does, each factor starts where the
one before ends, the last ends at what the left-hand side differentiates by — and is otherwise
undecided, as the network checker says of such a chain. A factor the sheet gives a value, ∂C₂/∂C
for a cost C₂ = 3C, is replaced by that value so that the rest is checked as an answer.
"""

from __future__ import annotations

import re
from itertools import pairwise

from derive.audit.claims import matching_brace
from derive.audit.numbers import normal_name

_GLUE = re.compile(r"(\s|\\cdot(?![A-Za-z])|\\,|\\;|\\!|\*|\\times(?![A-Za-z]))*")


def factors(rhs: str) -> list[tuple[str, str, tuple[int, int]]] | None:
    """[(numerator, denominator, (start, end))] of a product of fractions `\\frac{∂A}{∂B} \\frac{∂B}{∂C}`
    (outer braces and brackets dropped), None when anything else stands in it."""
    from derive.audit.derivatives import derivative_of

    out, k, text = [], 0, rhs
    while k < len(text):
        k = _GLUE.match(text, k).end()
        if k >= len(text):
            break
        if text[k] in "{[(":
            close = {"{": "}", "[": "]", "(": ")"}[text[k]]
            if text.rstrip().endswith(close) and k == 0:
                return factors(text.strip()[1:-1])
            return None
        if not text.startswith("\\frac", k):
            return None
        top = text.find("{", k)
        end = matching_brace(text, top) if top >= 0 else -1
        bottom = text.find("{", end) if end >= 0 else -1
        stop = matching_brace(text, bottom) if bottom >= 0 and not text[end + 1:bottom].strip() else -1
        if stop < 0:
            return None
        pair = derivative_of(text[k:stop + 1])
        if pair is None:
            return None
        out.append((*pair, (k, stop + 1)))
        k = stop + 1
    return out if len(out) >= 2 else None


def without_given_factors(lhs: str, rhs: str, given: dict) -> tuple[str, list[str]]:
    """`rhs` with each factor ∂A/∂B the sheet gives a value (`given[(A, B)]`, names normalised) replaced
    by it; and a sentence per replacement."""
    from derive.audit.derivatives import derivative_of

    notes, k, out = [], 0, []
    while (start := rhs.find("\\frac", k)) >= 0:
        top = rhs.find("{", start)
        end = matching_brace(rhs, top) if top >= 0 else -1
        bottom = rhs.find("{", end) if end >= 0 else -1
        stop = matching_brace(rhs, bottom) if bottom >= 0 and not rhs[end + 1:bottom].strip() else -1
        pair = derivative_of(rhs[start:stop + 1]) if stop >= 0 else None
        key = (normal_name(pair[0]), normal_name(pair[1])) if pair else None
        if key in given:
            out.append(f"{rhs[k:start]} {given[key]} ")
            notes.append(f"∂{key[0]}/∂{key[1]} read as {given[key]}, from the sheet's definition")
            k = stop + 1
        else:
            out.append(rhs[k:start + 5])
            k = start + 5
    return "".join(out) + rhs[k:], notes


def linked(lhs: tuple[str, str], chain: list) -> list[str]:
    """What breaks a chain ∂A/∂Z = ∂A/∂B ∂B/∂C … ∂Y/∂Z, as sentences; [] when it links up."""
    names = [(normal_name(a), normal_name(b)) for a, b, _ in chain]
    top, bottom = normal_name(lhs[0]), normal_name(lhs[1])
    problems = []
    if names[0][0] != top:
        problems.append(f"the chain starts at {names[0][0]}, but the left-hand side differentiates {top}")
    for (a, b), (c, d) in pairwise(names):
        if b != c:
            problems.append(f"the chain breaks between ∂{a}/∂{b} and ∂{c}/∂{d}: a factor ∂{b}/∂{c} is missing")
    if names[-1][1] != bottom:
        problems.append(f"the chain ends at {names[-1][1]}, but the left-hand side differentiates by {bottom}")
    return problems
