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
    hp = Var("hprev", (H,))  # printed h_{t−1} (derive.model.notation)
    h = Var("h", (H,), r"\mathbf{h}", role="output")
    z = sp.Sum(W[i, k] * hp[k], (k, 1, H)) + sp.Sum(U[i, l] * x[l], (l, 1, D)) + b[i]
    return Definition(
        name="rnn_step", kind="layer", title="Elman RNN step",
        output=h, index=(i,), expr=sp.tanh(z),
        inputs=(W, U, b, hp, x), sizes={H: 3, D: 2},
        intermediates=(Intermediate(h, (i,), sp.tanh(z)),),
        conventions=("h_{t−1} is the previous state (hprev in code); the state h has H entries, the input x has D.",),
    )



def _gate(name, latex, weights, bias, z, size, squash, sizes, more=(), inputs=()):
    """A gate (or candidate) as two stages: its pre-activation a_g = Σ_k W_ik z_k + … + b_i and the gate
    g = squash(a_g), each named, so every gradient is written in ∂C/∂a_g = ∂C/∂g ⊙ squash′. `more` are
    further terms of a_g (U h′ of a GRU), `inputs` the variables they add."""
    import sympy as sp

    from derive.definitions.model import Definition, Intermediate, Var, i, k

    pre = Var(f"a_{name[0]}", (size,), f"a_{name[0]}", role="output")
    out = Var(name, (size,), latex, role="output")
    linear = sp.Sum(weights[i, k] * z[k], (k, 1, z.shape[0])) + sp.Add(*more) + bias[i]
    return (Definition(name=f"preactivation_{name}", kind="layer", title="", output=pre, index=(i,), expr=linear,
                       inputs=(weights, bias, z, *inputs), sizes=sizes),
            Definition(name=f"gate_{name}", kind="layer", title="", output=out, index=(i,), expr=squash(pre[i]),
                       inputs=(pre,), sizes=sizes, intermediates=(Intermediate(out, (i,), squash(pre[i])),)))


def _sigmoid(a):
    import sympy as sp

    return 1 / (1 + sp.exp(-a))


def _stage(name, output, expr, inputs, sizes, named=False):
    from derive.definitions.model import Definition, Intermediate, i

    return Definition(name=name, kind="layer", title="", output=output, index=(i,), expr=expr, inputs=inputs,
                      sizes=sizes, intermediates=(Intermediate(output, (i,), expr),) if named else ())


def _expanded(stages, output):
    """The output in the inputs alone: each named stage substituted into the ones after it."""
    from derive.definitions.model import written_out

    expr = stages[-1].expr
    for st in reversed(stages[:-1]):
        expr = written_out(expr, st.output.symbol, st.index, st.expr)
    return expr


@register("lstm_cell", "layer",
          "LSTM cell: gates f, i, o = σ(W z + b), g = tanh(W_g z + b_g), c = f ⊙ c′ + i ⊙ g, h = o ⊙ tanh(c)")
def lstm_cell():
    import sympy as sp

    from derive.definitions.model import Definition, Intermediate, Var, dim, i

    H, Z = dim("H"), dim("Z")
    sizes = {H: 2, Z: 3}
    z = Var("z", (Z,), r"\mathbf{z}")
    cp = Var("cprev", (H,))
    W = {g: Var(f"W_{g}", (H, Z), f"W_{g}", role="parameter") for g in "fiog"}
    b = {g: Var(f"b_{g}", (H,), rf"\mathbf{{b}}_{g}", role="parameter") for g in "fiog"}
    gates = {g: _gate(g, g, W[g], b[g], z, H, sp.tanh if g == "g" else _sigmoid, sizes) for g in "fiog"}
    f, ig, o, g = (gates[x][1].output for x in "fiog")
    c = Var("c", (H,), r"\mathbf{c}", role="output")
    h = Var("h", (H,), r"\mathbf{h}", role="output")
    stages = (*(st for pair in gates.values() for st in pair),
              _stage("lstm_state", c, f[i] * cp[i] + ig[i] * g[i], (f, cp, ig, g), sizes),
              _stage("lstm_output", h, o[i] * sp.tanh(c[i]), (o, c), sizes))
    return Definition(
        name="lstm_cell", kind="layer", title="LSTM cell", output=h, index=(i,), expr=_expanded(stages, h),
        inputs=(cp, z, *W.values(), *b.values()), sizes=sizes, stages=stages,
        intermediates=tuple(Intermediate(st.output, st.index, st.expr) for st in stages[:-1]),
        conventions=(("z = [h_{t−1}; x] is the previous state stacked on the input (Z = H + D entries); c_{t−1} "
                     "(cprev in code) is the previous cell state."),
                     ("f, i, o are the forget, input and output gates, g the candidate; ∂C/∂h arrives from above "
                     "(a gradient arriving at c from the next step adds to ∂C/∂c the same way).")),
    )


@register("gru_cell", "layer",
          "GRU cell: gates z, r = σ(W x + U h′ + b), h̃ = tanh(W_h x + U_h (r ⊙ h′) + b_h), h = (1 − z) ⊙ h̃ + z ⊙ h′")
def gru_cell():
    import sympy as sp

    from derive.definitions.model import D, Definition, Intermediate, Var, dim, i, l

    H = dim("H")
    sizes = {H: 2, D: 3}
    x, hp = Var("x", (D,), r"\mathbf{x}"), Var("hprev", (H,))
    W = {g: Var(f"W_{g}", (H, D), f"W_{g}", role="parameter") for g in "zrh"}
    U = {g: Var(f"U_{g}", (H, H), f"U_{g}", role="parameter") for g in "zrh"}
    b = {g: Var(f"b_{g}", (H,), rf"\mathbf{{b}}_{g}", role="parameter") for g in "zrh"}

    def gate(g, name, latex, squash, of):
        more = sp.Sum(U[g][i, l] * of(l), (l, 1, H))
        return _gate(name, latex, W[g], b[g], x, H, squash, sizes, more=(more,), inputs=(U[g], hp, *extra[g]))

    extra = {"z": (), "r": (), "h": ()}
    z = gate("z", "z", "z", _sigmoid, lambda a: hp[a])
    r = gate("r", "r", "r", _sigmoid, lambda a: hp[a])
    extra["h"] = (r[1].output,)
    cand = gate("h", "htilde", r"\tilde{h}", sp.tanh, lambda a: r[1].output[a] * hp[a])
    h = Var("h", (H,), r"\mathbf{h}", role="output")
    zg, ht = z[1].output, cand[1].output
    stages = (*z, *r, *cand, _stage("gru_output", h, (1 - zg[i]) * ht[i] + zg[i] * hp[i], (zg, ht, hp), sizes))
    return Definition(
        name="gru_cell", kind="layer", title="GRU cell", output=h, index=(i,), expr=_expanded(stages, h),
        inputs=(hp, x, *W.values(), *U.values(), *b.values()), sizes=sizes, stages=stages,
        intermediates=tuple(Intermediate(st.output, st.index, st.expr) for st in stages[:-1]),
        conventions=(("h_{t−1} (hprev in code) is the previous state; z is the update gate, r the reset gate and h̃ "
                     "(htilde) the candidate state, with r applied before U_h (as in PyTorch's GRU up to its bias)."),),
    )
