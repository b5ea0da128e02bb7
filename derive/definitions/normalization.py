"""Batch statistics: the mean and variance of a vector, batch norm and layer norm.

One feature over a batch of N samples (batch norm), or one sample over its D features (layer
norm): the statistics are sums over the same vector that is normalized, so every output depends
on every input.
"""

from derive.definitions import register


def _stats(x, n, sp):
    """μ = Σ_k x_k / n and σ² = Σ_m (x_m − μ)² / n, each sum with its own index."""
    from derive.definitions.model import k, m

    mu = sp.Sum(x[k], (k, 1, n)) / n
    return mu, sp.Sum((x[m] - mu) ** 2, (m, 1, n)) / n


@register("mean", "loss", "Mean of a vector, μ = (1/N) Σ_n x_n")
def mean():
    import sympy as sp

    from derive.definitions.model import Definition, N, Var

    x = Var("x", (N,), r"\mathbf{x}")
    return Definition(name="mean", kind="loss", title="Mean", output=Var("mu", latex=r"\mu", role="output"),
                      index=(), expr=_stats(x, N, sp)[0], inputs=(x,), sizes={N: 5})


@register("variance", "loss", "Variance of a vector, σ² = (1/N) Σ_n (x_n − μ)²")
def variance():
    import sympy as sp

    from derive.definitions.model import Definition, Intermediate, N, Var

    x = Var("x", (N,), r"\mathbf{x}")
    mu = Var("mu", latex=r"\mu", role="output")
    mean_, var = _stats(x, N, sp)
    return Definition(name="variance", kind="loss", title="Variance (biased, 1/N)",
                      output=Var("sigma2", latex=r"\sigma^2", role="output"), index=(),
                      expr=var,
                      inputs=(x,), sizes={N: 5}, intermediates=(Intermediate(mu, (), mean_),),
                      conventions=("The biased variance, with 1/N (as batch norm uses it).",))


def _norm(name, title, n, label):
    import sympy as sp

    from derive.definitions.model import Definition, Intermediate, Var, i, k

    x = Var("x", (n,), r"\mathbf{x}")
    gamma, beta = Var("gamma", latex=r"\gamma", role="parameter"), Var("beta", latex=r"\beta", role="parameter")
    eps = Var("epsilon", latex=r"\epsilon", role="hyper", domain="positive")
    mean_, var = _stats(x, n, sp)
    mu = Var("mu", latex=r"\mu", role="output")
    sigma = Var("sigma", latex=r"\sigma", role="output", domain="positive")
    xhat = Var("xhat", (n,), r"\hat{\mathbf{x}}", role="output")
    normalized = (x[i] - mean_) / sp.sqrt(var + eps.symbol)
    return Definition(
        name=name, kind="layer", title=title, output=Var("y", (n,), r"\mathbf{y}", role="output"), index=(i,),
        expr=gamma.symbol * normalized + beta.symbol, inputs=(x, gamma, beta), others=(eps,),
        sizes={n: 4},
        intermediates=(Intermediate(mu, (), mean_),
                       Intermediate(sigma, (), sp.sqrt(var.xreplace({mean_ * n: n * mu.symbol}).subs(
                           sp.Sum(x[k], (k, 1, n)), n * mu.symbol) + eps.symbol)),
                       Intermediate(xhat, (i,), (x[i] - mu.symbol) / sigma.symbol)),
        conventions=((f"{label}; μ is their mean, σ = √(σ_B² + ε) with σ_B² their biased variance "
                      f"(1/{n}), ε > 0; x̂ = (x − μ)/σ."),))


@register("batchnorm", "layer", "Batch norm of one feature over N samples, y = γ x̂ + β")
def batchnorm():
    from derive.definitions.model import N

    return _norm("batchnorm", "Batch normalization", N, "x holds one feature over the N samples of a batch")


@register("layernorm", "layer", "Layer norm of one sample over D features, y = γ x̂ + β")
def layernorm():
    from derive.definitions.model import D

    return _norm("layernorm", "Layer normalization", D, "x holds the D features of one sample")
