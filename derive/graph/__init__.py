"""Computation graphs: modules as named nodes, several inputs per node, shared parameters, a loss
that is a sum of terms; backprop on the graph, every statement checked at run time.

    >>> g = graph("two_layer")
    >>> g.input("x", "d0")
    >>> g.node("h", "affine", x="x", W="W1", b="b1")
    >>> g.node("loss", "mse", yhat="h", y="y")
    >>> g.derive().gradient("W1").parts[0].node
    'h'

Nothing is imported until it is used, so the command line (derive.graph.cli) starts without SymPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from derive.graph.model import Graph


def graph(name_or_chain: str = "graph") -> Graph:
    """An empty graph named `name`, or the graph of a chain (`affine>relu>affine>mse`)."""
    from derive.network.chain import is_chain

    if is_chain(name_or_chain):
        from derive.graph.chain import from_chain

        return from_chain(name_or_chain)
    from derive.graph.model import Graph

    return Graph(name_or_chain)


def __getattr__(name: str):
    if name == "Graph":
        from derive.graph.model import Graph

        return Graph
    raise AttributeError(f"module 'derive.graph' has no attribute {name!r}")


__all__ = ["Graph", "graph"]
