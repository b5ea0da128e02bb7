"""Is the answer equal to the derived result? Numbers at covering points, then symbols if needed.

Both sides are taken to the definition's concrete, non-square sizes and evaluated at every index
assignment (so i = j, i ≠ j and distinct triples are all visited) and at points whose entries
take both signs and magnitudes from 10⁻² to 10¹ (derive/check/sampling.py). Then both sides of
every threshold of the answer and of the reference (1[·], max, |·|, cases…) are visited
(derive/check/evidence.py). A difference is re-evaluated at 30 digits before it is believed.
Agreement is "correct" only when every threshold was crossed; otherwise only a symbolic proof
(derive/check/symbolic.py) makes it correct, and without one the answer is undecided.
"""

from __future__ import annotations

import cmath
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

from derive.check import evidence as ev
from derive.check import sampling
from derive.check.compiled import OutOfRange, compile_exprs, compile_mp, inert
from derive.check.meaning import Reading, _free_indices
from derive.check.sampling import Columns
from derive.check.symbolic import Budget, confirm, index_proof, time_limit
from derive.concrete import Concretizer, Point, assignments, concrete, entries, unroll, value
from derive.definitions.ranges import has_index_arithmetic

__all__ = ["Budget", "Comparison", "Numbers", "OutOfRange", "Reference", "close", "compare", "reference",
           "time_limit"]

RTOL, ATOL = 1e-8, 1e-10
CHECK_SEED = 2024  # the points an answer's own thresholds add are the same for every check


@dataclass
class Numbers:
    """Answer and expected values: one row per entry (index assignment), one column per point."""

    answer: np.ndarray
    expected: np.ndarray
    entries: list  # index assignment (dict) per row
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
    evidence: ev.Evidence | None = None
    witness: tuple | None = None  # (row, column) of a difference confirmed at 30 digits


def _instantiate(expr: sp.Expr, d, assignment: dict, classes: dict) -> sp.Expr:
    subs = {**{s: int(v) for s, v in d.definition.sizes.items()}, **assignment, **classes}
    out = sp.sympify(expr).xreplace(subs)
    return unroll(out).doit() if out.has(sp.Sum, sp.Derivative) else out


# ------------------------------------------------------------------------------ the reference


class Setting:
    """One class setting (each class index fixed): compiled reference, points, crossings."""

    def __init__(self, ref: Reference, classes: dict, hots: list, rng: np.random.Generator):
        self.ref, self.classes, self.hots = ref, classes, hots
        self.key = tuple(sorted(classes.items(), key=lambda kv: kv[0].name))
        d, conc = ref.d, ref.conc
        leaves = ref.leaf_symbols
        self.named_exprs = [conc(e, {}, classes) for e in ref.named_entries]
        self.named = compile_exprs(self.named_exprs, leaves)
        self._mp = None
        self.expected_exprs = [conc(d.result, a, classes) for a in ref.assignments]
        self.expected_fn = compile_exprs(self.expected_exprs, leaves)
        self.kinks, self.kink_fn = self._kinks()
        self.described = [ev.describe(g) for g in self.kinks]
        self.base = Columns(self)
        for f, hot in enumerate(hots):
            self.base.add(sampling.draw(ref.leafs, hot, sampling.PER_FAMILY, rng), np.full(sampling.PER_FAMILY, f))
        self.magnitudes = sampling.magnitudes(ref.leafs, self.base.X)
        found = self.base.cover(list(range(len(self.kinks))), rng, lambda k: self.one_sided(self.kinks[k]))
        self.sided = [k not in found and self.one_sided(g) for k, g in enumerate(self.kinks)]
        self.uncrossed = [k for k in range(len(self.kinks)) if k not in found and not self.sided[k]]

    def _kinks(self):
        """The reference's thresholds, in the answer's terms (named quantities kept) where possible."""
        d, ref = self.ref.d, self.ref
        try:
            kinks = _unique(g for a in ref.assignments for g in ev.thresholds(_instantiate(d.result, d, a, self.classes)))
            return kinks, compile_exprs(kinks, ref.inputs)
        except OutOfRange:
            kinks = _unique(g for e in self.expected_exprs for g in ev.thresholds(e))
            return kinks, compile_exprs(kinks, ref.inputs)

    def precise(self, leaves: list, row: int) -> tuple:
        """At 30 digits: the named quantities' values and the expected entry `row` (None: undefined)."""
        if self._mp is None:
            self._mp = (compile_mp(self.named_exprs, self.ref.leaf_symbols),
                        compile_mp(self.expected_exprs, self.ref.leaf_symbols))
        named, expected = self._mp
        return named(leaves), expected(leaves, [row])[0]

    def one_sided(self, g) -> bool:
        """True if g keeps one strict sign over the whole domain (a threshold with one side only)."""
        ref = self.ref
        if sp.count_ops(g) > 40:  # SymPy's assumptions take seconds on a large expression
            return False
        try:
            named = {e: self.ref.conc(e, {}, self.classes) for e in ref.named_entries if g.has(e)}
            g = g.xreplace(named)
            subs = {}
            for leaf in ref.leafs:
                if g.has(leaf.symbol):
                    pos = leaf.var.domain in ("positive", "unit", "prob")
                    subs[leaf.symbol] = sp.Dummy(positive=True) if pos else sp.Dummy(real=True)
            g = g.xreplace(subs)
            return bool(g.is_positive or g.is_negative)
        except (TypeError, ValueError, RecursionError):
            return False


def _unique(items) -> list:
    return list(dict.fromkeys(items))


class Reference:
    """What the answer is compared with, computed once per derivation and reused."""

    def __init__(self, d, seed: int = 7):
        self.d = d
        self.conc = Concretizer(d)
        self.free = _free_indices(d)
        self.assignments = assignments(d)
        self.shape = tuple(len({a[s] for a in self.assignments}) for s in self.free)
        self.leafs = sampling.leaves(d)
        self.leaf_symbols = [leaf.symbol for leaf in self.leafs]
        self.named_entries = _named_entries(d)
        self.inputs = self.leaf_symbols + self.named_entries
        rng = np.random.default_rng(seed)
        groups: dict = {}
        for classes, hot in sampling.families(d):
            groups.setdefault(tuple(sorted(classes.items(), key=lambda kv: kv[0].name)), (classes, []))[1].append(hot)
        self.settings = [Setting(self, classes, hots, rng) for classes, hots in groups.values()]
        self.classes = [s.key for s in self.settings]
        self._patterns = None

    def expected(self, classes: tuple) -> list:
        """Concrete expected expressions, one per index assignment, for one class setting."""
        return next(s.expected_exprs for s in self.settings if s.key == classes)

    def warm(self) -> Reference:
        """Every expected value is computed when the reference is made: nothing is left for a check."""
        return self

    def patterns(self) -> int:
        if self._patterns is None:
            self._patterns = ev.patterns([{**a, **s.classes} for s in self.settings for a in self.assignments])
        return self._patterns


def _named_entries(d) -> list:
    """Every entry of every named quantity, whatever its number of indices (y_k, A_ik); and a loss's
    output (s of the cosine, L), which an answer may name as a TA does: ∂s/∂x = y/(‖x‖‖y‖) − s x/‖x‖²."""
    out = []
    for nm in d.named:
        var = next(v for v in d.definition.variables if v.symbol == nm.symbol)
        out += entries(var, d.definition.sizes)
    output = d.definition.output
    if d.definition.kind == "loss" and not output.shape and output.symbol not in {nm.symbol for nm in d.named}:
        out.append(output.symbol)  # the concretizer writes a loss's output as its body
    return out


_REFERENCES: dict = {}


def reference(d) -> Reference:
    key = id(d)
    if key not in _REFERENCES or _REFERENCES[key][0] is not d:
        _REFERENCES[key] = (d, Reference(d))
    return _REFERENCES[key][1]


def remember(ref: Reference) -> Reference:
    """Use `ref` (one made before a check's time starts, or loaded from the cache) for `ref.d` from now on."""
    _REFERENCES[id(ref.d)] = (ref.d, ref)
    return ref


def close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both_nan = np.isnan(a) & np.isnan(b)
    return both_nan | np.isclose(a, b, rtol=RTOL, atol=ATOL)


# ------------------------------------------------------------------------------ the answer


@dataclass
class Cover:
    """Which thresholds were seen on both sides, and which were not."""

    crossed: list = field(default_factory=list)  # descriptions
    uncrossed: list = field(default_factory=list)
    magnitudes: tuple | None = None


def attach(reading: Reading, ref: Reference) -> tuple[list, bool]:
    """Per class setting: (setting, its points with the answer evaluated there, all thresholds); and
    whether the answer named ∂C/∂y outside its range, taken as 0 (a convolution's zero padding)."""
    d = ref.d
    flat = [inert(e) for e in reading.matrix] if reading.form == "matrix" else None
    expr = inert(reading.expr) if flat is None else None
    parts, padded = [], False
    for s in ref.settings:
        if flat is not None:
            exprs = [_instantiate(e, d, {}, s.classes) for e in flat]
        else:
            exprs = [_instantiate(expr, d, a, s.classes) for a in ref.assignments]
        exprs, pads = _zero_padded(exprs, d)
        padded |= pads
        known = set(s.kinks)
        own = [g for g in _unique(g for e in exprs for g in ev.thresholds(e)) if g not in known]
        parts.append((s, s.base.attach(compile_exprs(exprs + own, ref.inputs), len(exprs)), [*s.kinks, *own], exprs))
    return parts, padded


def _zero_padded(exprs: list, d) -> tuple[list, bool]:
    """A layer indexed by arithmetic (a convolution): an entry of the arriving gradient past either end,
    ∂C/∂y_{i−k+1} at i − k + 1 = 0, is 0, as the full convolution's zero padding says; nothing else is."""
    if d.upstream is None or not has_index_arithmetic(d.definition):
        return exprs, False
    up = d.upstream.symbol
    shape = [int(d.definition.sizes[n]) for n in d.upstream.shape]
    outside = {e: sp.S.Zero for x in exprs for e in sp.sympify(x).atoms(sp.Indexed)
               if e.base == up and all(v.is_Integer for v in e.indices)
               and not all(1 <= int(v) <= n for v, n in zip(e.indices, shape))}
    return ([sp.sympify(x).xreplace(outside) for x in exprs], True) if outside else (exprs, False)


def cross(parts: list) -> Cover:
    """Both sides of every threshold of the answer (the reference's were crossed when it was built)."""
    cover = Cover()
    for s, cols, kinks, _ in parts:
        if len(kinks) > len(s.kinks) or s.uncrossed:
            proven: dict = {}

            def sided(k, s=s, kinks=kinks, proven=proven) -> bool:  # one side only: nothing to cross
                if k < len(s.kinks):
                    return s.sided[k]
                if k not in proven:
                    proven[k] = s.one_sided(kinks[k])
                return proven[k]

            found = cols.cover(list(range(len(kinks))), np.random.default_rng(CHECK_SEED), sided)
            missing = [k for k in range(len(kinks)) if k not in found and not sided(k)]
        else:
            found, missing = [k for k in range(len(kinks)) if k not in s.uncrossed], list(s.uncrossed)

        def described(k, s=s, kinks=kinks):
            return s.described[k] if k < len(s.kinks) else ev.describe(kinks[k])

        cover.crossed += [described(k) for k in found]
        cover.uncrossed += [described(k) for k in missing]
    cover.crossed, cover.uncrossed = _unique(cover.crossed), _unique(cover.uncrossed)
    mags = [s.magnitudes for s, *_ in parts if s.magnitudes]
    cover.magnitudes = (min(m[0] for m in mags), max(m[1] for m in mags)) if mags else None
    return cover


def numbers(parts: list, ref: Reference) -> Numbers:
    answer = np.hstack([c.A for _, c, *_ in parts])
    expected = np.hstack([c.expected for _, c, *_ in parts])
    points, leaves = [], {}
    for s, c, *_ in parts:
        points += [Point(dict(zip(ref.leaf_symbols, c.X[:, n])), s.classes) for n in range(c.X.shape[1])]
    for n, sym in enumerate(ref.inputs):
        leaves[sym] = np.concatenate([c.env[n] for _, c, *_ in parts]).astype(float)
    return Numbers(answer, expected, ref.assignments, points, leaves)


def compare(reading: Reading, ref: Reference, budget: float | None = 1.0) -> Comparison:
    if reading.form == "matrix":
        got = reading.matrix.shape
        want = ref.shape
        fits = (got == (1, 1) and want == ()) or (len(want) == 1 and got in ((want[0], 1), (1, want[0]))) or got == want
        if not fits:
            return Comparison(False, None, None, shape=got, expected_shape=want,
                              evidence=ev.Evidence("shape", "the shapes differ"))
    parts, padded = attach(reading, ref)
    padding = f"; ∂C/∂{ref.d.definition.output.name} outside its range taken as 0 (zero padding)" if padded else ""
    differs = _differs(reading, ref, parts, numbers(parts, ref))  # most wrong answers show it before crossing
    if differs is not None:
        return differs
    cover = cross(parts)
    nums = numbers(parts, ref)
    differs = _differs(reading, ref, parts, nums)
    if differs is not None:
        return differs
    count = int(np.isfinite(nums.expected).all(axis=0).sum())
    numeric = ev.numeric_text(count, ref.patterns(), cover.crossed, cover.magnitudes) + padding
    if cover.uncrossed:
        symbolic, how = confirm(reading, ref, budget)
        if symbolic:
            text = f"proven symbolically: {how}; {numeric}"
            return Comparison(True, nums, True, evidence=_evidence("symbolic", text, count, ref, cover, nums, how))
        names = ev.listed(cover.uncrossed)
        one = len(cover.uncrossed) == 1
        note = (f"the values agree at all {count} points checked, but "
                f"{'this threshold was' if one else 'these thresholds were'} never seen on both sides: {names} "
                f"(no sampled point reached the other side), and no symbolic proof was found ({how})")
        return Comparison(None, nums, symbolic, note=note, evidence=_evidence("none", note, count, ref, cover, nums))
    if index_proof(reading, ref):
        how = "equal in index form after contracting δ"
        return Comparison(True, nums, True, evidence=_evidence("symbolic", f"proven symbolically: {how}; {numeric}",
                                                               count, ref, cover, nums, how))
    return Comparison(True, nums, None, evidence=_evidence("numeric", numeric, count, ref, cover, nums))


def _differs(reading, ref, parts, nums) -> Comparison | None:
    """The comparison when the numbers differ (or cannot be trusted to agree); None when they agree."""
    agree = close(nums.answer, nums.expected)
    if agree.all():
        return None
    witness, checked_all = _confirmed(reading, ref, parts, nums, agree)
    if witness is not None:
        text = "a counterexample: the values differ at a point, confirmed at 30 digits"
        return Comparison(False, nums, False, evidence=ev.Evidence("counterexample", text), witness=witness)
    if not checked_all:
        note = "the numbers disagree in double precision but agree at 30 digits at the points re-checked"
        return Comparison(None, nums, None, note=note, evidence=ev.Evidence("none", note))
    return None


def _evidence(kind, text, count, ref, cover, nums, how: str = "") -> ev.Evidence:
    return ev.Evidence(kind, text, count, ref.patterns(), list(cover.crossed), list(cover.uncrossed),
                       cover.magnitudes, how)


def _confirmed(reading, ref, parts, nums, agree, most: int = 4) -> tuple:
    """(row, column) of a difference that holds at 30 digits, and whether every difference was re-checked."""
    bad = np.argwhere(~agree)
    for row, col in bad[:most]:
        if _differs_precisely(reading, ref, parts, nums, int(row), int(col)):
            return (int(row), int(col)), True
    return None, len(bad) <= most


def _differs_precisely(reading, ref, parts, nums, row, col) -> bool:
    """True if the entry differs at 30 digits: compiled to mpmath, or (if that cannot) through SymPy."""
    for s, cols, _, exprs in parts:
        if col >= cols.X.shape[1]:
            col -= cols.X.shape[1]
            continue
        leaves = list(cols.X[:, col])
        try:
            named, expected = s.precise(leaves, row)
            if any(v is None for v in named):
                break
            got = compile_mp([exprs[row]], ref.inputs)(leaves + named)[0]
        except (TypeError, ValueError, KeyError, AttributeError, NotImplementedError, SyntaxError):
            break
        if got is None or expected is None or mpmath.isnan(got) or mpmath.isnan(expected):
            return (got is None or mpmath.isnan(got)) != (expected is None or mpmath.isnan(expected))
        return abs(got - expected) > 1e-15 * (1 + abs(expected))
    return _differs_sympy(reading, ref, nums, row, col)


def _differs_sympy(reading, ref, nums, row, col) -> bool:
    d, point = ref.d, nums.points[col]
    a = ref.assignments[row]
    try:
        ans = concrete(list(reading.matrix)[row], d, {}, point) if reading.form == "matrix" else \
            concrete(reading.expr, d, a, point)
        exp = concrete(d.result, d, a, point)
        va, ve = value(ans, point), value(exp, point)
    except (TypeError, ValueError, ZeroDivisionError):
        return True
    if cmath.isnan(va) or cmath.isnan(ve):
        return cmath.isnan(va) != cmath.isnan(ve)
    return abs(va - ve) > 1e-15 * (1 + abs(ve))
