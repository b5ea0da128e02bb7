"""The one compile-to-NumPy: SymPy expressions to a Python function over NumPy arrays (or floats);
and the same printing over mpmath numbers (`compile_mp`), for values to 30 digits and more.

Used by verification (finite differences, one point at a time) and by the answer checker (every
point at once). It replaces `sympy.lambdify` for three reasons, each measured:
- lambdify's NumPy namespace is filled once per process with `from numpy import *`, which in NumPy 2
  imports every submodule NumPy otherwise loads lazily (about as long as importing NumPy itself);
  the namespace here has the same names (NumPy's loaded ones, numpy.linalg, SymPy's translations,
  math's names under them) without that import;
- the inputs (Symbols and Indexed entries) are printed as argument names, not substituted: a
  substitution rebuilds every max/min and asks SymPy's assumptions about it again, and the source is
  compiled directly (lambdify does the same with three times the overhead);
- Heaviside, Max, Min and Piecewise are printed directly (np.heaviside, np.maximum, np.select):
  SymPy's own printing goes through Piecewise and simplifies logic, seconds for a nested 1[·].
"""

from __future__ import annotations

import functools

import mpmath
import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import MpmathPrinter


class Named:
    """A printer mixin: each input (Symbol or Indexed entry) printed as its argument name."""

    def __init__(self, settings=None, names: dict | None = None):
        super().__init__(settings)
        self.names = names or {}
        # an entry found by its base's name and its indices: comparing two Indexed rebuilds both their
        # hashable contents (assumptions included), which took most of the printing of a large expression
        indexed = [e for e in self.names if isinstance(e, sp.Indexed)]
        self.entries = {_key(e): self.names[e] for e in indexed}
        if len(self.entries) < len(indexed):  # two bases of one name: tell them apart the slow way
            self.entries = {}

    def _print_Indexed(self, expr):
        name = self.entries.get(_key(expr))
        if name is not None:
            return name
        return self.names[expr] if expr in self.names else super()._print_Indexed(expr)

    def _print_Symbol(self, expr):
        return self.names[expr] if expr in self.names else super()._print_Symbol(expr)


def _key(e: sp.Indexed) -> tuple:
    """The base's name and the indices as numbers where they are: ("K", (1, 2))."""
    return e.base.label.name, tuple(int(i) if i.is_Integer else i for i in e.indices)


class InertMax(sp.Function):
    """max that stays as written: SymPy's Max compares its arguments on every substitution."""


class InertMin(sp.Function):
    """min that stays as written."""


class InertDelta(sp.Function):
    """δ(a, b) of two values that are not indices (from 1[a = b]): 1 where they are equal, else 0."""


class InertHeaviside(sp.Function):
    """Heaviside(g, value at 0) that stays as written: SymPy's asks whether g is real each time."""


_INERT = {sp.Max: InertMax, sp.Min: InertMin, sp.Heaviside: InertHeaviside}


def inert(expr: sp.Expr) -> sp.Expr:
    """The expression with max, min and Heaviside that do not evaluate (instantiated many times)."""
    if not isinstance(expr, sp.Basic) or not expr.has(*_INERT):
        return expr
    return expr.replace(lambda e: type(e) in _INERT, lambda e: _INERT[type(e)](*e.args))


def numeric_form(e) -> sp.Expr:
    """What NumPy can evaluate: δ of two non-indices as a comparison, an undefined value as NaN."""
    e = sp.sympify(e)
    if e.has(sp.KroneckerDelta):
        e = e.replace(lambda x: isinstance(x, sp.KroneckerDelta), lambda x: InertDelta(*x.args))
    if e.has(sp.zoo, sp.nan):
        e = e.xreplace({sp.zoo: sp.nan})
    return e


class Printer(Named, NumPyPrinter):
    """np.maximum/np.minimum: `reduce(maximum, [0, x])` fails on a scalar beside an array; np.heaviside
    and np.select printed directly (see the module's docstring)."""

    def _print_ComplexInfinity(self, expr):
        return self._module_format("numpy.nan")

    def _print_Piecewise(self, expr):  # SymPy's simplifies every condition's logic first: seconds, nested
        exprs = ",".join(self._print(arg.expr) for arg in expr.args)
        conds = ",".join(self._print(arg.cond) for arg in expr.args)
        return f"{self._module_format('numpy.select')}([{conds}], [{exprs}], default={self._print(sp.nan)})"

    def _print_InertDelta(self, expr):
        a, b = (self._print(x) for x in expr.args)
        return f"(1.0*{self._module_format('numpy.equal')}({a}, {b}))"

    def _print_InertMax(self, expr):
        return self._print_Max(expr)

    def _print_InertMin(self, expr):
        return self._print_Min(expr)

    def _print_InertHeaviside(self, expr):
        return self._print_Heaviside(expr)

    def _print_Heaviside(self, expr):
        h0 = self._print(expr.args[1]) if len(expr.args) > 1 else "0.5"
        return f"{self._module_format('numpy.heaviside')}({self._print(expr.args[0])}, {h0})"

    def _print_Max(self, expr):
        return self._pairwise("numpy.maximum", expr.args)

    def _print_Min(self, expr):
        return self._pairwise("numpy.minimum", expr.args)

    def _pairwise(self, func, args):
        out = self._print(args[0])
        for a in args[1:]:
            out = f"{self._module_format(func)}({out}, {self._print(a)})"
        return out


@functools.cache
def namespace() -> dict:
    """What the printed code calls, unqualified: NumPy's loaded names over math's, SymPy's translations."""
    import math

    import numpy
    import numpy.linalg
    from sympy.utilities.lambdify import MODULES

    _, default, translations, _ = MODULES["math"]  # math's names first, NumPy's where it has them
    out: dict = dict(default)
    out.update({k: getattr(math, k) for k in dir(math) if not k.startswith("_")})
    out.update({s: out[t] for s, t in translations.items() if t in out})
    _, default, translations, _ = MODULES["numpy"]
    out.update(default)
    loaded = vars(numpy)  # not getattr: that would import the lazy submodules this module avoids
    out.update({k: loaded[k] for k in numpy.__all__ if k in loaded})
    out["numpy"] = numpy
    out.update({k: getattr(numpy.linalg, k) for k in numpy.linalg.__all__})
    out.update({s: out[t] for s, t in translations.items() if t in out})
    out.setdefault("Abs", abs)
    out["erf"] = numpy.vectorize(math.erf, otypes=[float])  # GELU's Φ: NumPy has no erf, math's takes no arrays
    return out


def compile_numpy(exprs: list, inputs: list, label: str = "<derive: compiled>"):
    """A function of the inputs' values (arrays or floats, in the order of `inputs`) returning the list
    of every expression's value; inputs are Symbols or Indexed entries, printed as argument names."""
    names = {a: f"a{n}_" for n, a in enumerate(inputs)}
    printer = Printer({"fully_qualified_modules": False, "inline": True, "order": "none"}, names)
    body = ", ".join(printer.doprint(numeric_form(e)) for e in exprs)
    return Compiled(f"def f({', '.join(names.values())}):\n    return [{body}]\n", label)


class Compiled:
    """A function compiled from our own printing of our own expressions. It pickles as that source and
    is compiled again when loaded (a few lines, well under a millisecond), so a checker's reference,
    compiled functions included, can be kept in derive's cache."""

    __slots__ = ("f", "label", "source")

    def __init__(self, source: str, label: str):
        self.source, self.label = source, label
        space: dict = {}
        exec(compile(source, label, "exec"), namespace(), space)  # noqa: S102 - our own printing of our own exprs
        self.f = space["f"]

    def __call__(self, *values):
        return self.f(*values)

    def __reduce__(self):
        return Compiled, (self.source, self.label)


class _MpPrinter(Named, MpmathPrinter):
    """mpmath, for values to many digits; 1[·], max and min as Python expressions."""

    def _print_ComplexInfinity(self, expr):
        return "mpmath.nan"

    def _print_InertDelta(self, expr):
        a, b = (self._print(x) for x in expr.args)
        return f"(mpf(1) if {a} == {b} else mpf(0))"

    def _print_Heaviside(self, expr):
        h0 = self._print(expr.args[1]) if len(expr.args) > 1 else "mpf(1)/2"
        g = self._print(expr.args[0])
        return f"_heaviside({g}, {h0})"

    _print_InertHeaviside = _print_Heaviside

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    _print_InertMax, _print_InertMin = _print_Max, _print_Min


def _heaviside(g, h0):
    return mpmath.mpf(1) if g > 0 else mpmath.mpf(h0) if g == 0 else mpmath.mpf(0)


_MPMATH = {"mpmath": mpmath, "mpf": mpmath.mpf, "_heaviside": _heaviside}


def compile_mp(exprs: list, inputs: list, digits: int = 30):
    """A function of the inputs' values giving every expression's value at `digits` digits (None: undefined),
    in Python over mpmath numbers: a big expression evaluates in milliseconds, where substituting the
    values into it and asking SymPy for its value (`sympy.N`) takes a large part of a second."""
    names = {a: f"a{n}_" for n, a in enumerate(inputs)}
    printer = _MpPrinter({"fully_qualified_modules": True, "inline": True, "order": "none"}, names)
    args = ", ".join(names.values())
    source = "".join(f"def f{n}({args}):\n    return {printer.doprint(numeric_form(e))}\n"
                     for n, e in enumerate(exprs))
    space: dict = {}
    exec(compile(source, "<derive: 30 digits>", "exec"), _MPMATH, space)  # noqa: S102 - our own printing
    funcs = [space[f"f{n}"] for n in range(len(exprs))]

    def run(values: list, which=None) -> list:
        out = []
        with mpmath.workdps(digits):
            numbers = [v if isinstance(v, (mpmath.mpf, mpmath.mpc)) else mpmath.mpf(float(v)) for v in values]
            for n in range(len(funcs)) if which is None else which:
                try:
                    out.append(funcs[n](*numbers))
                except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                    out.append(None)  # undefined here
        return out

    return run
