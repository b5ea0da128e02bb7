"""Verification: every closed form against `sympy.diff` and central finite differences.

All checks happen at concrete, distinct, non-square sizes (the definition's `sizes`), at
every index assignment of the result, so a transpose or a misplaced index cannot hide.
"""

from __future__ import annotations

import cmath
import functools
import itertools
import math
import random
from dataclasses import dataclass

import sympy as sp

from derive.calculus.budget import within
from derive.definitions.model import Definition, Var
from derive.numpy_lambdify import numpy_lambdify
from derive.steps import Derivation

VANISH_SECONDS = 5.0  # to simplify closed form − sympy.diff to 0 at one index assignment


@dataclass(frozen=True)
class Point:
    """Concrete values for every variable of a definition, and for the upstream gradient."""

    values: dict  # sympy entry (Symbol or Indexed with integer indices) -> float
    classes: dict  # class-index Symbol -> int


def _entries(var: Var, sizes: dict) -> list:
    """Every entry of `var`; the same objects each time, so dictionaries of points find them by identity."""
    return _entry_list(var.symbol, tuple(int(sizes[s]) for s in var.shape))


@functools.lru_cache(maxsize=1024)
def _entry_list(symbol, dims: tuple) -> list:
    if not dims:
        return [symbol]
    return [symbol[idx] for idx in itertools.product(*[range(1, n + 1) for n in dims])]


def sample(defn: Definition, rng: random.Random, upstream: Var | None = None, widen: int = 0) -> Point:
    """Random values with each variable's domain: both signs for reals, one-hot targets, …

    `widen` 1 draws the reals positive, 2 positive and ten times larger: where a definition is
    not real at both signs (a log, a root), points are drawn again so (see `_away_from_kinks`).
    """
    values, classes = {}, {}
    for var in (*defn.inputs, *defn.others) + ((upstream,) if upstream else ()):
        entries = _entries(var, defn.sizes)
        if var.domain == "class":
            classes[var.symbol] = rng.randint(1, int(defn.sizes[var_size(defn)]))
            continue
        if var.domain == "onehot":
            hot = rng.randrange(len(entries))
            values.update({e: float(n == hot) for n, e in enumerate(entries)})
        elif var.domain == "prob":
            raw = [rng.uniform(0.2, 1.0) for _ in entries]
            values.update({e: r / sum(raw) for e, r in zip(entries, raw)})
        elif var.domain == "unit":
            values.update({e: rng.uniform(0.1, 0.9) for e in entries})
        elif var.domain == "positive":
            values.update({e: rng.uniform(0.5, 2.0) for e in entries})
        elif widen:
            values.update({e: rng.uniform(0.2, 1.5) * (10 if widen > 1 else 1) for e in entries})
        else:
            values.update({e: rng.choice((-1, 1)) * rng.uniform(0.2, 1.5) for e in entries})
    return Point(values, classes)


def var_size(defn: Definition):
    """The size a class index ranges over: the length of the scores."""
    return defn.inputs[0].shape[0]


def substitute_names(expr: sp.Expr, d: Derivation) -> sp.Expr:
    """Replace each named quantity (y_i, ŷ_i, p_i) by its definition, so only inputs remain."""
    for nm in reversed(d.named):
        if nm.index:
            expr = expr.replace(lambda e, base=nm.symbol: isinstance(e, sp.Indexed) and e.base == base,
                                lambda e, nm=nm: nm.expr_at(e.indices))
        else:
            expr = expr.xreplace({nm.symbol: nm.expr})
    return expr


def concrete(expr: sp.Expr, d: Derivation, assignment: dict, point: Point) -> sp.Expr:
    """`expr` at concrete sizes and indices, named quantities expanded, sums and ∂ evaluated."""
    return Concretizer(d)(expr, assignment, point.classes)


class Concretizer:
    """Concrete expressions of one derivation, each made once.

    Sums are written out while the named quantities (y_k, p_k) are still symbols, and each named
    entry is then expanded once and shared by every term that names it, instead of expanding the
    definition into the sum first and writing out its inner sums again in every term. An
    expression holding ∂ is expanded the plain way: its derivatives need the definitions inside.
    """

    def __init__(self, d: Derivation):
        self.d = d
        self._exprs: dict = {}
        self._entries: dict = {}
        self._named = {nm.symbol: nm for nm in d.named}
        self._inputs: dict = {}
        # a linear cost with ∂C/∂y = g stands for an arbitrary one
        self._cost = d.scale * _linear_cost(d) if d.cost is not None else None

    def __call__(self, expr: sp.Expr, assignment: dict, classes: dict | None = None) -> sp.Expr:
        expr, named = self._inputs_only(expr)  # an assignment of indices `expr` lacks makes the same expression
        key = (expr, _items({k: v for k, v in assignment.items() if k in named}),
               _items({k: v for k, v in (classes or {}).items() if k in named}))
        if key not in self._exprs:
            self._exprs[key] = self._make(expr, assignment, classes or {})
        return self._exprs[key]

    def _inputs_only(self, expr: sp.Expr) -> tuple:
        """A loss's output written as its body, the upstream cost as the linear cost it stands for;
        and every symbol the expression names. Not `free_symbols`: ∂/∂s_i binds the i of its variable
        there, yet the expression depends on it."""
        if expr not in self._inputs:
            d, defn, out = self.d, self.d.definition, expr
            if defn.kind == "loss":
                out = out.xreplace({defn.output.symbol: d.body})
            if d.cost is not None:
                out = out.xreplace({d.cost: self._cost})
            self._inputs[expr] = out, out.atoms(sp.Symbol)
        return self._inputs[expr]

    def _subs(self, assignment: dict, classes: dict) -> dict:
        return {**{s: int(v) for s, v in self.d.definition.sizes.items()}, **assignment, **classes}

    def _make(self, expr: sp.Expr, assignment: dict, classes: dict) -> sp.Expr:
        subs = self._subs(assignment, classes)
        if expr.has(sp.Derivative):
            return unroll(substitute_names(expr, self.d).xreplace(subs)).doit()
        return self._expand_named(unroll(expr.xreplace(subs)), classes)

    def _expand_named(self, expr: sp.Expr, classes: dict) -> sp.Expr:
        entries = [e for e in expr.atoms(sp.Indexed, sp.Symbol)
                   if (e.base if isinstance(e, sp.Indexed) else e) in self._named]
        if entries:
            expr = expr.xreplace({e: self._entry(e, classes) for e in entries})
        return expr.doit() if expr.has(sp.Sum, sp.Derivative) else expr

    def _entry(self, e, classes: dict) -> sp.Expr:
        """A named entry (y[2], or a scalar name) as an expression in the inputs, made once."""
        key = (e, _items(classes))
        if key not in self._entries:
            nm = self._named[e.base if isinstance(e, sp.Indexed) else e]
            body = nm.expr_at(e.indices) if isinstance(e, sp.Indexed) else nm.expr
            self._entries[key] = self._expand_named(unroll(body.xreplace(self._subs({}, classes))), classes)
        return self._entries[key]


def _items(mapping: dict) -> tuple:
    return tuple(sorted(mapping.items(), key=str))


def unroll(expr: sp.Expr) -> sp.Expr:
    """Write every sum with integer limits out term by term (SymPy's own delta summation can
    recurse without end on sums of Kronecker deltas)."""

    def one(s):
        body = s.function
        for k, lo, hi in s.limits:
            body = sp.Add(*[body.xreplace({k: v}) for v in range(int(lo), int(hi) + 1)])
        return body

    return expr.replace(lambda e: isinstance(e, sp.Sum), one)


def _linear_cost(d: Derivation) -> sp.Expr:
    defn = d.definition
    idx = tuple(sp.Dummy(f"c{n}", integer=True) for n in range(defn.output.rank))
    body = d.upstream.symbol[idx] * d.body.xreplace(dict(zip(d.out_index, idx)))
    for s, hi in zip(idx, defn.output.shape):
        body = sp.Sum(body, (s, 1, hi))
    return body


def value(expr: sp.Expr, point: Point, prec: int = 30) -> complex:
    return complex(sp.N(expr.xreplace({k: sp.Float(v, prec) for k, v in point.values.items()}), prec))


def assignments(d: Derivation) -> list[dict]:
    """Every assignment of the result's free indices at the concrete sizes."""
    shape = d.definition.var(d.wrt).shape
    free = list(d.indices)
    ranges = [range(1, int(d.definition.sizes[s]) + 1) for s in shape]
    if d.definition.kind == "activation" and d.definition.index:
        out = d.definition.output.shape
        free = [d.lhs.expr.indices[0], *free]
        ranges = [range(1, int(d.definition.sizes[out[0]]) + 1), *ranges]
    return [dict(zip(free, combo)) for combo in itertools.product(*ranges)]


def wrt_entry(d: Derivation, assignment: dict) -> sp.Expr:
    var = d.definition.var(d.wrt)
    return var.symbol[tuple(assignment[s] for s in d.indices)] if d.indices else var.symbol


def reference(d: Derivation, assignment: dict, point: Point, conc: Concretizer | None = None) -> sp.Expr:
    """`sympy.diff` of the fully expanded definition, at this index assignment."""
    target = (conc or Concretizer(d))(d.lhs.expr, assignment, point.classes)
    return sp.diff(target, wrt_entry(d, assignment))


@dataclass(frozen=True, repr=False)
class Report:
    """What a derivation's check found; prints (and displays in a notebook) as a sentence."""

    symbolic: int  # index assignments where closed form − diff simplified to 0 (steps H(x) as unknowns)
    numeric: int  # where it did not simplify but agreed to 20 digits at random points
    max_fd_error: float  # largest relative error against central finite differences

    def __str__(self) -> str:
        """`checked: the closed form equals sympy.diff of the definition at 6 index assignments (…)`."""
        n = self.symbolic + self.numeric
        how = [f"{self.symbolic} by simplifying the difference to 0"] if self.symbolic else []
        how += [f"{self.numeric} by value at random points, to 20 digits"] if self.numeric else []
        return (f"checked: the closed form equals sympy.diff of the definition at {n} index "
                f"assignment{'s' if n != 1 else ''} ({', '.join(how)}); central finite differences agree "
                f"within a relative error of {self.max_fd_error:.1e}")

    def __repr__(self) -> str:
        return f"<Report {self}>"

    def _repr_markdown_(self) -> str:
        return "**Verified.** " + str(self)[len("checked: "):].replace("sympy.diff", "`sympy.diff`") + "."


class VerificationError(AssertionError):
    pass


def check_against_diff(d: Derivation, seed: int = 0, conc: Concretizer | None = None) -> tuple[int, int]:
    rng = random.Random(seed)
    conc = conc or Concretizer(d)
    symbolic = numeric = 0
    points = [sample(d.definition, rng, d.upstream) for _ in range(3)]
    simplify = True  # until one difference outlasts its budget: the others are as large, compare by value
    for assignment in assignments(d):
        for point in points if d.definition.others and any(v.domain == "class" for v in d.definition.others) else points[:1]:
            closed = conc(d.result, assignment, point.classes)
            ref = reference(d, assignment, point, conc)
            diff = closed - ref
            vanished = _vanishes(diff) if simplify else False
            simplify = simplify and vanished is not None
            if vanished:
                symbolic += 1
                continue
            for p in _finite_points(d, (closed, ref), rng):
                gap = value(diff, p)
                if abs(gap) > 1e-20 * (1 + abs(value(ref, p))):
                    raise VerificationError(
                        f"{d.target} ∂/∂{d.wrt} at {assignment}: closed form {value(closed, p)} "
                        f"≠ sympy.diff {value(ref, p)}")
            numeric += 1
    return symbolic, numeric


def _finite_points(d: Derivation, exprs: tuple, rng: random.Random, count: int = 3) -> list:
    """`count` points where each of `exprs` is a finite real number (NaN would agree with anything, and
    off the real line two branches of a root can differ): drawn from each variable's domain, then
    with positive reals, then larger ones."""
    points = []
    for attempt in range(200):
        p = sample(d.definition, rng, d.upstream, widen=attempt * 3 // 200)
        if all(_real(_number(e, p)) for e in exprs):
            points.append(p)
            if len(points) == count:
                return points
    raise VerificationError(f"{d.target} ∂/∂{d.wrt}: no sample point where the closed form and sympy.diff "
                            "are finite real numbers, so they could not be compared")


def _real(z: complex) -> bool:
    return cmath.isfinite(z) and abs(z.imag) <= 1e-12 * (1 + abs(z.real))


def _number(expr: sp.Expr, point: Point) -> complex:
    try:
        return value(expr, point)
    except (TypeError, ValueError, OverflowError):  # zoo, nan
        return complex(math.nan)


def _vanishes(expr: sp.Expr) -> bool | None:
    """Whether `expr` simplifies to 0 (None: not within its time budget). A step H(x) is taken as an
    unknown h, shared by H(x, 0) and H(x): what vanishes for every h vanishes wherever no argument of
    a step is 0."""
    if expr.has(sp.Piecewise, sp.Max, sp.Min):
        return False
    steps: dict = {}
    for h in expr.atoms(sp.Heaviside):
        steps[h] = steps.setdefault(sp.Heaviside(h.args[0], 0), sp.Dummy("h"))
    expr = expr.xreplace(steps)

    def cancels() -> bool:
        try:
            return sp.cancel(sp.expand(expr)) == 0
        except (sp.PolynomialError, TypeError):
            return False

    # exp of inner sums (word2vec) can take half a minute to cancel: past the budget, compare by value
    return within(VANISH_SECONDS, cancels, None)


def _kinks(expr: sp.Expr) -> list:
    """Arguments whose sign decides a branch: Max, Heaviside, Piecewise conditions."""
    out = []
    for e in sp.preorder_traversal(expr):
        if isinstance(e, sp.Heaviside):
            out.append(e.args[0])
        elif isinstance(e, (sp.Max, sp.Min)):
            out += [a - b for a, b in itertools.combinations(e.args, 2)]
        elif isinstance(e, sp.Piecewise):
            out += [c.lhs - c.rhs for _, c in e.args if isinstance(c, sp.core.relational.Relational)]
    return out


class _Compiled:
    """Concrete expressions of one derivation, made once, compiled to a float function on first use."""

    def __init__(self, d: Derivation, conc: Concretizer | None = None):
        self.d, self.fns, self._kinks = d, {}, {}
        self.conc = conc or Concretizer(d)

    def concrete(self, expr: sp.Expr, assignment: dict, point: Point) -> sp.Expr:
        return self.conc(expr, assignment, point.classes)

    def __call__(self, expr: sp.Expr, assignment: dict, point: Point) -> float:
        key = c = self.concrete(expr, assignment, point)  # the same concrete expression compiles once
        if key not in self.fns:
            bases = {ind.base.label for ind in c.atoms(sp.Indexed)}
            entries = sorted((c.atoms(sp.Indexed) | c.free_symbols) - bases, key=str)
            args = [sp.Symbol(f"v{n}") for n in range(len(entries))]  # plain names: lambdify's fast path
            fn = numpy_lambdify(args, c.xreplace(dict(zip(entries, args))), with_math=True)
            keys = {k: k for k in point.values}  # the point's own key objects: found by identity, not ==
            self.fns[key] = [keys.get(e, e) for e in entries], fn
        entries, fn = self.fns[key]
        import numpy as np

        with np.errstate(all="ignore"):  # a log of a negative is NaN here, said by the caller, not on stderr
            try:
                return float(fn(*[point.values[e] for e in entries]))
            except (TypeError, ValueError, OverflowError, ZeroDivisionError):  # complex, or math's domain errors
                return math.nan

    def kinks(self, expr: sp.Expr, assignment: dict, point: Point) -> list:
        c = self.concrete(expr, assignment, point)
        if c not in self._kinks:
            self._kinks[c] = _kinks(c)
        return self._kinks[c]


def check_finite_differences(d: Derivation, seed: int = 1, tries: int = 3, h: float = 1e-6,
                             conc: Concretizer | None = None) -> float:
    """Largest relative error of the closed form against central differences of the definition."""
    rng = random.Random(seed)
    compiled = _Compiled(d, conc)
    target = d.lhs.expr if d.cost is None else d.cost
    worst = 0.0
    for _ in range(tries):
        point = _away_from_kinks(d, rng, compiled)
        for assignment in assignments(d):
            closed = compiled(d.result, assignment, point)
            entry = wrt_entry(d, assignment)
            up = Point({**point.values, entry: point.values[entry] + h}, point.classes)
            down = Point({**point.values, entry: point.values[entry] - h}, point.classes)
            fd = (compiled(target, assignment, up) - compiled(target, assignment, down)) / (2 * h)
            if not (math.isfinite(closed) and math.isfinite(fd)):  # NaN or overflow would pass any test below
                raise VerificationError(
                    f"{d.target} ∂/∂{d.wrt} at {assignment}: the closed form {closed:.8g} or the finite "
                    f"difference {fd:.8g} is not a finite number at the sample point, so nothing was checked")
            err = abs(fd - closed) / max(1.0, abs(closed))
            if err > 1e-5:
                raise VerificationError(
                    f"{d.target} ∂/∂{d.wrt} at {assignment}: closed form {closed:.8g} "
                    f"≠ finite difference {fd:.8g}")
            worst = max(worst, err)
    return worst


def _away_from_kinks(d: Derivation, rng: random.Random, compiled: _Compiled | None = None,
                     margin: float = 1e-3) -> Point:
    """A random point away from every kink where the definition and the result are finite reals at
    every index: drawn from each variable's domain, then (for a log or a root) with positive reals,
    then larger ones. VerificationError if there is none: nothing is claimed unchecked."""
    compiled = compiled or _Compiled(d)
    target = d.lhs.expr if d.cost is None else d.cost
    cells = assignments(d)
    for attempt in range(200):
        point = sample(d.definition, rng, d.upstream, widen=attempt * 3 // 200)
        if not all(math.isfinite(compiled(e, a, point)) for a in cells for e in (d.result, target)):
            continue
        kinks = [k for a in cells for e in (d.result, target) for k in compiled.kinks(e, a, point)]
        if all(abs(value(k, point).real) > margin for k in kinks):
            return point
    raise VerificationError(f"{d.target}: no sample point away from the kinks where the definition and its "
                            "derivative are finite real numbers")


def point_away_from_kinks(d: Derivation, rng: random.Random, conc: Concretizer | None = None) -> Point:
    """A sample point where no step or max of the result or the definition sits on its kink."""
    return _away_from_kinks(d, rng, _Compiled(d, conc))


def verify(d: Derivation) -> Report:
    """Both checks; raises VerificationError naming the first disagreement."""
    if not assignments(d):  # sizes of 0: "at every index" would claim checks of nothing
        sizes = ", ".join(f"{k} = {v}" for k, v in d.definition.sizes.items())
        raise VerificationError(f"{d.target} ∂/∂{d.wrt}: no index to check at {sizes}; sizes must be at least 1")
    conc = Concretizer(d)  # both checks take the same concrete expressions
    symbolic, numeric = check_against_diff(d, conc=conc)
    return Report(symbolic, numeric, check_finite_differences(d, conc=conc))


def verified(d: Derivation) -> Report:
    """`verify(d)`, its disagreement said as a one-line DeriveError: a result that fails is never shown."""
    from derive.errors import DeriveError

    try:
        return verify(d)
    except VerificationError as exc:
        raise DeriveError(f"{d.target} ∂/∂{d.wrt} failed verification: {exc}") from None


def check_note(d: Derivation) -> str | None:
    """What was checked of the derivation, in a sentence (None when nothing was)."""
    sizes = ", ".join(f"{k} = {v}" for k, v in sorted(d.definition.sizes.items(), key=lambda kv: str(kv[0])))
    where = f" at {sizes}" if sizes else ""
    matrix = d.matrix is not None and d.matrix.max_error is not None
    if d.report is None:
        return f"Checked: the matrix form agrees with the index form{where} at every entry." if matrix else None
    also = "; the matrix form agrees with it at every entry" if matrix else ""
    return (f"Checked: the result agrees with sympy.diff of the definition{where} at every index, "
            f"and with central finite differences{also}.")


def check_steps(d: Derivation, seed: int = 2) -> None:
    """Each step's expression equals the one before it, at every index assignment."""
    rng = random.Random(seed)
    conc = Concretizer(d)
    point = _away_from_kinks(d, rng, _Compiled(d, conc))
    pairs = []  # (before, after, what a disagreement means)
    for n, step in enumerate(d.steps):
        if n and step.before != d.steps[n - 1].after:
            raise VerificationError(f"{d.target}: step {n} does not start where step {n - 1} ended")
        pairs.append((step.before, step.after, f"step {n} ({step.rule}) changes the value"))
    if d.cases is not None:  # the cases stated beside the result equal it
        pairs.append((d.result, sp.Piecewise(*d.cases.pieces), "the cases differ from the result"))
    for before, after, what in pairs:
        for assignment in assignments(d):
            a = value(conc(before, assignment, point.classes), point)
            b = value(conc(after, assignment, point.classes), point)
            if abs(a - b) > 1e-12 * (1 + abs(a)):
                raise VerificationError(f"{d.target}: {what} at {assignment}: {a} → {b}")
