"""Identities between two functions of one variable: `exp(z) = e^z`, `(.)^+ = ReLU(.)`.

Both members must be a known function applied to the same single letter (a placeholder `(.)`, `(·)` is
read as a letter); anything else — `f(x) = g(x)/h(x)`, a definition of a name — is not read here. The
left member is made a module of its own (derive.sheets.custom), whose output stands for it, and the
right member is judged by the answer checker as that output's definition, with its evidence.
"""

from __future__ import annotations

import re

import sympy as sp

from derive.errors import DeriveError

_PLACEHOLDER = re.compile(r"\(\s*(?:\.|·|\\cdot)\s*\)")
_RELU = re.compile(r"(?<![A-Za-z\\])ReLU\s*\(")
_OUTPUT = "q"
_KNOWN = ("exp", "log", "ln", "tanh", "sigma", "sigmoid", "sqrt", "relu", "max", "min")  # printed as index expressions


def _written(text: str, letter: str) -> str:
    return _RELU.sub(r"\\mathrm{ReLU}(", _PLACEHOLDER.sub(f"({letter})", text))


def _variable(node) -> str | None:
    """The one letter a member applies a known function to (exp(z), e^z, (t)^+), else None."""
    from derive.check import parse as t
    from derive.check.entries import nodes

    root = node
    if isinstance(root, t.Func):
        if root.name not in _KNOWN or root.primes or root.power is not None:
            return None
    elif not (isinstance(root, t.Power) and isinstance(root.base, t.Word) and root.base.text == "e"):
        return None
    words = {n.text for n in nodes(node) if isinstance(n, t.Word)} - {"e"}
    if len(words) != 1 or not all(len(w) == 1 and w.islower() for w in words):
        return None
    return words.pop()


def closed_identity(left: str, right: str):
    """(derivation of the left member as a module, the right member as `q = …`) when both members are a
    known function of the same letter; None otherwise."""
    from derive.check.meaning import read
    from derive.check.parse import parse
    from derive.check.screen import InvalidAnswer, screen
    from derive.network.chain import derivative
    from derive.sheets.custom import module_definition

    letter = next(c for c in "tuvwz" if not re.search(rf"(?<![A-Za-z\\]){c}(?![A-Za-z])", left + right))
    try:
        trees = [parse(screen(_written(side, letter))) for side in (left, right)]
    except (InvalidAnswer, ValueError):
        return None
    names = [_variable(tree) for tree in trees]
    if names[0] is None or names[0] != names[1]:
        return None
    v = names[0]
    spec = {"name": "identity_left_side", "output": _OUTPUT, "inputs": [v], "shapes": {v: [], _OUTPUT: []}}
    try:
        plain = derivative(module_definition({**spec, "expr": v}), wrt=v)
        value = read(trees[0], plain).expr
        d = derivative(module_definition({**spec, "expr": _index_expr(value)}), wrt=v)
    except (InvalidAnswer, DeriveError):
        return None
    return d, f"{_OUTPUT} = {_written(right, letter)}"


def _index_expr(value: sp.Expr) -> str:
    """A SymPy value in derive's index-expression syntax (its functions are lower case: max, min)."""
    return re.sub(r"\b(Max|Min)\(", lambda m: m.group(1).lower() + "(", str(value))
