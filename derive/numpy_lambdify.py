"""`sympy.lambdify` to NumPy, as `modules="numpy"` makes it, without `from numpy import *`.

SymPy fills its NumPy namespace once per process with `from numpy import *`, which in NumPy 2
imports every submodule NumPy otherwise loads lazily (random, testing, f2py, ma, …): about as long
as importing NumPy itself, paid by the first check or verification of every process. The namespace
here has the same functions (NumPy's loaded names, numpy.linalg, SymPy's defaults and translations
for NumPy, and math's names under them where `math` is asked for too), and the printer is the one
lambdify makes for `modules="numpy"`, so the generated code is the same.
"""

from __future__ import annotations

import functools

import sympy as sp


@functools.cache
def _namespace(with_math: bool) -> dict:
    import math

    import numpy
    import numpy.linalg
    from sympy.utilities.lambdify import MODULES

    out: dict = {}
    if with_math:  # lambdify(modules=["numpy", "math"]): NumPy's names first, math's where NumPy has none
        _, default, translations, _ = MODULES["math"]
        out.update(default)
        out.update({k: getattr(math, k) for k in dir(math) if not k.startswith("_")})
        out.update({s: out[t] for s, t in translations.items() if t in out})
    _, default, translations, _ = MODULES["numpy"]
    out.update(default)
    loaded = vars(numpy)  # not getattr: that would import the lazy submodules this module avoids
    out.update({k: loaded[k] for k in numpy.__all__ if k in loaded})
    out["numpy"] = numpy
    out.update({k: getattr(numpy.linalg, k) for k in numpy.linalg.__all__})
    out.update({s: out[t] for s, t in translations.items()})
    out.setdefault("Abs", abs)
    out["erf"] = numpy.vectorize(math.erf, otypes=[float])  # GELU's Φ: NumPy has no erf, math's takes no arrays
    return out


def numpy_lambdify(args, expr, *, with_math: bool = False):
    """`sp.lambdify(args, expr, modules="numpy", dummify=False)` (or modules=["numpy", "math"]), the
    same function without its docstring."""
    from sympy.printing.numpy import NumPyPrinter

    printer = NumPyPrinter({"fully_qualified_modules": False, "inline": True,
                            "allow_unknown_functions": True, "user_functions": {}})
    # docstring_limit=0: the docstring would print the whole expression again (a tenth of a check)
    return sp.lambdify(args, expr, modules=[_namespace(with_math)], printer=printer, dummify=False,
                       docstring_limit=0)
