"""Second derivatives: the gradient, derived and verified, taken as a definition of its own.

∂²L/∂θ_i∂θ_j for softmax cross-entropy: ∂L/∂θ_i = ŷ_i − y_i, and its derivative in θ_j,
written in ŷ again, is ŷ_i(δ_ij − ŷ_j), the Hessian diag(ŷ) − ŷŷᵀ.
"""

from __future__ import annotations

from derive.calculus.engine import derive
from derive.definitions.model import IDX, Definition, Var
from derive.errors import DeriveError, unknown
from derive.model.notation import spoken
from derive.steps import Derivation


def gradient_definition(first: Derivation, wrt: str) -> Definition:
    """The entries of the gradient `first` (of a scalar loss, in the free index i) as an activation
    of `wrt`: its named quantities expanded, so the next derivative sees every dependence."""
    defn = first.definition
    if defn.kind != "loss":
        raise DeriveError(f"a second derivative is taken of a loss; {defn.name} is a {defn.kind}")
    names = [v.name for v in defn.inputs]
    if wrt not in names:
        raise unknown(f"variable for {defn.name}", wrt, names)
    var = defn.var(first.wrt)
    if var.rank != 1 or defn.var(wrt).rank != 1:
        raise DeriveError(f"a second derivative is taken with respect to vectors; {first.wrt} and {wrt} "
                          f"of {defn.name} must be vectors")
    expr = first.result
    for nm in reversed(first.named):  # ŷ_k back to its definition in θ
        expr = expr.replace(lambda e, nm=nm: getattr(e, "base", None) == nm.symbol,
                            lambda e, nm=nm: nm.expr_at(e.indices))
    inputs = (defn.var(wrt),)
    others = tuple(v for v in (*defn.inputs, *defn.others) if v.name != wrt)
    gradient = Var("g", var.shape, role="output")  # g_i = ∂L/∂θ_i, so the Hessian is ∂g_i/∂θ_j
    return Definition(
        name=f"{defn.name}_hessian", kind="activation",
        title=f"{defn.title}: second derivative in {first.wrt} and {wrt}", output=gradient,
        index=(IDX["i"],), expr=expr, inputs=inputs, others=others, sizes=dict(defn.sizes),
        intermediates=defn.intermediates,
        conventions=((f"g = ∂{defn.output.name}/∂{spoken(first.wrt)}, the gradient derived first; ∂g_i/∂{spoken(wrt)}_j "
                     "is the second derivative."), *defn.conventions),
    )


def second_derivative(defn: Definition, first_wrt: str, wrt: str) -> Derivation:
    """∂/∂`wrt` of the gradient ∂L/∂`first_wrt`, folded into the loss's named quantities."""
    return derive(gradient_definition(derive(defn, first_wrt), wrt), wrt)
