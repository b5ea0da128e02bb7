"""Evidence for a verdict: the thresholds of both expressions, and points on both sides of each.

Two expressions that agree at sampled points may still differ on a region no sample reached. A
region is bounded by thresholds: functions g of the point whose sign picks a branch — the argument
of 1[·] or Heaviside, the difference of the arguments of max/min, the argument of |·| and sign, a
piecewise condition, the base of a fractional power or the argument of a log (real on one side only). Agreement counts as evidence only once both
sides of every threshold of either expression were visited.

Sides are found without solving g = 0. Two sampled points of one family (so the segment between
them stays in every domain) where g has opposite signs bracket a crossing; the segment is refined
on a grid until one cell holds the change of sign of g and of no other threshold (or is as narrow
as floating point allows, when two thresholds coincide). The two ends of that cell lie on the two
sides of g, each in the region the other thresholds give it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

GRID = 8  # cells on a segment at first
SPLIT = 2  # each cell that holds two changes of sign is cut in two (bisection: fewest evaluations)
ROUNDS = 24  # of cutting: cells down to 8⁻¹·2⁻²⁴ ≈ 7·10⁻⁹ of the segment
NARROWEST = 1e-8
NAN_CLASS = 9.0


# ------------------------------------------------------------------------------ thresholds


def thresholds(expr) -> list:
    """Every threshold argument g of a SymPy expression (the kink is at g = 0), without repeats."""
    out = []
    for e in sp.preorder_traversal(expr):
        name = type(e).__name__
        if isinstance(e, sp.Heaviside) or name == "InertHeaviside":
            out.append(e.args[0])
        elif isinstance(e, (sp.Max, sp.Min)) or name in ("InertMax", "InertMin"):
            out += [a - b for a, b in itertools.combinations(e.args, 2)]
        elif isinstance(e, (sp.Abs, sp.sign)):
            out.append(e.args[0])
        elif isinstance(e, sp.Piecewise):
            for _, cond in e.args:
                rels = [cond] if isinstance(cond, sp.core.relational.Relational) else \
                    sorted(cond.atoms(sp.core.relational.Relational), key=sp.default_sort_key) if isinstance(cond, sp.Basic) else []
                out += [r.lhs - r.rhs for r in rels if not isinstance(r, (sp.Eq, sp.Ne))]
        elif isinstance(e, sp.Pow) and e.exp.is_number and e.exp.is_integer is False:
            out.append(e.base)
        elif isinstance(e, sp.log):  # a branch point: real on one side of 0 only
            out.append(e.args[0])
    seen, unique = set(), []
    for g in out:
        g = sp.sympify(g)
        if g.free_symbols and g not in seen:
            seen.add(g)
            unique.append(g)
    return unique


def _plain(s) -> str:
    if isinstance(s, sp.Indexed):
        return f"{_pretty(s.base.name)}_{''.join(str(i) for i in s.indices)}"
    return _pretty(getattr(s, "name", str(s)))


def _pretty(name: str) -> str:
    from derive.check.feedback import pretty

    return pretty(name)


def describe(g) -> str:
    """`x = 6` for the threshold 6 − x, else `g = 0`, in plain names (x_1, ∂C/∂y_2, β)."""
    atoms = sorted(g.atoms(sp.Indexed) | {s for s in g.free_symbols if not isinstance(s, sp.Indexed)
                                          and not any(s == a.base.label for a in g.atoms(sp.Indexed))},
                   key=sp.default_sort_key)
    if len(atoms) == 1:
        s = atoms[0]
        try:
            poly = sp.Poly(g, s)
        except sp.PolynomialError:
            poly = None
        if poly is not None and poly.degree() == 1:
            a, b = poly.all_coeffs()
            return f"{_plain(s)} = {_number(-b / a)}"
    names = {a: sp.Symbol(_plain(a)) for a in atoms}
    return f"{sp.sstr(g.xreplace(names)).replace('**', '^')} = 0"


def _number(v) -> str:
    if v.is_Integer:
        return str(v)
    try:
        return f"{float(v):.6g}"
    except TypeError:
        return sp.sstr(v)


# ------------------------------------------------------------------------------ crossings


@dataclass(frozen=True)
class Crossing:
    """Threshold `kink` changes sign between a + t_lo·(b − a) and a + t_hi·(b − a)."""

    kink: int
    a: int  # column of the sample
    b: int
    t_lo: float
    t_hi: float


def classes(V: np.ndarray) -> np.ndarray:
    """The sign of each value, a class of its own where it cannot be evaluated."""
    with np.errstate(invalid="ignore"):
        C = np.sign(V)
    C[~np.isfinite(V) & ~np.isinf(V)] = NAN_CLASS
    return C


def _pairs(C: np.ndarray, cols: np.ndarray):
    """For every pair of columns: which thresholds change (dirty) and which cross (finite both sides)."""
    Cf = C[:, cols]
    dirty = Cf[:, :, None] != Cf[:, None, :]
    finite = Cf != NAN_CLASS
    return dirty, dirty & finite[:, :, None] & finite[:, None, :]


def find(V: np.ndarray, family: np.ndarray, need: list, along) -> dict:
    """A Crossing for every threshold in `need` that changes sign within a family; `along(a, b, ts)`
    gives every threshold's values (thresholds × ts) at a + t·(b − a).

    Thresholds with the same values at every point (the answer's 1[s > 0] and the reference's ReLU
    at s) are one threshold: they change sign together, so neither could ever change alone."""
    if V.shape[0] == 0:
        return {}
    first: dict = {}
    rep = [first.setdefault(np.round(row, 12).tobytes(), k) for k, row in enumerate(V)]
    unique = sorted(set(rep))
    if len(unique) < V.shape[0]:
        where = {k: n for n, k in enumerate(unique)}
        sub = _find(V[unique], family, sorted({where[rep[k]] for k in need}),
                    lambda a, b, ts: np.asarray(along(a, b, ts))[unique])
        return {k: Crossing(k, c.a, c.b, c.t_lo, c.t_hi) for k in need
                if (c := sub.get(where[rep[k]])) is not None}
    return _find(V, family, need, along)


def _find(V: np.ndarray, family: np.ndarray, need: list, along) -> dict:
    C = classes(V)
    found: dict = {}
    fams = []
    for f in np.unique(family):
        cols = np.flatnonzero(family == f)
        if len(cols) >= 2:
            dirty, cross = _pairs(C, cols)
            fams.append((cols, dirty, cross, dirty.sum(axis=0)))
    # Two sampled points where this threshold alone changes: its two sides, no refining needed.
    for cols, dirty, cross, ndirty in fams:
        alone = cross & (ndirty == 1)[None]
        for k in need:
            if k not in found and alone[k].any():
                u, v = np.argwhere(alone[k])[0]
                found[k] = Crossing(k, int(cols[u]), int(cols[v]), 0.0, 1.0)
    used = [np.tril(np.ones(dirty.shape[1:], dtype=bool)) for _, dirty, _, _ in fams]
    while True:
        todo = [k for k in need if k not in found]
        if not todo:
            break
        best, score = None, 0
        for n, (cols, dirty, cross, ndirty) in enumerate(fams):
            counts = np.where(used[n], -1, cross[todo].sum(axis=0) * 1000 - ndirty)
            u, v = np.unravel_index(np.argmax(counts), counts.shape)
            if counts[u, v] > score:
                best, score = (n, u, v), counts[u, v]
        if best is None:
            break
        n, u, v = best
        used[n][u, v] = True
        a, b = int(fams[n][0][u]), int(fams[n][0][v])
        for k, (lo, hi) in segment(a, b, along, need).items():
            if k in need and k not in found:
                found[k] = Crossing(k, a, b, lo, hi)
    return found


def segment(a: int, b: int, along, need: list) -> dict:
    """{threshold: (t_lo, t_hi)}: a cell of a → b where it changes sign, alone if it can be."""
    ts = np.linspace(0.0, 1.0, GRID + 1)
    V = np.asarray(along(a, b, ts), dtype=float)
    wanted = np.zeros(V.shape[0], dtype=bool)
    wanted[list(need)] = True
    for _ in range(ROUNDS):
        C = classes(V)
        dirty = C[:, :-1] != C[:, 1:]
        cross = dirty & (C[:, :-1] != NAN_CLASS) & (C[:, 1:] != NAN_CLASS)
        alone = cross & (dirty.sum(axis=0) == 1)
        pending = wanted & cross.any(axis=1) & ~alone.any(axis=1)
        cut = np.flatnonzero(cross[pending].any(axis=0) & (dirty.sum(axis=0) > 1) & (np.diff(ts) > NARROWEST))
        if not pending.any() or cut.size == 0:
            break
        new = np.concatenate([np.linspace(ts[c], ts[c + 1], SPLIT + 1)[1:-1] for c in cut])
        Vn = np.asarray(along(a, b, new), dtype=float)
        order = np.argsort(np.concatenate([ts, new]), kind="stable")
        ts = np.concatenate([ts, new])[order]
        V = np.concatenate([V, Vn], axis=1)[:, order]
    C = classes(V)
    dirty = C[:, :-1] != C[:, 1:]
    cross = dirty & (C[:, :-1] != NAN_CLASS) & (C[:, 1:] != NAN_CLASS)
    ndirty = dirty.sum(axis=0)
    width = np.diff(ts)
    out = {}
    for k in np.flatnonzero(cross.any(axis=1)):
        cells = np.flatnonzero(cross[k])
        clean = cells[ndirty[cells] == 1]
        c = clean[0] if clean.size else cells[np.argmin(width[cells])]
        out[int(k)] = (float(ts[c]), float(ts[c + 1]))
    return out


# ------------------------------------------------------------------------------ the evidence


@dataclass
class Evidence:
    """What a verdict rests on; `text` says it in a sentence, `to_json` as data."""

    kind: str  # symbolic | numeric | counterexample | shape | none
    text: str
    points: int = 0
    patterns: int = 0
    thresholds: list = field(default_factory=list)  # descriptions, each crossed
    uncrossed: list = field(default_factory=list)  # descriptions, never seen on both sides
    magnitudes: tuple | None = None
    symbolic: str = ""

    def to_json(self) -> dict:
        out = {"kind": self.kind, "text": self.text}
        if self.points:
            out.update(points=self.points, index_patterns=self.patterns, thresholds=list(self.thresholds))
        if self.uncrossed:
            out["uncrossed"] = list(self.uncrossed)
        if self.magnitudes:
            out["magnitudes"] = [round(self.magnitudes[0], 6), round(self.magnitudes[1], 6)]
        if self.symbolic:
            out["symbolic"] = self.symbolic
        return out


def listed(items: list, most: int = 4) -> str:
    items = list(dict.fromkeys(items))
    if len(items) <= most:
        return ", ".join(items)
    return ", ".join(items[:most]) + f", and {len(items) - most} more"


def numeric_text(points: int, patterns: int, crossed: list, mags: tuple | None, sets: str = "",
                 count: int | None = None) -> str:
    """`numeric agreement at 24 points in 6 index patterns, both sides of 2 thresholds (x = 0, x = 6),
    magnitudes 0.01–10`."""
    parts = [f"numeric agreement at {points} points"]
    if patterns > 1:
        parts[0] += f" in {patterns} index patterns"
    if sets:
        parts[0] += f" {sets}"
    names = list(dict.fromkeys(crossed))
    count = len(names) if count is None else count
    if names:
        parts.append(f"both sides of {count} threshold{'s' * (count != 1)} ({listed(names)})")
    else:
        parts.append("no thresholds")
    if mags:
        parts.append(f"magnitudes {_mag(mags[0])}–{_mag(mags[1])}")
    return ", ".join(parts)


def _mag(v: float) -> str:
    return f"{v:.2g}" if v < 1 else f"{v:.3g}"


def patterns(rows: list) -> int:
    """How many index patterns (which indices are equal) the entries visit: i = j, i ≠ j, …"""
    seen = set()
    for row in rows:
        values = list(row.values())
        seen.add(tuple(tuple(n for n, w in enumerate(values) if w == v) for v in values))
    return max(len(seen), 1)
