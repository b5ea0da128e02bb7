"""Check a network derivation at a concrete size: the index forms, evaluated layer by layer, against
`sympy.diff` of the fully expanded loss (affordable only for small networks: that is the point).
"""

from __future__ import annotations

import itertools
import random

import sympy as sp

from derive.concrete import unroll
from derive.network.backprop import backprop, derive_network
from derive.network.chain import Network
from derive.network.local import dim
from derive.network.names import N_IDX, I, N


def _sizes(net: Network, widths: tuple, samples: int) -> dict:
    out = {dim(k): w for k, w in enumerate(widths)}
    out[N] = samples
    return out


def _entries(row_lhs, shape: tuple, sizes: dict) -> list:
    """Every concrete entry of a quantity: s1[1], s1[2], … (or S1[i, n] over samples)."""
    base = row_lhs.base
    ranges = [range(1, sizes[dim(int(s[1:]))] + 1) if s != "N" else range(1, sizes[N] + 1) for s in shape]
    return [(idx, base[idx]) for idx in itertools.product(*ranges)]


def _at(expr, idx: tuple, sizes: dict, batch: bool):
    free = (I, N_IDX) if batch else (I,)
    return unroll(expr.xreplace({**dict(zip(free, idx)), **sizes}))


def _inputs(net: Network, widths: tuple, samples: int, rng: random.Random) -> dict:
    """Random values for x, the parameters and the target, both signs, one-hot or (0, 1) where needed."""
    b = sp.IndexedBase
    L = net.depth
    vals = {}
    cols = range(1, samples + 1) if net.batch else [None]

    def put(name, rows, make):
        for r in range(1, rows + 1):
            for c in cols:
                key = b(name, real=True)[(r, c) if c is not None else r]
                vals[key] = make()

    put(net.input_name, widths[0], lambda: rng.choice((-1, 1)) * rng.uniform(0.3, 1.5))
    for s in net.stages:
        for r, c in itertools.product(range(1, widths[s.k] + 1), range(1, widths[s.k - 1] + 1)):
            vals[b(f"W{s.k}", real=True)[r, c]] = rng.choice((-1, 1)) * rng.uniform(0.3, 1.5)
        if s.bias:
            for r in range(1, widths[s.k] + 1):
                vals[b(f"b{s.k}", real=True)[r]] = rng.uniform(-0.5, 0.5)
    target = "Y" if net.batch else "y"
    if net.loss.name in ("softmax_cross_entropy", "cross_entropy"):
        hot = rng.randrange(1, widths[L] + 1)
        for r in range(1, widths[L] + 1):
            vals[b(target, real=True)[r]] = float(r == hot)
    else:
        make = (lambda: rng.uniform(0.1, 0.9)) if net.loss.name.startswith("bce") else (
            lambda: rng.uniform(-1, 1))
        put(target, widths[L], make)
    return vals


def index_form_gradient(net: Network, wrt: str, widths: tuple, samples: int = 1, seed: int = 0) -> tuple:
    """(derived, reference): ∂L/∂wrt entry by entry, from the index forms layer by layer, and from
    `sympy.diff` of the expanded loss, at the same random point."""
    rng = random.Random(seed)
    bp = backprop(net)
    d = derive_network(net, wrt)
    sizes = _sizes(net, widths, samples)
    point = _inputs(net, widths, samples, rng)
    numeric = dict(point)
    symbolic = {k: k for k in point}  # each entry as an expression in the inputs: the expanded network
    for row in bp.forward:
        if row.label == "loss":
            loss_sym = _at(row.rhs, (), sizes, False).xreplace(symbolic)
            continue
        for idx, entry in _entries(row.lhs, row.shape, sizes):
            expr = _at(row.rhs, idx, sizes, net.batch)
            numeric[entry] = sp.Float(expr.xreplace(numeric))
            symbolic[entry] = expr.xreplace(symbolic)
    for sig in bp.signals:
        for idx, entry in _entries(sig.lhs, sig.shape, sizes):
            numeric[entry] = sp.Float(_at(sig.rhs, idx, sizes, net.batch).xreplace(numeric))
    grad = d.gradient
    var = grad.lhs.variables[0]
    base = var.base
    shape = [sizes[dim(int(s[1:]))] if s != "N" else sizes[N] for s in grad.shape]
    derived, reference = [], []
    for idx in itertools.product(*(range(1, s + 1) for s in shape)):
        free = dict(zip(var.indices, idx))
        derived.append(float(unroll(grad.rhs.xreplace({**free, **sizes})).xreplace(numeric)))
        reference.append(float(sp.diff(loss_sym, base[idx]).xreplace(point)))
    return derived, reference


# --------------------------------------------------------------------------- at run time

WIDTHS = (3, 4, 2, 5)  # d0, then hidden widths in turn: distinct neighbours, so no matrix is square
RTOL = 1e-5


def check_gradients(net: Network, seeds: tuple = (0, 1, 2), step: float = 1e-6) -> float:
    """The gradients the network's generated code computes against central differences of its
    forward pass, at random values of small widths: the derivative along a random direction,
    (L(T + hv) − L(T − hv))/2h against Σ (∂L/∂T) ⊙ v, for the input and each parameter of the first
    two layers and the last (every error signal passes through layer 1), and once along a direction
    in all of them together. A fixed number of forward passes: the check grows with depth like the
    network itself.

    The largest relative error, where a seed agrees everywhere; a seed whose step crosses a kink
    (ReLU at 0) fails alone, so a DeriveError is raised only when every seed disagrees.
    """
    import numpy as np

    from derive.errors import DeriveError
    from derive.network.codegen import code_name, compile_numpy, sample_hyperparameters

    f = compile_numpy(net, hyper=sample_hyperparameters(net, np.random.default_rng(len(seeds))))
    layers = {1, 2, net.depth}
    worst, where = 0.0, ""
    for seed in seeds:
        rng = np.random.default_rng(seed)
        X, Y, params = _random_data(net, rng)
        values = {code_name(net.input_name): X, **params}
        with np.errstate(all="ignore"):
            loss, grads = f(X, Y, **params)
            if not np.isfinite(loss):
                raise DeriveError(f"{net.spec}: the loss is not finite at random values, so its gradients cannot "
                                  "be checked (a log of a negative number? bce and cross_entropy need "
                                  "probabilities: put a sigmoid or softmax before them)")
            directions = [{name: rng.standard_normal(value.shape)} for name, value in values.items()
                          if name == code_name(net.input_name) or int(name[1:]) in layers]
            directions.append({name: rng.standard_normal(value.shape) for name, value in values.items()})
            worst, where = 0.0, ""
            for v in directions:
                norm = np.sqrt(sum(np.sum(d * d) for d in v.values()))
                v = {name: d / norm for name, d in v.items()}
                fd = (_loss(f, net, values, v, step, Y) - _loss(f, net, values, v, -step, Y)) / (2 * step)
                err = abs(fd - sum(float(np.sum(grads[name] * d)) for name, d in v.items())) / max(1.0, abs(fd))
                if not err <= worst:  # NaN counts as a disagreement
                    worst, where = err, next(iter(v)) if len(v) == 1 else "(all parameters together)"
        if worst <= RTOL:
            return worst
    raise DeriveError(f"{net.spec}: the derived ∂L/∂{where} disagrees with central differences of the forward "
                      f"pass (relative error {worst:.1e})")


def _loss(f, net: Network, values: dict, direction: dict, h: float, Y) -> float:
    """The loss with every tensor in `direction` moved by h times its part of it."""
    from derive.network.codegen import code_name

    moved = {name: value + h * direction[name] if name in direction else value for name, value in values.items()}
    X = moved.pop(code_name(net.input_name))
    return f(X, Y, **moved)[0]


def _random_data(net: Network, rng) -> tuple:
    """X (d0 × N), targets (dL × N) of the loss's kind, and every parameter, at small widths."""
    import numpy as np

    samples = 3 if net.batch else 1
    widths = [WIDTHS[0]] + [WIDTHS[1 + k % (len(WIDTHS) - 1)] for k in range(net.depth)]

    def signed(*shape):
        return rng.choice((-1.0, 1.0), shape) * rng.uniform(0.3, 1.2, shape)

    X = signed(widths[0], samples)
    params = {}
    for s in net.stages:
        params[f"W{s.k}"] = signed(widths[s.k], widths[s.k - 1])
        if s.bias:
            params[f"b{s.k}"] = rng.uniform(-0.5, 0.5, widths[s.k])
    out, loss = widths[net.depth], net.loss.name
    if loss in ("softmax_cross_entropy", "cross_entropy"):
        Y = np.eye(out)[:, rng.integers(0, out, samples)]
    elif loss.startswith("bce"):
        Y = rng.uniform(0.1, 0.9, (out, samples))
    else:
        Y = rng.uniform(-1.0, 1.0, (out, samples))
    return X, Y, params
