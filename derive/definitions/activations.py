"""Activations: elementwise ones as scalars (`y = σ(x)`), softmax-like ones in index form."""

from derive.definitions import register


def _elementwise(name, title, expr_of, others=(), conventions=(), named=()):
    """y = f(x) entry by entry; `named` are (name, LaTeX, expression of x) the result is written in."""
    import sympy as sp

    from derive.definitions.model import Definition, Intermediate, Var

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
        intermediates=tuple(Intermediate(_named_var(n, tex), (), f(x.symbol, sp)) for n, tex, f in named),
    )


def _named_var(name, latex):
    from derive.definitions.model import AppliedVar, Var

    # σ is printed σ(x), as a TA writes it and as the answer checker reads it (the sigmoid of x)
    return (AppliedVar if name == "sigma" else Var)(name, latex=latex, role="output")


def _sigma(x, sp):
    return 1 / (1 + sp.exp(-x))


SIGMA = ("sigma", r"\sigma", _sigma)  # σ = σ(x), the logistic sigmoid of the input, printed σ(x)


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
    return _elementwise("softplus", "Softplus", lambda x, sp: sp.log(1 + sp.exp(x)), named=(SIGMA,),
                        conventions=("σ = σ(x) = 1/(1 + e^{−x}).",))


@register("silu", "activation", "SiLU (swish), y = x σ(x)")
def silu():
    return _elementwise("silu", "Sigmoid-weighted linear unit (SiLU)", lambda x, sp: x * _sigma(x, sp),
                        named=(SIGMA,), conventions=("σ = σ(x) = 1/(1 + e^{−x}).",))


@register("mish", "activation", "Mish, y = x tanh(softplus(x))")
def mish():
    return _elementwise(
        "mish", "Mish", lambda x, sp: x * sp.tanh(sp.log(1 + sp.exp(x))),
        named=(("zeta", r"\zeta", lambda x, sp: sp.log(1 + sp.exp(x))), SIGMA),
        conventions=("ζ = softplus(x) = log(1 + eˣ) and σ = σ(x) = 1/(1 + e^{−x}).",))


@register("gelu", "activation", "GELU, y = x Φ(x) (exact, with the normal CDF Φ)")
def gelu():
    return _elementwise(
        "gelu", "Gaussian error linear unit (exact)",
        lambda x, sp: x * (1 + sp.erf(x / sp.sqrt(2))) / 2,
        named=(("Phi", r"\Phi", lambda x, sp: (1 + sp.erf(x / sp.sqrt(2))) / 2),
               ("phi", r"\phi", lambda x, sp: sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi))),
        conventions=(("Φ = Φ(x) = (1 + erf(x/√2))/2 is the standard normal CDF and φ = φ(x) = e^{−x²/2}/√(2π) "
                     "its density."),))


@register("gelu_tanh", "activation", "GELU, tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³)))")
def gelu_tanh():
    from derive.definitions.model import Var

    C = Var("c", latex="c", role="hyper", domain="positive").symbol
    return _elementwise(
        "gelu_tanh", "Gaussian error linear unit (tanh approximation)",
        lambda x, c, sp: x * (1 + sp.tanh(_gelu_u(x, c, sp))) / 2,
        others=(Var("c", latex="c", role="hyper", domain="positive"),),
        named=(("t", "t", lambda x, sp: sp.tanh(_gelu_u(x, C, sp))),),
        conventions=("t = tanh(u) with u = √(2/π)(x + c x³), and c = 0.044715 (the derivative holds for any c).",))


def _gelu_u(x, c, sp):
    return sp.sqrt(2 / sp.pi) * (x + c * x**3)


@register("dropout", "activation", "Inverted dropout, y = m x / p (mask m, keep probability p)")
def dropout():
    from derive.definitions.model import Var

    return _elementwise(
        "dropout", "Inverted dropout",
        lambda x, m, p, sp: m * x / p,
        others=(Var("m", latex="m", role="hyper", domain="unit"),
                Var("p", latex="p", role="hyper", domain="unit")),
        conventions=(("m is the mask (1 keeps the unit, 0 drops it), drawn once in the forward pass; p is the "
                     "probability of keeping a unit, so E[y] = x. The derivative is taken with respect to x, "
                     "the mask held fixed."),))


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
