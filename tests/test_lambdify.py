"""derive.numpy_lambdify writes the same code as lambdify(modules="numpy"), without `from numpy import *`."""

import inspect
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from derive.numpy_lambdify import numpy_lambdify

x, y, z = sp.symbols("x y z", real=True)
EXPRESSIONS = [
    x * sp.exp(-y) / (1 + sp.exp(-y)) ** 2,
    sp.Heaviside(x, 0) * y + sp.Heaviside(x - y),
    sp.Max(0, x) - sp.Min(x, y),
    sp.Piecewise((x, x > 0), (2 * y, True)),
    sp.log(1 + sp.exp(x)) + sp.tanh(y) ** 2 + sp.sqrt(z ** 2 + 1),
    sp.Abs(x) * sp.sign(y) + sp.I * z,
    [x + y, x * y, sp.Integer(3)],
    sp.KroneckerDelta(1, 2) + sp.Rational(1, 3) * x,
]


def _body(f) -> str:
    return inspect.getsource(f).split("\n", 1)[1]  # the generated function's name is numbered


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=[str(e)[:30] for e in EXPRESSIONS])
@pytest.mark.parametrize("with_math", [False, True])
def test_the_code_and_the_values_are_sympys(expr, with_math):
    modules = ["numpy", "math"] if with_math else "numpy"
    ours, theirs = numpy_lambdify([x, y, z], expr, with_math=with_math), sp.lambdify([x, y, z], expr,
                                                                                     modules=modules)
    assert _body(ours) == _body(theirs)
    args = (np.array([0.7, -1.3, 2.0]), np.array([-0.4, 0.9, 1.1]), np.array([1.5, -0.2, 0.3]))
    for a, b in zip(*(v if isinstance(expr, list) else [v] for v in (ours(*args), theirs(*args)))):
        np.testing.assert_array_equal(np.asarray(a, dtype=complex), np.asarray(b, dtype=complex))


def test_numpys_lazy_submodules_are_not_imported():
    code = ("import sys, sympy as sp\nfrom derive.numpy_lambdify import numpy_lambdify\n"
            "x = sp.Symbol('x')\nprint(numpy_lambdify([x], sp.exp(x) + sp.Heaviside(x))(0.5))\n"
            "print(sorted(m for m in ('numpy.f2py', 'numpy.testing', 'numpy.ma') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[1] == "[]"
