"""The steps of a "show that" chain, judged against the identity the sheet proves.

The identity's left side (`exp(x[i] + c) / sum(exp(x[k] + c), k, 1, K)`) is made a module of its own
(derive.sheets.custom), whose output stands for that side; a member of the document's chain is then
a definition of that output, `q_j = member`, which the answer checker judges at sampled points with
its evidence and counterexample. A chain whose every member equals the left side has every `=` right.
"""

from __future__ import annotations

import re

from sympy import Indexed, Sum, preorder_traversal

from derive.audit.claims import Claim
from derive.definitions.model import IDX
from derive.errors import DeriveError

_OUTPUT = "q"  # the name the left side goes by in the text handed to the checker


def identity_module(spec: dict):
    """(derivation, output name) of the module whose output is the identity's left side."""
    from derive.network.chain import derivative
    from derive.sheets.custom import module_definition
    from derive.sheets.indexexpr import parse_index_expr

    shapes = dict(spec.get("shapes", {}))
    if _OUTPUT in shapes:
        raise DeriveError(f"the identity names a variable {_OUTPUT}")
    lhs = parse_index_expr(spec["lhs"], shapes)
    bound = {lim[0] for e in preorder_traversal(lhs) if isinstance(e, Sum) for lim in e.limits}
    free = sorted({a for e in lhs.atoms(Indexed) for ix in e.indices for a in ix.free_symbols
                   if a.name in IDX and a not in bound}, key=str)
    dims = []
    for letter in free:
        dims.append(next(shapes[str(e.base)][pos] for e in lhs.atoms(Indexed)
                         for pos, ix in enumerate(e.indices) if ix == letter))
    inputs = [n for n, shape in shapes.items() if shape] or list(shapes)
    output = f"{_OUTPUT}[{', '.join(str(f) for f in free)}]" if free else _OUTPUT
    module = {"name": "identity_left_side", "output": output, "expr": spec["lhs"], "inputs": inputs[:1],
              "shapes": {**shapes, _OUTPUT: dims}}
    return derivative(module_definition(module), wrt=inputs[0]), _OUTPUT


def step_text(claim: Claim, output: str, d) -> str:
    """`q_j = member`: the member as a definition of the left side, indexed as the chain's head is."""
    from derive.audit.derivatives import partials

    head = re.search(r"_\{?\s*([a-z])\s*\}?\s*$", claim.lhs)
    letters = "".join(s.name for s in d.out_index)
    letter = head.group(1) if head and len(letters) == 1 else letters
    return f"{output}_{{{letter}}} = {partials(claim.rhs)}" if letter else f"{output} = {partials(claim.rhs)}"
