"""Recurrent cells, one time step: the gradients of an arbitrary cost C through the new state.

The new state is named (h, and each gate of a cell), so the results are written in it:
∂C/∂W_ij = ∂C/∂h_i (1 − h_i²) h′_j for h = tanh(W h′ + U x + b), h′ the previous state.
"""

from derive.definitions import register


@register("rnn_step", "layer", "Elman RNN step h = tanh(W h′ + U x + b), h′ the previous state")
def rnn_step():
    import sympy as sp

    from derive.definitions.model import D, Definition, Intermediate, Var, dim, i, k, l

    H = dim("H")
    W = Var("W", (H, H), "W", role="parameter")
    U = Var("U", (H, D), "U", role="parameter")
    b = Var("b", (H,), r"\mathbf{b}", role="parameter")
    x = Var("x", (D,), r"\mathbf{x}")
    hp = Var("hprev", (H,))  # printed hprev: a prime would read as a derivative
    h = Var("h", (H,), r"\mathbf{h}", role="output")
    z = sp.Sum(W[i, k] * hp[k], (k, 1, H)) + sp.Sum(U[i, l] * x[l], (l, 1, D)) + b[i]
    return Definition(
        name="rnn_step", kind="layer", title="Elman RNN step",
        output=h, index=(i,), expr=sp.tanh(z),
        inputs=(W, U, b, hp, x), sizes={H: 3, D: 2},
        intermediates=(Intermediate(h, (i,), sp.tanh(z)),),
        conventions=("h′ is the previous state (hprev); the state h has H entries, the input x has D.",),
    )

