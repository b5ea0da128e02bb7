"""Is the answer equal to the derived result? Numbers first, then a symbolic confirmation.

Both sides are taken to the definition's concrete, non-square sizes and evaluated at every index
assignment (so i = j, i ≠ j and distinct triples are all visited) and at several random points
whose real entries take both signs (so 1[x > 0] ≡ 1 cannot pass). Agreement is then confirmed
symbolically under a time limit: in index form by contracting Kronecker deltas (which settles
`β y_j(δ_ij − y_i)` at once), otherwise entry by entry at the fixed size. When the two methods
disagree the answer is undecided, never wrong.
"""

from __future__ import annotations

import cmath
import random
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive.check.meaning import Reading, _free_indices
from derive.numpy_lambdify import numpy_lambdify
from derive.verify import Point, assignments, concrete, sample, unroll, value

POINTS = 8
RTOL, ATOL = 1e-8, 1e-10


class Budget(Exception):
    """The symbolic confirmation ran out of time."""


@dataclass
class Numbers:
    """Answer and expected values: one row per entry (index assignment), one column per point."""

    answer: np.ndarray
    expected: np.ndarray
    entries: list  # index assignment (dict) or matrix position per row
    points: list  # Point per column
    leaves: dict  # entry symbol -> values over points, for counterexamples and ratios


@dataclass
class Comparison:
    equal: bool | None  # None: undecided
    numbers: Numbers | None
    symbolic: bool | None  # True proven equal, False proven different, None not settled
    shape: tuple | None = None  # of a matrix answer, when it differs from the expected shape
    expected_shape: tuple | None = None
    note: str = ""


class Reference:
    """What the answer is compared with, computed once per derivation and reused."""

    def __init__(self, d, seed: int = 7):
        self.d = d
        defn = d.definition
        self.free = _free_indices(d)
        self.assignments = assignments(d)
        self.shape = tuple(len({a[s] for a in self.assignments}) for s in self.free)
        rng = random.Random(seed)
        self.points = [_signed(sample(defn, rng, d.upstream), defn, n) for n in range(POINTS)]
        self.classes = sorted({tuple(sorted(p.classes.items(), key=lambda kv: kv[0].name)) for p in self.points})
        self.leaves = self._leaves()
        self.named_values = self._named_values()
        self._expected_cache = {}

    def _leaves(self) -> dict:
        keys = list(self.points[0].values)
        return {k: np.array([p.values[k] for p in self.points], dtype=float) for k in keys}

    def _named_values(self) -> dict:
        """Each named quantity's entries (y_1, …, ŷ_K) at every point, from its definition."""
        d, out = self.d, {}
        for nm in d.named:
            if nm.index:
                dim = next(v.shape[0] for v in d.definition.variables if v.symbol == nm.symbol)
                count = int(d.definition.sizes[dim])
                entries = [nm.symbol[m] for m in range(1, count + 1)]
            else:
                entries = [nm.symbol]
            for e in entries:
                out[e] = self._evaluate_each_point(e)
        return out

    def _evaluate_each_point(self, expr) -> np.ndarray:
        values = []
        for p in self.points:
            values.append(value(concrete(expr, self.d, {}, p), p, 17).real)
        return np.array(values, dtype=float)

    def expected(self, classes: tuple) -> list:
        """Concrete expected expressions, one per index assignment, for one class setting."""
        if classes not in self._expected_cache:
            point = Point({}, dict(classes))
            self._expected_cache[classes] = [concrete(self.d.result, self.d, a, point) for a in self.assignments]
        return self._expected_cache[classes]

    def expected_values(self, classes: tuple, env: dict, ncols: int) -> np.ndarray:
        """The expected entries at the points of one class setting (computed once)."""
        key = ("values", classes)
        if key not in self._expected_cache:
            self._expected_cache[key] = _numeric(self.expected(classes), env, ncols)
        return self._expected_cache[key]

    def warm(self) -> Reference:
        """Compute the expected values at every point now, so no student's check pays for them."""
        env = {**self.leaves, **self.named_values}
        for classes in self.classes:
            cols = self.columns(classes)
            self.expected_values(classes, {k: v[cols] for k, v in env.items()}, len(cols))
        return self

    def columns(self, classes: tuple) -> list:
        return [n for n, p in enumerate(self.points)
                if tuple(sorted(p.classes.items(), key=lambda kv: kv[0].name)) == classes]


def _signed(point: Point, defn, n: int) -> Point:
    """Point 0 has every real entry positive, point 1 every one negative; the rest are random."""
    if n > 1:
        return point
    real = {v.name for v in (*defn.inputs, *defn.others) if v.domain == "real"}
    real.add("d" + defn.upstream + "_d" + defn.output.name)
    values = {}
    for k, v in point.values.items():
        name = getattr(k, "name", None) or k.base.name
        values[k] = (abs(v) if n == 0 else -abs(v)) if name in real else v
    return Point(values, point.classes)


_REFERENCES: dict = {}


def reference(d) -> Reference:
    key = id(d)
    if key not in _REFERENCES or _REFERENCES[key][0] is not d:
        _REFERENCES[key] = (d, Reference(d).warm())
    return _REFERENCES[key][1]


def remember(ref: Reference) -> Reference:
    """Use `ref` (one loaded from the cache) for its derivation `ref.d` from now on."""
    _REFERENCES[id(ref.d)] = (ref.d, ref)
    return ref


def _instantiate(expr: sp.Expr, d, assignment: dict, classes: dict) -> sp.Expr:
    subs = {**{s: int(v) for s, v in d.definition.sizes.items()}, **assignment, **classes}
    out = sp.sympify(expr).xreplace(subs)
    return unroll(out).doit() if out.has(sp.Sum, sp.Derivative) else out


class OutOfRange(Exception):
    """The answer names an entry that does not exist at the concrete sizes, e.g. y_4 of a 3-vector."""


def _numeric(exprs: list, env: dict, ncols: int) -> np.ndarray:
    """Evaluate concrete expressions at every point, with lambdify over dummy arguments."""
    atoms = set()
    for e in exprs:
        atoms |= e.atoms(sp.Indexed) | e.atoms(sp.Symbol)
    labels = {a.base.label for a in atoms if isinstance(a, sp.Indexed)}
    labels |= {i for a in atoms if isinstance(a, sp.Indexed) for i in a.indices}
    unknown = [a for a in atoms if a not in env and a not in labels]
    if unknown:
        raise OutOfRange(str(unknown[0]))
    args = sorted((a for a in atoms if a in env), key=sp.default_sort_key)
    # plain names: Dummy arguments make lambdify replace each of them again, a third of a check
    plain = [sp.Symbol(f"_v{n}") for n in range(len(args))]
    swap = dict(zip(args, plain))
    f = numpy_lambdify(plain, [e.xreplace(swap) for e in exprs])
    with np.errstate(all="ignore"):
        rows = f(*[env[a] for a in args])
    out = np.empty((len(exprs), ncols), dtype=complex)
    for n, r in enumerate(rows):
        out[n] = np.broadcast_to(np.asarray(r, dtype=complex), (ncols,))
    return out


def numbers(reading: Reading, ref: Reference) -> Numbers:
    d = ref.d
    env = {**ref.leaves, **ref.named_values}
    rows = len(ref.assignments)
    answer = np.empty((rows, len(ref.points)), dtype=complex)
    expected = np.empty_like(answer)
    flat = list(reading.matrix) if reading.form == "matrix" else None
    for classes in ref.classes:
        cols = ref.columns(classes)
        sub_env = {k: v[cols] for k, v in env.items()}
        cls = dict(classes)
        if flat is not None:
            exprs = [_instantiate(e, d, {}, cls) for e in flat]
        else:
            exprs = [_instantiate(reading.expr, d, a, cls) for a in ref.assignments]
        answer[:, cols] = _numeric(exprs, sub_env, len(cols))
        expected[:, cols] = ref.expected_values(classes, sub_env, len(cols))
    entries = ref.assignments
    return Numbers(answer, expected, entries, ref.points, env)


def close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both_nan = np.isnan(a) & np.isnan(b)
    return both_nan | np.isclose(a, b, rtol=RTOL, atol=ATOL)


# -- symbolic confirmation -------------------------------------------------------------------


@contextmanager
def time_limit(seconds: float | None):
    """Raise Budget after `seconds` where a timer can be set (the main thread); else no limit.

    Nests: an inner limit never outlasts the outer one, and the outer one resumes afterwards.
    The worker pool's hard limit is the backstop for C code an alarm cannot interrupt.
    """
    if seconds is None or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def fire(signum, frame):
        raise Budget()

    outer = signal.getitimer(signal.ITIMER_REAL)[0]
    if outer:
        seconds = min(seconds, outer)
    start = time.monotonic()
    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


def delta_normal(expr: sp.Expr) -> sp.Expr:
    """In each term with δ_ab, write b as a (the term vanishes unless a = b): δ_ij(y_j − y_i) → 0."""
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        deltas = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.KroneckerDelta)]
        for delta in deltas:
            a, b = sorted(delta.args, key=sp.default_sort_key)
            rest = sp.Mul(*[f for f in sp.Mul.make_args(term) if f is not delta]).xreplace({b: a})
            term = sp.KroneckerDelta(a, b) * rest
        out += term
    return sp.expand(out)


def _regions(expr: sp.Expr):
    """Substitutions that fix the sign of every kink argument that is ±(one symbol)."""
    kinks = []
    for e in sp.preorder_traversal(expr):
        if isinstance(e, sp.Heaviside):
            kinks.append(e.args[0])
        elif isinstance(e, (sp.Max, sp.Min)):
            kinks += [a - b for a in e.args for b in e.args if a is not b]
        elif isinstance(e, sp.Piecewise):
            kinks += [c.lhs - c.rhs for _, c in e.args if isinstance(c, sp.core.relational.Relational)]
        elif isinstance(e, (sp.Abs, sp.sign)):
            kinks.append(e.args[0])
    symbols = set()
    for k in kinks:
        coeff, leaf = k.as_coeff_Mul()
        if not coeff.is_nonzero or not isinstance(leaf, (sp.Symbol, sp.Indexed)):
            return None  # a kink at a general expression: leave it to the numbers
        symbols.add(leaf)
    if len(symbols) > 4:
        return None
    symbols = sorted(symbols, key=sp.default_sort_key)
    out = []
    for signs in range(2 ** len(symbols)):
        sub = {}
        for n, s in enumerate(symbols):
            pos = sp.Dummy("p", positive=True)
            sub[s] = pos if signs >> n & 1 else -pos
        out.append(sub)
    return out


def vanishes(expr: sp.Expr) -> bool | None:
    """True if zero, False if provably not, None if this cannot tell."""
    if expr == 0:
        return True
    if expr.has(sp.Heaviside, sp.Max, sp.Min, sp.Piecewise, sp.Abs, sp.sign):
        regions = _regions(expr)
        if regions is None:
            return None
        results = [vanishes(expr.xreplace(r)) if not expr.xreplace(r).has(sp.Heaviside, sp.Max, sp.Min, sp.Piecewise)
                   else None for r in regions]
        if all(r is True for r in results):
            return True
        return False if any(r is False for r in results) else None
    work = sp.expand_log(expr.rewrite(sp.exp), force=True)
    residual = sp.cancel(sp.together(sp.expand(work)))
    if residual == 0:
        return True
    if residual.has(sp.log, sp.sqrt) or any(isinstance(p, sp.Pow) and not p.exp.is_integer
                                             for p in sp.preorder_traversal(residual) if isinstance(p, sp.Basic)):
        return None
    return False


def confirm(reading: Reading, ref: Reference, budget: float) -> tuple[bool | None, str]:
    """Symbolic confirmation: (True | False | None, how)."""
    d = ref.d
    start = time.monotonic()
    try:
        with time_limit(budget):
            index_form = reading.form == "index" and not reading.expr.has(sp.Piecewise)
            if index_form and delta_normal(reading.expr - d.result) == 0:
                return True, "equal in index form after contracting δ"
            flat = list(reading.matrix) if reading.form == "matrix" else None
            for classes in ref.classes:
                point = Point({}, dict(classes))
                expected = ref.expected(classes)
                for n, a in enumerate(ref.assignments):
                    ans = concrete(flat[n], d, {}, point) if flat is not None else concrete(reading.expr, d, a, point)
                    verdict = vanishes(ans - expected[n])
                    if verdict is not True:
                        return verdict, f"entry {n + 1} at the fixed size"
            return True, "equal entry by entry at the fixed size"
    except Budget:
        return None, f"symbolic confirmation stopped after {time.monotonic() - start:.1f} s"
    except (TypeError, ValueError, NotImplementedError, sp.PolynomialError, RecursionError, ZeroDivisionError):
        return None, "symbolic confirmation was not possible"


def compare(reading: Reading, ref: Reference, budget: float = 1.0) -> Comparison:
    if reading.form == "matrix":
        got = reading.matrix.shape
        want = ref.shape
        fits = (got == (1, 1) and want == ()) or (len(want) == 1 and got in ((want[0], 1), (1, want[0]))) or got == want
        if not fits:
            return Comparison(False, None, None, shape=got, expected_shape=want)
    nums = numbers(reading, ref)
    agree = close(nums.answer, nums.expected)
    if agree.all():
        symbolic, how = confirm(reading, ref, budget)
        if symbolic is False:
            return Comparison(None, nums, False, note="equal at every sampled point, but the symbolic "
                              f"check finds a difference ({how})")
        note = "" if symbolic else f"checked numerically at every entry and {len(ref.points)} points; {how}"
        return Comparison(True, nums, symbolic, note=note)
    # A numeric difference is a counterexample; re-evaluate it at 30 digits before believing it.
    row, col = np.argwhere(~agree)[0]
    if not _differs_precisely(reading, ref, nums, row, col):
        return Comparison(None, nums, None, note="the numbers disagree in double precision "
                          "but agree at 30 digits")
    return Comparison(False, nums, False)


def _differs_precisely(reading, ref, nums, row, col) -> bool:
    d, point = ref.d, nums.points[col]
    a = ref.assignments[row]
    ans = concrete(list(reading.matrix)[row], d, {}, point) if reading.form == "matrix" else \
        concrete(reading.expr, d, a, point)
    exp = concrete(d.result, d, a, point)
    try:
        va, ve = value(ans, point), value(exp, point)
    except (TypeError, ValueError):
        return True
    if cmath.isnan(va) or cmath.isnan(ve):
        return cmath.isnan(va) != cmath.isnan(ve)
    return abs(va - ve) > 1e-15 * (1 + abs(ve))
