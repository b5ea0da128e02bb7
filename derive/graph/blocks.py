"""Concatenation as a node: c = [a; b], a column of d_a + d_b entries, and its gradient split into blocks.

    c_i = Σ_k δ_ik a_k + Σ_k δ_{i, k+A} b_k        (i = 1 … A + B)

The engine derives it like any module: ∂C/∂a_i = ∂C/∂c_i and ∂C/∂b_i = ∂C/∂c_{A+i}, the second under
the condition 1 ≤ A + i ≤ A + B, which holds for every i = 1 … B (`in_range` proves it so and drops
it). Read as matrices, the forward row is the stack [a; b] and each part a block of rows of ∂L/∂c
(derive.model.matexpr.Stack, Rows); the graph records that the dimension of c is the sum of the
blocks' (ResolvedGraph.sums), so the run-time check and a worked example size it so.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import TYPE_CHECKING

import sympy as sp

from derive.model import matexpr as mx

if TYPE_CHECKING:
    from derive.definitions.model import Definition
    from derive.steps import Derivation


@cache
def concat() -> Definition:
    """c = [a; b]: the entries of a, then those of b."""
    from derive.definitions.model import Definition, Var, dim, i, k

    A, B = dim("A"), dim("B")
    a, b = Var("a", (A,), r"\mathbf{a}"), Var("b", (B,), r"\mathbf{b}")
    body = sp.Sum(sp.KroneckerDelta(i, k) * a[k], (k, 1, A)) + sp.Sum(sp.KroneckerDelta(i, k + A) * b[k], (k, 1, B))
    return Definition(name="concat", kind="layer", title="Concatenation c = [a; b]",
                      output=Var("c", (A + B,), r"\mathbf{c}", role="output"), index=(i,), expr=body,
                      inputs=(a, b), sizes={A: 2, B: 3})


def in_range(d: Derivation) -> Derivation:
    """The derivation `d` with a condition on its free indices dropped where it holds over their whole
    range (1 ≤ i ≤ the variable's dimension): proved by writing i = 1 + u and the dimension 1 + u + v
    for integers u, v ≥ 0, for which SymPy decides the condition True."""
    from derive.steps import Reason, step

    r = d.result
    if not (isinstance(r, sp.Piecewise) and len(r.args) == 2 and r.args[1] == (0, True)):
        return d
    var = d.definition.var(d.wrt)
    subs = {}
    for idx, size in zip(d.indices, var.shape):
        u, v = sp.Dummy(integer=True, nonnegative=True), sp.Dummy(integer=True, nonnegative=True)
        subs[idx], subs[size] = 1 + u, 1 + u + v
    expr, cond = r.args[0]
    if cond.xreplace(subs) is not sp.true:
        return d
    held = step("cases", r, expr, Reason(f"the condition {cond} holds for every "
                                         + ", ".join(f"1 ≤ {i} ≤ {n}" for i, n in zip(d.indices, var.shape))))
    return dataclasses.replace(d, steps=[*d.steps, held], result=expr)


def forward_tree(node, shapes: dict) -> mx.MatExpr | None:
    """The stack [a; b] of a concat node's inputs, or None for any other node."""
    if node.definition is not concat():
        return None
    return mx.Stack(tuple(mx.MatSym(node.bound(v), shapes[node.bound(v)]) for v in ("a", "b")),
                    shapes[node.name][0])


def read_rows(expr: sp.Expr, free: tuple, shapes: dict, shape: tuple) -> mx.MatExpr | None:
    """A block of rows, Rows(∂L/∂c, skip, rows), when `expr` is one entry ∂L/∂c_{i + d_a + …} of a taller
    value at the free index shifted by whole dimensions; None otherwise."""
    if not isinstance(expr, sp.Indexed) or not free or len(expr.indices) != len(free):
        return None
    name = expr.base.name
    full = shapes.get(name.removeprefix("dL_d"))
    if full is None or full[0] == shape[0] or full[1] != shape[1] or any(a != f for a, f in zip(expr.indices[1:], free[1:])):
        return None
    offset = sp.expand(expr.indices[0] - free[0])
    skip = []
    for term in ([] if offset == 0 else sp.Add.make_args(offset)):  # d1 + d2, or 2 d1 for [a; a; …]
        times, symbol = term.as_coeff_Mul()
        if not (times.is_Integer and times > 0 and isinstance(symbol, sp.Symbol)):
            return None
        skip += [symbol] * int(times)
    if not all(s.name in _dims(shapes) for s in skip):
        return None
    return mx.Rows(mx.MatSym(name, full), tuple(s.name for s in skip), shape[0])


def _dims(shapes: dict) -> set:
    return {d for shape in shapes.values() for d in shape}
