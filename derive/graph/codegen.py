"""NumPy code for a graph's forward pass and every gradient, printed from the derived trees.

Each node's row prints from its tree (`W1 @ x + b1`), or from its index form where it has no
tree (a softmax inside a loss); each gradient prints from the tree stated for it (a fan-out as
the sum of its parts). Vectors are columns, d × 1 arrays. The same lines make the source a user
copies and the function the run-time check runs (`Program.run`), so what is checked is what is
written out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from derive.graph.backprop import backprop, dim, partial
from derive.graph.model import ResolvedGraph


@dataclass(frozen=True)
class Program:
    """The lines of the generated function, by name, in the order they run."""

    name: str
    args: tuple  # inputs, targets, then parameters
    hypers: tuple  # free hyperparameters: keyword arguments
    forward: tuple  # ((value, code), ...)
    loss: str
    backward: tuple  # ((dL_dvalue, code), ...)
    returned: tuple  # values whose gradient the function returns: inputs and parameters

    @property
    def body(self) -> list:
        return [f"{v} = {c}" for v, c in self.forward] + [f"L = {self.loss}"] + [
            f"{v} = {c}" for v, c in self.backward]

    def source(self) -> str:
        kw = "".join(f", {h}" for h in self.hypers)
        kw = f", *{kw}" if kw else ""
        grads = ", ".join(f'"{v}": {partial(v)}' for v in self.returned)
        lines = ["import numpy as np", *(["import math"] if any("math." in b for b in self.body) else []), "", "",
                 f"def {self.name}({', '.join(self.args)}{kw}):",
                 (f'    """Loss and gradients of the graph {self.name.removeprefix("forward_backward_")}, '
                 "derived by `derive`."),
                 "",
                 "    Vectors are columns (d x 1 arrays). Returns (L, grads) with grads[name] = dL/d(name),",
                 "    the shape of the variable, for every input and parameter.",
                 '    """',
                 "    # forward pass",
                 *(f"    {v} = {c}" for v, c in self.forward),
                 f"    L = {self.loss}",
                 "    # backward pass: each value's gradient, summed over the nodes it feeds",
                 *(f"    {v} = {c}" for v, c in self.backward),
                 f"    grads = {{{grads}}}",
                 "    return L, grads"]
        return "\n".join(lines) + "\n"

    def run(self, env: dict, replace: dict | None = None, upto_loss: bool = False) -> dict:
        """Every line at `env` (arrays and hyperparameters by name); `replace` sets a value to the
        array given in place of its line (central differences of the forward pass move an
        intermediate value so). The namespace afterwards: every value, L and every dL_d…."""
        import math

        ns = {"np": np, "math": math, **env}
        replace = replace or {}
        ns.update({k: v for k, v in replace.items() if k in env})
        for (v, c), code in zip(self.forward, _compiled(self)[0]):
            ns[v] = replace[v] if v in replace else eval(code, ns)
        ns["L"] = float(eval(_compiled(self)[1], ns))
        if not upto_loss:
            for (v, _), code in zip(self.backward, _compiled(self)[2]):
                ns[v] = eval(code, ns)
        return ns


@lru_cache(maxsize=64)
def _compiled(p: Program) -> tuple:
    return (tuple(compile(c, f"<derive: {v}>", "eval") for v, c in p.forward),
            compile(p.loss, "<derive: L>", "eval"),
            tuple(compile(c, f"<derive: {v}>", "eval") for v, c in p.backward))


def _sizes(graph: ResolvedGraph) -> dict:
    """Each dimension as code: the axis of the first input or parameter that has it."""
    out = {}
    for v in sorted(graph.values, key=lambda v: v.role not in ("input", "parameter", "target")):
        if v.role != "loss":  # a node's output has it once it is computed (a block of ∂L/∂c needs d_a)
            for axis, d in enumerate(v.shape):
                out.setdefault(dim(d), f"{v.name}.shape[{axis}]")
    return out


def _printer(sizes: dict):
    """The tree printer, with a column of ones in a product printed as the array it is (1 bᵀ in a batch of
    rows, ∂L/∂Zᵀ 1 for a bias): broadcasting 1.0 there would give a matrix of the wrong shape."""
    from derive.model.matexpr import Ones
    from derive.render.numpy_code import ATOM, NumpyMatrixPrinter

    class Printer(NumpyMatrixPrinter):
        depth = 0  # how many products the node being printed sits in

        def _print_MatMul(self, node):
            self.depth += 1
            try:
                return super()._print_MatMul(node)
            finally:
                self.depth -= 1

        def _print_Ones(self, node: Ones):
            if not self.depth:
                return super()._print_Ones(node)
            axes = ", ".join("1" if d == "1" else self.sizes[dim(d)] for d in node.shape)
            return f"np.ones(({axes}))", ATOM

    return Printer({}, sizes)


@lru_cache(maxsize=64)
def program(graph: ResolvedGraph) -> Program:
    from derive.network.codegen import numpy_expr

    bp = backprop(graph)
    sizes = _sizes(graph)
    forward = []
    for row in bp.forward:
        code = _printer(sizes).doprint(row.after) if row.after is not None else numpy_expr(row.rhs, sizes, str)
        forward.append((row.before.name, code))
    loss = " + ".join(f"np.sum({numpy_expr(r.rhs, sizes, str)})" for r in bp.losses)
    backward = tuple((partial(v), _printer(sizes).doprint(g.tree)) for v, g in bp.gradients.items())
    hypers = sorted({s.name for n in graph.nodes for _, s in n.hypers if isinstance(s, sp.Symbol)})
    returned = tuple(v for v in (*graph.inputs, *graph.params) if v in bp.gradients)
    name = "forward_backward_" + re.sub(r"\W+", "_", graph.name).strip("_")
    return Program(name, (*graph.inputs, *graph.targets, *graph.params), tuple(hypers), tuple(forward), loss,
                   backward, returned)


def numpy_source(graph: ResolvedGraph) -> str:
    """Python source of `forward_backward_<name>(inputs, targets, parameters) -> (L, grads)`, checked
    first: nothing is written out that the run-time check refused."""
    from derive.graph.backprop import derive_graph

    derive_graph(graph)
    return program(graph).source()
