"""Losses: a scalar L of a prediction and a target."""

from derive.definitions import register


def _loss(name, title, expr_of, pred="yhat", pred_latex=r"\hat{\mathbf{y}}", pred_domain="real",
          target_domain="real", **extra):
    import sympy as sp

    from derive.definitions.model import Definition, K, Var, i

    yhat = Var(pred, (K,), pred_latex, domain=pred_domain)
    y = Var("y", (K,), r"\mathbf{y}", role="target", domain=target_domain)
    return Definition(
        name=name,
        kind="loss",
        title=title,
        output=Var("L", latex="L", role="output"),
        index=(),
        expr=expr_of(yhat, y, i, K, sp),
        inputs=(yhat,),
        others=(y,),
        sizes={K: 3},
        **extra,
    )


@register("mse", "loss", "Squared error ‖ŷ − y‖²")
def mse():
    return _loss("mse", "Squared error", lambda yh, y, i, K, sp: sp.Sum((yh[i] - y[i]) ** 2, (i, 1, K)))


@register("half_mse", "loss", "Half squared error ½‖ŷ − y‖²")
def half_mse():
    return _loss("half_mse", "Half squared error",
                 lambda yh, y, i, K, sp: sp.Rational(1, 2) * sp.Sum((yh[i] - y[i]) ** 2, (i, 1, K)))


def _batch_loss(name, title, scale_of):
    import sympy as sp

    from derive.definitions.model import Definition, K, N, Var, i, n

    Yhat = Var("Yhat", (K, N), r"\hat{Y}")
    Y = Var("Y", (K, N), "Y", role="target")
    return Definition(
        name=name,
        kind="loss",
        title=title,
        output=Var("L", latex="L", role="output"),
        index=(),
        expr=scale_of(N) * sp.Sum(sp.Sum((Yhat[i, n] - Y[i, n]) ** 2, (i, 1, K)), (n, 1, N)),
        inputs=(Yhat,),
        others=(Y,),
        sizes={K: 2, N: 3},
        conventions=("Samples are the columns of Ŷ and Y (K × N).",),
    )


@register("mse_mean", "loss", "Squared error averaged over N samples, (1/N) Σ_n ‖ŷ_n − y_n‖²")
def mse_mean():
    return _batch_loss("mse_mean", "Mean squared error over a batch", lambda N: 1 / N)


@register("half_mse_mean", "loss", "Half squared error averaged over N samples, (1/2N) Σ_n ‖ŷ_n − y_n‖²")
def half_mse_mean():
    return _batch_loss("half_mse_mean", "Half mean squared error over a batch", lambda N: 1 / (2 * N))


@register("half_frobenius", "loss", "Half squared Frobenius norm ½‖Ŷ − Y‖²_F")
def half_frobenius():
    import sympy as sp

    return _batch_loss("half_frobenius", "Half squared Frobenius norm", lambda N: sp.Rational(1, 2))


@register("bce", "loss", "Binary cross-entropy, mean over K outputs")
def bce():
    return _loss(
        "bce", "Binary cross-entropy",
        lambda yh, y, i, K, sp: -sp.Sum(y[i] * sp.log(yh[i]) + (1 - y[i]) * sp.log(1 - yh[i]), (i, 1, K)) / K,
        pred_domain="unit", target_domain="unit",
    )


@register("cross_entropy", "loss", "Cross-entropy on probabilities, −Σ y log ŷ")
def cross_entropy():
    return _loss("cross_entropy", "Cross-entropy",
                 lambda yh, y, i, K, sp: -sp.Sum(y[i] * sp.log(yh[i]), (i, 1, K)),
                 pred_domain="prob", target_domain="onehot")


def _on_logits(name, title, prob_of, loss_of, target_domain, constraints=()):
    import sympy as sp

    from derive.definitions.model import Constraint, Definition, Intermediate, K, Var, i, k

    theta = Var("theta", (K,), r"\boldsymbol{\theta}")
    yhat = Var("yhat", (K,), r"\hat{\mathbf{y}}", role="output")
    y = Var("y", (K,), r"\mathbf{y}", role="target", domain=target_domain)
    return Definition(
        name=name,
        kind="loss",
        title=title,
        output=Var("L", latex="L", role="output"),
        index=(),
        expr=loss_of(prob_of(theta, i, k, K, sp), y, i, K, sp),
        inputs=(theta,),
        others=(y,),
        sizes={K: 3},
        intermediates=(Intermediate(yhat, (i,), prob_of(theta, i, k, K, sp)),),
        constraints=tuple(Constraint(lhs, rhs, why) for lhs, rhs, why in constraints(y, k, K, sp)) if constraints else (),
        expand_logs=True,
    )


@register("bce_logits", "loss", "Binary cross-entropy on logits θ, ŷ = σ(θ)")
def bce_logits():
    return _on_logits(
        "bce_logits", "Binary cross-entropy on logits",
        lambda th, i, k, K, sp: 1 / (1 + sp.exp(-th[i])),
        lambda p, y, i, K, sp: -sp.Sum(y[i] * sp.log(p) + (1 - y[i]) * sp.log(1 - p), (i, 1, K)) / K,
        target_domain="unit",
    )


@register("softmax_cross_entropy", "loss", "Cross-entropy of softmax(θ) against a one-hot target")
def softmax_cross_entropy():
    return _on_logits(
        "softmax_cross_entropy", "Softmax cross-entropy",
        lambda th, i, k, K, sp: sp.exp(th[i]) / sp.Sum(sp.exp(th[k]), (k, 1, K)),
        lambda p, y, i, K, sp: -sp.Sum(y[i] * sp.log(p), (i, 1, K)),
        target_domain="onehot",
        constraints=lambda y, k, K, sp: [(sp.Sum(y[k], (k, 1, K)), sp.Integer(1),
                                          "the target is one-hot, so its entries sum to 1")],
    )


def _class_loss(name, title, scores, margin, probabilities):
    import sympy as sp

    from derive.definitions.model import Definition, Intermediate, K, Var, i, k

    o = Var(scores, (K,), rf"\mathbf{{{scores}}}")
    t = Var("t", latex="t", role="target", domain="class")
    C = Var(margin, latex={"C": "C", "Delta": r"\Delta"}[margin], role="hyper", domain="positive")
    intermediates = ()
    if probabilities:
        p = Var("p", (K,), r"\mathbf{p}", role="output")
        share = sp.exp(o[i]) / sp.Sum(sp.exp(o[k]), (k, 1, K))
        intermediates = (Intermediate(p, (i,), share),)
        score = lambda idx: share.xreplace({i: idx})
    else:
        score = lambda idx: o[idx]
    tt = t.symbol
    expr = sp.Sum((1 - sp.KroneckerDelta(i, tt)) * sp.Max(0, score(i) - score(tt) + C.symbol), (i, 1, K))
    return Definition(
        name=name, kind="loss", title=title,
        output=Var("L", latex="L", role="output"), index=(), expr=expr,
        inputs=(o,), others=(t, C), sizes={K: 4}, intermediates=intermediates,
        conventions=("t is the index of the true class; the sum runs over the other classes.",
                     "The derivative of max(0, u) is taken to be 0 at u = 0.",
                     f"The margin {'C' if margin == 'C' else 'Δ'} is positive."),
    )


@register("hinge", "loss", "Multi-class hinge on softmax probabilities p = softmax(o), margin C")
def hinge():
    return _class_loss("hinge", "Multi-class hinge on probabilities", "o", "C", probabilities=True)


@register("svm", "loss", "Multi-class hinge (SVM) on raw scores s, margin Δ")
def svm():
    return _class_loss("svm", "Multi-class SVM hinge", "s", "Delta", probabilities=False)


@register("l2", "loss", "L2 penalty (λ/2)‖W‖²_F")
def l2():
    import sympy as sp

    from derive.definitions.model import D, Definition, M, Var, k, l

    W = Var("W", (M, D), "W", "parameter")
    lam = Var("lam", latex=r"\lambda", role="hyper", domain="positive")
    return Definition(
        name="l2", kind="loss", title="L2 penalty",
        output=Var("L", latex="L", role="output"), index=(),
        expr=lam.symbol / 2 * sp.Sum(sp.Sum(W[k, l] ** 2, (k, 1, M)), (l, 1, D)),
        inputs=(W,), others=(lam,), sizes={M: 3, D: 2},
    )


@register("squared_hinge", "loss", "Multi-class squared hinge on raw scores s, margin Δ")
def squared_hinge():
    from dataclasses import replace

    import sympy as sp

    base = _class_loss("squared_hinge", "Multi-class squared hinge", "s", "Delta", probabilities=False)
    squared = base.expr.replace(lambda e: isinstance(e, sp.Max), lambda e: e**2)
    return replace(base, expr=squared)


@register("huber", "loss", "Huber loss with threshold δ, Σ_i h_δ(ŷ_i − y_i)")
def huber():
    from derive.definitions.model import Var

    def expr_of(yh, y, i, K, sp):
        r, d = yh[i] - y[i], DELTA.symbol
        return sp.Sum(sp.Piecewise((r**2 / 2, sp.Abs(r) <= d), (d * (sp.Abs(r) - d / 2), True)), (i, 1, K))

    DELTA = Var("delta", latex=r"\delta", role="hyper", domain="positive")
    from dataclasses import replace

    base = _loss("huber", "Huber loss", expr_of,
                 conventions=(("h_δ(r) = r²/2 for |r| ≤ δ and δ(|r| − δ/2) beyond; at |r| = δ both pieces "
                              "have slope δ sign(r)."),))
    return replace(base, others=(*base.others, DELTA))


def _softmax_of(theta, i, k, K, sp):
    return sp.exp(theta[i]) / sp.Sum(sp.exp(theta[k]), (k, 1, K))


def _gamma():
    from derive.definitions.model import Var

    return Var("gamma", latex=r"\gamma", role="hyper", domain="positive")


@register("focal", "loss", "Multi-class focal loss −Σ y_i (1 − p_i)^γ log p_i on probabilities p")
def focal():
    from dataclasses import replace

    gamma = _gamma()
    g = gamma.symbol
    base = _loss("focal", "Multi-class focal loss",
                 lambda p, y, i, K, sp: -sp.Sum(y[i] * (1 - p[i]) ** g * sp.log(p[i]), (i, 1, K)),
                 pred="p", pred_latex=r"\mathbf{p}", pred_domain="prob", target_domain="onehot",
                 conventions=("γ ≥ 0 is the focusing parameter; γ = 0 is the cross-entropy.",))
    return replace(base, others=(*base.others, gamma))


@register("binary_focal", "loss", "Binary focal loss −Σ [y (1 − p)^γ log p + (1 − y) p^γ log(1 − p)]")
def binary_focal():
    from dataclasses import replace

    gamma = _gamma()
    g = gamma.symbol
    base = _loss("binary_focal", "Binary focal loss",
                 lambda p, y, i, K, sp: -sp.Sum(y[i] * (1 - p[i]) ** g * sp.log(p[i])
                                                + (1 - y[i]) * p[i] ** g * sp.log(1 - p[i]), (i, 1, K)),
                 pred="p", pred_latex=r"\mathbf{p}", pred_domain="unit", target_domain="unit",
                 conventions=("γ ≥ 0 is the focusing parameter; γ = 0 is the binary cross-entropy.",))
    return replace(base, others=(*base.others, gamma))


def _renamed(intermediates, name):
    from dataclasses import replace

    from derive.definitions.model import Var

    return tuple(replace(it, var=Var(name, it.var.shape, rf"\mathbf{{{name}}}", role="output"))
                 for it in intermediates)


@register("kl_softmax", "loss", "KL(softmax(a) ‖ softmax(b)), between two softmaxes of logits a and b")
def kl_softmax():
    import sympy as sp

    from derive.definitions.model import Definition, Intermediate, K, Var, i, k

    a, b = Var("a", (K,), r"\mathbf{a}"), Var("b", (K,), r"\mathbf{b}")
    p, q = Var("p", (K,), r"\mathbf{p}", role="output"), Var("q", (K,), r"\mathbf{q}", role="output")
    pa, qb = _softmax_of(a, i, k, K, sp), _softmax_of(b, i, k, K, sp)
    return Definition(
        name="kl_softmax", kind="loss", title="KL divergence between two softmaxes",
        output=Var("L", latex="L", role="output"), index=(),
        expr=sp.Sum(pa * (sp.log(pa) - sp.log(qb)), (i, 1, K)),
        inputs=(a, b), sizes={K: 3}, expand_logs=True,
        intermediates=(Intermediate(p, (i,), pa), Intermediate(q, (i,), qb)),
        conventions=("p = softmax(a), q = softmax(b); L = KL(p ‖ q) = Σ_i p_i log(p_i/q_i).",),
    )


@register("cosine", "loss", "Cosine similarity s = xᵀy / (‖x‖ ‖y‖)")
def cosine():
    import sympy as sp

    from derive.definitions.model import D, Definition, Var, i, k

    x, y = Var("x", (D,), r"\mathbf{x}"), Var("y", (D,), r"\mathbf{y}")
    norm = lambda v: sp.sqrt(sp.Sum(v[k] ** 2, (k, 1, D)))
    return Definition(
        name="cosine", kind="loss", title="Cosine similarity",
        output=Var("s", latex="s", role="output"), index=(),
        expr=sp.Sum(x[i] * y[i], (i, 1, D)) / (norm(x) * norm(y)),
        inputs=(x, y), sizes={D: 3},
    )
