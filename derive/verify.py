"""Verification: every closed form against `sympy.diff` and central finite differences.

All checks happen at concrete, distinct, non-square sizes (the definition's `sizes`), at
every index assignment of the result, so a transpose or a misplaced index cannot hide.
"""

from __future__ import annotations

import cmath
import itertools
import math
import random
from dataclasses import dataclass

import sympy as sp

from derive import verify_zero as zero
from derive.calculus.budget import within
from derive.concrete import Concretizer, Point, assignments, sample, value, wrt_entry
from derive.numpy_lambdify import compile_numpy
from derive.steps import Derivation

VANISH_SECONDS = 5.0  # to simplify closed form − sympy.diff to 0 at one index assignment


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
    # until one difference outlasts its budget (the others are as large), then by value; a staged
    # definition (attention) by value from the start: exp of inner sums through every stage never cancels fast
    simplify = not getattr(d.definition, "stages", ())
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
    if zero.vanishes(expr):  # exact and fast; when it shows nothing, SymPy's cancel decides
        return True
    if zero.nonzero_somewhere(expr):  # not 0 off the domain's constraints either: nothing to simplify
        return False

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
            fn = compile_numpy([c], entries, "<derive: verification>")  # the checker's compiler too
            keys = {k: k for k in point.values}  # the point's own key objects: found by identity, not ==
            self.fns[key] = [keys.get(e, e) for e in entries], fn
        entries, fn = self.fns[key]
        import numpy as np

        with np.errstate(all="ignore"):  # a log of a negative is NaN here, said by the caller, not on stderr
            try:
                return float(fn(*[point.values[e] for e in entries])[0])
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


def check_steps(d: Derivation, seed: int = 2) -> None:
    """Each step checks itself against the one before it (`Step.check`), at every index assignment."""
    rng = random.Random(seed)
    conc = Concretizer(d)
    point = _away_from_kinks(d, rng, _Compiled(d, conc))

    def disagreement(before, after) -> str | None:
        for assignment in assignments(d):
            a = value(conc(before, assignment, point.classes), point)
            b = value(conc(after, assignment, point.classes), point)
            if abs(a - b) > 1e-12 * (1 + abs(a)):
                return f"at {assignment}: {a} → {b}"
        return None

    for n, step in enumerate(d.steps):
        wrong = step.check(d.steps[n - 1] if n else None, disagreement)
        if wrong:
            raise VerificationError(f"{d.target}: step {n} {wrong}")
    if d.cases is not None:  # the cases stated beside the result equal it
        differs = disagreement(d.result, sp.Piecewise(*d.cases.pieces))
        if differs:
            raise VerificationError(f"{d.target}: the cases differ from the result {differs}")
