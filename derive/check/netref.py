"""The expected gradient of a network at covering points, and both sides of every threshold.

The expected values are what the network's own generated NumPy code computes. Points come in two
sets of distinct, non-square sizes; inputs take both signs, x and the targets magnitudes from 10⁻²
to 10¹, weights and biases up to 1 (so a deep chain stays finite). A one-hot target is discrete:
points come in families that share it, and a segment between two points of one family keeps it.

Thresholds (derive/check/evidence.py) are the reference's — each entry of s_k under a ReLU-like
activation, read from the derivative the network uses — and the answer's own (1[·], max, |·| …,
recorded by the evaluator). `cover` visits both sides of each, per entry, by refining segments.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from derive.check import evidence as ev
from derive.model.notation import written as written_name  # a loop below names its own `written`

PER_SET = 8  # points in each set of sizes
EXTRA = 8  # random points added to a family when a threshold does not change sign
TRIES = 2
CHECK_SEED = 2024
# Two sets of sizes, every width distinct from the others and from N, so no transpose can hide.
SIZES = ((4, 3, 5, 2, 6, 7, 8), (3, 5, 2, 4, 7, 6, 8))
SAMPLES = (9, 10)  # N for a batch network
ONE_HOT = ("softmax_cross_entropy", "cross_entropy")


@dataclass
class Point:
    sizes: dict  # d0, d1, …, N
    inputs: dict  # code name -> array (X, Y, W1, b1, …, alpha1), vectors as columns
    values: dict  # answer name -> 2-D array (x, W1, s1, z1, yhat, y, delta1, …)
    upstream: dict  # answer name q -> ∂L/∂q as a 2-D array
    fprime: dict  # k -> f_k′(s_k) as a 2-D array
    expected: np.ndarray
    kinks: list = field(default_factory=list)  # the reference's thresholds here, one array each
    group: int = 0  # which set of sizes
    family: int = 0  # points of one family share a one-hot target
    loss: float = float("nan")  # the loss's value here, for a claim about it
    grads: dict = field(default_factory=dict)  # code name -> every parameter's gradient, for a claim about one


class NetworkReference:
    """The network's quantities, gradient and thresholds at every point, from its own NumPy code."""

    def __init__(self, d, seed: int = 11):
        from derive.network.backprop import backprop
        from derive.network.codegen import compile_numpy, numpy_expr
        from derive.network.codegen import hyperparameter_names as _hypers
        from derive.network.codegen import size_code as _sizes
        from derive.network.names import LayerNames

        self.d, self.net, self.wrt = d, d.network, d.wrt
        net = self.net
        self.names = LayerNames(net)
        self.bp = bp = backprop(net)
        self.f = compile_numpy(net, trace=True, per_call=True)  # α sampled with the other inputs
        sizes = _sizes(net)
        self.up_code = numpy_expr(bp.signals[0].upstream, sizes)
        self.fprime_code = {s.k: numpy_expr(s.derivative, sizes) for s in bp.signals if s.derivative is not None}
        self.written = {k.lower(): name.text for k, name in self.names.written.items()}  # a sheet's names
        self.kink_code = []  # (NumPy code, description, in the sheet's names) of each threshold the reference has
        for s in bp.signals:
            for expr in (s.derivative, s.upstream if isinstance(s.upstream, sp.Basic) else None):
                for g in ev.thresholds(expr) if expr is not None else ():
                    if _one_signed(g):  # log(eˢ + 1) in mish: a branch point no real input reaches
                        continue
                    self.kink_code.append((numpy_expr(g, sizes), _describe(g, self.said)))
        self.hypers = _hypers(net)
        self._plan()
        self.aliases = _aliases(net, self.names)
        self.onehot = net.loss.name in ONE_HOT
        self.rng = np.random.default_rng(seed)
        self.points = []
        for g in range(len(SIZES)):
            self.points += self.draw(g, PER_SET, structured=True)
        self.mags = self._magnitudes()
        found = cover(self, self.points, None)  # both sides of the reference's own thresholds, once
        self.points += found.ends
        self.uncrossed = found.uncrossed

    # -------------------------------------------------------------------------- points
    def draw(self, group: int, count: int, structured: bool = False, rng=None) -> list:
        """`count` random points of one set of sizes (in two families when the target is one-hot)."""
        widths, n = SIZES[group], SAMPLES[group] if self.net.batch else 1
        families = 2 if self.onehot else 1
        rng = self.rng if rng is None else rng
        out = []
        for f in range(families):
            target = _target(self.net, widths, n, rng)
            for m in range(count // families):
                kind = m + f * (count // families) if structured else None
                inputs = _inputs(self.net, widths, n, rng, kind, self.hypers)
                if self.onehot:
                    inputs["Y"] = target
                p = self.point(inputs, group, f)
                if np.all(np.isfinite(p.expected)):
                    out.append(p)
        return out

    def _plan(self) -> None:
        """Names and compiled expressions `point` uses, worked out once."""
        from derive.network.codegen import code_name

        net, bp = self.net, self.bp
        self._rows = [(r.lhs.base.name.lower(), code_name(r.lhs.base.name)) for r in bp.forward if r is not bp.loss_row]
        self._signals = [(s.k, code_name(s.name)) for s in bp.signals]
        self._up = compile(self.up_code, "<derive: upstream>", "eval")
        self._fprime = {k: compile(c, "<derive: f'>", "eval") for k, c in self.fprime_code.items()}
        self._kinks = [compile(c, "<derive: threshold>", "eval") for c, _ in self.kink_code]
        self._grad = code_name(self.wrt)
        self._top = self.names.out[net.depth].lower()
        self._pre = {s.k: self.names.pre[s.k].lower() for s in bp.signals}
        self._out = {s.k: self.names.out[s.k - 1].lower() for s in bp.signals if s.k > 1}

    def point(self, inputs: dict, group: int, family: int) -> Point:
        """Every quantity of the network at `inputs`, recomputed from them."""
        net = self.net
        with np.errstate(all="ignore"):
            _loss, grads, trace = self.f(inputs["X"], inputs["Y"], **{p: inputs[p] for p in net.params},
                                         **{h: inputs[h] for h in self.hypers})
        env = {"np": np, "math": math, **inputs, **trace}  # math: erf, applied entry by entry (GELU)
        values = {"x": inputs["X"], "y": inputs["Y"]}
        for p in net.params:
            values[p.lower()] = inputs[p] if p[0] == "W" else inputs[p][:, None]
        for h in self.hypers:
            values[h.lower()] = np.array([[inputs[h]]])
        for name, code in self._rows:
            values[name] = trace[code]
        for k, code in self._signals:
            values[f"delta{k}"] = trace[code]
        with np.errstate(all="ignore"):  # our own generated expressions, evaluated on our arrays
            top = np.broadcast_to(eval(self._up, env), values["y"].shape)
            fprime = {k: np.broadcast_to(eval(c, env), trace[f"S{k}"].shape) for k, c in self._fprime.items()}
            kinks = [np.asarray(eval(c, env), dtype=float) for c in self._kinks]
        upstream = {self._top: top}
        for k, _ in self._signals:
            upstream[self._pre[k]] = values[f"delta{k}"]
            if k > 1:
                upstream[self._out[k]] = inputs[f"W{k}"].T @ values[f"delta{k}"]
        g = grads[self._grad]
        expected = g[:, None] if g.ndim == 1 else g
        widths = SIZES[group]
        sizes = {f"d{k}": widths[k] for k in range(net.depth + 1)}
        if net.batch:
            sizes["N"] = inputs["X"].shape[1]
        return Point(sizes, inputs, values, upstream, fprime, expected, kinks, group, family, float(_loss), grads)

    def said(self, key: str) -> str:
        """A quantity as the sheet writes it (z₃ for s2 on NYU's two-layer sheet), else derive's own name."""
        from derive.check.nettext import _pretty

        return self.written.get(key.lower(), _pretty(key, self.net.batch))

    def allowed(self) -> str:
        spelled = {a for a, k in self.aliases.items() if k in self.written}  # z_3 for s2: shown once, as z₃
        names = sorted(set(self.points[0].values) | (set(self.aliases) - spelled))
        return ", ".join([self.said(n) for n in names] +
                         [f"∂L/∂{self.said(q)}" for q in sorted(self.points[0].upstream)])

    def magnitudes(self) -> tuple | None:
        """The smallest and largest magnitude of x and of a real target at the sampled points."""
        return self.mags

    def _magnitudes(self) -> tuple | None:
        mags = [np.abs(p.inputs[k]).ravel() for p in self.points for k in ("X", "Y") if k in p.inputs]
        a = np.concatenate(mags) if mags else np.empty(0)
        a = a[np.isfinite(a) & (a > 0)]
        return (float(a.min()), float(a.max())) if a.size else None


def _one_signed(g) -> bool:
    """Whether g keeps one strict sign for every real value of the network's quantities."""
    if sp.count_ops(g) > 40:  # SymPy's assumptions take seconds on a large expression
        return False
    try:
        real = g.xreplace({a: sp.Dummy(real=True) for a in g.atoms(sp.Indexed)})
        return bool(real.is_positive or real.is_negative)
    except (TypeError, ValueError, RecursionError):
        return False


def _describe(g, said) -> str:
    names = {a: sp.Symbol(said(a.base.name.lower())) for a in g.atoms(sp.Indexed)}
    return f"{sp.sstr(g.xreplace(names))} = 0"


def _aliases(net, names) -> dict:
    """Other names for a network's quantities: CS224n's h = σ(φ), φ = xW₁ + b₁, θ the logits."""
    out = {}
    if net.depth == 2 and net.stages[0].activation is not None:
        out["h"] = names.out[1].lower()
        out["phi"] = names.pre[1].lower()
    if net.loss.name == "softmax_cross_entropy":
        out["theta"] = names.pre[net.depth].lower()
    for key, written in names.written.items():  # a sheet's own names: z_3 for s2; Y_{out} for Y_{\mathrm{out}}
        for latex in dict.fromkeys((written.latex, _UPRIGHT.sub(r"\1", written.latex))):
            spelled = _spelled(latex)
            if spelled is not None and spelled != key.lower():
                out[spelled] = key.lower()
    for key, value, layer in getattr(net, "also", ()):  # a sheet's further spellings: Y_3 for Y_out
        spelled = _spelled(written_name(value, layer).latex)
        if spelled is not None and spelled != key.lower():
            out.setdefault(spelled, key.lower())
    top, keys = names.out[net.depth].lower(), {k.lower() for k in names.written}
    for letter in "zs":  # Z = "Z_k": the output layer's Z_3 is Y_out (and S_2 too where it has no activation)
        family = next((v for k, v, layer in getattr(net, "names", ()) if layer is not None and k[0].lower() == letter
                       and not k.lower().startswith("delta")), None)
        spelled = _spelled(written_name(family, net.depth).latex) if family else None
        if spelled is not None and spelled not in out and spelled not in keys and \
                (letter == "z" or names.pre[net.depth].lower() == top):
            out[spelled] = top
    return out


_UPRIGHT = re.compile(r"\\(?:mathrm|text|operatorname)\{([A-Za-z]+)\}")  # a word subscript, as a student types it


def _spelled(latex: str) -> str | None:
    """The name key a written name reads as (z_{1} → z1), by the answer reader itself; None if none."""
    from derive.check.nettext import name_key
    from derive.check.parse import parse
    from derive.check.screen import InvalidAnswer

    try:
        return name_key(parse(latex))
    except (InvalidAnswer, ValueError):
        return None


def _signed(rng, shape, low: float, high: float, kind: int | None = None) -> np.ndarray:
    mag = 10 ** rng.uniform(np.log10(low), np.log10(high), size=shape)
    sign = rng.choice((-1.0, 1.0), size=shape)
    if kind == 0:
        sign = np.ones(shape)
    elif kind == 1:
        sign = -np.ones(shape)
    elif kind == 2:
        mag = np.full(shape, low)
    elif kind == 3:
        mag = np.full(shape, high)
    return sign * mag


def _inputs(net, widths, n, rng, kind: int | None = None, hypers=()) -> dict:
    """Inputs of both signs: x (and a real target) with magnitudes 10⁻²…10¹, weights and biases up to 1;
    `kind` 0–3: x all positive, all negative, all of magnitude 10⁻², all of magnitude 10¹."""
    out = {"X": _signed(rng, (widths[0], n), 1e-2, 1e1, kind)}
    for s in net.stages:
        out[f"W{s.k}"] = _signed(rng, (widths[s.k], widths[s.k - 1]), 1e-2, 1.0)
        if s.bias:
            out[f"b{s.k}"] = _signed(rng, (widths[s.k],), 1e-2, 1.0)
    for h in hypers:
        out[h] = float(10 ** rng.uniform(-2, 0))
    out["Y"] = _target(net, widths, n, rng)
    return out


def _target(net, widths, n, rng) -> np.ndarray:
    """A one-hot target for cross-entropy, (0, 1) for BCE, real otherwise."""
    rows = widths[net.depth]
    if net.loss.name in ONE_HOT:
        Y = np.zeros((rows, n))
        Y[rng.integers(0, rows, size=n), np.arange(n)] = 1.0
        return Y
    if net.loss.name.startswith("bce"):
        return rng.uniform(0.05, 0.95, size=(rows, n))
    return _signed(rng, (rows, n), 1e-2, 1e1)


_REFERENCES: dict = {}


def network_reference(d) -> NetworkReference:
    key = (d.network.spec, d.wrt, d.network.names)  # a sheet's own names read differently (z_3 is s2)
    if key not in _REFERENCES:
        _REFERENCES[key] = NetworkReference(d)
    return _REFERENCES[key]


# ------------------------------------------------------------------------------ crossing thresholds


@dataclass
class Covered:
    """Points visited to see both sides of every threshold, with the answer's value at each."""

    visited: list = field(default_factory=list)  # (Point, answer value or None)
    ends: list = field(default_factory=list)  # the points on either side of each crossing
    crossed: list = field(default_factory=list)  # descriptions
    count: int = 0  # thresholds crossed (entries)
    uncrossed: list = field(default_factory=list)


def _interpolate(p: Point, q: Point, t: float) -> dict:
    """The inputs at p + t·(q − p); what the two share (a one-hot target) is kept exactly."""
    return {k: v if np.array_equal(v, q.inputs[k]) else (1 - t) * v + t * q.inputs[k] for k, v in p.inputs.items()}


def cover(ref: NetworkReference, points: list, answer) -> Covered:
    """Both sides of every threshold of the reference and of `answer` (p -> (value, [(label, array)])),
    per set of sizes; `answer` None crosses the reference's own."""
    out = Covered()
    run = answer or (lambda p: (None, []))
    rng = ref.rng if answer is None else np.random.default_rng(CHECK_SEED)  # the same extra points every check
    for group in sorted({p.group for p in points}):
        pts = [p for p in points if p.group == group]
        got = [run(p) for p in pts]
        labels = _labels(ref, got[0][1] if got else [], pts[0] if pts else None)
        V = np.stack([_vector(p, ks) for p, (_, ks) in zip(pts, got)], axis=1)
        family = np.array([p.family for p in pts])
        ends: dict = {}

        def along(a, b, ts, pts=pts, ends=ends):
            cols = []
            for t in ts:
                p = ref.point(_interpolate(pts[a], pts[b], float(t)), pts[a].group, pts[a].family)
                value, ks = run(p)
                out.visited.append((p, value))
                ends[a, b, float(t)] = p
                cols.append(_vector(p, ks))
            return np.stack(cols, axis=1)

        need = list(range(V.shape[0]))
        for attempt in range(TRIES + 1):
            found = ev.find(V, family, need, along)
            if len(found) == len(need) or attempt == TRIES:
                break
            new = ref.draw(group, EXTRA * (2 if ref.onehot else 1), rng=rng)
            for p in new:
                if ref.onehot:
                    p.family += 2 * (attempt + 1)  # new targets: families of their own
                value, ks = run(p)
                out.visited.append((p, value))
                pts.append(p)
                V = np.hstack([V, _vector(p, ks)[:, None]])
            family = np.array([p.family for p in pts])
        for c in found.values():
            if (c.t_lo, c.t_hi) != (0.0, 1.0):
                out.ends += [ends[c.a, c.b, c.t_lo] if c.t_lo != 0.0 else pts[c.a],
                             ends[c.a, c.b, c.t_hi] if c.t_hi != 1.0 else pts[c.b]]
        out.count += len({(c.a, c.b, c.t_lo, c.t_hi) for c in found.values()})  # one per distinct threshold
        out.crossed += [labels[k] for k in found]
        out.uncrossed += [labels[k] for k in need if k not in found]
    out.crossed, out.uncrossed = list(dict.fromkeys(out.crossed)), list(dict.fromkeys(out.uncrossed))
    out.ends = list({id(p): p for p in out.ends}.values())
    return out


def _vector(p: Point, kinks: list) -> np.ndarray:
    parts = [np.ravel(k) for k in p.kinks] + [np.ravel(k) for _, k in kinks]
    return np.concatenate(parts).astype(float) if parts else np.empty(0)


def _labels(ref: NetworkReference, kinks: list, p: Point | None) -> list:
    """A description per threshold entry: the reference's first, then the answer's."""
    out = []
    if p is not None:
        for (_, text), k in zip(ref.kink_code, p.kinks):
            out += [f"entries of {text}"] * np.size(k)
    for label, k in kinks:
        out += [f"entries of {label}"] * np.size(k)
    return out
