"""The chain rule of a network as local Jacobians, ∂L/∂ŷ · ∂ŷ/∂z₁ · … · ∂s₁/∂W₁, each with its shape.

An affine layer's Jacobians are derived by the engine's rules from the layer's row (∂s_i/∂W_ij = x_j,
∂S_in/∂Z_jm = W_ij δ_mn); one that is a matrix is also read as a tree (W, I). An activation's is
diag(f′) for one sample, and for a batch f′ entry by entry (the Jacobian is diagonal in both the
feature and the sample). The loss's is ∂L/∂ŷ, a row for one sample.
"""

from __future__ import annotations

import sympy as sp

from derive.definitions.model import IDX
from derive.model import matexpr as mx
from derive.network import trees
from derive.network.chain import Network
from derive.network.names import I, J, LayerNames, base
from derive.steps import LocalJacobian

M_IDX = IDX["m"]  # the sample of the variable, in a batch Jacobian ∂S_in/∂Z_jm


def _entry(row, var: str, names) -> sp.Eq:
    """∂(row output)_i/∂var_… by the engine's rules: differentiate, then contract the deltas."""
    from derive.calculus.rules import evaluate_derivatives
    from derive.calculus.sums import contract_deltas

    if var.startswith("W"):
        at = base(var)[I, J]
    elif var.startswith("b"):
        at = base(var)[J]
    else:
        at = base(var)[J, M_IDX] if names.batch else base(var)[J]
    value = contract_deltas(evaluate_derivatives(sp.Derivative(row.rhs, at, evaluate=False)))
    return sp.Eq(sp.Derivative(row.lhs, at, evaluate=False), value, evaluate=False)


def _affine(net: Network, bp, k: int, var: str) -> LocalJacobian:
    """∂s_k/∂var for var = W_k, b_k or the layer's input."""
    names = bp.names
    row = next(r for r in bp.forward if r.label == f"affine {k}")
    entry = _entry(row, var, names)
    d_out, d_in = f"d{k}", f"d{k - 1}"
    if var.startswith("W"):
        shape = (d_out, "N", d_out, d_in) if net.batch else (d_out, d_out, d_in)
        tree = None
    elif var.startswith("b"):
        shape, tree = (d_out, d_out), trees.required(entry.rhs, names, (d_out, d_out), f"∂s{k}/∂{var}", (I, J))
    elif net.batch:
        shape, tree = (d_out, "N", d_in, "N"), None
    else:
        shape, tree = (d_out, d_in), trees.required(entry.rhs, names, (d_out, d_in), f"∂s{k}/∂{var}", (I, J))
    return _jacobian(names, names.pre[k], var, shape, tree, entry)


def _jacobian(names, top: str, bottom: str, shape: tuple, tree, entry=None) -> LocalJacobian:
    before = mx.MatSym(f"d{top}_d{bottom}", shape)
    return LocalJacobian(before=before, after=tree, top=top, bottom=bottom, shape=shape, entry=entry,
                         names=names.table([before, tree]))


def jacobians(net: Network) -> dict:
    """Every local Jacobian of the network once, (top, bottom) → LocalJacobian: built layer by
    layer, so the work grows linearly with depth."""
    from derive.network.backprop import backprop

    bp = backprop(net)
    names = bp.names
    L = net.depth
    up = bp.signals[0].upstream_tree
    out = {("L", names.out[L]): _jacobian(names, "L", names.out[L], (f"d{L}", "N") if net.batch else ("1", f"d{L}"),
                                          up if net.batch else mx.transpose(up))}
    for s in bp.signals:
        m = s.k
        if net.stages[m - 1].activation:
            shape = (f"d{m}", "N") if net.batch else (f"d{m}", f"d{m}")
            out[names.out[m], names.pre[m]] = _jacobian(names, names.out[m], names.pre[m], shape,
                                                        s.fprime_tree if net.batch else mx.diag(s.fprime_tree))
        for var in (*net.stages[m - 1].params, names.out[m - 1]):
            out[names.pre[m], var] = _affine(net, bp, m, var)
    return out


def local_jacobians(net: Network, wrt: str, table: dict | None = None) -> tuple:
    """∂L/∂wrt as a product of local Jacobians, from the loss down to the layer of `wrt`."""
    table = table or jacobians(net)
    names = LayerNames(net)
    L = net.depth
    k = 1 if wrt == net.input_name else int(wrt[1:])
    chain = [table["L", names.out[L]]]
    for m in range(L, k - 1, -1):
        if m < L:
            chain.append(table[names.pre[m + 1], names.out[m]])
        if net.stages[m - 1].activation:
            chain.append(table[names.out[m], names.pre[m]])
    chain.append(table[names.pre[k], wrt])
    return tuple(chain)
