"""The course modules in the registry: batch statistics, convolution and pooling. Each result is
held to the closed form a TA writes, and compared with central differences of the forward pass
computed here in NumPy (not by the engine)."""

import random

import numpy as np
import pytest
import sympy as sp

from derive.api import derivative
from derive.concrete import assignments, concrete, value
from derive.definitions import get
from derive.definitions.model import IDX
from derive.verify import point_away_from_kinks

i, k, l = IDX["i"], IDX["k"], IDX["l"]
N, D = sp.Symbol("N", integer=True, positive=True), sp.Symbol("D", integer=True, positive=True)


def _gradient(d, point) -> np.ndarray:
    """The derived result at every index, at `point`, as an array shaped like the variable."""
    table = assignments(d)
    var = d.definition.var(d.wrt)
    if not var.shape:
        return np.array(value(concrete(d.result, d, {}, point), point).real)
    shape = tuple(int(d.definition.sizes[s]) for s in var.shape)
    out = np.zeros(shape)
    for a in table:
        out[tuple(v - 1 for v in a.values())] = value(concrete(d.result, d, a, point), point).real
    return out


def _arrays(d, point) -> dict:
    defn = d.definition
    out = {}
    for v in (*defn.inputs, *defn.others) + ((d.upstream,) if d.upstream else ()):
        if not v.shape:
            out[v.name] = point.values[v.symbol]
            continue
        shape = tuple(int(defn.sizes[s]) for s in v.shape)
        arr = np.zeros(shape)
        for idx in np.ndindex(*shape):
            arr[idx] = point.values[v.symbol[tuple(n + 1 for n in idx)]]
        out[v.name] = arr
    if d.upstream is not None:
        out["g"] = out.pop(d.upstream.name)  # ∂C/∂y (∂C/∂Y), the weights of C = Σ g y
    return out


def _central(f, arrays: dict, name: str, h: float = 1e-6) -> np.ndarray:
    base = arrays[name]
    if np.ndim(base) == 0:
        return np.array((f({**arrays, name: base + h}) - f({**arrays, name: base - h})) / (2 * h))
    out = np.zeros_like(base)
    for idx in np.ndindex(*base.shape):
        up, down = base.copy(), base.copy()
        up[idx] += h
        down[idx] -= h
        out[idx] = (f({**arrays, name: up}) - f({**arrays, name: down})) / (2 * h)
    return out


def _norm_forward(a):
    x = a["x"]
    xhat = (x - x.mean()) / np.sqrt(x.var() + a["epsilon"])
    return float(np.sum(a["g"] * (a["gamma"] * xhat + a["beta"])))  # C = Σ g_i y_i: ∂C/∂y = g


def _conv1d_forward(a):
    return float(np.sum(a["g"] * np.correlate(a["x"], a["w"], mode="valid")))


def _conv1d_strided_forward(a):
    x, w, s = a["x"], a["w"], 2
    y = np.array([np.dot(w, x[s * n: s * n + len(w)]) for n in range(len(a["g"]))])
    return float(np.sum(a["g"] * y))


def _conv2d_forward(a):
    X, W, G = a["X"], a["W"], a["g"]
    Y = np.array([[np.sum(W * X[r:r + W.shape[0], c:c + W.shape[1]]) for c in range(G.shape[1])]
                  for r in range(G.shape[0])])
    return float(np.sum(G * Y))


def _avgpool_forward(a):
    return float(np.sum(a["g"] * a["x"].reshape(-1, 2).mean(axis=1)))


def _maxpool_forward(a):
    return float(np.sum(a["g"] * a["x"].reshape(-1, 2).max(axis=1)))


FORWARD = {"batchnorm": _norm_forward, "layernorm": _norm_forward, "conv1d": _conv1d_forward,
           "conv1d_strided": _conv1d_strided_forward, "conv2d": _conv2d_forward,
           "avgpool1d": _avgpool_forward, "maxpool1d": _maxpool_forward,
           "mean": lambda a: float(a["x"].mean()), "variance": lambda a: float(a["x"].var())}
CASES = [(t, v.name) for t in FORWARD for v in get(t).inputs]


@pytest.mark.parametrize("target, wrt", CASES)
def test_each_module_gradient_matches_central_differences_of_a_numpy_forward_pass(target, wrt):
    d = derivative(target, wrt=wrt)
    point = point_away_from_kinks(d, random.Random(11))
    arrays = _arrays(d, point)
    expected = _central(FORWARD[target], arrays, wrt)
    assert np.allclose(_gradient(d, point), expected, atol=1e-6), (target, wrt)


def test_batch_norm_input_gradient_is_the_compact_form():
    d = derivative("batchnorm", wrt="x")
    g, xhat = sp.IndexedBase("dC_dy", real=True), sp.IndexedBase("xhat", real=True)
    gamma, sigma = sp.Symbol("gamma", real=True), sp.Symbol("sigma", real=True, positive=True)
    compact = gamma / (N * sigma) * (N * g[i] - sp.Sum(g[l], (l, 1, N)) - xhat[i] * sp.Sum(g[l] * xhat[l], (l, 1, N)))
    assert sp.expand(d.result - compact) == 0
    assert {nm.symbol.name if hasattr(nm.symbol, "name") else str(nm.symbol) for nm in d.named} >= {"mu", "sigma"}
    assert d.matrix is not None and d.matrix.max_error < 1e-9


def test_batch_norm_parameter_gradients_are_written_in_xhat():
    g, xhat = sp.IndexedBase("dC_dy", real=True), sp.IndexedBase("xhat", real=True)
    assert derivative("batchnorm", wrt="gamma").result == sp.Sum(g[i] * xhat[i], (i, 1, N))
    assert derivative("batchnorm", wrt="beta").result == sp.Sum(g[i], (i, 1, N))
    assert derivative("layernorm", wrt="gamma").result == sp.Sum(g[i] * xhat[i], (i, 1, D))


def test_variance_gradient_is_written_in_the_mean():
    x, mu = sp.IndexedBase("x", real=True), sp.Symbol("mu", real=True)
    assert sp.expand(derivative("variance").result - 2 * (x[i] - mu) / N) == 0
    assert derivative("mean").result == 1 / N


def test_convolution_input_gradient_runs_over_the_narrowed_range_with_the_flipped_kernel():
    d = derivative("conv1d", wrt="x")
    (s,) = [e for e in sp.preorder_traversal(d.result) if isinstance(e, sp.Sum)]
    (_, lo, hi), = s.limits
    K, M = sp.Symbol("K", integer=True, positive=True), sp.Symbol("M", integer=True, positive=True)
    assert lo == sp.Max(1, i - K + 1) and hi == sp.Min(M, i)
    assert "cases" not in [st.rule for st in d.steps]


def test_max_pool_routes_a_tie_to_the_first_entry_of_its_window():
    d = derivative("maxpool1d", wrt="x")
    point = point_away_from_kinks(d, random.Random(2))
    x = get("maxpool1d").inputs[0].symbol
    point.values[x[2]] = point.values[x[1]]  # a tie in the first window
    grad = _gradient(d, point)
    g1 = point.values[d.upstream.symbol[1]]
    assert grad[0] == pytest.approx(g1) and grad[1] == 0.0


def test_average_pool_sends_each_window_its_share():
    d = derivative("avgpool1d", wrt="x")
    assert not d.result.has(sp.Sum)
    point = point_away_from_kinks(d, random.Random(3))
    g = np.array([point.values[d.upstream.symbol[n]] for n in (1, 2, 3)])
    assert np.allclose(_gradient(d, point), np.repeat(g / 2, 2))
