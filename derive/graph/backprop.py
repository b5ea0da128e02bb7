"""Backpropagation on a graph, node by node, from the engine's own derivation of each module.

Every value keeps its name; ∂L/∂v is named dL_dv. Going through the nodes from the last to the
first, each node sends to each of its inputs u the engine's result for that module with respect
to u, renamed to the graph (the local step: for affine, ∂L/∂x = Wᵀ ∂L/∂h). A value that feeds
several nodes receives one such part from each, and its gradient is their sum (stated as a
SumRule step); a loss is a sum of terms, each contributing ∂(term)/∂u. Each quantity is an index
form and the matrix tree read from it (derive.calculus.matrix); nothing is stated before
derive.graph.verify has checked it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from derive.definitions.model import IDX
from derive.errors import DeriveError
from derive.graph.model import ResolvedGraph
from derive.model import matexpr as mx
from derive.model.notation import Name, derivative, name_latex
from derive.render.unicode import name_text
from derive.steps import ChainRule, ForwardRow, SumRule

FREE = (IDX["i"], IDX["j"])
L_SYMBOL = sp.Symbol("L")


def base(name: str) -> sp.IndexedBase:
    return sp.IndexedBase(name, real=True)


def dim(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


def partial(value: str) -> str:
    return f"dL_d{value}"


@dataclass(frozen=True)
class Part:
    """What node `node` sends back to its input `value` (its module's variable `var`): `rhs` in
    index form (free indices FREE), `step` = ChainRule(∂L/∂value ⟵ tree), `source` the engine's line."""

    node: str
    value: str
    var: str
    rhs: sp.Expr
    step: ChainRule
    source: str

    @property
    def tree(self) -> mx.MatExpr:
        return self.step.after


@dataclass(frozen=True)
class Gradient:
    """∂L/∂value: the sum of its parts (a SumRule step when it fans out, else the one ChainRule)."""

    value: str
    role: str
    lhs: sp.Expr
    rhs: sp.Expr
    parts: tuple
    step: object

    @property
    def tree(self) -> mx.MatExpr:
        return self.step.after

    @property
    def fans_out(self) -> bool:
        return len(self.parts) > 1


@dataclass
class GraphBackprop:
    graph: ResolvedGraph
    forward: tuple  # ForwardRow, node by node (a loss's intermediates before it)
    losses: tuple  # ForwardRow of each loss term; L is their sum
    gradients: dict  # value -> Gradient, in the order they are completed
    shapes: dict  # every value (intermediates too) -> matrix shape
    names: dict = field(default_factory=dict)  # name -> Name for every name in any tree
    checked: object = None  # derive.graph.verify.Report

    def gradient(self, value: str) -> Gradient:
        if value not in self.gradients:
            raise DeriveError(f"{self.graph.name} has no gradient for {value!r}; choose one of: "
                              + ", ".join(self.gradients))
        return self.gradients[value]

    def text(self) -> str:
        from derive.graph.render import graph_text

        return graph_text(self)

    def markdown(self) -> str:
        from derive.graph.render import graph_markdown

        return graph_markdown(self)

    def latex(self) -> str:
        from derive.graph.render import graph_latex

        return graph_latex(self)

    def _repr_markdown_(self) -> str:
        return self.markdown()


def name_of(name: str) -> Name:
    """How a graph's name prints: W1 → W^{(1)}, W_hh → W_{hh}, dL_dh → ∂L/∂h."""
    if name.startswith("dL_d"):
        return derivative(Name("L", "L"), name_of(name[4:]))
    m = re.fullmatch(r"([A-Za-z])_([A-Za-z0-9]+)", name)
    if m:
        return Name(f"{name_latex(m.group(1))}_{{{m.group(2)}}}", name, "plain")
    return Name(name_latex(name), name_text(name), "sup" if "^" in name_latex(name) else "plain")


def reindex(expr: sp.Expr, old: tuple, new: tuple) -> sp.Expr:
    """`expr` with free indices `old` renamed `new`, its summation indices moved out of the way first."""
    if tuple(old) == tuple(new):
        return expr
    taken = set(old) | set(new) | expr.free_symbols
    bound = {lim[0] for s in expr.atoms(sp.Sum) for lim in s.limits} & (set(old) | set(new))
    spare = (s for s in IDX.values() if s not in taken and s not in bound)
    expr = expr.xreplace({b: next(spare) for b in bound})
    return expr.xreplace(dict(zip(old, new)))


class _Namer:
    """Renames one node's module into the graph: variables to values, its dimensions to the graph's."""

    def __init__(self, graph: ResolvedGraph, node, shapes: dict, extra_values: dict):
        self.node, defn = node, node.definition
        self.defn = defn
        binds = dict(node.binds)
        self.rank = len(graph.shape(node.name)) if node.elementwise else None
        free = FREE[: self.rank] if node.elementwise else ()
        subs, dims = {}, {}
        for var in defn.variables:
            if var.name in binds:
                value = binds[var.name]
                subs[var.symbol] = base(value)[free] if node.elementwise else base(value)
                for d, g in zip(var.shape, graph.shape(value)):
                    dims[d] = dim(g)
        for name, v in node.hypers:
            subs[defn.var(name).symbol] = v
        out = defn.output
        if node.elementwise:
            subs[out.symbol] = base(node.name)[free]
        elif defn.kind != "loss":
            subs[out.symbol] = base(node.name)
            dims.update({d: dim(g) for d, g in zip(out.shape, graph.shape(node.name))})
        for it in defn.intermediates:
            subs[it.var.symbol] = base(extra_values[node.name, it.var.name])
        self.subs, self.dims, self.free = subs, dims, free

    def __call__(self, expr: sp.Expr, upstream=None, up_name: str | None = None) -> sp.Expr:
        subs = dict(self.subs)
        if upstream is not None:
            subs[upstream.symbol] = base(up_name)
        return expr.xreplace(subs).xreplace(self.dims)


def _read(expr: sp.Expr, free: tuple, shapes: dict, shape: tuple):
    """The matrix tree of an index form, or None when its index structure has none."""
    from derive.calculus.matrix import NoMatrixForm, translate
    from derive.graph.blocks import read_rows

    bases = {a.base for a in expr.atoms(sp.Indexed)}
    block = read_rows(expr, free, shapes, shape)  # a block of a taller value: no matrix product reads it
    if block is not None:
        return block
    try:
        return translate(expr, free, {b: shapes[b.name.removeprefix("dL_d")] for b in bases}, shape)
    except (NoMatrixForm, KeyError):
        return None


def _summary(module: str, d) -> str:
    from derive.render.unicode import unicode_text

    return f"{module}: {unicode_text(d.lhs)} = {unicode_text(d.result)}"


@lru_cache(maxsize=64)
def backprop(graph: ResolvedGraph) -> GraphBackprop:
    extra, shapes = {}, {v.name: graph.matrix_shape(v.name) for v in graph.values if v.shape}
    for node in graph.nodes:  # a loss's intermediates (ŷ = softmax(θ)) are values of their own
        for it in node.definition.intermediates:
            extra[node.name, it.var.name] = f"{node.name}_{it.var.name}"
    forward, losses = [], []
    namers = {}
    for node in graph.nodes:
        namer = namers[node.name] = _Namer(graph, node, shapes, extra)
        defn = node.definition
        inputs = tuple(dict(node.binds).values())
        for it in defn.intermediates:
            name = extra[node.name, it.var.name]
            d_in = namer.dims.get(it.var.shape[0], dim("1"))
            shapes[name] = (str(d_in), "1") if len(it.var.shape) == 1 else tuple(
                str(namer.dims[d]) for d in it.var.shape)
            rhs = reindex(namer(it.expr), it.index, FREE[: len(it.index)])
            forward.append(_row(node, name, inputs, base(name)[FREE[: len(it.index)]], rhs,
                                _read(rhs, FREE[: len(it.index)], shapes, shapes[name]), shapes))
        if defn.kind == "loss":
            losses.append(ForwardRow(before=mx.MatSym(node.name, ("1", "1")), after=None, label=node.name,
                                     module=node.module, inputs=inputs, lhs=sp.Symbol(node.name),
                                     rhs=namer(defn.expr), shape=()))
            continue
        rank = len(graph.shape(node.name))
        if node.elementwise:
            from derive.calculus.matrix import from_scalar

            scalar = defn.expr.xreplace({defn.var(h).symbol: v for h, v in node.hypers})
            stand = {v.symbol: mx.MatSym(node.bound(v.name), shapes[node.bound(v.name)]) for v in defn.inputs}
            tree = from_scalar(scalar, stand, shapes[node.name])
            rhs = namer(defn.expr)
        else:
            from derive.graph.blocks import forward_tree

            rhs = reindex(namer(defn.expr), defn.index, FREE[:rank])
            tree = forward_tree(node, shapes) or _read(rhs, FREE[:rank], shapes, shapes[node.name])
        forward.append(_row(node, node.name, inputs, base(node.name)[FREE[:rank]], rhs, tree, shapes))
    gradients = _backward(graph, namers, shapes)
    trees = [t for r in forward for t in (r.before, r.after) if t is not None]
    trees += [t for g in gradients.values() for t in (g.step.before, g.step.after, *(p.tree for p in g.parts))]
    names = {leaf.name: name_of(leaf.name) for t in trees for leaf in mx.leaves(t)}
    return GraphBackprop(graph, tuple(forward), tuple(losses), gradients, shapes, names)


def _row(node, name: str, inputs: tuple, lhs, rhs, tree, shapes) -> ForwardRow:
    return ForwardRow(before=mx.MatSym(name, shapes[name]), after=tree, label=node.name, module=node.module,
                      inputs=inputs, lhs=lhs, rhs=rhs, shape=shapes[name])


def _backward(graph: ResolvedGraph, namers: dict, shapes: dict) -> dict:
    from derive.graph.ops import derivation

    parts: dict = {}  # value -> [Part]
    gradients: dict = {}
    remaining = dict.fromkeys((v.name for v in graph.values), 0)  # uses still to send a part back
    for n in graph.nodes:
        for var in n.definition.inputs:
            remaining[n.bound(var.name)] += 1
    for node in reversed(graph.nodes):
        if node.kind != "loss":
            if not parts.get(node.name):
                raise DeriveError(f"node {node.name}: its output reaches no loss; connect it to one or remove it")
            gradients[node.name] = _gradient(node.name, "node", parts[node.name], shapes)
        namer = namers[node.name]
        defn = node.definition
        for var in defn.inputs:
            value = node.bound(var.name)
            d = derivation(defn, var.name)
            rank = len(graph.shape(value))
            free = FREE[:rank]
            up = partial(node.name)
            if defn.kind == "loss":
                rhs = reindex(namer(d.result), d.indices, free)
            elif node.elementwise:
                rhs = base(up)[free] * namer(d.result)
            elif d.upstream is not None:
                rhs = reindex(namer(d.result, d.upstream, up), d.indices, free)
            else:  # a Jacobian ∂y_i/∂x_j (softmax): Σ_i ∂L/∂y_i ∂y_i/∂x_j
                from derive.calculus.sums import contract_deltas

                out_i = defn.index[0]
                body = base(up)[out_i] * namer(d.result)
                summed = contract_deltas(sp.expand(sp.Sum(body, (out_i, 1, dim(graph.shape(node.name)[0])))))
                rhs = reindex(summed, d.indices, free)
            tree = _read(rhs, free, shapes, shapes[value])
            if tree is None:
                raise DeriveError(f"node {node.name}: ∂L/∂{value} through {node.module} has no matrix form, "
                                  "so it cannot be stated")
            step = ChainRule(before=mx.MatSym(partial(value), shapes[value]), after=tree,
                             reason=f"{value} → {node.name} ({node.module}), from the engine's "
                                    f"{_summary(node.module, d)}")
            parts.setdefault(value, []).append(Part(node.name, value, var.name, rhs, step,
                                                    _summary(node.module, d)))
            remaining[value] -= 1
            role = graph.by_name[value].role
            if role != "node" and remaining[value] == 0:
                gradients[value] = _gradient(value, role, parts[value], shapes)
    return gradients


def _gradient(value: str, role: str, parts: list, shapes: dict) -> Gradient:
    free = FREE[: 2 if shapes[value][1] != "1" else 1]
    lhs = sp.Derivative(L_SYMBOL, base(value)[free], evaluate=False)
    rhs = sp.Add(*(p.rhs for p in parts))
    before = mx.MatSym(partial(value), shapes[value])
    if len(parts) == 1:
        step = parts[0].step
    else:
        twice = {p.node for p in parts if sum(q.node == p.node for q in parts) > 1}
        fed = ", ".join(f"{p.node} (as {p.var})" if p.node in twice else p.node for p in parts)
        step = SumRule(before=before, after=mx.add(*(p.tree for p in parts)),
                       reason=f"{value} feeds {fed}: the gradients arriving from each are summed "
                              "(the multivariable chain rule)")
    return Gradient(value, role, lhs, rhs, tuple(parts), step)


def derive_graph(graph: ResolvedGraph) -> GraphBackprop:
    """The backward pass, once every statement has been checked (derive.graph.verify)."""
    from derive.graph.verify import check_graph

    bp = backprop(graph)
    if bp.checked is None:
        bp.checked = check_graph(graph)
    return bp
