"""derive.float_compile.compile_float, the float compiler of the finite differences and the search for a point
off the kinks: compile_numpy's values at one point (as floats, NaN where undefined), without importing NumPy."""

import math
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from derive.float_compile import by_name, compile_float, compile_sums
from derive.numpy_lambdify import compile_numpy, inert

x, y, z = sp.symbols("x y z", real=True)
w = sp.IndexedBase("w")
EXPRESSIONS = [
    x * sp.exp(-y) / (1 + sp.exp(-y)) ** 2,
    sp.Heaviside(x, 0) * y + sp.Heaviside(x - y),
    sp.Max(0, x) - sp.Min(x, y, z),
    sp.Piecewise((x, x > 0), (2 * y, True)),
    sp.log(1 + sp.exp(x)) + sp.tanh(y) ** 2 + sp.sqrt(z ** 2 + 1),
    sp.Abs(x) * sp.sign(y) + sp.erf(z) + sp.pi * sp.cosh(x),
    sp.KroneckerDelta(1, 2) + sp.Rational(1, 3) * x,
    sp.KroneckerDelta(x, y) + 2,  # δ of two values: a comparison
    x ** 3 / y ** 2 - 1 / z,
]
POINTS = [(0.7, -0.4, 1.5), (-1.3, 0.9, -0.2), (2.0, 1.1, 0.3), (0.5, 0.5, 0.5), (0.0, -2.0, 4.0)]


def _numpys(expr, point):
    with np.errstate(all="ignore"):
        return [float(v) for v in compile_numpy([expr], [x, y, z])(*point)]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=[str(e)[:30] for e in EXPRESSIONS])
def test_the_values_are_compile_numpys(expr):
    f = compile_float([expr, inert(expr)], [x, y, z])
    for point in POINTS:
        want = _numpys(expr, point)[0]
        for got in f(list(point)):
            assert got == pytest.approx(want, rel=1e-14, abs=0) or (math.isnan(got) and math.isnan(want))


def test_which_expressions_and_entries_by_position():
    f = compile_float([w[1] * w[2] - w[2], sp.Max(w[1], 0)], [w[2], w[1]])
    assert f([3.0, -2.0]) == [-9.0, 0.0]
    assert f([3.0, -2.0], [1]) == [0.0]


@pytest.mark.parametrize("expr", [sp.log(x), sp.sqrt(x), x ** y, sp.exp(1000 * y), 1 / (x + 2), sp.I * y],
                         ids=["log", "sqrt", "pow", "overflow", "division", "complex"])
def test_undefined_complex_or_overflowing_is_nan(expr):
    assert math.isnan(compile_float([expr], [x, y])([-2.0, 1.5])[0])


@pytest.mark.parametrize("expr", [sp.Max(0, x), sp.Min(x, 1), sp.Heaviside(x), sp.Heaviside(x, 0)])
def test_a_nan_argument_stays_nan_as_in_numpy(expr):
    """Python's max(0, nan) is 0 and nan > 0 is False: a NaN inside a max or a step would hide."""
    assert math.isnan(compile_float([expr], [x])([math.nan])[0])


def test_a_branch_not_taken_is_not_evaluated():
    f = compile_float([sp.Piecewise((sp.log(x), x > 0), (0, True)), sp.Piecewise((x, x > 0))], [x])
    assert f([-1.0]) == [0.0, pytest.approx(math.nan, nan_ok=True)]
    assert f([math.e]) == [1.0, math.e]


def test_a_subtree_met_twice_is_computed_once_unless_a_branch_holds_it():
    f = compile_float([sp.exp(x) / (sp.exp(x) + sp.exp(y)) + y * sp.exp(y) / (sp.exp(x) + sp.exp(y)) ** 2,
                       sp.Piecewise((sp.log(x) + y * sp.log(x), x > 0), (y, True))], [x, y])
    s = math.exp(-0.5) + math.exp(2.0)
    assert f([-0.5, 2.0]) == [pytest.approx(math.exp(-0.5) / s + 2 * math.exp(2.0) / s ** 2, rel=1e-14), 2.0]


def test_a_function_math_lacks_goes_through_numpy():
    u = sp.Symbol("u")  # no assumptions: arg(u) stays
    assert compile_float([sp.arg(u) + u, sp.log(u)], [u])([-1.0]) == [pytest.approx(math.pi - 1, rel=1e-14),
                                                                     pytest.approx(math.nan, nan_ok=True)]


def test_numpy_is_not_imported():
    code = ("import sys, sympy as sp\nfrom derive.float_compile import compile_float\n"
            "x = sp.Symbol('x')\nprint(compile_float([sp.exp(x) + sp.Heaviside(x) + sp.Max(x, 0)], [x])([0.5]))\n"
            "print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [f"[{math.exp(0.5) + 1.5}]", "False"]


def test_sums_run_in_python_over_entries_by_name():
    i, k, t = sp.symbols("i k t", integer=True)
    n, m = sp.symbols("N M", integer=True)
    W, v, g = sp.IndexedBase("W"), sp.IndexedBase("v"), sp.IndexedBase("g")
    c = sp.Symbol("c")
    expr = sp.Sum(g[i] * sp.tanh(sp.Sum(W[i, k] * v[k], (k, 1, m)) + c), (i, 1, n)) + v[t] * sp.KroneckerDelta(t, 2)
    values = {W[a, b]: 0.1 * a - 0.3 * b for a in (1, 2) for b in (1, 2, 3)}
    values |= {v[b]: 0.5 * b for b in (1, 2, 3)} | {g[1]: 2.0, g[2]: -1.0, c: 0.25}
    want = sum(values[g[a]] * math.tanh(sum(values[W[a, b]] * values[v[b]] for b in (1, 2, 3)) + 0.25) for a in (1, 2))
    f = compile_sums(expr, {n: 2, m: 3})
    assert f(*by_name(values, {t: 2})) == pytest.approx(want + 1.0, rel=1e-14)
    assert f(*by_name(values, {t: 3})) == pytest.approx(want, rel=1e-14)
