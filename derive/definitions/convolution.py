"""Convolution and pooling layers, in index notation with index arithmetic (x_{i+k−1}).

"Convolution" is what deep-learning libraries compute: a valid cross-correlation, the kernel not
flipped. Sizes are chosen so that the input is exactly covered: N = S(M − 1) + K.
"""

from derive.definitions import register

_VALID = "Valid cross-correlation (what deep-learning libraries call convolution): the kernel is not flipped."


def _layer(name, title, output, index, expr, inputs, sizes, conventions):
    from derive.definitions.model import Definition

    return Definition(name=name, kind="layer", title=title, output=output, index=index, expr=expr,
                      inputs=inputs, sizes=sizes, conventions=conventions)


@register("conv1d", "layer", "1-D convolution (valid, stride 1), y_i = Σ_k w_k x_{i+k−1}")
def conv1d():
    import sympy as sp

    from derive.definitions.model import K, M, N, Var, i, k

    x, w = Var("x", (N,), r"\mathbf{x}"), Var("w", (K,), r"\mathbf{w}", "parameter")
    return _layer(
        "conv1d", "1-D convolution", Var("y", (M,), r"\mathbf{y}", role="output"), (i,),
        sp.Sum(w[k] * x[i + k - 1], (k, 1, K)), (x, w), {M: 4, K: 3, N: 6},
        (_VALID, "x has N = M + K − 1 entries, y has M.",
         ("∂C/∂x_i (i = 1, …, N) is the full convolution of ∂C/∂y with the flipped kernel: ∂C/∂y padded "
          "with K − 1 zeros on each side, the sum over l keeping the l with 1 ≤ i − l + 1 ≤ K.")))


@register("conv1d_strided", "layer", "1-D convolution (valid, stride S), y_i = Σ_k w_k x_{S(i−1)+k}")
def conv1d_strided():
    import sympy as sp

    from derive.definitions.model import K, M, N, Var, dim, i, k

    S = dim("S")
    x, w = Var("x", (N,), r"\mathbf{x}"), Var("w", (K,), r"\mathbf{w}", "parameter")
    return _layer(
        "conv1d_strided", "1-D convolution with stride S", Var("y", (M,), r"\mathbf{y}", role="output"), (i,),
        sp.Sum(w[k] * x[S * (i - 1) + k], (k, 1, K)), (x, w), {M: 4, K: 3, S: 2, N: 9},
        (_VALID, "S is the stride; x has N = S(M − 1) + K entries, y has M.",
         "Each x_i receives ∂C/∂y_l from the outputs l whose window covers it: 1 ≤ i − S(l − 1) ≤ K."))


@register("conv2d", "layer", "2-D convolution (valid, stride 1), Y_ij = Σ_k Σ_m W_km X_{i+k−1, j+m−1}")
def conv2d():
    import sympy as sp

    from derive.definitions.model import D, K, M, N, Var, dim, i, j, k, m

    H, T = dim("H"), dim("T")
    x, w = Var("X", (N, H), "X"), Var("W", (K, D), "W", "parameter")
    return _layer(
        "conv2d", "2-D convolution", Var("Y", (M, T), "Y", role="output"), (i, j),
        sp.Sum(sp.Sum(w[k, m] * x[i + k - 1, j + m - 1], (m, 1, D)), (k, 1, K)), (x, w),
        {M: 2, T: 4, K: 3, D: 2, N: 4, H: 5},
        (_VALID, "X is N × H with N = M + K − 1 and H = T + D − 1; the kernel W is K × D; Y is M × T.",
         "∂C/∂X is the full 2-D convolution of ∂C/∂Y with the kernel flipped in both directions."))


@register("avgpool1d", "layer", "1-D average pooling over windows of K (stride K), y_i = (1/K) Σ_k x_{K(i−1)+k}")
def avgpool1d():
    import sympy as sp

    from derive.definitions.model import K, M, N, Var, i, k

    x = Var("x", (N,), r"\mathbf{x}")
    return _layer(
        "avgpool1d", "1-D average pooling", Var("y", (M,), r"\mathbf{y}", role="output"), (i,),
        sp.Sum(x[K * (i - 1) + k], (k, 1, K)) / K, (x,), {M: 3, K: 2, N: 6},
        ("Windows of K entries do not overlap (stride K); x has N = KM entries.",
         "Every entry of a window receives 1/K of that window's ∂C/∂y."))


@register("maxpool1d", "layer", "1-D max pooling over windows of 2 (stride 2), y_i = max(x_{2i−1}, x_{2i})")
def maxpool1d():
    import sympy as sp

    from derive.definitions.model import M, N, Var, i

    x = Var("x", (N,), r"\mathbf{x}")
    a, b = x[2 * i - 1], x[2 * i]
    return _layer(
        "maxpool1d", "1-D max pooling", Var("y", (M,), r"\mathbf{y}", role="output"), (i,),
        sp.Piecewise((a, a >= b), (b, True)), (x,), {M: 3, N: 6},
        ("Windows of 2 entries, stride 2; x has N = 2M entries.",
         ("The gradient goes to each window's argmax; at a tie, to the first entry of the window "
          "(as PyTorch does), since y is written x_{2i−1} when x_{2i−1} ≥ x_{2i}.")))
