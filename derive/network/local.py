"""The local pieces of a network, each taken from the engine's derivation of a registry entry.

Nothing here knows what a sigmoid or an MSE is: f′ comes from `derivative(activation)`, ∂L/∂ŷ
from `derivative(loss)`, and the affine gradients from `derivative(affine, wrt=W|b|x)`, then the
entry's own names are replaced by the network's (W → W2, x → z1, ∂C/∂y → δ2). Each registry
entry is derived once, however deep the network.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import sympy as sp

from derive.network.chain import Module

SAMPLE = sp.Symbol("n", integer=True, positive=True)  # the sample index of a batch


def dim(k: int) -> sp.Symbol:
    """d_k: the width of layer k (d_0 is the input)."""
    return sp.Symbol(f"d{k}", integer=True, positive=True)


@cache
def definition(module: Module):
    """The registry Definition for a module, with `affine[bias=false]` made from `affine` by b = 0."""
    from derive.definitions import get

    defn = get(module.name)
    if defn.elementwise and defn.intermediates:  # σ, Φ, … are not network quantities: f′ in x and y alone
        defn = replace(defn, intermediates=())
    if module.name == "affine" and not module.option("bias", True):
        b = defn.var("b")
        body = defn.expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == b.symbol, lambda e: 0)
        defn = replace(defn, expr=body, inputs=tuple(v for v in defn.inputs if v.name != "b"),
                       title=defn.title + " without bias")
    return defn


@cache
def derivation(module: Module, wrt: str | None = None):
    """The engine's derivation of one module (cached: a registry entry is derived once)."""
    from derive.derivation import module_derivative
    from derive.model.request import Request

    # the network's own check covers it
    return module_derivative(Request(definition(module), wrt), verify=False)


def rename(expr: sp.Expr, defn, names: dict, upstream=None, extra: dict | None = None) -> sp.Expr:
    """Replace a definition's variables by network quantities.

    `names` maps a variable name of the definition (or "upstream", for a layer's ∂C/∂y) to a
    SymPy object: an IndexedBase (W → W2), a dimension (M → d2), or, for the scalar variable
    of an elementwise activation, the network entry it stands for (x → s1[i]). `extra` is a
    further plain substitution, e.g. of index symbols.
    """
    subs = {}
    for var in defn.variables:
        if var.name in names:
            subs[var.symbol] = names[var.name]
    if upstream is not None and "upstream" in names:
        subs[upstream.symbol] = names["upstream"]
    out = expr.xreplace(subs)
    return out.xreplace(extra) if extra else out
