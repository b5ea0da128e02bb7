"""A recurrent network unrolled over T steps: a graph whose weights are shared by every step.

    a_t = W_hh h_{t−1} + W_xh x_t + b,   h_t = tanh(a_t),   o_t = W_hy h_t + c,   L = Σ_t loss(o_t, y_t)

The cell is a module of its own (a Definition, derived by the engine like any other); unrolled,
W_hh, W_xh, b, W_hy and c are tied across the steps, so backprop on the graph gives each of their
gradients as a sum over t (one part per step), and ∂L/∂h_t as the sum of what o_t and a_{t+1} send
back: the δ_t recursion, δ_t = ∂L/∂a_t = (W_hyᵀ ∂L/∂o_t + W_hhᵀ δ_{t+1}) ⊙ (1 − h_t²).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from derive.definitions.model import D, Definition, M, Var, i, k
from derive.graph.model import Graph


@cache
def cell() -> Definition:
    """a_i = Σ_k U_ik h_k + Σ_k V_ik x_k + b_i: the recurrent and the input map, and the bias."""
    U, V = Var("U", (M, M), "U", "parameter"), Var("V", (M, D), "V", "parameter")
    h, x, b = Var("h", (M,), r"\mathbf{h}"), Var("x", (D,), r"\mathbf{x}"), Var("b", (M,), r"\mathbf{b}", "parameter")
    body = sp.Sum(U[i, k] * h[k], (k, 1, M)) + sp.Sum(V[i, k] * x[k], (k, 1, D)) + b[i]
    return Definition(name="rnn_cell", kind="layer", title="Recurrent cell a = U h + V x + b",
                      output=Var("a", (M,), r"\mathbf{a}", role="output"), index=(i,), expr=body,
                      inputs=(U, V, b, h, x), sizes={M: 3, D: 2})


def rnn(steps: int, loss: str = "mse", every_step: bool = True) -> Graph:
    """The RNN unrolled over `steps`; with `every_step` a loss at each step (many to many), else one
    at the last step only (many to one)."""
    from derive.errors import DeriveError

    if not isinstance(steps, int) or not 1 <= steps <= 256:
        raise DeriveError(f"an RNN is unrolled over 1 to 256 steps, not {steps!r}")
    g = Graph(f"rnn_T{steps}")
    g.input("h0", "dh")
    for t in range(1, steps + 1):
        g.input(f"x{t}", "dx")
    for t in range(1, steps + 1):
        g.node(f"a{t}", cell(), U="W_hh", V="W_xh", b="b", h=f"h{t - 1}", x=f"x{t}")
        g.node(f"h{t}", "tanh", x=f"a{t}")
        if every_step or t == steps:
            g.node(f"o{t}", "affine", W="W_hy", b="c", x=f"h{t}", size="dy")
            g.node(f"loss{t}", loss, **{_prediction(loss): f"o{t}", _target(loss): f"y{t}"})
    return g


def _prediction(loss: str) -> str:
    from derive.definitions import get

    return get(loss).inputs[0].name


def _target(loss: str) -> str:
    from derive.definitions import get

    return next(v.name for v in get(loss).others if v.role == "target")
