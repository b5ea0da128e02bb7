"""Word vectors (CS224n): the naive-softmax and negative-sampling losses of skip-gram.

The center word's vector is v (D), the outside vectors are the columns u_w of U (D × K). Scores
are inner products u_wᵀv, written as sums over the embedding index l, so exp of an inner sum is
what the engine differentiates.
"""

from derive.definitions import register


def _vectors():
    from derive.definitions.model import D, K, Var

    v = Var("v", (D,), r"\mathbf{v}")
    U = Var("U", (D, K), "U", role="parameter")
    return v, U


def _softmax_share(v, U):
    """ŷ_i = exp(u_iᵀv) / Σ_k exp(u_kᵀv): the softmax of the scores Uᵀv, entry i."""
    import sympy as sp

    from derive.definitions.model import D, K, i, k, l

    def score(w):
        return sp.Sum(U[l, w] * v[l], (l, 1, D))

    return sp.exp(score(i)) / sp.Sum(sp.exp(score(k)), (k, 1, K))


@register("word2vec_softmax", "loss", "Skip-gram naive-softmax loss −Σ_w y_w log ŷ_w, ŷ = softmax(Uᵀv)")
def word2vec_softmax():
    import sympy as sp

    from derive.definitions.model import Constraint, D, Definition, Intermediate, K, Var, i, k

    v, U = _vectors()
    y = Var("y", (K,), r"\mathbf{y}", role="target", domain="onehot")
    yhat = Var("yhat", (K,), r"\hat{\mathbf{y}}", role="output")

    share = _softmax_share(v, U)
    return Definition(
        name="word2vec_softmax", kind="loss", title="Skip-gram naive-softmax loss",
        output=Var("L", latex="L", role="output"), index=(),
        expr=-sp.Sum(y[i] * sp.log(share), (i, 1, K)),
        inputs=(v, U), others=(y,), sizes={K: 3, D: 2},
        intermediates=(Intermediate(yhat, (i,), share),),
        constraints=(Constraint(sp.Sum(y[k], (k, 1, K)), sp.Integer(1),
                                "the target is one-hot (the outside word o), so its entries sum to 1"),),
        expand_logs=True,
        conventions=("v is the center word's vector; the outside vectors u_w are the columns of U (D × K).",
                     "y is the one-hot vector of the outside word o: y_w = δ_wo."),
    )


@register("word2vec_negative_sampling", "loss",
          "Skip-gram negative-sampling loss −log σ(u_oᵀv) − Σ_k log σ(−u_kᵀv)")
def word2vec_negative_sampling():
    import sympy as sp

    from derive.definitions.model import D, Definition, Intermediate, K, Var, i, l

    v = Var("v", (D,), r"\mathbf{v}")
    u = Var("u", (D,), r"\mathbf{u}", role="parameter")  # u_o, the outside word's vector
    U = Var("U", (D, K), "U", role="parameter")

    def sigma(a):
        return 1 / (1 + sp.exp(-a))

    outside = sp.Sum(u[l] * v[l], (l, 1, D))
    negative = sp.Sum(U[l, i] * v[l], (l, 1, D))
    return Definition(
        name="word2vec_negative_sampling", kind="loss", title="Skip-gram negative-sampling loss",
        output=Var("L", latex="L", role="output"), index=(),
        expr=-sp.log(sigma(outside)) - sp.Sum(sp.log(sigma(-negative)), (i, 1, K)),
        inputs=(v, u, U), sizes={K: 4, D: 3},
        intermediates=(Intermediate(Var("q", (K,), r"\mathbf{q}", role="output"), (i,), sigma(negative)),
                       Intermediate(Var("p", latex="p", role="output"), (), sigma(outside))),
        conventions=("u = u_o is the outside word's vector; the K negative samples u_k are the columns of U (D × K).",
                     "p = σ(u_oᵀv) and q_k = σ(u_kᵀv): the model's probabilities that each pair is a real one."),
    )


@register("word2vec_softmax_o", "loss", "Skip-gram naive-softmax loss −log ŷ_o for the outside word's index o")
def word2vec_softmax_o():
    import sympy as sp

    from derive.definitions.model import D, Definition, Intermediate, K, Var, i

    v, U = _vectors()
    o = Var("o", latex="o", role="target", domain="class")
    yhat = Var("yhat", (K,), r"\hat{\mathbf{y}}", role="output")

    share = _softmax_share(v, U)
    return Definition(
        name="word2vec_softmax_o", kind="loss", title="Skip-gram naive-softmax loss (class index o)",
        output=Var("L", latex="L", role="output"), index=(),
        expr=-sp.log(share.xreplace({i: o.symbol})),
        inputs=(v, U), others=(o,), sizes={K: 3, D: 2},
        intermediates=(Intermediate(yhat, (i,), share),), expand_logs=True,
        conventions=("o is the index of the outside word, an index variable from 1 to K.",
                     "v is the center word's vector; the outside vectors u_w are the columns of U (D × K)."),
    )
