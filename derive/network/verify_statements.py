"""Verification of everything a network derivation prints, at run time, before it is printed.

At random values of small, distinct, non-square widths (derive.network.verify.WIDTHS), the
generated code (derive.network.codegen) is run with its trace; then every printed statement is
evaluated by the one evaluator (derive.model.evaluate) and compared with the code's values and with
its own index form, entry by entry:

- each forward row's tree (W x + b, σ(s)), each output in terms of the input, and the index form
  of the row (the definition, renamed);
- each error signal: the general form (∂L/∂z ⊙ f′ named), the written-out form, the simplified
  one, ∂L/∂(output) and f′ on their own, and the index form;
- each gradient's tree and index form;
- each local Jacobian of the chain rule: a matrix (diag(f′), W, I) evaluated, and every stated
  entry (∂s_i/∂W_ij = x_j) against central differences of the layer's row.

The code's gradients are themselves checked against central differences of its forward pass
(derive.network.verify.check_gradients). A statement that fails raises a one-line DeriveError
naming it, so nothing is printed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive.errors import DeriveError
from derive.model.evaluate import evaluate
from derive.network.chain import Network
from derive.render import matrix as printers
from derive.render.unicode import unicode_text

RTOL = 1e-8  # the trees and the code compute the same numbers in a different order
FD_RTOL = 1e-5  # central differences (step 1e-6) of one layer
INDEX, CODE = "its index form (the engine's derivation)", "the generated code"
DEFINITION = "its index form (the registry's definition)"


@dataclass(frozen=True, repr=False)
class Report:
    """What was checked before the network was stated, and how well it held; prints as a sentence."""

    statements: int  # printed statements compared, each at every entry
    statement_error: float  # the largest relative error among them
    gradient_error: float  # the code's gradients against central differences
    widths: tuple  # d0, d1, … at which the statements were compared
    samples: int  # N (1 for one sample)

    def __str__(self) -> str:
        sizes = ", ".join(f"d{k} = {w}" for k, w in enumerate(self.widths)) + (
            f", N = {self.samples}" if self.samples > 1 else "")
        return (f"checked: {self.statements} printed statements agree with the generated code at {sizes} "
                f"(relative error {self.statement_error:.1e}); its gradients agree with central differences "
                f"(relative error {float(self.gradient_error):.1e})")

    def __repr__(self) -> str:
        return f"<Report {self}>"


def check_network(net: Network) -> Report:
    """Every statement (check_statements), then the code's gradients (check_gradients)."""
    from derive.network.verify import check_gradients

    count, worst, widths, samples = check_statements(net)
    return Report(count, worst, check_gradients(net), widths, samples)


class _Point:
    """One random point: the code's values, as the evaluator and the index forms read them."""

    def __init__(self, net: Network, bp, seed: int):
        from derive.network.codegen import code_name, compile_numpy, sample_hyperparameters
        from derive.network.verify import _random_data

        rng = np.random.default_rng(seed)
        names = bp.names
        self.hyper = sample_hyperparameters(net, rng)
        X, Y, params = _random_data(net, rng)
        with np.errstate(all="ignore"):
            _, self.grads, trace = compile_numpy(net, trace=True, hyper=self.hyper)(X, Y, **params)
        self.widths = (X.shape[0], *(params[f"W{s.k}"].shape[0] for s in net.stages))
        self.samples = X.shape[1]
        self.dims = {f"d{k}": w for k, w in enumerate(self.widths)} | {"N": self.samples}
        self.inputs = {net.input_name: X, **{p: v.reshape(-1, 1) if v.ndim == 1 else v for p, v in params.items()}}
        self.values = {**self.inputs, names.target: Y}
        for row in bp.forward:
            if row is not bp.loss_row:
                self.values[row.name] = trace[code_name(row.name)]
        for s in bp.signals:
            self.values[s.name] = trace[code_name(s.name)]
        self.code_name = code_name

    def env(self, extra: dict | None = None, only_inputs: bool = False) -> dict:
        values = self.inputs if only_inputs else self.values
        return {**self.dims, **self.hyper, **values, **(extra or {})}

    def scalars(self) -> dict:
        return {sp.Symbol(d, integer=True, positive=True): v for d, v in self.dims.items()} | {
            sp.Symbol(h, positive=True): v for h, v in self.hyper.items()}

    def index_function(self, expr: sp.Expr, free: tuple):
        """The index form as a function of its free indices (1-based), its sums written out at these
        sizes and each entry looked up in the arrays of this point."""
        from derive.concrete import unroll

        values, lookups = self.values, {}

        def lookup(a: sp.Indexed):
            name = f"_at_{a.base.name}"
            lookups[name] = _getter(values[a.base.name])
            return sp.Function(name)(*a.indices)

        body = unroll(expr.xreplace(self.scalars())).replace(lambda e: isinstance(e, sp.Indexed), lookup)
        return sp.lambdify(free, body, modules=[lookups, "numpy"])

    def index_values(self, expr: sp.Expr, free: tuple, shape: tuple) -> np.ndarray:
        """The index form at every entry (its free indices `free` over `shape`)."""
        f = self.index_function(expr, free)
        out = np.empty(shape)
        for idx in np.ndindex(*shape):
            out[idx] = f(*(i + 1 for i in idx[: len(free)]))  # a column (d, 1) has one index
        return out


def _getter(arr: np.ndarray):
    if arr.ndim == 2 and arr.shape[1] == 1:
        return lambda r, c=1: arr[int(r) - 1, int(c) - 1]  # a column: x_i, b_i
    return lambda r, c: arr[int(r) - 1, int(c) - 1]


class _Checker:
    def __init__(self, net: Network, bp, point: _Point):
        self.net, self.bp, self.p = net, bp, point
        self.count, self.worst = 0, 0.0

    def compare(self, statement: str, got, expected, against: str, rtol: float = RTOL) -> None:
        got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
        if np.squeeze(got).shape == np.squeeze(expected).shape:
            expected = expected.reshape(got.shape)  # a bias gradient (d,) against its column (d, 1)
        problem, err = disagreement(got, expected, rtol)
        if problem:
            self.fail(statement, against, problem)
        self.count += 1
        self.worst = max(self.worst, err)

    def fail(self, statement: str, against: str, how: str):
        raise DeriveError(f"{self.net.spec}: the printed {statement} disagrees with {against} at random values "
                          f"({how}); not stated")

    def both(self, statement: str, tree, index, code, index_is: str = INDEX) -> None:
        """A tree against its index form (what the engine derived), then against the code printed from it."""
        self.tree(statement, tree, index, index_is)
        self.tree(statement, tree, code, CODE)

    def tree(self, statement: str, tree, expected, against: str, env: dict | None = None) -> None:
        try:
            got = evaluate(tree, env if env is not None else self.p.env())
        except (ValueError, KeyError, ArithmeticError) as exc:
            self.fail(statement, against, f"it cannot be evaluated: {exc}")
        self.compare(statement, got, expected, against)


def _text(tree, names: dict) -> str:
    return printers.text(tree, names)


def check_statements(net: Network, seed: int = 0) -> tuple:
    """(statements compared, largest relative error, widths, samples); DeriveError at the first
    printed statement that disagrees."""
    from derive.network.backprop import backprop

    bp = backprop(net)
    p = _Point(net, bp, seed)
    c = _Checker(net, bp, p)
    free = bp.names.free
    for row in bp.forward:
        if row is bp.loss_row:
            continue
        code = p.values[row.name]
        index = p.index_values(row.rhs, free, code.shape)  # the definition, at the code's inputs to the row
        lhs = row.names[row.name].text
        if row.after is None:
            c.compare(f"row {unicode_text(row.lhs)} = {unicode_text(row.rhs)}", index, code, CODE)
        else:
            c.both(f"forward row {lhs} = {_text(row.after, row.names)}", row.after, index, code, DEFINITION)
        if row.expanded is not None:
            c.tree(f"{lhs} = {_text(row.expanded, row.names)} (in terms of the input)", row.expanded, code, CODE,
                   p.env(only_inputs=True))
    for s in bp.signals:
        _signal(c, s, free)
    for g in bp.gradients.values():
        code = p.grads[p.code_name(g.wrt)]
        free_g = tuple(g.lhs.variables[0].indices)
        index = p.index_values(g.rhs, free_g, code.shape[: len(free_g)])
        c.both(f"gradient {g.names[g.before.name].text} = {g.text}", g.after, index, code)
    _jacobians(c, net)
    return c.count, c.worst, p.widths, p.samples


def _signal(c: _Checker, s, free: tuple) -> None:
    p = c.p
    code = p.values[s.name]
    index = p.index_values(s.rhs, free, code.shape)
    upstream = p.index_values(s.upstream, free, code.shape)
    up_name = s.general.args[0].name if s.fprime_tree is not None else s.general.name
    c.tree(f"{s.names[up_name].text} = {_text(s.upstream_tree, s.names)}", s.upstream_tree, upstream, INDEX)
    extra = {up_name: upstream}
    if s.fprime_tree is not None:
        fprime = p.index_values(s.derivative, free, code.shape)
        c.tree(f"f_{s.k}′ = {_text(s.fprime_tree, s.names)}", s.fprime_tree, fprime, INDEX)
        extra[f"fprime{s.k}"] = fprime
    name = s.names[s.name].text
    for tree in s.forms:
        c.both(f"error signal {name} = {_text(tree, s.names)}", tree, index, code)
    c.tree(f"error signal {name} = {_text(s.general, s.names)}", s.general, index, INDEX, p.env(extra))


def _jacobians(c: _Checker, net: Network) -> None:
    """Each local Jacobian once: its matrix, and its stated entries, against central differences."""
    from derive.network.jacobians import jacobians

    p, bp = c.p, c.bp
    for (top, bottom), jac in jacobians(net).items():
        if top == "L":  # ∂L/∂ŷ is the upstream gradient of the error signal, checked with it
            continue
        row = next(r for r in bp.forward if r.name == top)
        label = f"Jacobian {jac.names[jac.before.name].text}"
        numeric = _central(p, row, bottom)  # (output entry) × (variable entry), 4 axes
        if jac.after is not None:
            stated = _full(evaluate(jac.after, p.env()), numeric.shape)
            c.compare(f"{label} = {_text(jac.after, jac.names)}", stated, numeric,
                      "central differences of the layer", FD_RTOL)
        if jac.entry is not None:
            stated, numeric_at = _entries(p, jac, numeric)
            c.compare(f"{label}: {unicode_text(jac.entry)}", stated, numeric_at,
                      "central differences of the layer", FD_RTOL)


def _central(p: _Point, row, var: str, h: float = 1e-6) -> np.ndarray:
    """∂(row output)/∂var at every pair of entries, by central differences of the row's tree."""
    base = p.values[var]
    out = np.empty((*p.values[row.name].shape, *base.shape))
    for idx in np.ndindex(*base.shape):
        moved = []
        for step in (h, -h):
            v = base.copy()
            v[idx] += step
            moved.append(evaluate(row.after, p.env({var: v})))
        out[(..., *idx)] = (moved[0] - moved[1]) / (2 * h)
    return out


def _full(value: np.ndarray, shape: tuple) -> np.ndarray:
    """A stated Jacobian as the 4-axis array: a matrix between columns (d_out × d_in), or a layer's
    entrywise derivative (d × N), which is diagonal in the feature and in the sample."""
    d_out, c_out, d_in, c_in = shape
    if c_out == c_in == 1 and value.shape == (d_out, d_in):
        return value[:, None, :, None]
    full = np.zeros(shape)
    for i, n in np.ndindex(*value.shape):
        full[i, n, i, n] = value[i, n]
    return full


def _entries(p: _Point, jac, numeric: np.ndarray) -> tuple:
    """(stated, numeric) at every pair of entries the entry statement covers: every pair, or those
    where an index the two sides share agrees (∂s_i/∂W_ij speaks of row i of W only)."""
    slots = tuple(_padded(jac.entry.lhs.expr.indices)) + tuple(_padded(jac.entry.lhs.variables[0].indices))
    symbols = tuple(dict.fromkeys(s for s in slots if s is not None))
    f = p.index_function(jac.entry.rhs, symbols)
    stated, at_points = [], []
    for pos in np.ndindex(*numeric.shape):
        at = {}
        for symbol, v in zip(slots, pos):
            if symbol is not None and at.setdefault(symbol, v + 1) != v + 1:
                break
        else:
            stated.append(f(*(at[s] for s in symbols)))
            at_points.append(numeric[pos])
    return np.array(stated, dtype=float), np.array(at_points)


def _padded(indices) -> list:
    return [*indices, None] if len(indices) == 1 else list(indices)


def disagreement(got: np.ndarray, expected: np.ndarray, rtol: float) -> tuple[str | None, float]:
    """(what is wrong, or None; the largest relative error) of a printed statement's value against
    what it must equal: a shape that differs, or an error past `rtol` (NaN is no agreement)."""
    if got.shape != expected.shape:
        return f"it is {' × '.join(map(str, got.shape))}, not {' × '.join(map(str, expected.shape))}", np.inf
    err = float(np.max(np.abs(got - expected) / np.maximum(1.0, np.abs(expected)))) if got.size else 0.0
    return (None if err <= rtol else f"relative error {err:.1e}"), err
