"""Scaled dot-product attention Y = softmax(QKᵀ/√d) V, one row per query.

The scores S and the attention weights A are named, and the definition is given as the chain of
its stages (S = QKᵀ/√d, A = softmax(S) along each row, Y = A V), so each gradient is taken stage
by stage and written in the names: ∂C/∂V = Aᵀ ∂C/∂Y, ∂C/∂Q = ∂C/∂S K/√d, ∂C/∂K = (∂C/∂S)ᵀ Q/√d,
with ∂C/∂A = ∂C/∂Y Vᵀ and ∂C/∂S = A ⊙ (∂C/∂A − rowsum(A ⊙ ∂C/∂A)) the gradients at the names.
"""

from derive.definitions import register


def _weights(S, A, sizes):
    """A_ik = exp(S_ik) / Σ_m exp(S_im): the softmax of each row of S, A named."""
    import sympy as sp

    from derive.definitions.model import Definition, Intermediate, M, i, k, m

    share = sp.exp(S[i, k]) / sp.Sum(sp.exp(S[i, m]), (m, 1, M))
    return Definition(name="softmax_rows", kind="layer", title="Softmax of each row", output=A, index=(i, k),
                      expr=share, inputs=(S,), sizes=sizes, intermediates=(Intermediate(A, (i, k), share),),
                      conventions=("A = softmax(S) is taken along each row: every row of A sums to 1.",))


@register("softmax_rows", "layer", "Softmax of each row of a matrix, A_ik = exp(S_ik) / Σ_m exp(S_im)")
def softmax_rows():
    from derive.definitions.model import M, N, Var

    S, A = Var("S", (N, M), "S"), Var("A", (N, M), "A", role="output")
    return _weights(S, A, {N: 2, M: 3})


@register("attention", "layer", "Scaled dot-product attention Y = softmax(QKᵀ/√d) V, A the attention weights")
def attention():
    import sympy as sp

    from derive.definitions.model import D, Definition, Intermediate, M, N, Var, dim, i, j, k, l, m

    H = dim("H")
    Q, K, V = Var("Q", (N, D), "Q"), Var("K", (M, D), "K"), Var("V", (M, H), "V")
    S, A = Var("S", (N, M), "S", role="output"), Var("A", (N, M), "A", role="output")
    Y = Var("Y", (N, H), "Y", role="output")

    def score(a, b):
        return sp.Sum(Q[a, l] * K[b, l], (l, 1, D)) / sp.sqrt(D)

    def weight(s):  # row i of the softmax of s, entry k
        return sp.exp(s(i, k)) / sp.Sum(sp.exp(s(i, m)), (m, 1, M))

    sizes = {N: 2, M: 3, D: 4, H: 5}  # distinct: no transpose can hide
    stage = {"kind": "layer", "title": "", "sizes": sizes}
    stages = (
        Definition(name="attention_scores", output=S, index=(i, k), expr=score(i, k), inputs=(Q, K), **stage),
        _weights(S, A, sizes),
        Definition(name="attention_output", output=Y, index=(i, j), expr=sp.Sum(A[i, k] * V[k, j], (k, 1, M)),
                   inputs=(A, V), **stage),
    )
    return Definition(
        name="attention", kind="layer", title="Scaled dot-product attention",
        output=Y, index=(i, j), expr=sp.Sum(weight(score) * V[k, j], (k, 1, M)),
        inputs=(Q, K, V), sizes=sizes, stages=stages,
        intermediates=(Intermediate(S, (i, k), score(i, k)), Intermediate(A, (i, k), weight(lambda a, b: S[a, b]))),
        conventions=("Rows are queries: Q is N × d, K is M × d, V is M × H, Y is N × H (d written D).",
                     "S = QKᵀ/√d are the scores and A = softmax(S), taken along each row, the attention weights."),
    )
