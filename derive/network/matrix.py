"""Read an index-form product as a matrix product: Σ_l W_li δ_l → Wᵀ δ, δ_i x_j → δ xᵀ.

Layout convention, stated once: vectors are columns; a batch puts samples in columns; the
gradient has the shape of the variable. A per-sample vector v_i is read as a column with a
second, implicit index (the sample, or a unit index for one sample), so an outer product
δ_i x_j is a contraction over it: δ xᵀ, which for a batch sums over the samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

COLUMN = sp.Symbol("_col")  # the implicit second index of a column vector


@dataclass(frozen=True)
class Factor:
    name: str  # the IndexedBase name, or "1" for the all-ones vector
    transposed: bool = False


@dataclass(frozen=True)
class Product:
    """coeff · F1 F2 …, the matrix reading of an index-form product."""

    coeff: sp.Expr
    factors: tuple


class NotAProduct(ValueError):
    pass


def _axes(ind: sp.Indexed, vectors: frozenset) -> tuple:
    idx = tuple(ind.indices)
    return idx + (COLUMN,) if ind.base.name in vectors else idx


def read_product(expr: sp.Expr, result: tuple, vectors: frozenset) -> Product:
    """`expr[result]` as a product of at most two matrices; `vectors` names the column vectors.

    `result` lists the free indices of the left-hand side; include COLUMN when the result is
    itself a column (per sample); leave it out to sum a per-sample quantity over the samples
    (a bias gradient in a batch: Δ 1).
    """
    summed = []
    while isinstance(expr, sp.Sum):
        summed += [lim[0] for lim in expr.limits]
        expr = expr.function
    coeff, factors = sp.Integer(1), []
    for f in sp.Mul.make_args(expr):
        if isinstance(f, sp.Indexed):
            factors.append(f)
        elif f.atoms(sp.Indexed):
            raise NotAProduct(f"{f} is not a matrix entry")
        else:
            coeff *= f
    axes = [_axes(f, vectors) for f in factors]
    R = tuple(result)
    if len(factors) == 1:
        (t,), (f,) = axes, factors
        if t == R:
            return Product(coeff, (Factor(f.base.name),))
        if len(t) == 2 and len(R) == 2 and t == R[::-1]:
            return Product(coeff, (Factor(f.base.name, True),))
        if len(R) == 1 and len(t) == 2 and t[0] == R[0]:  # sum over the second index: F 1
            return Product(coeff, (Factor(f.base.name), Factor("1")))
        raise NotAProduct(f"cannot read {expr} with indices {R}")
    if len(factors) != 2 or len(R) != 2:
        raise NotAProduct(f"cannot read {expr} as a product of two matrices")
    first = 0 if R[0] in axes[0] else 1
    (f1, t1), (f2, t2) = (factors[first], axes[first]), (factors[1 - first], axes[1 - first])
    shared = (set(t1) & set(t2)) - set(R)
    if len(shared) != 1 or R[0] not in t1 or R[1] not in t2 or len(t1) != 2 or len(t2) != 2:
        raise NotAProduct(f"cannot read {expr} with indices {R} as a matrix product")
    (c,) = shared
    return Product(coeff, (Factor(f1.base.name, t1 != (R[0], c)), Factor(f2.base.name, t2 != (c, R[1]))))


def product_latex(p: Product, name_of) -> str:
    """`W^{(2)\\top} \\delta^{(2)}`; `name_of` gives a base name's LaTeX."""
    parts = []
    for f in p.factors:
        if f.name == "1":
            parts.append(r"\mathbf{1}")
            continue
        tex = name_of(f.name)
        if f.transposed:
            tex = tex[:-1] + r"\top}" if tex.endswith(")}") and "^{(" in tex else tex + r"^{\top}"
        parts.append(tex)
    body = " ".join(parts)
    if p.coeff == 1:
        return body
    from derive.render.printer import latex

    return f"{latex(p.coeff)} {body}"


def product_numpy(p: Product, code_of) -> str:
    """`W2.T @ D2`, `D1 @ X.T`, `D1.sum(axis=1)`; `code_of` gives a base name's variable."""
    parts, out = [], ""
    for f in p.factors:
        if f.name == "1":
            out = f"{parts.pop()}.sum(axis=1)"
            parts.append(out)
            continue
        parts.append(code_of(f.name) + (".T" if f.transposed else ""))
    body = " @ ".join(parts)
    if p.coeff == 1:
        return body
    from derive.network.codegen import numpy_expr

    return f"({numpy_expr(p.coeff)}) * ({body})"


def product_text(p: Product) -> str:
    parts = ["1" if f.name == "1" else f.name + ("^T" if f.transposed else "") for f in p.factors]
    body = " ".join(parts)
    return body if p.coeff == 1 else f"{p.coeff} {body}"
