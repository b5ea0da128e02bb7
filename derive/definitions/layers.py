"""Affine layers: one sample as a column, a batch as rows, and a batch as columns."""

from derive.definitions import register


@register("affine", "layer", "Affine map y = Wx + b")
def affine():
    import sympy as sp

    from derive.definitions.model import D, Definition, M, Var, i, k

    W, x, b = Var("W", (M, D), r"W", "parameter"), Var("x", (D,), r"\mathbf{x}"), Var("b", (M,), r"\mathbf{b}", "parameter")
    return Definition(
        name="affine",
        kind="layer",
        title="Affine layer",
        output=Var("y", (M,), r"\mathbf{y}", role="output"),
        index=(i,),
        expr=sp.Sum(W[i, k] * x[k], (k, 1, D)) + b[i],
        inputs=(W, b, x),
        sizes={M: 3, D: 2},
    )


@register("affine_row", "layer", "Affine map on a batch of rows, Y = XW + b")
def affine_row():
    import sympy as sp

    from derive.definitions.model import D, Definition, M, N, Var, i, k, n

    W, X, b = Var("W", (D, M), "W", "parameter"), Var("X", (N, D), "X"), Var("b", (M,), r"\mathbf{b}", "parameter")
    return Definition(
        name="affine_row",
        kind="layer",
        title="Affine layer, samples as rows",
        output=Var("Y", (N, M), "Y", role="output"),
        index=(n, i),
        expr=sp.Sum(X[n, k] * W[k, i], (k, 1, D)) + b[i],
        inputs=(W, b, X),
        sizes={N: 4, D: 2, M: 3},
    )


@register("affine_batch", "layer", "Linear map on a batch of columns, no bias, S = WX")
def affine_batch():
    import sympy as sp

    from derive.definitions.model import D, Definition, M, N, Var, i, k, n

    W, X = Var("W", (M, D), "W", "parameter"), Var("X", (D, N), "X")
    return Definition(
        name="affine_batch",
        kind="layer",
        title="Linear layer, samples as columns, no bias",
        output=Var("S", (M, N), "S", role="output"),
        index=(i, n),
        expr=sp.Sum(W[i, k] * X[k, n], (k, 1, D)),
        inputs=(W, X),
        sizes={M: 3, D: 2, N: 4},
    )
