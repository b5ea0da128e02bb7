"""The functions an answer may apply (σ, tanh, relu, 1[·]'s Heaviside …), defined once, in SymPy.

The module reader applies them to SymPy expressions; the network evaluator applies the same
definitions over NumPy arrays, compiled from them by the one compile-to-NumPy
(derive/numpy_lambdify.py), so both readers know the same functions and mean the same by them.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp


def _sigmoid(a):
    return 1 / (1 + sp.exp(-a))


FUNCS = {
    "exp": sp.exp, "log": sp.log, "ln": sp.log, "tanh": sp.tanh, "sinh": sp.sinh, "cosh": sp.cosh,
    "sigma": _sigmoid, "sigmoid": _sigmoid, "sqrt": sp.sqrt, "sech": sp.sech, "abs": sp.Abs,
    "sgn": sp.sign, "sign": sp.sign, "relu": lambda a: sp.Max(0, a),
    "Heaviside": lambda a: sp.Heaviside(a, 0), "erf": sp.erf,
    # GELU's Φ and φ (the standard normal CDF and density) and softplus, Mish's ζ, as their conventions define them
    "Phi": lambda a: (1 + sp.erf(a / sp.sqrt(2))) / 2, "phi": lambda a: sp.exp(-a**2 / 2) / sp.sqrt(2 * sp.pi),
    "softplus": lambda a: sp.log(1 + sp.exp(a)), "zeta": lambda a: sp.log(1 + sp.exp(a)),
}
NAMED = ("Phi", "phi", "zeta")  # also names of quantities: read as these functions only where they are them
DERIVATIVES = {  # f′, read as σ'(x), tanh'(x)
    "sigma": lambda a: _sigmoid(a) * (1 - _sigmoid(a)), "sigmoid": lambda a: _sigmoid(a) * (1 - _sigmoid(a)),
    "tanh": lambda a: 1 - sp.tanh(a) ** 2, "exp": sp.exp, "relu": lambda a: sp.Heaviside(a, 0),
    "log": lambda a: 1 / a, "ln": lambda a: 1 / a, "softplus": _sigmoid, "zeta": _sigmoid, "Phi": FUNCS["phi"],
}
KINKED = ("abs", "sgn", "sign", "relu", "Heaviside", "sqrt", "log", "ln")  # a kink or branch point at 0

_A = sp.Symbol("a", real=True)


@functools.cache
def numpy_function(name: str, primes: int = 0):
    """FUNCS[name] (DERIVATIVES[name] with a prime) over NumPy arrays; None if there is no such function."""
    from derive.numpy_lambdify import compile_numpy

    table = DERIVATIVES if primes == 1 else FUNCS if primes == 0 else {}
    if name not in table:
        return None
    f = compile_numpy([table[name](_A)], [_A], f"<derive: {name}{chr(39) * primes}>")
    return lambda a: np.array(np.broadcast_to(f(a)[0], np.shape(a)), dtype=float)


# -- readings that need the derivation: σ(…) where σ names σ(x), Φ/φ/ζ as functions, tr and ‖·‖


def sigma_of_input(defn, arg) -> None:
    """Where σ names σ(x) (SiLU, softplus, Mish), σ(…) of anything but x may mean σ·(…): refused as ambiguous."""
    from derive.check.screen import InvalidAnswer

    if not is_named_function(defn, "sigma"):
        return
    it = next(it for it in defn.intermediates if it.var.name == "sigma")
    (x,) = it.expr.free_symbols
    if isinstance(arg, sp.MatrixBase) or sp.simplify(arg - x) == 0:
        return
    raise InvalidAnswer(f"σ(…) is ambiguous here, where σ stands for σ({x}): write σ({x})·(…) for a product, "
                        "or σ(…) only of x")


def sigma_is_quantity(defn) -> bool:
    """Whether σ names a quantity that is not the sigmoid of the input (batch norm's √(σ_B² + ε)): then the
    module has no sigmoid, and σ before a term is a product."""
    return any(it.var.name == "sigma" for it in defn.intermediates) and not is_named_function(defn, "sigma")


def is_named_function(defn, name: str) -> bool:
    """Whether the quantity `name` of `defn` is FUNCS[name] of the input (GELU's Φ, φ; Mish's ζ)."""
    for it in defn.intermediates:
        if it.var.name == name:
            if len(it.expr.free_symbols) != 1:
                return False
            (x,) = it.expr.free_symbols
            return sp.simplify(it.expr - FUNCS[name](x)) == 0
    return False


def matrix_scalar(name: str, args: list, form: str):
    """tr(A) and ‖A‖ (Frobenius): matrix notation, a 1×1 result."""
    from derive.check.screen import InvalidAnswer
    from derive.check.vocabulary import ShapeMismatch

    if form != "matrix" or len(args) != 1:
        raise InvalidAnswer(f"{'tr' if name == 'tr' else '‖·‖'} is read in matrix notation, of one matrix")
    a = args[0]
    if name == "tr":
        if a.shape[0] != a.shape[1]:
            raise ShapeMismatch(f"the trace of a {a.shape[0]}×{a.shape[1]} matrix: it needs a square one")
        return sp.ImmutableMatrix([[a.trace()]])
    return sp.ImmutableMatrix([[sp.sqrt(sum(e**2 for e in a))]])
