"""The float compiler: SymPy expressions to Python functions over plain floats and `math`, for the checks that
evaluate one point at a time (derive.verify's finite differences and its search for a point off the kinks).

Arrays bring nothing there, and NumPy costs a cold `derive show` about 0.1 s to import where nothing else
needs it (a scalar loss: hinge, kl_softmax). The values are derive.numpy_lambdify.compile_numpy's, NaN
where NumPy's are (an undefined, complex or overflowing value; a step or a max of NaN), up to rounding;
an expression with a function `math` lacks is compiled by compile_numpy.
"""

from __future__ import annotations

import functools
import math

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from derive.numpy_lambdify import Named, compile_numpy


class FloatPrinter(Named, PythonCodePrinter):
    """Python floats and `math`, NaN where NumPy gives NaN: a step or max of NaN (`max(0, nan)` is 0 in Python),
    an undefined value, no branch that holds. A subtree met more than once (by identity: a concrete expression
    shares its named entries, a softmax's p_l, among its terms) is printed once, as a local computed once.
    Sums, products, powers, numbers and `math`'s functions of one argument are printed here, each in
    parentheses: SymPy's printing asks each factor's precedence and sign, most of its time."""

    def function(self, name: str, args: str, expr) -> str:
        """The source of `def name(args)` returning `expr`'s value."""
        self.printed, self.lines, self.shared = {}, [], _shared(expr)
        value = self._print(expr)
        return f"def {name}({args}):\n" + "".join(f"    {line}\n" for line in self.lines) + f"    return {value}\n"

    def _print(self, expr, **kwargs):
        if kwargs:
            return super()._print(expr, **kwargs)
        key = id(expr)  # kept with its text: a temporary of SymPy's printing cannot leave its id to another
        if key not in self.printed:
            text = self._written(expr)
            if key in self.shared:
                self.lines.append(f"t{len(self.lines)} = {text}")
                text = f"t{len(self.lines) - 1}"
            self.printed[key] = expr, text
        return self.printed[key][1]

    def _written(self, expr) -> str:
        kind = type(expr)
        if kind in _OPERATORS:
            return "(" + _OPERATORS[kind].join(map(self._print, expr.args)) + ")"
        if kind in _MATH:
            return f"{_MATH[kind]}({self._print(expr.args[0])})"
        if kind is sp.Pow:
            base, power = expr.args
            if power is sp.S.Half:
                return f"sqrt({self._print(base)})"
            return f"({self._print(base)} ** {self._print(power)})"
        if isinstance(expr, sp.Integer):
            return f"({expr.p})"
        if isinstance(expr, sp.Rational):
            return f"({expr.p}/{expr.q})"
        if isinstance(expr, sp.Float):
            return f"({float(expr)!r})"
        return super()._print(expr)

    def _print_KroneckerDelta(self, expr):  # of two values (of two integers SymPy has made it 0 or 1)
        return self._print_InertDelta(expr)

    def _print_NaN(self, expr):
        return "nan"

    _print_ComplexInfinity = _print_NaN

    def _print_Piecewise(self, expr):  # lazy, as np.select's NaN in a branch not taken is not its value
        out = "nan"
        for arg in reversed(expr.args):
            out = f"({self._print(arg.expr)} if ({self._print(arg.cond)}) else {out})"
        return out

    def _print_InertDelta(self, expr):
        a, b = (self._print(x) for x in expr.args)
        return f"(1.0 if {a} == {b} else 0.0)"

    def _print_Heaviside(self, expr):
        h0 = self._print(expr.args[1]) if len(expr.args) > 1 else "0.5"
        return f"_heaviside({self._print(expr.args[0])}, {h0})"

    _print_InertHeaviside = _print_Heaviside

    def _print_Max(self, expr):
        return self._pairwise("_maximum", expr.args)

    def _print_Min(self, expr):
        return self._pairwise("_minimum", expr.args)

    _print_InertMax, _print_InertMin = _print_Max, _print_Min

    def _pairwise(self, func, args):
        out = self._print(args[0])
        for a in args[1:]:
            out = f"{func}({out}, {self._print(a)})"
        return out


def _heaviside(g, h0):
    """np.heaviside of one number: NaN stays NaN."""
    return 1.0 if g > 0 else 0.0 if g < 0 else h0 if g == 0 else math.nan


def _maximum(a, b):
    """np.maximum of two numbers: NaN if either is."""
    return math.nan if math.isnan(a) or math.isnan(b) else max(a, b)


def _minimum(a, b):
    """np.minimum of two numbers: NaN if either is."""
    return math.nan if math.isnan(a) or math.isnan(b) else min(a, b)


def _shared(expr) -> set:
    """The ids of the subtrees `expr` holds more than once; none where it has a Piecewise, whose branches
    are evaluated only when taken (without one, every subtree is evaluated, so computing it first is the same),
    or a sum, whose terms depend on its index."""
    seen, shared, stack = {id(expr)}, set(), [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, (sp.Piecewise, sp.Sum)):
            return set()
        for a in () if isinstance(e, sp.Indexed) else e.args:
            if id(a) not in seen:
                seen.add(id(a))
                stack.append(a)
            elif a.args and not isinstance(a, sp.Indexed):
                shared.add(id(a))
    return shared


_OPERATORS = {sp.Add: " + ", sp.Mul: " * "}
_MATH = {f: f.__name__ for f in (sp.exp, sp.log, sp.tanh, sp.sinh, sp.cosh, sp.sin, sp.cos, sp.tan, sp.erf)}
_FLOAT = {**{k: getattr(math, k) for k in dir(math) if not k.startswith("_")},
          "_heaviside": _heaviside, "_maximum": _maximum, "_minimum": _minimum}


def compile_float(exprs: list, inputs: list, label: str = "<derive: floats>"):
    """A function of the inputs' values (floats, in the order of `inputs`) and of which expressions to
    evaluate (all if None) giving each one's value as a float, NaN where it is undefined, complex or
    overflows (math's domain errors). One point at a time, so no arrays and no NumPy to import; NumPy
    (compile_numpy, one expression at a time) only for a function `math` has none of."""
    names = {a: f"a{n}_" for n, a in enumerate(inputs)}
    printer = FloatPrinter({"fully_qualified_modules": False, "inline": True, "order": "none"}, names)
    args = ", ".join(names.values())
    try:
        source = "".join(printer.function(f"f{n}", args, e) for n, e in enumerate(exprs))
    except (TypeError, ValueError, KeyError, NotImplementedError, AttributeError):
        return _numpy_floats(exprs, inputs, label)
    space: dict = {}
    exec(compile(source, label, "exec"), _FLOAT, space)  # noqa: S102 - our own printing of our own exprs
    funcs = [space[f"f{n}"] for n in range(len(exprs))]
    return lambda values, which=None: _floats(funcs, values, range(len(funcs)) if which is None else which)


def _floats(funcs: list, values: list, which) -> list:
    out = []
    for n in which:
        try:
            out.append(float(funcs[n](*values)))
        except (TypeError, ValueError, OverflowError, ZeroDivisionError):  # complex, math's domain errors
            out.append(math.nan)
    return out


def _numpy_floats(exprs: list, inputs: list, label: str):
    """compile_float's function through NumPy, its warnings silenced (the caller says what a NaN means)."""
    import numpy

    compiled = [compile_numpy([e], inputs, label) for e in exprs]
    funcs = [lambda *values, f=f: f(*values)[0] for f in compiled]

    def run(values: list, which=None) -> list:
        with numpy.errstate(all="ignore"):
            return _floats(funcs, values, range(len(funcs)) if which is None else which)

    return run


class _SumPrinter(FloatPrinter):
    """Sums as Python's sums over ranges; an entry looked up by its base's name and its indices' values
    (e["W"][(i, k)]), a scalar by its name (s["C"]), a sum's index as a local of its own."""

    def _print_Sum(self, expr):
        loops = " ".join(f"for {self._print(k)} in range({self._print(lo)}, {self._print(hi)} + 1)"
                         for k, lo, hi in reversed(expr.limits))
        return f"sum({self._print(expr.function)} {loops})"

    def _print_Indexed(self, expr):
        return f"e[{expr.base.label.name!r}][({', '.join(map(self._print, expr.indices))},)]"

    def _print_Symbol(self, expr):
        return self.names.get(expr) or f"s[{expr.name!r}]"


def compile_sums(expr: sp.Expr, given: dict, label: str = "<derive: floats>"):
    """A function of a point's values by name (`by_name`) giving `expr` as a float (NaN as compile_float), the
    symbols of `given` (sizes) at its integers: its sums run in Python, not written out term by term in SymPy
    first, which asks SymPy's assumptions of every exp or tanh of a sum it makes (xreplace, even of the sizes,
    does as much). None for an expression with a function `math` lacks."""
    bound = {k: f"k{n}_" for n, k in enumerate({k for s in expr.atoms(sp.Sum) for k, _, _ in s.limits})}
    names = {**{k: f"({int(v)})" for k, v in given.items()}, **bound}
    printer = _SumPrinter({"fully_qualified_modules": False, "inline": True, "order": "none"}, names)
    try:
        source = printer.function("f", "e, s", expr)
    except (TypeError, ValueError, KeyError, NotImplementedError, AttributeError):
        return None
    space: dict = {}
    exec(compile(source, label, "exec"), _FLOAT, space)  # noqa: S102 - our own printing of our own exprs
    return lambda e, s: _floats([space["f"]], [e, s], (0,))[0]


def by_name(values: dict, classes: dict) -> tuple:
    """(each base's entries by their indices, each scalar and class index by its name): a point's `values` and
    `classes` for compile_sums."""
    entries: dict = {}
    scalars: dict = {k.name: v for k, v in classes.items()}
    for k, v in values.items():
        name, idx = _named(k)
        if idx is None:
            scalars[name] = v
        else:
            entries.setdefault(name, {})[idx] = v
    return entries, scalars


@functools.lru_cache(maxsize=4096)
def _named(entry) -> tuple:
    """(its base's name, its indices as integers) of an entry; (its name, None) of a scalar."""
    if isinstance(entry, sp.Indexed):
        return entry.base.label.name, tuple(int(i) for i in entry.indices)
    return entry.name, None
