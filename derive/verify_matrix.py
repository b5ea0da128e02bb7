"""Verification of a matrix form: the tree, evaluated by the one evaluator, against the index form.

Every entry is compared at the definition's sizes (the same concrete sizes as the index-form
checks in derive.verify). `with_matrix_form` is the only way a derivation gets a matrix form, so
a form that is stated has been checked; one that fails is kept aside, named, and never shown.
"""

from __future__ import annotations

import cmath
import itertools
import random
from dataclasses import replace

from derive.concrete import Concretizer, Point, assignments, concrete, entry_list, sample, value
from derive.steps import Derivation
from derive.verify import Compiled, VerificationError, away_from_kinks, point_away_from_kinks, values_at
from derive.verify_staged import NamedValues


def matrix_env(d: Derivation, point: Point, conc: Concretizer | None = None, found: dict | None = None) -> dict:
    """The point as arrays: vectors as columns, matrices as they are, named quantities computed (`found`:
    their values already, derive.verify_staged.NamedValues)."""
    defn = d.definition
    conc = conc or (Concretizer(d) if found is None else None)  # one for every named entry: each expanded once
    sizes = {str(s): int(v) for s, v in defn.sizes.items()}
    env = {"__sizes": sizes, **sizes}
    variables = (*defn.inputs, *defn.others) + ((d.upstream,) if d.upstream is not None else ())
    for var in variables:
        env[var.name] = _array(var.symbol, var.shape, defn.sizes, lambda e: point.values[e])
    for v in variables:
        if not v.shape and v.domain != "class":
            env[v.name] = point.values[v.symbol]
    named = {}
    shapes = {v.symbol: v.shape for v in defn.variables}  # each symbol made once (an IndexedBase takes a while)
    for nm in d.named:
        shape = shapes[nm.symbol] if nm.index else ()
        named[nm.symbol.name] = (nm.symbol, shape, _array(nm.symbol, shape, defn.sizes, lambda e: e, object))
    cells = [e for _, _, a in named.values() for e in (a.flat if shape_of(a) else [a])]
    if found is None:  # all at once
        found = dict(zip(cells, values_at([conc(e, {}, point.classes) for e in cells], point)))
    for name, (symbol, shape, _) in named.items():
        env[name] = _array(symbol, shape, defn.sizes, lambda e: found[e].real)
    return env


def shape_of(a) -> tuple:
    return getattr(a, "shape", ())


def _array(symbol, shape, sizes, entry_value, dtype=float):
    if not shape:
        return entry_value(symbol)
    dims = [int(sizes[s]) for s in shape]
    import numpy as np  # only the matrix-form check needs arrays; keep it off the import path

    out = np.zeros((dims[0], dims[1] if len(dims) == 2 else 1), dtype=dtype)
    # the entries as derive.concrete.entries makes them, once: the point's own keys, found by identity
    for idx, e in zip(itertools.product(*[range(1, n + 1) for n in dims]), entry_list(symbol, tuple(dims))):
        out[tuple(i - 1 for i in idx) + ((0,) if len(dims) == 1 else ())] = entry_value(e)
    return out


def with_matrix_form(d: Derivation, layout: str = "denominator", conc: Concretizer | None = None) -> Derivation:
    """`d` with its matrix form once that form agrees with the index form at every entry.

    A result whose index structure has no matrix form is returned unchanged. A form that
    disagrees (or cannot be evaluated) is kept as `matrix_refused`, which is named but never shown.
    """
    from derive.calculus.matrix import NoMatrixForm, matrix_form

    try:
        form = matrix_form(d, layout)
    except NoMatrixForm:
        return d
    try:
        error = check_matrix_form(d, form, conc=conc)
    except (VerificationError, ArithmeticError, ValueError, KeyError):  # a form we cannot evaluate is not shown
        return replace(d, matrix=None, matrix_refused=form)
    return replace(d, matrix=replace(form, max_error=error), matrix_refused=None)


def check_matrix_form(d: Derivation, form=None, seed: int = 3, conc: Concretizer | None = None) -> float:
    """The largest relative error of the matrix form (default `d.matrix`), evaluated by the one
    evaluator (derive.model.evaluate), against the index form at every entry; VerificationError
    at the first disagreement."""
    from derive.model.evaluate import evaluate

    form = form or d.matrix
    rng = random.Random(seed)
    if d.definition.elementwise:
        return _check_entrywise(d, form, rng)
    table = assignments(d)
    if not table:  # sizes of 0: no entry to compare, so no check to claim
        raise VerificationError(f"{d.target} ∂/∂{d.wrt}: no entry to check the matrix form at")
    staged = NamedValues.of(d)
    conc = conc or (Concretizer(d) if staged is None else None)  # the kink search and comparison share it
    if staged is not None:  # the names' values through their definitions, not each expanded into the inputs
        point, found, expected_all = _staged_point(d, staged, table, rng)
    else:  # a point off every kink where the definition and result are finite reals (log(x − 5): x > 5)
        compiled = Compiled(d, conc)  # the index form in floats, as the search evaluated it at every entry
        point, found = away_from_kinks(d, rng, compiled), None
        expected_all = [compiled(d.result, a, point) for a in table]
    got = evaluate(form.expr, matrix_env(d, point, conc, found))
    got = got.T if form.layout == "numerator" else got
    _shaped(d, got, (*(max(a[s] for a in table) for s in table[0]), 1)[:2])
    worst = 0.0
    for assignment, expected in zip(table, expected_all):
        expected = expected.real
        pos = [assignment[s] - 1 for s in assignment]
        worst = max(worst, _compare(d, got[pos[0], pos[1] if len(pos) > 1 else 0], expected, assignment))
    return worst


def _staged_point(d: Derivation, staged: NamedValues, table: list, rng: random.Random) -> tuple:
    """(a sample point where every named entry and the result are finite reals, the named values there, the
    result at each index assignment) for a staged derivation, whose stages have no kinks."""
    result = staged.evaluator([d.result] * len(table), table)
    for attempt in range(200):
        point = sample(d.definition, rng, d.upstream, widen=attempt * 3 // 200)
        found = staged.at(point.values)
        if found is not None:
            expected = result(found)
            if all(cmath.isfinite(z) and abs(z.imag) <= 1e-12 * (1 + abs(z.real)) for z in expected):
                return point, {k: complex(v) for k, v in found.items()}, expected
    raise VerificationError(f"{d.target}: no sample point where its named quantities and its derivative are "
                            "finite real numbers")


def _check_entrywise(d: Derivation, form, rng: random.Random, size: int = 3) -> float:
    """y = f(x) on a vector: entry k of ∂C/∂y ⊙ f′ is g_k f′(x_k), each from its own sample, and
    the Jacobian diag(f′) has f′(x_k) on its diagonal and 0 elsewhere."""
    import numpy as np

    from derive.model.evaluate import evaluate

    defn = d.definition
    points = [point_away_from_kinks(d, rng) for _ in range(size)]
    for p in points:  # hyperparameters are shared by all entries
        p.values.update({v.symbol: points[0].values[v.symbol] for v in defn.others})
    g = np.array([[rng.uniform(-1.5, 1.5)] for _ in range(size)])
    env = {"K": size, f"d{defn.upstream}_d{defn.output.name}": g,
           defn.inputs[0].name: np.array([[p.values[defn.inputs[0].symbol]] for p in points]),
           defn.output.name: np.array([[value(concrete(defn.output.symbol, d, {}, p), p).real] for p in points])}
    env.update({it.var.name: np.array([[value(concrete(it.var.symbol, d, {}, p), p).real] for p in points])
                for it in defn.intermediates})  # σ(x), Φ(x), … entry by entry
    env.update({v.name: points[0].values[v.symbol] for v in defn.others})
    fprime = [value(concrete(d.result, d, {}, p), p).real for p in points]
    got, jacobian = evaluate(form.expr, env), evaluate(form.jacobian, env)
    _shaped(d, got, (size, 1))
    _shaped(d, jacobian, (size, size))
    worst = 0.0
    for k in range(size):
        worst = max(worst, _compare(d, got[k, 0], g[k, 0] * fprime[k], {"k": k + 1}))
        for m in range(size):
            worst = max(worst, _compare(d, jacobian[k, m], fprime[k] if k == m else 0.0, {"Jacobian": (k + 1, m + 1)}))
    return worst


def _shaped(d: Derivation, got, shape: tuple) -> None:
    if got.shape != shape:
        raise VerificationError(f"{d.target} ∂/∂{d.wrt}: the matrix form is {got.shape[0]} × {got.shape[1]}, "
                                f"the index form {shape[0]} × {shape[1]}")


def _compare(d: Derivation, got: float, expected: float, where) -> float:
    err = abs(got - expected) / max(1.0, abs(expected))
    if not err <= 1e-9:  # NaN fails too
        raise VerificationError(f"{d.target} ∂/∂{d.wrt}: the matrix form gives {got:.8g} at {where}, "
                                f"the index form {expected:.8g}")
    return err
