"""A chain is a graph: `affine>relu>affine>mse` as nodes s1, z1, s2, loss, with the chain's own names
(W1, b1, …; x, or X for a batch of columns), so a chain and its graph state the same gradients."""

from __future__ import annotations

from derive.graph.model import Graph


def from_chain(spec: str) -> Graph:
    from derive.network.chain import network
    from derive.network.local import definition

    net = network(spec)
    g = Graph(spec)
    x = net.input_name
    g.input(x, "d0", *(("N",) if net.batch else ()))
    last = x
    for s in net.stages:
        adef = definition(s.affine)
        binds = {adef.inputs[0].name: f"W{s.k}", adef.var("X" if net.batch else "x").name: last}
        if s.bias:
            binds["b"] = f"b{s.k}"
        g.node(f"s{s.k}", s.affine.spelling, size=f"d{s.k}", **binds)
        last = f"s{s.k}"
        if s.activation:
            g.node(f"z{s.k}", s.activation.spelling, x=last)
            last = f"z{s.k}"
    ldef = definition(net.loss)
    target = next(v for v in ldef.others if v.role == "target")
    g.node("loss", net.loss.spelling, **{ldef.inputs[0].name: last, target.name: "Y" if net.batch else "y"})
    return g
