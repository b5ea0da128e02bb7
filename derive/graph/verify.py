"""Everything a graph derivation states, checked at run time before it is stated.

At random values of distinct sizes (SIZES, one per dimension of the graph, so no matrix that can
be non-square is square), the generated code (derive.graph.codegen) runs, and then:

- each forward row: its tree and the code's value against its index form (the module's definition);
- each loss term: the index forms of the terms sum to the code's L;
- each part a node sends back, and each gradient (the sum of its parts): the tree against the index
  form (the engine's derivation, renamed), the code's value against both, and the gradient against
  central differences of the generated forward pass, moving that value (an input, a parameter or a
  node's output) along a random direction and running the lines after it.

A disagreement raises a one-line DeriveError naming the statement; a seed whose central difference
crosses a kink (ReLU at 0) fails alone, so the check fails only when every seed disagrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive.errors import DeriveError
from derive.graph.backprop import FREE, backprop, dim, partial
from derive.graph.codegen import program
from derive.graph.model import ResolvedGraph
from derive.model.evaluate import evaluate
from derive.render.matrix import text
from derive.render.unicode import unicode_text

SIZES = (3, 4, 2, 5, 6, 7, 8, 9, 10, 11)
RTOL = 1e-8  # trees, index forms and code compute the same numbers in a different order
FD_RTOL = 1e-5  # central differences with step 1e-6
STEP = 1e-6
_MATH = {n: np.vectorize(getattr(math, n)) for n in ("erf", "erfc", "gamma", "lgamma")}


@dataclass(frozen=True, repr=False)
class Report:
    statements: int
    statement_error: float
    gradient_error: float
    sizes: dict

    def __str__(self) -> str:
        sizes = ", ".join(f"{d} = {n}" for d, n in self.sizes.items())
        return (f"checked: {self.statements} statements agree with the generated code at {sizes} (relative error "
                f"{self.statement_error:.1e}); every gradient agrees with central differences of its forward "
                f"pass (relative error {self.gradient_error:.1e})")

    def bounded(self) -> str:
        """As str, with the bounds the errors were held to: the same on every machine (for sheets)."""
        sizes = ", ".join(f"{d} = {n}" for d, n in self.sizes.items())
        return (f"checked: {self.statements} statements agree with the generated code at {sizes} (relative error "
                f"below {RTOL:.0e}); every gradient agrees with central differences of its forward pass "
                f"(relative error below {FD_RTOL:.0e})")

    def __repr__(self) -> str:
        return f"<Report {self}>"


def check_graph(graph: ResolvedGraph, seeds: tuple = (0, 1, 2)) -> Report:
    first = None
    for seed in seeds:
        try:
            return _Check(graph, seed).run()
        except DeriveError as exc:
            first = first or exc
    raise first


def target_domain(graph: ResolvedGraph, value: str) -> tuple:
    """(domain, axis): how a target is sampled, and for a one-hot one the axis its ones lie along."""
    for node in graph.consumers(value):
        for var, v in node.binds:
            if v == value:
                return node.definition.var(var).domain, _summed_axis(node.definition, var)
    return "real", 0


def _summed_axis(defn, var: str) -> int:
    """The axis a constraint Σ_k y_k = 1 sums `var` over: 1 for Σ_k Y_nk = 1 (each row sums to 1), else 0
    (a column, or each column of a batch of columns)."""
    symbol = defn.var(var).symbol
    for c in defn.constraints:
        if isinstance(c.lhs, sp.Sum) and isinstance(c.lhs.function, sp.Indexed) and c.lhs.function.base == symbol:
            return list(c.lhs.function.indices).index(c.lhs.limits[0][0])
    return 0


class _Check:
    def __init__(self, graph: ResolvedGraph, seed: int):
        self.graph, self.bp, self.prog = graph, backprop(graph), program(graph)
        self.rng = rng = np.random.default_rng(seed)
        summed = dict(graph.sums)
        self.sizes = {d: SIZES[n % len(SIZES)] for n, d in enumerate(x for x in graph.dims if x not in summed)}
        for whole, parts in graph.sums:  # in the order they are made, so a part may be a sum itself
            self.sizes[whole] = sum(self.sizes[p] for p in parts)
        self.sizes = {d: self.sizes[d] for d in graph.dims}
        self.count, self.worst, self.fd_worst = 0, 0.0, 0.0
        env = {}
        for v in graph.values:
            if v.role not in ("input", "parameter", "target"):
                continue
            shape = tuple(self.size(d) for d in graph.matrix_shape(v.name))
            env[v.name] = self.sample(shape, *(target_domain(graph, v.name) if v.role == "target" else ("real", 0)), v)
        self.hypers = {h: float(rng.uniform(0.1, 0.9)) for h in self.prog.hypers}
        self.env = {**env, **self.hypers}
        self.scalars = {dim(d): n for d, n in self.sizes.items()} | {
            sp.Symbol(h, positive=True): x for h, x in self.hypers.items()}

    def size(self, d: str) -> int:
        return 1 if d == "1" else self.sizes[d]

    def sample(self, shape: tuple, domain: str, axis: int, v) -> np.ndarray:
        rng = self.rng
        if domain in ("onehot", "prob"):  # the ones along `axis`: each column, or each row, sums to 1
            rows, cols = shape if axis == 0 else shape[::-1]
            out = np.eye(rows)[:, rng.integers(0, rows, cols)]
            out = out if domain == "onehot" else (out + 0.1) / (out + 0.1).sum(axis=0)
            return out if axis == 0 else out.T
        if domain in ("unit", "positive"):
            return rng.uniform(0.1, 0.9, shape)
        if v.role == "parameter" and shape[1] == 1:  # a bias
            return rng.uniform(-0.5, 0.5, shape)
        return rng.choice((-1.0, 1.0), shape) * rng.uniform(0.3, 1.2, shape)

    # -- comparing
    def compare(self, statement: str, got, expected, against: str, rtol: float = RTOL) -> float:
        from derive.network.verify_statements import disagreement

        problem, err = disagreement(np.asarray(got, dtype=float), np.asarray(expected, dtype=float), rtol)
        if problem:  # a shape, or an error past rtol (NaN fails too)
            self.fail(statement, against, problem)
        self.count += 1
        self.worst = max(self.worst, err) if rtol == RTOL else self.worst
        return err

    def fail(self, statement: str, against: str, how: str):
        raise DeriveError(f"graph {self.graph.name}: {statement} disagrees with {against} at random values "
                          f"({how}); not stated")

    def index(self, expr: sp.Expr, shape: tuple) -> np.ndarray:
        """An index form at every entry (free indices FREE), each entry looked up in the code's arrays."""
        from derive.concrete import unroll

        free = FREE[: 0 if shape == () else (1 if shape[1] == 1 else 2)]
        lookups = {}

        def lookup(a: sp.Indexed):
            name = f"_at_{a.base.name}"
            arr = np.asarray(self.ns[a.base.name], dtype=float)
            lookups[name] = lambda r, c=1, arr=arr: arr[int(r) - 1, int(c) - 1]
            return sp.Function(name)(*a.indices)

        try:
            body = unroll(expr.xreplace(self.scalars)).replace(lambda e: isinstance(e, sp.Indexed), lookup)
            f = sp.lambdify(free, body, modules=[lookups, _MATH, "numpy"])
            if shape == ():
                return np.asarray(float(f()))
            out = np.empty(shape)
            for idx in np.ndindex(*shape):
                out[idx] = f(*(i + 1 for i in idx[: len(free)]))
        except (TypeError, ValueError, IndexError, KeyError, ArithmeticError) as exc:
            raise DeriveError(f"graph {self.graph.name}: {unicode_text(expr)} cannot be evaluated at random values "
                              f"({type(exc).__name__}); not stated") from None
        return out

    def tree(self, tree) -> np.ndarray:
        try:
            return evaluate(tree, {**self.ns, **self.sizes})
        except (ValueError, KeyError, ArithmeticError) as exc:
            raise DeriveError(f"graph {self.graph.name}: {text(tree, self.bp.names)} cannot be evaluated "
                              f"({exc}); not stated") from None

    # -- the checks
    def run(self) -> Report:
        names = self.bp.names
        with np.errstate(all="ignore"):
            self.ns = self.prog.run(self.env)
            if not np.isfinite(self.ns["L"]):
                raise DeriveError(f"graph {self.graph.name}: the loss is not finite at random values (a log of a "
                                  "non-positive number? put a sigmoid or softmax before bce or cross_entropy)")
            for row in self.bp.forward:
                code = self.ns[row.name]
                index = self.index(row.rhs, code.shape)
                said = f"{unicode_text(row.lhs)} = {unicode_text(row.rhs)}"
                self.compare(f"the code's {row.name} (node {row.label})", code, index, f"its definition {said}")
                if row.after is not None:
                    self.compare(f"the row {row.name} = {text(row.after, names)}", self.tree(row.after), index,
                                 f"its definition {said}")
            total = sum(float(self.index(r.rhs, ())) for r in self.bp.losses)
            self.compare("the code's L", self.ns["L"], total, "the sum of the loss terms' definitions")
            for value, g in self.bp.gradients.items():
                self.gradient(value, g)
        return Report(self.count, self.worst, self.fd_worst, dict(self.sizes))

    def gradient(self, value: str, g) -> None:
        names = self.bp.names
        code = self.ns[partial(value)]
        shape = tuple(self.size(d) for d in self.graph.matrix_shape(value))  # the value's, whatever the code says
        for p in g.parts:
            self.compare(f"the part ∂L/∂{value} from {p.node} = {text(p.tree, names)}", self.tree(p.tree),
                         self.index(p.rhs, shape), f"the engine's derivation ({p.source})")
        index = self.index(g.rhs, shape)
        said = f"∂L/∂{value} = {text(g.tree, names)}"
        self.compare(said, self.tree(g.tree), index, "the sum of its parts in index form")
        self.compare(f"the code's ∂L/∂{value}", code, index, "the sum of its parts in index form")
        self.fd_worst = max(self.fd_worst, self.central(value, code, said))

    def central(self, value: str, grad: np.ndarray, said: str) -> float:
        """Σ ∂L/∂v ⊙ d against (L(v + h d) − L(v − h d)) / 2h of the generated forward pass."""
        d = self.rng.standard_normal(grad.shape)
        d /= np.linalg.norm(d)
        base = self.ns[value]
        moved = []
        for h in (STEP, -STEP):
            if value in self.env:
                moved.append(self.prog.run({**self.env, value: base + h * d}, upto_loss=True)["L"])
            else:
                moved.append(self.prog.run(self.env, replace={value: base + h * d}, upto_loss=True)["L"])
        fd = (moved[0] - moved[1]) / (2 * STEP)
        stated = float(np.sum(grad * d))
        return self.compare(said, stated, fd, "central differences of the forward pass", FD_RTOL)
