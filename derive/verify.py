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

from derive import concrete
from derive import verify_zero as zero
from derive.concrete import Concretizer, Point, assignments, entries, leaves, sample, value, wrt_entry
from derive.float_compile import by_name, compile_float, compile_sums
from derive.numpy_lambdify import compile_mp
from derive.steps import Derivation
from derive.verify_staged import NamedValues, check_by_stages, check_whole_at_one_point, staged, stages_claim

AGREE = 1e-20  # closed form and sympy.diff agree by value: to this relative difference
DIGITS = 40  # ... each evaluated to this many digits, so rounding stays 20 digits below the tolerance


def reference(d: Derivation, assignment: dict, point: Point, conc: Concretizer | None = None) -> sp.Expr:
    """`sympy.diff` of the fully expanded definition, at this index assignment."""
    ref, symbols = _reference(d, assignment, point, conc or Concretizer(d))
    return ref.xreplace({s: e for e, s in symbols.items()})


def _reference(d: Derivation, assignment: dict, point: Point, conc: Concretizer) -> tuple:
    """`reference` with each entry (K[1, 2]) a plain symbol of its assumptions, and the entries' symbols:
    the same derivative, faster (an Indexed's free symbols and hash are rebuilt at every node)."""
    target = conc(d.lhs.expr, assignment, point.classes)
    plain, symbols = _plain(target)
    wrt = wrt_entry(d, assignment)
    return sp.diff(plain, symbols.get(wrt, wrt)), symbols


@functools.lru_cache(maxsize=8)
def _plain(expr: sp.Expr) -> tuple:
    """`expr` with each Indexed entry a Symbol of its own assumptions, and the entries' symbols."""
    symbols = {e: sp.Symbol(f"_{e}", **e.assumptions0) for e in leaves(expr) if isinstance(e, sp.Indexed)}
    return concrete.written(expr, {}, leaf=lambda e: symbols.get(e, e)), symbols


@dataclass(frozen=True, repr=False)
class Report:
    """What a derivation's check found; prints (and displays in a notebook) as a sentence."""

    symbolic: int  # index assignments where closed form − diff simplified to 0 (steps H(x) as unknowns)
    numeric: int  # where it did not simplify but agreed to 20 digits at random points
    max_fd_error: float  # largest relative error against central finite differences
    stages: int = 0  # entries checked stage by stage (derive.verify_staged); then `numeric` is at one point

    def __str__(self) -> str:
        """`checked: the closed form equals sympy.diff of the definition at 6 index assignments (…)`."""
        if self.stages:
            return stages_claim(self.stages, self.numeric, self.max_fd_error)
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


@dataclass
class References:
    """sympy.diff of the definition at every index assignment (and target class) of a derivation, the sample
    points, and the random state the comparison goes on from: made while the result is derived (DiffChecks)."""

    rng: random.Random
    points: list  # three sample points; the classes of each matter where the definition has a class
    by_key: dict  # _key(assignment, point) -> (reference in plain symbols, those symbols); staged: its value

    def at(self, d: Derivation) -> list:
        """(assignment, point) in the order they are compared: at each class a point has (hinge's t)."""
        classed = d.definition.others and any(v.domain == "class" for v in d.definition.others)
        return [(a, p) for a in assignments(d) for p in (self.points if classed else self.points[:1])]


def _key(assignment: dict, point: Point) -> tuple:
    return tuple(assignment.items()), tuple(point.classes.items())


def references(d: Derivation, conc: Concretizer, seed: int = 0) -> References:
    """The References of `d`, which may be a derivation posed but not derived yet (derive.calculus.engine.posed):
    only its definition, left-hand side and names are read. A staged derivation is compared by value at one
    point (check_whole_at_one_point): its references are sympy.diff's values at the first point drawn."""
    rng = random.Random(seed)
    if staged(d):
        p, along = sample(d.definition, rng, d.upstream), set(entries(d.definition.var(d.wrt), d.definition.sizes))
        return References(rng, [p], {_key(a, p): diff_at(d, conc, a, p, along) for a in assignments(d)})
    refs = References(rng, [sample(d.definition, rng, d.upstream) for _ in range(3)], {})
    for assignment, point in refs.at(d):
        if (key := _key(assignment, point)) not in refs.by_key:
            refs.by_key[key] = _reference(d, assignment, point, conc)
    return refs


def check_against_diff(d: Derivation, seed: int = 0, conc: Concretizer | None = None, refs=None) -> tuple[int, int]:
    """(symbolic, numeric): the result against sympy.diff of the definition at every index assignment, each
    difference simplified to 0 or else compared by value at random points. `refs`: made already, from `seed`."""
    conc = conc or Concretizer(d)
    if staged(d):  # by value from the start: exp of inner sums through every stage never cancels fast
        return 0, by_value_at_points(d, conc, random.Random(seed))
    refs = refs or references(d, conc, seed)
    symbolic = numeric = 0
    simplify = True  # until one difference outlasts its budget (the others are as large), then by value
    vanished_at: set = set()  # (assignment, classes) whose difference simplified to 0 already
    for assignment, point in refs.at(d):
        # two points of the same class (hinge's t) make the same difference: a repeat is the same proof
        key = _key(assignment, point)
        if key in vanished_at:
            symbolic += 1
            continue
        ref, symbols = refs.by_key[key]
        closed = conc(d.result, assignment, point.classes).xreplace(symbols)  # in the same symbols
        vanished = zero.simplified_to_zero(closed - ref) if simplify else False
        simplify = simplify and vanished is not None
        if vanished:
            vanished_at.add(key)
            symbolic += 1
            continue
        evaluate = _precise([closed, ref], list(point.values), symbols)
        for p in _finite_points(d, evaluate, refs.rng):
            got, want = evaluate(p)
            if abs(got - want) > AGREE * (1 + abs(want)):
                raise VerificationError(f"{d.target} ∂/∂{d.wrt} at {assignment}: closed form {got} ≠ sympy.diff {want}")
        numeric += 1
    return symbolic, numeric


def by_value_at_points(d: Derivation, conc: Concretizer, rng: random.Random, count: int = 3, closed=None,
                       refs: References | None = None) -> int:
    """Every entry's closed form (`closed(p)`: its values at p, None off its domain; else compiled here) against
    sympy.diff of the definition, by value at `count` points (to DIGITS digits); the number of entries checked.
    The entries not differentiated by are given their values first (in ms). `refs`: made already, the first point."""
    table = assignments(d)
    along = set(entries(d.definition.var(d.wrt), d.definition.sizes))
    checked = 0
    for attempt in range(200):
        if checked == count:
            return len(table)
        made = refs is not None and attempt == 0
        p = refs.points[0] if made else sample(d.definition, rng, d.upstream, widen=attempt * 3 // 200)
        if closed is None:
            closed = _precise([conc(d.result, a, p.classes) for a in table], list(p.values), {})
        got = closed(p)
        if got is None or not all(_real(z) for z in got):  # the cheap side first: off the domain costs no diff
            continue
        want = [refs.by_key[_key(a, p)] if made else diff_at(d, conc, a, p, along) for a in table]
        if not all(_real(z) for z in want):
            continue
        for a, g, w in zip(table, got, want):
            if abs(g - w) > AGREE * (1 + abs(w)):
                raise VerificationError(f"{d.target} ∂/∂{d.wrt} at {a}: closed form {g} ≠ sympy.diff {w}")
        checked += 1
    raise VerificationError(f"{d.target} ∂/∂{d.wrt}: no sample point where the closed form and sympy.diff "
                            "are finite real numbers, so they could not be compared")


def diff_at(d: Derivation, conc: Concretizer, assignment: dict, p: Point, along: set) -> complex:
    """sympy.diff of the definition by the entry of `assignment`, with the entries not `along` the variable
    at their values at `p` first, then evaluated at `p` to DIGITS digits (NaN where undefined)."""
    at, symbols = _fixed(conc(d.lhs.expr, assignment, p.classes),
                         tuple((e, v) for e, v in p.values.items() if e not in along))
    wrt = wrt_entry(d, assignment)
    ref = sp.diff(at, symbols.get(wrt, wrt))
    rest = {symbols.get(e, e): sp.Float(v, DIGITS) for e, v in p.values.items() if e in along}
    try:
        return complex(sp.N(ref.xreplace(rest), DIGITS))
    except (TypeError, ValueError):  # zoo, nan
        return complex(math.nan)


@functools.lru_cache(maxsize=4)
def _fixed(expr: sp.Expr, values: tuple) -> tuple:
    """(`expr` with the entries of `values` at those values to DIGITS digits, every other Indexed a plain symbol
    as in `_plain`; those symbols): one rebuild, not two (each asks SymPy's assumptions of every exp again)."""
    fixed, found = dict(values), leaves(expr)
    symbols = {e: sp.Symbol(f"_{e}", **e.assumptions0) for e in found if isinstance(e, sp.Indexed) and e not in fixed}
    return expr.xreplace({**symbols, **{e: sp.Float(fixed[e], DIGITS) for e in found if e in fixed}}), symbols


def _precise(exprs: list, entries: list, symbols: dict, digits: int = DIGITS):
    """A function of a Point giving each of `exprs` (in `entries`, every entry a point has, each written as
    its plain symbol from `symbols`) to DIGITS digits (NaN where undefined): compiled to mpmath once, or,
    for an expression that does not compile, through SymPy's own evaluation."""
    back = {s: e for e, s in symbols.items()}

    def sympy_values(p: Point) -> list:
        return [_number(e.xreplace(back), p, digits) for e in exprs]

    try:
        f = _compiled_mp(tuple(exprs), tuple(symbols.get(e, e) for e in entries), digits)
    except (SyntaxError, TypeError, ValueError, KeyError, NotImplementedError, AttributeError):
        return sympy_values  # a function mpmath has no printing for (DiracDelta): SymPy's evaluation

    def run(p: Point) -> list:
        try:
            got = f([p.values[e] for e in entries])
        except NameError:  # a name the point does not give: SymPy's evaluation says what it is
            return sympy_values(p)
        return [complex(math.nan) if v is None else complex(v) for v in got]

    return run


@functools.lru_cache(maxsize=64)
def _compiled_mp(exprs: tuple, inputs: tuple, digits: int):
    """compile_mp, once for the same expressions: the matrix-form checks and the check against sympy.diff
    evaluate the same concrete results and named quantities of one derivation."""
    return compile_mp(list(exprs), list(inputs), digits)


def values_at(exprs: list, point: Point, digits: int = DIGITS) -> list:
    """Each of `exprs` (concrete: only the point's entries left) at `point`, to `digits` digits, as complex
    numbers; compiled to mpmath together, what `value` gives one by one through SymPy, in a fraction of
    its time."""
    return _precise(list(exprs), list(point.values), {}, digits)(point)


def _finite_points(d: Derivation, evaluate, rng: random.Random, count: int = 3) -> list:
    """`count` points where each value `evaluate` gives is a finite real number (NaN would agree with anything,
    and off the real line two branches of a root can differ): from each domain, then positive, then larger."""
    points = []
    for attempt in range(200):
        p = sample(d.definition, rng, d.upstream, widen=attempt * 3 // 200)
        if all(_real(z) for z in evaluate(p)):
            points.append(p)
            if len(points) == count:
                return points
    raise VerificationError(f"{d.target} ∂/∂{d.wrt}: no sample point where the closed form and sympy.diff "
                            "are finite real numbers, so they could not be compared")


def _real(z: complex) -> bool:
    return cmath.isfinite(z) and abs(z.imag) <= 1e-12 * (1 + abs(z.real))


def _number(expr: sp.Expr, point: Point, digits: int = 30) -> complex:
    try:
        return value(expr, point, digits)
    except (TypeError, ValueError, OverflowError):  # zoo, nan
        return complex(math.nan)


@functools.lru_cache(maxsize=512)
def _kinks_of(expr: sp.Expr) -> list:
    """Arguments whose sign decides a branch: Max, Heaviside, Piecewise conditions."""
    out = []
    for e in sp.preorder_traversal(expr) if expr.has(sp.Heaviside, sp.Max, sp.Min, sp.Piecewise) else ():
        if isinstance(e, sp.Heaviside):
            out.append(e.args[0])
        elif isinstance(e, (sp.Max, sp.Min)):
            out += [a - b for a, b in itertools.combinations(e.args, 2)]
        elif isinstance(e, sp.Piecewise):
            out += [c.lhs - c.rhs for _, c in e.args if isinstance(c, sp.core.relational.Relational)]
    return out


class Compiled:
    """Concrete expressions of one derivation, made once, compiled to a float function on first use."""

    def __init__(self, d: Derivation, conc: Concretizer | None = None):
        self.d, self.fns = d, {}
        self.conc = conc or Concretizer(d)
        self.named = NamedValues.of(d)  # a staged result is evaluated in its names' values, not expanded
        self.target = d.lhs.expr if d.cost is None else d.cost

    def __call__(self, expr: sp.Expr, assignment: dict, point: Point) -> float:
        if self.named is not None and expr is self.d.result:
            return self.named.result_at(assignment, point)
        if expr is self.target and self._whole is not None:
            return self._whole(*by_name(point.values, point.classes))
        return self._run(expr, assignment, point, (0,))[0]

    @functools.cached_property
    def _whole(self):
        """What the target stands for (Concretizer.inputs_only: a loss's body, a layer's linear cost scale Σ g y),
        its sums run in Python (written out in SymPy: 0.07-0.13 s for attention, GRU, LSTM); None with kinks,
        or with a name that is not an input's."""
        d, defn = self.d, self.d.definition
        known = {v.name for v in filter(None, (*defn.inputs, *defn.others, d.upstream))} | set(map(str, defn.sizes))
        whole = self.conc.inputs_only(self.target)[0]
        if _kinks_of(whole) or not {str(getattr(s, "base", s)) for s in whole.free_symbols} <= known:
            return None
        return compile_sums(whole, defn.sizes, "<derive: verification>")  # None: a function math lacks

    def kink_values(self, expr: sp.Expr, assignment: dict, point: Point) -> list:
        """Each kink of `expr` at `point` as a float, compiled with it; one not finite by SymPy (its real part)."""
        if self.named is not None or (expr is self.target and self._whole is not None):  # neither has kinks
            return []
        kinks = _kinks_of(self.conc(expr, assignment, point.classes))
        got = self._run(expr, assignment, point, range(1, len(kinks) + 1))
        return [v if math.isfinite(v) else value(k, point).real for k, v in zip(kinks, got)]

    def _run(self, expr: sp.Expr, assignment: dict, point: Point, which) -> list:
        c = self.conc(expr, assignment, point.classes)
        if c not in self.fns:
            entries, fn = _compiled_float(c)
            keys = {k: k for k in point.values}  # the point's own key objects: found by identity, not ==
            self.fns[c] = [keys.get(e, e) for e in entries], fn
        entries, fn = self.fns[c]
        return fn([point.values[e] for e in entries], which)


# Both shared by the checks of one derivation: the finite differences and the matrix form's search for a
# point off the kinks meet the same concrete expressions, each in a Compiled of its own.
@functools.lru_cache(maxsize=512)
def _compiled_float(c: sp.Expr) -> tuple:
    """(the entries `c` depends on, a function of their values giving `c`, then its kinks, as floats or NaN)."""
    entries = list(leaves(c))
    return entries, compile_float([c, *_kinks_of(c)], entries, "<derive: verification>")


def check_finite_differences(d: Derivation, seed: int = 1, tries: int = 3, h: float = 1e-6,
                             conc: Concretizer | None = None) -> float:
    """Largest relative error of the closed form against central differences of the definition."""
    rng = random.Random(seed)
    compiled = Compiled(d, conc)
    target = d.lhs.expr if d.cost is None else d.cost
    worst = 0.0
    for _ in range(tries):
        point = away_from_kinks(d, rng, compiled)
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


def away_from_kinks(d: Derivation, rng: random.Random, compiled: Compiled | None = None,
                     margin: float = 1e-3) -> Point:
    """A random point away from every kink where the definition and the result are finite reals at
    every index: drawn from each variable's domain, then (for a log or a root) with positive reals,
    then larger ones. VerificationError if there is none: nothing is claimed unchecked."""
    compiled = compiled or Compiled(d)
    target = d.lhs.expr if d.cost is None else d.cost
    cells = assignments(d)
    for attempt in range(200):
        point = sample(d.definition, rng, d.upstream, widen=attempt * 3 // 200)
        if not all(math.isfinite(compiled(e, a, point)) for a in cells for e in (d.result, target)):
            continue
        if all(abs(k) > margin for a in cells for e in (d.result, target) for k in compiled.kink_values(e, a, point)):
            return point
    raise VerificationError(f"{d.target}: no sample point away from the kinks where the definition and its "
                            "derivative are finite real numbers")


def point_away_from_kinks(d: Derivation, rng: random.Random, conc: Concretizer | None = None) -> Point:
    """A sample point where no step or max of the result or the definition sits on its kink."""
    return away_from_kinks(d, rng, Compiled(d, conc))


def against_diff(d: Derivation, conc: Concretizer, refs: References | None = None) -> tuple[int, int]:
    """(symbolic, numeric): the whole result against sympy.diff of the whole definition; at one point for a
    staged derivation, whose stages verify() checks one by one (derive.verify_staged). `refs`: made already."""
    return (0, check_whole_at_one_point(d, conc, refs=refs)) if staged(d) else check_against_diff(d, conc=conc, refs=refs)


def verify(d: Derivation, conc: Concretizer | None = None, beside=None) -> Report:
    """Both checks; raises VerificationError naming the first disagreement. `conc`: the derivation's concrete
    expressions, made for its matrix-form check already. `beside`: the stages' checks and `against_diff`
    started in children (derive.derivation.DiffChecks), collected after the finite differences; a
    disagreement is named as in turn."""
    if not assignments(d):  # sizes of 0: "at every index" would claim checks of nothing
        sizes = ", ".join(f"{k} = {v}" for k, v in d.definition.sizes.items())
        raise VerificationError(f"{d.target} ∂/∂{d.wrt}: no index to check at {sizes}; sizes must be at least 1")
    conc = conc or Concretizer(d)  # both checks take the same concrete expressions
    if beside is None:
        stages = check_by_stages(d) if staged(d) else 0  # each stage against its own sympy.diff
        symbolic, numeric = against_diff(d, conc)
        return Report(symbolic, numeric, check_finite_differences(d, conc=conc), stages)
    try:
        fd = check_finite_differences(d, conc=conc)
    except VerificationError:
        beside.collect()  # as in turn: a disagreement of a stage or with sympy.diff is the one named
        raise
    symbolic, numeric, stages = beside.collect()
    return Report(symbolic, numeric, fd, stages)


def verified(d: Derivation, conc: Concretizer | None = None, beside=None) -> Report:
    """`verify(d)`, its disagreement said as a one-line DeriveError: a result that fails is never shown."""
    from derive.errors import DeriveError

    try:
        return verify(d, conc, beside)
    except VerificationError as exc:
        raise DeriveError(f"{d.target} ∂/∂{d.wrt} failed verification: {exc}") from None
