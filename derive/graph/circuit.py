"""Gate circuits with numbers: q = x + y, f = q z; a sigmoid neuron; add, multiply and max gates.

    >>> c = Circuit("f = (x + y) z")
    >>> c.input("x", -2); c.input("y", 5); c.input("z", -4)
    >>> c.node("q", "add", a="x", b="y"); c.node("f", "multiply", a="q", b="z")
    >>> r = c.run(); r.value("f"), r.gradient("x"), r.gradient("z")
    (-12, -4, 3)

Each gate is a scalar module (a gate of derive.graph.ops, an elementwise registry activation such as
sigmoid, or a scalar module of one's own); its local gradients are the engine's derivation of it,
evaluated at the gate's inputs; the gradient arriving at a value is the upstream gradient times the
local one, summed over the gates the value feeds. Numbers stay exact where they can (integers,
fractions) and every gradient is checked against central differences of the forward pass before the
result is returned.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from derive.errors import DeriveError, did_you_mean
from derive.graph.model import _check_name

FD_STEP = 1e-6
FD_RTOL = 1e-6


@dataclass(frozen=True)
class Gate:
    name: str
    module: str
    definition: object
    binds: tuple  # ((variable, value), ...)
    hypers: tuple


@dataclass(frozen=True)
class Edge:
    """value → gate: the forward value carried, the local gradient ∂gate/∂value, and the gradient
    that flows back along it, ∂f/∂gate · ∂gate/∂value."""

    source: str
    gate: str
    var: str
    forward: sp.Expr
    local: sp.Expr
    local_formula: sp.Expr  # the engine's ∂y/∂var, in the gate's names
    backward: sp.Expr


@dataclass(frozen=True)
class CircuitResult:
    circuit: str
    output: str
    values: dict  # name -> number, in the order they are computed
    gradients: dict  # name -> ∂f/∂name, output first
    edges: tuple  # Edge, in forward order
    gates: tuple
    check_error: float

    def value(self, name: str):
        return _plain(self.values[name])

    def gradient(self, name: str):
        return _plain(self.gradients[name])

    def text(self) -> str:
        from derive.graph.picture import circuit_text

        return circuit_text(self)

    def markdown(self) -> str:
        from derive.graph.picture import circuit_markdown

        return circuit_markdown(self)

    def dot(self) -> str:
        from derive.graph.picture import circuit_dot

        return circuit_dot(self)

    def svg(self) -> str:
        from derive.graph.picture import svg

        return svg(self.dot())

    def tikz(self) -> str:
        from derive.graph.picture import circuit_tikz

        return circuit_tikz(self)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _repr_svg_(self) -> str | None:
        """The picture in a notebook; none where Graphviz is not installed (the table still shows)."""
        from derive.graph.picture import maybe_svg

        return maybe_svg(self.dot())


def _plain(x: sp.Expr):
    """An exact integer or fraction as such, anything else as a float."""
    if x.is_Integer:
        return int(x)
    if x.is_Rational:
        return Fraction(int(x.p), int(x.q))
    return float(x)


class Circuit:
    """A circuit under construction: inputs with numbers, then gates by name."""

    def __init__(self, name: str = "circuit"):
        self.name = name
        self.inputs: dict = {}
        self.gates: list = []

    def input(self, name: str, value) -> None:
        _check_name(name, "input")
        if name in self.inputs or any(g[0] == name for g in self.gates):
            raise DeriveError(f"{name!r} is defined twice")
        from derive import limits

        exact = limits.number(value, f"input {name}")  # within the project's limits, text such as "1/2" too
        self.inputs[name] = sp.Rational(exact.numerator, exact.denominator) if not isinstance(value, float) \
            else sp.nsimplify(value)

    def node(self, name: str, module, **binds) -> None:
        _check_name(name, "gate")
        if name in self.inputs or any(g[0] == name for g in self.gates):
            raise DeriveError(f"{name!r} is defined twice")
        self.gates.append((name, module, binds))

    def _resolve(self) -> tuple:
        from derive.graph.ops import resolve

        if not self.gates:
            raise DeriveError(f"circuit {self.name!r} has no gate; add one, e.g. node('q', 'add', a='x', b='y')")
        known = set(self.inputs) | {g[0] for g in self.gates}
        gates, order = {}, graphlib.TopologicalSorter()
        for name, module, binds in self.gates:
            spelling, defn, options = resolve(module)
            if defn.kind == "loss" or defn.index:
                raise DeriveError(f"gate {name}: {spelling} is not a gate of numbers; use add, multiply, max, "
                                  "subtract or an elementwise activation (sigmoid, tanh, relu, …)")
            binds = dict(binds)
            hypers = []
            for var in (v for v in defn.others if v.role == "hyper"):
                given = binds.pop(var.name, dict(options).get(var.name))
                if given is None:
                    raise DeriveError(f"gate {name}: give {spelling}'s {var.name} a number")
                hypers.append((var.symbol, sp.nsimplify(given)))
            names = [v.name for v in defn.inputs]
            for var in binds:
                if var not in names:
                    raise DeriveError(f"gate {name}: {spelling} has no input {var!r}; choose from: {', '.join(names)}")
            for var in names:
                value = binds.get(var)
                if value is None:
                    raise DeriveError(f"gate {name}: bind {spelling}'s {var} to a value, e.g. {var}='x'")
                if value not in known:
                    raise DeriveError(f"gate {name}: unknown gate or input {value!r}; "
                                      f"{did_you_mean(value, known)}choose one of: {', '.join(sorted(known))}")
            gates[name] = Gate(name, spelling, defn, tuple((v, binds[v]) for v in names), tuple(hypers))
            order.add(name, *(v for v in binds.values() if v in gates or v in {g[0] for g in self.gates}))
        try:
            topo = [gates[n] for n in order.static_order() if n in gates]
        except graphlib.CycleError as exc:
            cycle = exc.args[1]
            raise DeriveError(f"gate {cycle[0]}: the circuit has a cycle, {' → '.join(reversed(cycle))}") from None
        used = {v for g in topo for _, v in g.binds}
        sinks = [g.name for g in topo if g.name not in used]
        if len(sinks) > 1:
            raise DeriveError(f"circuit {self.name}: gates {', '.join(sinks)} feed nothing; a circuit computes "
                              "one number, so all but one must feed a gate")
        unused = [v for v in self.inputs if v not in used]
        if unused:
            raise DeriveError(f"input {unused[0]}: feeds no gate")
        return topo, sinks[0]

    def run(self) -> CircuitResult:
        """Forward values, local and upstream gradients, every gradient checked by central differences."""
        from derive.graph.ops import derivation

        gates, output = self._resolve()
        values = dict(self.inputs)
        for g in gates:
            values[g.name] = _simplify(_at(g, g.definition.expr, values))
        grads = {output: sp.S.One}
        edges = {}
        for g in reversed(gates):
            for var, source in g.binds:
                d = derivation(g.definition, var)
                formula = d.result.xreplace(dict(g.hypers))
                local = _simplify(_at(g, formula, values, with_output=True))
                back = _simplify(grads[g.name] * local)
                grads[source] = _simplify(grads.get(source, sp.S.Zero) + back)
                edges[g.name, var] = Edge(source, g.name, var, values[source], local, formula, back)
        order = [*self.inputs, *(g.name for g in gates)]
        error = _check(self.name, gates, self.inputs, grads, output)
        return CircuitResult(self.name, output, {k: values[k] for k in order},
                             {k: grads[k] for k in reversed(order)},
                             tuple(edges[g.name, var] for g in gates for var, _ in g.binds), tuple(gates), error)


def _simplify(x: sp.Expr) -> sp.Expr:
    """Exact while rational (−12, 3/4); otherwise a number to 30 digits (σ(1) = 0.7310…)."""
    x = sp.nsimplify(x) if x.is_Float and x == int(x) else x
    return x if x.is_Rational else sp.Float(x.evalf(30), 30)


def _at(g: Gate, expr: sp.Expr, values: dict, with_output: bool = False) -> sp.Expr:
    subs = {g.definition.var(var).symbol: values[v] for var, v in g.binds}
    if with_output:
        subs[g.definition.output.symbol] = values[g.name]
    return expr.xreplace({**dict(g.hypers), **subs}).doit()


def _forward(gates, inputs: dict, output: str, moved: str, by: float) -> float:
    """The output in floating point, with `moved` (an input or a gate's output) shifted by `by`."""
    values = {k: float(v) + (by if k == moved else 0.0) for k, v in inputs.items()}
    for g in gates:
        value = float(_at(g, g.definition.expr, values).evalf())
        values[g.name] = value + (by if g.name == moved else 0.0)
    return values[output]


def _check(name: str, gates, inputs: dict, grads: dict, output: str) -> float:
    worst = 0.0
    for value, grad in grads.items():
        if value == output:
            continue
        fd = (_forward(gates, inputs, output, value, FD_STEP)
              - _forward(gates, inputs, output, value, -FD_STEP)) / (2 * FD_STEP)
        err = abs(fd - float(grad)) / max(1.0, abs(fd))
        if not err <= FD_RTOL:
            raise DeriveError(f"circuit {name}: ∂{output}/∂{value} = {float(grad):.6g} disagrees with central "
                              f"differences of the forward pass ({fd:.6g}; a max gate at a tie or a ReLU at 0 has no "
                              "derivative there); not stated")
        worst = max(worst, err)
    return worst
