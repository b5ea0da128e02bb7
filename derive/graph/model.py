"""A computation graph of modules with named nodes, and its checks: every name known, no cycle, one
shape for every value (a parameter used by several nodes included).

    >>> g = Graph("residual")
    >>> g.input("x", "d0")
    >>> g.node("h", "affine", x="x", W="W1", b="b1")
    >>> g.node("a", "relu", x="h")
    >>> g.node("o", "affine", x="a", W="W2", b="b2")
    >>> g.node("r", "add", a="o", b="x")
    >>> g.node("loss", "mse", yhat="r", y="y")
    >>> g.resolved().params
    ('W1', 'b1', 'W2', 'b2')

A node's output is the value of its name. A module's input is bound to a value by keyword (its
variable's name in the registry: affine has W, b, x). A parameter is created by its first use and
shared by every later one (tied weights); a target (y) is data the loss compares against; a
hyperparameter takes a number (lam=0.01) or stays a symbol. Every node whose module is a loss adds
a term to L: a data loss plus λ/2‖W‖² is two loss nodes.
"""

from __future__ import annotations

import graphlib
import keyword
import re
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from derive.errors import DeriveError, did_you_mean

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESERVED = {"np", "math", "L", "grads", "values", "loss_scale"}
MAX_NODES = 2048  # an RNN over 256 steps has about 1000


@dataclass(frozen=True)
class Value:
    """A named array: a declared input, a parameter, a target, or a node's output; `shape` in
    dimension names, () for a loss term."""

    name: str
    role: str  # input | parameter | target | node | loss
    shape: tuple


@dataclass(frozen=True)
class Node:
    """A module applied to named values: `binds` maps the module's variables to value names,
    `hypers` its hyperparameters to numbers or symbols."""

    name: str
    module: str  # the spelling: affine, leaky_relu[alpha=0.1], add, or a Definition's name
    binds: tuple  # ((variable, value name), ...)
    hypers: tuple  # ((variable, SymPy number or Symbol), ...)
    definition: object = field(compare=False, hash=False)  # derive.definitions.model.Definition

    @property
    def kind(self) -> str:
        return self.definition.kind

    @property
    def elementwise(self) -> bool:
        return self.definition.kind != "loss" and not self.definition.index

    def bound(self, var: str) -> str:
        return dict(self.binds)[var]


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or keyword.iskeyword(name) or name in RESERVED \
            or name.startswith("dL_d"):
        raise DeriveError(f"{what} {name!r} is not a usable name; write letters, digits and _, starting "
                          f"with a letter (not dL_d…, nor one of {', '.join(sorted(RESERVED))})")
    return name


class Graph:
    """A graph of modules under construction; `resolved()` checks it and gives the ResolvedGraph."""

    def __init__(self, name: str = "graph"):
        self.name = name
        self._inputs: dict = {}  # name -> shape (dimension names)
        self._nodes: list = []  # (name, module, binds, size)

    def input(self, name: str, *shape: str) -> None:
        """A data input of the given shape in dimension names: `input("x", "d0")`, `input("X", "d0", "N")`."""
        _check_name(name, "input")
        if not 1 <= len(shape) <= 2:
            raise DeriveError(f"input {name!r}: give one dimension (a column) or two (a matrix), e.g. 'd0'")
        for d in shape:
            _check_name(str(d), f"input {name!r}: dimension")
        if name in self._inputs or any(n[0] == name for n in self._nodes):
            raise DeriveError(f"{name!r} is defined twice")
        self._inputs[name] = tuple(str(d) for d in shape)
        self.__dict__.pop("_resolved", None)

    def node(self, name: str, module, size: str | list | tuple | None = None, **binds) -> None:
        """A node `name` = module(…): `node("h", "affine", x="x", W="W1", b="b1", size="d1")`; `size`
        names the first dimension of its output, or a list names each one (`size=["N", "K"]`; otherwise
        d_<name>, or one the graph implies)."""
        _check_name(name, "node")
        if size is not None and not isinstance(size, str):
            if not isinstance(size, (list, tuple)) or not 1 <= len(size) <= 2:
                raise DeriveError(f"node {name}: size is a dimension's name, or a list of one or two, e.g. "
                                  "size = [\"N\", \"K\"]")
            size = tuple(size)
        if name in self._inputs or any(n[0] == name for n in self._nodes):
            raise DeriveError(f"{name!r} is defined twice")
        if len(self._nodes) >= MAX_NODES:
            raise DeriveError(f"node {name}: a graph has at most {MAX_NODES} nodes")
        self._nodes.append((name, module, dict(binds), size))
        self.__dict__.pop("_resolved", None)

    def resolved(self) -> ResolvedGraph:
        if "_resolved" not in self.__dict__:
            self.__dict__["_resolved"] = resolve_graph(self.name, self._inputs, self._nodes)
        return self.__dict__["_resolved"]

    # the doors: derive it, write its code, check it, work an example
    def derive(self):
        """The backward pass, every statement checked at run time (derive.graph.verify)."""
        from derive.graph.backprop import derive_graph

        return derive_graph(self.resolved())

    def numpy(self) -> str:
        from derive.graph.codegen import numpy_source

        return numpy_source(self.resolved())

    def dot(self) -> str:
        """The diagram's Graphviz source (derive.graph.picture)."""
        from derive.graph.picture import graph_dot

        return graph_dot(self.resolved())

    def _repr_svg_(self) -> str | None:
        from derive.graph.picture import maybe_svg

        return maybe_svg(self.dot())

    def example(self, **data):
        from derive.graph.example import example

        return example(self.resolved(), **data)


@dataclass(frozen=True)
class ResolvedGraph:
    """A checked graph: nodes in an order in which every value is made before it is used."""

    name: str
    values: tuple  # Value, in the order they are made
    nodes: tuple  # Node, topologically ordered
    dims: tuple  # dimension names, in order of appearance
    sums: tuple = ()  # (dimension, (its parts, …)): a concatenation's size is the sum of its blocks'

    @cached_property
    def by_name(self) -> dict:
        return {v.name: v for v in self.values}

    @property
    def params(self) -> tuple:
        return tuple(v.name for v in self.values if v.role == "parameter")

    @property
    def inputs(self) -> tuple:
        return tuple(v.name for v in self.values if v.role == "input")

    @property
    def targets(self) -> tuple:
        return tuple(v.name for v in self.values if v.role == "target")

    @property
    def losses(self) -> tuple:
        return tuple(n for n in self.nodes if n.kind == "loss")

    def consumers(self, value: str) -> tuple:
        return tuple(n for n in self.nodes if value in dict(n.binds).values())

    def shape(self, value: str) -> tuple:
        return self.by_name[value].shape

    def matrix_shape(self, value: str) -> tuple:
        shape = self.shape(value)
        return shape if len(shape) == 2 else (shape[0], "1")

    def __hash__(self) -> int:
        return hash((self.name, self.values, self.nodes))


class _Dims:
    """Dimension names joined as the graph connects them; two a user named differently never join."""

    def __init__(self):
        self.parent: dict = {}
        self.named: set = set()

    def add(self, d: str, named: bool) -> str:
        self.parent.setdefault(d, d)
        if named:
            self.named.add(d)
        return d

    def find(self, d: str) -> str:
        while self.parent[d] != d:
            d = self.parent[d]
        return d

    def join(self, a: str, b: str) -> bool:
        a, b = self.find(a), self.find(b)
        if a == b:
            return True
        if a in self.named and b in self.named:
            return False
        if a in self.named:
            a, b = b, a
        self.parent[a] = b
        return True


def _text(shape: tuple) -> str:
    return " × ".join(shape) if shape else "a scalar"


def resolve_graph(name: str, inputs: dict, nodes: list) -> ResolvedGraph:
    from derive.graph.ops import resolve

    if not any(True for _ in nodes):
        raise DeriveError(f"graph {name!r} has no node; add one, e.g. node('h', 'affine', x='x', W='W1', b='b1')")
    made = {n[0] for n in nodes}
    known = set(inputs) | made
    resolved, order = {}, graphlib.TopologicalSorter()
    for node_name, module, binds, size in nodes:
        spelling, defn, _ = resolve(module)
        variables = {v.name: v for v in defn.variables if v.role != "output"}
        for var in binds:
            if var not in variables:
                raise DeriveError(f"node {node_name}: {spelling} has no variable {var!r}; choose from: "
                                  + ", ".join(variables))
        for var in (v for v in variables.values() if v.role in ("input", "parameter", "target")):
            if var.name not in binds and var.role == "parameter":
                binds[var.name] = f"{var.name}_{node_name}"
            if var.name not in binds:
                raise DeriveError(f"node {node_name}: bind {spelling}'s {var.name} to a value, "
                                  f"e.g. {var.name}='…'; values so far: {', '.join(sorted(known)) or '(none)'}")
        hypers = []
        for var in (v for v in variables.values() if v.role == "hyper"):
            given = binds.pop(var.name, None)
            if given is None:
                given = dict(resolve(module)[2]).get(var.name)
            if isinstance(given, bool) or (given is not None and not isinstance(given, (int, float, str))):
                raise DeriveError(f"node {node_name}: {var.name} takes a number, not {given!r}")
            hypers.append((var.name, sp.nsimplify(given) if isinstance(given, (int, float))
                           else sp.Symbol(str(given or f"{var.name}_{node_name}"), positive=True)))
        for var, value in binds.items():
            role = variables[var].role
            if not isinstance(value, str):
                raise DeriveError(f"node {node_name}: {var} is bound to a value's name, not {value!r}")
            if role == "input" and value not in known:
                raise DeriveError(f"node {node_name}: unknown node or input {value!r}; "
                                  f"{did_you_mean(value, known - {node_name})}choose one of: "
                                  f"{', '.join(sorted(known - {node_name}))}")
            _check_name(value, f"node {node_name}: {var}")
        resolved[node_name] = (Node(node_name, spelling, tuple(binds.items()), tuple(hypers), defn), size)
        order.add(node_name, *(v for v in binds.values() if v in made))
    try:
        topo = [n for n in order.static_order() if n in resolved]
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise DeriveError(f"node {cycle[0]}: the graph has a cycle, {' → '.join(reversed(cycle))}; "
                          "an RNN is unrolled over its steps instead") from None
    return _shapes(name, inputs, [resolved[n] for n in topo])


def _shapes(name: str, inputs: dict, nodes: list) -> ResolvedGraph:
    """Every value's shape, from the declared inputs through each module's own dimensions."""
    dims = _Dims()
    shapes, roles, where, sums = {}, {}, {}, []
    for v, shape in inputs.items():
        shapes[v], roles[v], where[v] = tuple(dims.add(d, True) for d in shape), "input", "the input"
    for node, size in nodes:
        defn = node.definition
        sizes = () if size is None else (size,) if isinstance(size, str) else size
        for d in sizes:
            dims.add(_check_name(d, f"node {node.name}: size"), True)
        local: dict = {}  # the module's dimension symbol -> graph dimension

        def fit(var, value: str, vshape: tuple, node=node, local=local, first=None) -> None:
            given = shapes.get(value)
            if given is None:
                shapes[value] = tuple(local.setdefault(d, dims.add(f"d_{value}_{n}", False))
                                      for n, d in enumerate(vshape))
                roles[value], where[value] = ("parameter" if var.role == "parameter" else "target"), node.name
                return
            if roles[value] == "loss":
                raise DeriveError(f"node {node.name}: {value} is a loss term; a loss cannot feed another node")
            expected = _text(tuple(dims.find(local[d]) if d in local else "…" for d in vshape))
            ok = len(given) == len(vshape) and all(
                dims.join(local.setdefault(d, g), g) and dims.find(local[d]) == dims.find(g)
                for d, g in zip(vshape, given))
            if ok:
                return
            now = _text(tuple(dims.find(g) for g in given))
            if first is not None:
                raise DeriveError(f"node {node.name}: {node.module} takes values of one shape, but {first} is "
                                  f"{_text(tuple(dims.find(g) for g in shapes[first]))} and {value} is {now}")
            if roles[value] == "parameter":
                raise DeriveError(f"node {node.name}: parameter {value} is used with two shapes, {now} (at "
                                  f"{where[value]}) and {expected} here")
            raise DeriveError(f"node {node.name}: {node.module}'s {var.name} must be {expected}, but {value} "
                              f"is {now} (made at {where[value]})")

        if node.elementwise:  # every bound input has one shape, and so has the output
            bound = [(v, node.bound(v.name)) for v in defn.inputs]
            first = next((value for _, value in bound if value in shapes), None)
            if first is None:
                raise DeriveError(f"node {node.name}: an elementwise {node.module} needs a value of known "
                                  "shape among its inputs")
            ref = shapes[first]
            for var, value in bound:
                fit(var, value, tuple(f"_e{n}" for n in range(len(ref))), node, local, first)
            out = tuple(dims.find(local[f"_e{n}"]) for n in range(len(ref)))
        else:
            out = ()
            if defn.kind != "loss":  # named after the node (or its size), before a new parameter names them
                out = tuple(local.setdefault(str(d), sizes[n] if n < len(sizes) else
                                             dims.add(f"d_{node.name}" + (f"_{n}" if n else ""), False))
                            for n, d in enumerate(defn.output.shape))
            fitted = [*defn.inputs, *(v for v in defn.others if v.role == "target")]
            # known shapes first, a parameter last among them, so a mismatch is told in known dimensions
            for var in sorted(fitted, key=lambda v: (node.bound(v.name) not in shapes, v.role == "parameter")):
                fit(var, node.bound(var.name), tuple(str(d) for d in var.shape), node, local)
        for n, d in enumerate(defn.output.shape if defn.kind != "loss" and not node.elementwise else ()):
            if isinstance(d, sp.Add):  # [a; b] is d_a + d_b tall
                sums.append((out[n], tuple(local[str(t)] for t in d.args)))
        if sizes and (len(sizes) > max(len(out), 1) or not all(dims.join(o, d) for o, d in zip(out, sizes))):
            said = sizes[0] if isinstance(size, str) else " × ".join(sizes)
            raise DeriveError(f"node {node.name}: its output is {_text(tuple(dims.find(o) for o in out))}, "
                              f"not of size {said}")
        out = tuple(dims.find(d) for d in out)
        shapes[node.name], roles[node.name], where[node.name] = out, ("loss" if defn.kind == "loss" else "node"), \
            node.name
    for v, shape in shapes.items():
        if len(shape) > 2:
            raise DeriveError(f"node {where[v]}: {v} has {len(shape)} dimensions; a value is a column or a matrix")
    names = {d: _pretty(dims.find(d), dims) for d in dims.parent}
    values = tuple(Value(v, roles[v], tuple(names[d] for d in shape)) for v, shape in shapes.items())
    order = tuple(dict.fromkeys(d for v in values for d in v.shape))
    nodes_ = tuple(node for node, _ in nodes)
    summed = tuple((names[whole], tuple(names[p] for p in parts)) for whole, parts in sums)
    return ResolvedGraph(name, values, nodes_, order, summed)


def _pretty(root: str, dims: _Dims) -> str:
    """A dimension as printed: its user's name, or d_<value> for the first dimension the graph made."""
    return re.sub(r"_0$", "", root) if root not in dims.named else root
