"""A network's index forms read as matrix trees, by the one reader (derive.calculus.matrix).

Σ_l W_li δ_l is Wᵀ δ, δ_i x_j is δ xᵀ, Σ_n Δ_in X_jn is Δ Xᵀ, b_i + Σ_k W_ik x_k is W x + b, and an
entrywise expression (f′, ∂L/∂ŷ) is a tree with ⊙ between its factors. The shapes come from the
network's names (derive.network.names): a column is d_k × 1, a batch d_k × N.
"""

from __future__ import annotations

import sympy as sp

from derive.errors import DeriveError
from derive.model import matexpr as mx


def read(expr: sp.Expr, names, shape: tuple, free: tuple | None = None) -> mx.MatExpr:
    """`expr` (free indices `free`, default a per-sample entry's) as the tree equal to it entry by
    entry; derive.calculus.matrix.NoMatrixForm when its index structure has none."""
    from derive.calculus.matrix import translate

    bases = {a.base.name for a in expr.atoms(sp.Indexed)}
    return translate(expr, free or names.free, names.shapes(bases), shape)


def required(expr: sp.Expr, names, shape: tuple, what: str, free: tuple | None = None) -> mx.MatExpr:
    """As `read`, for a quantity the backward pass cannot state without: a one-line DeriveError."""
    from derive.calculus.matrix import NoMatrixForm

    try:
        return read(expr, names, shape, free)
    except NoMatrixForm as exc:
        raise DeriveError(f"{names.net.spec}: {what} has no matrix form ({exc}), so it cannot be stated") from None


def optional(expr: sp.Expr, names, shape: tuple, free: tuple | None = None) -> mx.MatExpr | None:
    """As `read`, or None: the quantity is then stated in index form only (a softmax's Σ_k)."""
    from derive.calculus.matrix import NoMatrixForm

    try:
        return read(expr, names, shape, free)
    except NoMatrixForm:
        return None


def affine(rhs: sp.Expr, names, k: int) -> mx.MatExpr:
    """b_i + Σ_k W_ik z_k as W z + b: the products first, as the layer is written."""
    terms = sorted(sp.Add.make_args(rhs), key=lambda t: isinstance(t, sp.Indexed))
    return mx.add(*(required(t, names, names.dims(k), f"layer {k}'s affine map") for t in terms))


def entrywise(expr: sp.Expr, symbol: sp.Symbol, arg: mx.MatExpr) -> mx.MatExpr:
    """A scalar function of `symbol` applied to each entry of `arg`: σ(s), tanh(s), max(0, s)."""
    from derive.calculus.matrix import from_scalar

    return from_scalar(expr, {symbol: arg}, arg.shape)


def canonical(node: mx.MatExpr) -> str:
    """A key equal for trees that differ only in the order of the operands of ⊙ and +."""
    kids = [canonical(c) for c in node.children]
    if isinstance(node, (mx.Hadamard, mx.MatAdd)):
        kids.sort()
    scalars = [repr(getattr(node, f)) for f in ("scalar", "exp", "fn", "op", "bound", "expr", "name", "shape")
               if hasattr(node, f) and not isinstance(getattr(node, f), mx.MatExpr)]
    return f"{type(node).__name__}[{','.join(scalars)}]({';'.join(kids)})"


def same(a: mx.MatExpr, b: mx.MatExpr) -> bool:
    return canonical(a) == canonical(b)
