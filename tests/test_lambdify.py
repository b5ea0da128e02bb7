"""derive.numpy_lambdify.compile_numpy, the one compile-to-NumPy of verification and the checker, gives
lambdify(modules="numpy")'s values, on arrays and on floats, without `from numpy import *`."""

import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from derive.numpy_lambdify import compile_numpy, inert

x, y, z = sp.symbols("x y z", real=True)
w = sp.IndexedBase("w")
EXPRESSIONS = [
    x * sp.exp(-y) / (1 + sp.exp(-y)) ** 2,
    sp.Heaviside(x, 0) * y + sp.Heaviside(x - y),
    sp.Max(0, x) - sp.Min(x, y),
    sp.Piecewise((x, x > 0), (2 * y, True)),
    sp.log(1 + sp.exp(x)) + sp.tanh(y) ** 2 + sp.sqrt(z ** 2 + 1),
    sp.Abs(x) * sp.sign(y) + sp.I * z,
    sp.KroneckerDelta(1, 2) + sp.Rational(1, 3) * x,
    sp.KroneckerDelta(x, y) + 2,  # δ of two values: a comparison
]
POINTS = (np.array([0.7, -1.3, 2.0, 0.5]), np.array([-0.4, 0.9, 1.1, 0.5]), np.array([1.5, -0.2, 0.3, 0.0]))


def _lambdified(expr, args):
    if any(isinstance(d, sp.KroneckerDelta) for d in sp.preorder_traversal(expr)):
        expr = expr.replace(lambda e: isinstance(e, sp.KroneckerDelta), lambda e: sp.Piecewise((1, sp.Eq(*e.args)),
                                                                                               (0, True)))
    return sp.lambdify([x, y, z], expr, modules="numpy")(*args)


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=[str(e)[:30] for e in EXPRESSIONS])
@pytest.mark.parametrize("on", ["arrays", "floats"])
def test_the_values_are_lambdifys(expr, on):
    f = compile_numpy([expr, inert(expr)], [x, y, z])
    points = [POINTS] if on == "arrays" else [tuple(float(a[n]) for a in POINTS) for n in range(len(POINTS[0]))]
    for args in points:
        want = np.asarray(_lambdified(expr, args), dtype=complex)
        with np.errstate(all="ignore"):
            for got in f(*args):
                got = np.broadcast_to(np.asarray(got, dtype=complex), want.shape)  # terms summed as written: ulps
                np.testing.assert_allclose(got, want, rtol=1e-14, atol=0, equal_nan=True)


def test_indexed_entries_are_arguments_by_position():
    f = compile_numpy([w[1] * w[2] - w[2], sp.Max(w[1], 0)], [w[2], w[1]])
    assert f(3.0, -2.0) == [-9.0, 0.0]


def test_numpys_lazy_submodules_are_not_imported():
    code = ("import sys, sympy as sp\nfrom derive.numpy_lambdify import compile_numpy\n"
            "x = sp.Symbol('x')\nprint(compile_numpy([sp.exp(x) + sp.Heaviside(x)], [x])(0.5))\n"
            "print(sorted(m for m in ('numpy.f2py', 'numpy.testing', 'numpy.ma') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[1] == "[]"
