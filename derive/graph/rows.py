"""A batch of rows: samples are the rows of a matrix, and a loss's named quantity is defined row by row.

    Ŷ_nm = exp(Z_nm) / Σ_k exp(Z_nk),   L = −(1/N) Σ_n Σ_m Y_nm log Ŷ_nm

The engine folds a named quantity of one index (ŷ_i = exp θ_i / Σ_k exp θ_k) and states a
constraint once (Σ_k y_k = 1). Here both hold for each row: the row's softmax is the engine's
one-index fold with the row held fixed, and "each row of Y sums to 1" is the engine's constraint
at each row index the result holds. So ∂L/∂Z_ij = (Ŷ_ij − Y_ij)/N comes from the engine's own
folding, one row at a time; the graph checks it at run time like every other part
(derive.graph.verify samples Y one-hot along the axis the constraint sums over).
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import TYPE_CHECKING

import sympy as sp

from derive.calculus.fold import Named

if TYPE_CHECKING:
    from derive.definitions.model import Definition
    from derive.steps import Derivation


@dataclasses.dataclass(frozen=True)
class RowOf(Named):
    """Row `row` of a two-index named quantity, as a one-index one: at((m,)) is symbol[row, m]."""

    row: sp.Symbol = None

    def at(self, idx) -> sp.Expr:
        return self.symbol[(self.row, *idx)]


@cache
def softmax_cross_entropy_rows() -> Definition:
    """L = −(1/N) Σ_n Σ_m Y_nm log softmax(Z_n·)_m: softmax cross-entropy averaged over the rows."""
    from derive.definitions.model import Constraint, Definition, Intermediate, K, N, Var, k, m, n

    Z = Var("Z", (N, K), "Z")
    Yhat = Var("Yhat", (N, K), r"\hat{Y}", role="output")
    Y = Var("Y", (N, K), "Y", role="target", domain="onehot")
    soft = sp.exp(Z[n, m]) / sp.Sum(sp.exp(Z[n, k]), (k, 1, K))
    return Definition(
        name="softmax_cross_entropy_rows", kind="loss",
        title="Softmax cross-entropy, mean over a batch of rows",
        output=Var("L", latex="L", role="output"), index=(),
        expr=-sp.Sum(sp.Sum(Y[n, m] * sp.log(soft), (m, 1, K)), (n, 1, N)) / N,
        inputs=(Z,), others=(Y,), sizes={N: 4, K: 3},
        intermediates=(Intermediate(Yhat, (n, m), soft),),
        constraints=(Constraint(sp.Sum(Y[n, k], (k, 1, K)), sp.Integer(1),
                                "each row of Y is one-hot, so it sums to 1"),),
        expand_logs=True,
        conventions=("Samples are the rows of Z and Y (N × K).",),
    )


def _row_indices(expr: sp.Expr) -> list:
    """The index symbols that stand first in an entry of `expr` (the rows it refers to)."""
    rows = {a.indices[0] for a in expr.atoms(sp.Indexed) if len(a.indices) == 2 and a.indices[0].is_Symbol}
    return sorted(rows, key=lambda s: s.name)


def _row_constraint(c) -> tuple | None:
    """(lhs, its row index) for a constraint Σ_k Y_nk = 1 with a free row index n; None otherwise."""
    from derive.definitions.model import IDX

    if not isinstance(c.lhs, sp.Sum):
        return None
    free = [s for s in c.lhs.free_symbols if s in IDX.values()]
    return (c, free[0]) if len(free) == 1 else None


def derive_by_rows(defn: Definition, wrt: str) -> Derivation:
    """The engine's derivation of `defn` with respect to `wrt`, with its two-index named quantities then
    folded row by row and its constraints with a free row index applied at each row (the engine
    states a constraint once, for a vector; it is given only the others)."""
    from derive.network.chain import derivative

    per_row = [rc for rc in map(_row_constraint, defn.constraints) if rc is not None]
    once = tuple(c for c in defn.constraints if all(c is not rc[0] for rc in per_row))
    engine = dataclasses.replace(defn, constraints=once) if per_row else defn
    d = derivative(engine, wrt=wrt, verify=False)
    if not per_row and not any(len(nm.index) == 2 for nm in d.named):
        return d
    return dataclasses.replace(_fold_rows(d, defn, per_row), definition=defn)


def _fold_rows(d, defn, per_row: list):
    from derive.calculus.canonical import canonical
    from derive.calculus.fold import apply_constraint, fold
    from derive.model.notation import spoken
    from derive.steps import Reason, step

    var = defn.var(d.wrt).symbol
    steps, current = list(d.steps), d.result

    def add(rule: str, after: sp.Expr, reason: str) -> None:
        nonlocal current
        if after != current:
            steps.append(step(rule, current, after, Reason(reason)))
            current = after

    by_rows = [nm for nm in d.named if len(nm.index) == 2]
    folded = current
    for nm in by_rows:
        for r in _row_indices(folded):
            folded = fold(folded, RowOf(nm.symbol, nm.index[1:], nm.expr.xreplace({nm.index[0]: r}), r), var)
    add("substitute", folded, "write the result in terms of " + ", ".join(
        f"${spoken(nm.symbol.name)}$" for nm in by_rows) + ", row by row")
    held = current
    for c, n in per_row:
        for r in _row_indices(held):
            held = apply_constraint(sp.expand(held), c.lhs.xreplace({n: r}), c.rhs)
    add("constraint", held, "; ".join(c.reason for c, _ in per_row) + ", at every row")
    prefer = tuple(nm.symbol for nm in d.named) + tuple(v.symbol for v in defn.inputs)
    add("factor", canonical(current, prefer), "collect and factor")
    return dataclasses.replace(d, steps=steps, result=current)
