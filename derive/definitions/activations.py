"""Activations: elementwise ones as scalars (`y = σ(x)`), softmax-like ones in index form."""

from derive.definitions import register


def _elementwise(name, title, expr_of, others=(), conventions=()):
    import sympy as sp

    from derive.definitions.model import Definition, Var

    x = Var("x", latex="x")
    return Definition(
        name=name,
        kind="activation",
        title=title,
        output=Var("y", latex="y", role="output"),
        index=(),
        expr=expr_of(x.symbol, *(o.symbol for o in others), sp=sp),
        inputs=(x,),
        others=tuple(others),
        conventions=tuple(conventions),
    )


@register("identity", "activation", "Identity, y = x")
def identity():
    return _elementwise("identity", "Identity", lambda x, sp: x)


@register("sigmoid", "activation", "Logistic sigmoid, y = 1/(1 + e^{-x})")
def sigmoid():
    return _elementwise("sigmoid", "Logistic sigmoid", lambda x, sp: 1 / (1 + sp.exp(-x)))


@register("tanh", "activation", "Hyperbolic tangent")
def tanh():
    return _elementwise("tanh", "Hyperbolic tangent", lambda x, sp: sp.tanh(x))


@register("relu", "activation", "Rectified linear unit, y = max(0, x)")
def relu():
    return _elementwise(
        "relu",
        "Rectified linear unit",
        lambda x, sp: sp.Max(0, x),
        conventions=("ReLU′(0) = 0: at the kink the derivative is taken to be 0.",),
    )


def _alpha():
    from derive.definitions.model import Var

    return Var("alpha", latex=r"\alpha", role="hyper", domain="positive")


@register("leaky_relu", "activation", "Leaky ReLU with slope α for x < 0")
def leaky_relu():
    return _elementwise(
        "leaky_relu",
        "Leaky ReLU",
        lambda x, a, sp: sp.Piecewise((x, x > 0), (a * x, True)),
        others=(_alpha(),),
        conventions=("At x = 0 the derivative is taken to be α.",),
    )


@register("elu", "activation", "Exponential linear unit with parameter α")
def elu():
    return _elementwise(
        "elu",
        "Exponential linear unit",
        lambda x, a, sp: sp.Piecewise((x, x > 0), (a * (sp.exp(x) - 1), True)),
        others=(_alpha(),),
        conventions=("At x = 0 the derivative is taken from the left, α.",),
    )


@register("softplus", "activation", "Softplus, y = log(1 + e^x)")
def softplus():
    return _elementwise("softplus", "Softplus", lambda x, sp: sp.log(1 + sp.exp(x)))


def _softmax_like(name, title, log):
    import sympy as sp

    from derive.definitions.model import Definition, K, Var, i, k

    x = Var("x", (K,), r"\mathbf{x}")
    beta = Var("beta", latex=r"\beta", role="hyper", domain="positive")
    share = sp.exp(beta.symbol * x[i]) / sp.Sum(sp.exp(beta.symbol * x[k]), (k, 1, K))
    return Definition(
        name=name,
        kind="activation",
        title=title,
        output=Var("y", (K,), r"\mathbf{y}", role="output"),
        index=(i,),
        expr=sp.log(share) if log else share,
        inputs=(x,),
        others=(beta,),
        sizes={K: 3},
        expand_logs=log,
    )


@register("softmax", "activation", "Softmax with temperature β")
def softmax():
    return _softmax_like("softmax", "Softmax with inverse temperature β", log=False)


@register("log_softmax", "activation", "Log-softmax with temperature β")
def log_softmax():
    return _softmax_like("log_softmax", "Log-softmax with inverse temperature β", log=True)
