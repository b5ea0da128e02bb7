"""Rules stated with placeholder functions: `f(x) = g(x)/h(x)`, then `f'(x) = (g'(x)h(x) − g(x)h'(x))/h^2(x)`.

A document that defines f by other functions of x (g, h, not any derive knows) may then claim f′. Its
truth holds for every g and h, and sympy's chain rule gives it: f′ = Σ_u ∂F/∂u · u′ for f = F(g, h).
The values g, h and their derivatives become variables of a module of its own whose output is that f′,
and the claim's right-hand side is judged by the answer checker, with its evidence and counterexample.
"""

from __future__ import annotations

import re

import sympy as sp

_DEFINED = re.compile(r"(?<![A-Za-z\\])([a-z])\s*\(\s*([a-z])\s*\)")
_PRIME = re.compile(r"(?<![A-Za-z\\])([a-z])\s*(?:'|\^\s*\{?\s*\\prime\s*\}?)\s*\(\s*([a-z])\s*\)")
_KNOWN = {"e", "d"}  # not placeholders: Euler's number, a differential


def placeholder_definition(lhs: str, rhs: str) -> tuple[str, str, str] | None:
    """(f, x, F) of `f(x) = F` where F applies other single letters to x (g(x), h(x)), else None."""
    head = _DEFINED.fullmatch(lhs.strip())
    if head is None:
        return None
    f, x = head.groups()
    used = {p for p, arg in _DEFINED.findall(rhs) if arg == x} - _KNOWN - {f}
    return (f, x, rhs) if used else None


def prime_of(lhs: str) -> tuple[str, str] | None:
    """(f, x) of `f'(x)`, else None."""
    head = _PRIME.fullmatch(lhs.strip())
    return head.groups() if head else None


def _written(text: str, x: str, values: dict, slopes: dict) -> str:
    """g(x) → G, g'(x) → U, g^2(x) → (G)^{2}: placeholders as the module's variables."""
    for p, name in slopes.items():
        text = re.sub(rf"(?<![A-Za-z\\]){p}\s*(?:'|\^\s*\{{?\s*\\prime\s*\}}?)\s*\(\s*{x}\s*\)", f" {name} ", text)
    for p, name in values.items():
        text = re.sub(rf"(?<![A-Za-z\\]){p}\s*\^\s*\{{?\s*(\d)\s*\}}?\s*\(\s*{x}\s*\)", rf" ({name})^{{\1}} ", text)
        text = re.sub(rf"(?<![A-Za-z\\]){p}\s*\(\s*{x}\s*\)", f" {name} ", text)
    return text


def derivative_rule(definition: tuple[str, str, str], rhs: str):
    """(module whose output is f′, the claim as `q = …`, how the placeholders are named) for a claim
    f′(x) = rhs, or None when unreadable."""
    from derive.check.meaning import read
    from derive.check.parse import parse
    from derive.check.screen import InvalidAnswer, screen
    from derive.errors import DeriveError
    from derive.network.chain import derivative
    from derive.sheets.custom import module_definition

    f, x, body = definition
    letters = sorted({p for p, arg in _DEFINED.findall(body) if arg == x} - _KNOWN - {f})
    free = [c for c in "GHABMNPQRUVW" if not re.search(rf"(?<![A-Za-z\\]){c}(?![A-Za-z])", body + rhs)]
    if len(free) < 2 * len(letters):
        return None
    values = dict(zip(letters, free[:len(letters)]))
    slopes = dict(zip(letters, free[len(letters):2 * len(letters)]))
    names = [*values.values(), *slopes.values()]
    spec = {"name": "placeholder_rule", "output": "q", "inputs": names[:1], "shapes": {n: [] for n in [*names, "q"]}}
    try:
        plain = derivative(module_definition({**spec, "expr": names[0]}), wrt=names[0])
        value = read(parse(screen(_written(body, x, values, {}))), plain).expr
        symbols = {s.name: s for s in value.free_symbols}
        slope = sum((sp.diff(value, symbols[values[p]]) * sp.Symbol(slopes[p]) for p in letters
                     if values[p] in symbols), sp.S.Zero)  # the chain rule: f′ = Σ_u ∂F/∂u · u′
        made = derivative(module_definition({**spec, "expr": str(slope)}), wrt=names[0])
    except (InvalidAnswer, DeriveError, ValueError):
        return None
    named = ", ".join([*(f"{p}({x}) as {n}" for p, n in values.items()), *(f"{p}′({x}) as {n}" for p, n in slopes.items())])
    return made, f"q = {_written(rhs, x, values, slopes)}", named
