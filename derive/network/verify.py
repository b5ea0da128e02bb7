"""Check a network derivation at a concrete size: the index forms, evaluated layer by layer, against
`sympy.diff` of the fully expanded loss (affordable only for small networks: that is the point).
"""

from __future__ import annotations

import itertools
import random

import sympy as sp

from derive.network.backprop import N_IDX, I, N, backprop, derive_network
from derive.network.chain import Network
from derive.network.local import dim
from derive.verify import unroll


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
