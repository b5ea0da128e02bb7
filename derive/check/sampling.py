"""Where a module answer is evaluated: points that cover signs, magnitudes and discrete settings.

Every real entry takes both signs and magnitudes from 10⁻² to 10¹ (log-uniform, and whole points
at the ends of that range); positive ones the same magnitudes; entries in (0, 1) reach near both
ends; a probability vector is a softmax of scaled normals, flat or peaked. A class index and a
one-hot target are discrete: they are fixed within a *family* of points, so a segment between two
points of one family (a convex combination) stays in every domain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from derive.check import evidence as ev
from derive.concrete import entries as _entries
from derive.concrete import var_size

LOW, HIGH = 1e-2, 1e1  # the magnitudes a real or positive entry takes
PER_FAMILY = 16  # points in a family: the structured ones, then random ones
EXTRA = 64  # random points added to a family when a threshold does not change sign on the first ones
TRIES = 3  # times that many


@dataclass(frozen=True)
class Leaf:
    """One entry the answer can depend on, and the domain it is drawn from."""

    symbol: object  # Symbol or Indexed with integer indices
    var: object  # its Var
    position: int  # which entry of its vector (for a probability vector)


def leaves(d) -> list:
    """Every entry of every input, parameter and upstream gradient, in a fixed order."""
    defn = d.definition
    out = []
    for var in (*defn.inputs, *defn.others) + ((d.upstream,) if d.upstream is not None else ()):
        if var.domain == "class":
            continue
        out += [Leaf(e, var, n) for n, e in enumerate(_entries(var, defn.sizes))]
    return out


def class_vars(d) -> list:
    return [v for v in (*d.definition.inputs, *d.definition.others) if v.domain == "class"]


def families(d) -> list:
    """(classes, hot) per family: each class index and each one-hot target in a different place."""
    defn = d.definition
    onehot = [v for v in (*defn.inputs, *defn.others) if v.domain == "onehot"]
    classes = class_vars(d)
    if not onehot and not classes:
        return [({}, {})]
    count = int(defn.sizes[var_size(defn)])
    firsts = (1, count, 2 if count > 2 else 1)
    out = []
    for f in range(3 if onehot else 2):
        cls = {v.symbol: firsts[f] for v in classes}
        hot = {v.name: (f % int(defn.sizes[v.shape[0]])) for v in onehot}
        out.append((cls, hot))
    return out


STRUCTURED = 6  # points: every real entry positive, every one negative, then ±10⁻² and ±10¹ throughout


def draw(leafs: list, hot: dict, n: int, rng: np.random.Generator, structured: bool = True) -> np.ndarray:
    """Values of every leaf at `n` points (leaves × points); the first STRUCTURED ones, if asked, with
    every real entry positive, every one negative, every one 10⁻², −10⁻², 10¹, −10¹ (positive ones
    at 10⁻², 10⁻², 10¹, 10¹ there)."""
    out = np.empty((len(leafs), n))
    probs: dict = {}
    for r, leaf in enumerate(leafs):
        domain = leaf.var.domain
        if domain in ("real", "positive"):
            mag = 10 ** rng.uniform(np.log10(LOW), np.log10(HIGH), size=n)
            sign = rng.choice((-1.0, 1.0), size=n) if domain == "real" else np.ones(n)
            if structured and n >= STRUCTURED:
                mag[2:6] = LOW, LOW, HIGH, HIGH
                if domain == "real":
                    sign[0:6] = 1.0, -1.0, 1.0, -1.0, 1.0, -1.0
            out[r] = sign * mag
        elif domain == "unit":
            out[r] = 1 / (1 + np.exp(-rng.uniform(-4.5, 4.5, size=n)))
        elif domain == "onehot":
            out[r] = float(leaf.position == hot.get(leaf.var.name, 0))
        elif domain == "prob":
            if leaf.var.name not in probs:
                size = sum(1 for lf in leafs if lf.var is leaf.var)
                scale = 10 ** rng.uniform(-1, 0.8, size=n)
                z = rng.standard_normal((size, n)) * scale
                p = np.exp(z - z.max(axis=0))
                probs[leaf.var.name] = p / p.sum(axis=0)
            out[r] = probs[leaf.var.name][leaf.position]
        else:  # a domain this sampler does not know: the verifier's own range
            out[r] = rng.uniform(0.2, 1.0, size=n)
    return out


def magnitudes(leafs: list, X: np.ndarray) -> tuple | None:
    """The smallest and largest magnitude a real or positive entry took."""
    rows = [r for r, leaf in enumerate(leafs) if leaf.var.domain in ("real", "positive")]
    if not rows or X.size == 0:
        return None
    a = np.abs(X[rows])
    a = a[np.isfinite(a) & (a > 0)]
    return (float(a.min()), float(a.max())) if a.size else None


# ------------------------------------------------------------------------------ points and values


class Columns:
    """Points of one class setting, and every value there: leaves, named quantities, the expected
    entries, the reference's thresholds and, once an answer is attached, its entries and thresholds."""

    def __init__(self, setting, answer=None, n_answer: int = 0):
        self.s, self.answer, self.n_answer = setting, answer, n_answer
        self.X = np.empty((len(setting.ref.leafs), 0))
        self.family = np.empty(0, dtype=int)
        self.env: list = [np.empty(0) for _ in setting.ref.inputs]
        self.expected = np.empty((len(setting.ref.assignments), 0), dtype=complex)
        self.K = np.empty((len(setting.kinks), 0))
        self.A = np.empty((n_answer, 0), dtype=complex)
        self.AK = np.empty((0, 0))

    def values(self, X: np.ndarray, everything: bool = True) -> dict:
        s, n = self.s, X.shape[1]
        env = list(X) + s.named(list(X), n)
        out = {"env": env, "K": stack_rows(s.kink_fn(env, n), n, len(s.kinks))}
        if everything:
            out["expected"] = stack_rows(s.expected_fn(list(X), n), n, len(s.ref.assignments), complex)
        if self.answer is not None:
            got = self.answer(env, n)
            if everything:
                out["A"] = stack_rows(got[:self.n_answer], n, self.n_answer, complex)
            out["AK"] = stack_rows(got[self.n_answer:], n, len(got) - self.n_answer)
        return out

    def add(self, X: np.ndarray, family: np.ndarray) -> None:
        v = self.values(X)
        self.X = np.hstack([self.X, X])
        self.family = np.concatenate([self.family, family])
        self.env = [np.concatenate([a, b]) for a, b in zip(self.env, v["env"])]
        self.expected = np.hstack([self.expected, v["expected"]])
        self.K = np.hstack([self.K, v["K"]])
        if self.answer is not None:
            self.A = np.hstack([self.A, v["A"]])
            self.AK = v["AK"] if self.AK.shape[1] == 0 else np.hstack([self.AK, v["AK"]])

    def thresholds(self) -> np.ndarray:
        return np.vstack([self.K, self.AK]) if self.AK.size else self.K

    def along(self, a: int, b: int, ts: np.ndarray) -> np.ndarray:
        X = self.X[:, [a]] + ts[None, :] * (self.X[:, [b]] - self.X[:, [a]])
        v = self.values(X, everything=False)
        return np.vstack([v["K"], v["AK"]]) if self.answer is not None and v["AK"].size else v["K"]

    def attach(self, answer, n_answer: int) -> Columns:
        """A copy with the answer evaluated at every point so far."""
        out = Columns(self.s, answer, n_answer)
        out.X, out.family, out.env, out.expected, out.K = self.X, self.family, self.env, self.expected, self.K
        got = answer(self.env, self.X.shape[1])
        n = self.X.shape[1]
        out.A = stack_rows(got[:n_answer], n, n_answer, complex)
        out.AK = stack_rows(got[n_answer:], n, len(got) - n_answer)
        return out

    def cover(self, need: list, rng: np.random.Generator, one_sided=None) -> dict:
        """Cross every threshold in `need`, adding random points (then the crossing points) as needed;
        a threshold `one_sided(k)` proves to have one side only needs no more points."""
        found = {}
        for attempt in range(TRIES + 1):
            found = ev.find(self.thresholds(), self.family, need, self.along)
            if attempt == 0 and one_sided is not None:
                need = [k for k in need if k in found or not one_sided(k)]
            if all(k in found for k in need) or attempt == TRIES:
                break
            self.more(rng)
        new = [c for c in found.values() if (c.t_lo, c.t_hi) != (0.0, 1.0)]
        if new:
            ts = [(c.a, c.b, t) for c in new for t in (c.t_lo, c.t_hi)]
            X = np.stack([self.X[:, a] + t * (self.X[:, b] - self.X[:, a]) for a, b, t in ts], axis=1)
            self.add(X, self.family[[a for a, _, _ in ts]])
        return found

    def more(self, rng: np.random.Generator) -> None:
        ref = self.s.ref
        for f, hot in enumerate(self.s.hots):
            self.add(draw(ref.leafs, hot, EXTRA, rng, structured=False), np.full(EXTRA, f))


def stack_rows(values: list, n: int, count: int, dtype=float) -> np.ndarray:
    out = np.empty((count, n), dtype=dtype)
    for r, v in enumerate(values):
        out[r] = v
    return out
