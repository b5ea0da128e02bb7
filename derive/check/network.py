"""Checking a matrix answer for a network gradient, e.g. ∂J/∂x of affine>sigmoid>affine>softmax_cross_entropy.

The answer is read by the same screen and lark grammar as every other answer and evaluated here,
node by node, over NumPy arrays: never as Python. The names are the network's own quantities
(x, W1, b1, s1 or φ, z1 or h, ŷ, y, δ1, ∂L/∂ŷ; upper case in a batch) plus σ′, f_k′, 1[·], ⊙, ᵀ.
The expected gradient is what the network's generated NumPy code computes, at two sets of
random, distinct, non-square sizes and several random points of both signs; nothing is hard-coded.

Conventions, decided here:
- Column convention first (vectors are columns, s_k = W_k z_{k−1} + b_k). A vector answer may be
  a row or a column.
- Row convention second (CS224n writes φ = xW₁ + b₁): every quantity is read transposed (vectors
  as rows, W_k as the matrix of z W_k, i.e. W_kᵀ here) and the answer is then the transpose of the
  gradient. It is accepted, with a note, if and only if that reading matches at every point.
- Bracketing: `A B ∘ C D` parses as (A B) ∘ (C D). Only when that does not fit in shape is the
  left-to-right reading ((A B) ∘ C) D tried; if it is right, the answer is accepted with a note
  asking for brackets.
- A chain of Jacobians (∂ℓ/∂ŷ ∂ŷ/∂z₃ …) is checked for links only: a broken chain is incorrect
  (the missing factor named); a complete one is undecided, since it states no values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from derive.check import evidence as ev
from derive.check.netclaims import claim_of, view
from derive.check.neteval import Evaluator, _delta_partials, _mixes_hadamard, left_to_right, make
from derive.check.netref import NetworkReference, Point, cover, network_reference
from derive.check.nettext import (
    _chain,
    _numbered,
    _pretty,
    answer_latex,
    check_chain,
    expected_latex,
)
from derive.check.screen import InvalidAnswer
from derive.check.unsized import Unsized, at_shape
from derive.check.verdict import Verdict, misfit
from derive.model.matexpr import ShapeError

__all__ = ["NetworkReference", "Point", "check_network", "network_reference"]

RTOL, ATOL = 1e-7, 1e-10


@dataclass
class Values:
    answers: list  # one 2-D array per point
    rows: bool
    points: list = field(default_factory=list)  # where: the reference's points unless said otherwise
    kinks: list = field(default_factory=list)  # the answer's thresholds at each point: [(label, array)]


def evaluate(node, ref: NetworkReference, rows: bool, points: list | None = None) -> Values:
    out = Values([], rows, list(points if points is not None else ref.points))
    for p in out.points:
        value, kinks = _at(node, ref, p, rows)
        out.answers.append(value)
        out.kinks.append(kinks)
    return out


def _at(node, ref: NetworkReference, p: Point, rows: bool) -> tuple:
    e = Evaluator(ref, p, rows)
    with np.errstate(all="ignore"):
        v = e(node)
    if isinstance(v, Unsized):  # the whole answer is I or 𝟏: as large as the gradient
        v = at_shape(v, p.expected.shape, make)
    return (v.T if rows else v), e.kinks


def _fits(v, e) -> np.ndarray | None:
    """The answer in the expected shape: as is, or a vector in the other orientation; else None."""
    if v.shape == e.shape:
        return v
    if e.shape[1] == 1 and v.shape == (1, e.shape[0]):
        return v.T
    return None


def matches(values: Values, ref: NetworkReference | None = None) -> bool | None:
    """True if equal at every point, False if not, None if the shapes do not fit."""
    ok = True
    for v, p in zip(values.answers, values.points):
        v = _fits(v, p.expected)
        if v is None:
            return None
        ok = ok and bool(np.all(np.isfinite(v)) and np.allclose(v, p.expected, rtol=RTOL, atol=ATOL))
    return ok


def check_network(d, answer: str, *, timeout: float | None = 2.0) -> Verdict:
    """The verdict on a matrix answer for a network gradient (see the module's conventions), or on the
    claim its left-hand side makes (derive/check/netclaims.py)."""
    from dataclasses import replace

    verdict, claim = _check(d, answer, timeout)
    return replace(verdict, claim=claim.text) if claim is not None else verdict


def _check(d, answer: str, timeout: float | None) -> tuple:
    from derive.check.compare import Budget, time_limit
    from derive.check.parse import parse
    from derive.check.symbolic import spent
    from derive.check.verdict import LIMITS, none, stopped

    expected = expected_latex(d)
    batch = d.network.batch
    parsed = claim = None
    try:
        ref = network_reference(d)  # built once per derivation, thresholds crossed: not the student's time
        with spent() as used, time_limit(timeout):
            node, claim = claim_of(_delta_partials(parse(_numbered(answer))), ref)
        ref = view(ref, claim)  # the claimed quantity at the reference's points: not the student's time either
        left = None if timeout is None else max(timeout - used(), 1e-3)
        with time_limit(left):
            pairs = _chain(node)
            if pairs is not None:  # a chain of named Jacobians, from L to what the left-hand side names
                pairs = [(ref.aliases.get(a, a), ref.aliases.get(b, b)) for a, b in pairs]  # h is z1
                end = claim.key.lower() if claim is not None and claim.kind in ("parameter", "signal") else None
                parsed, problems = check_chain(pairs, d, batch, end)
                if problems:
                    return Verdict("incorrect", parsed, expected, [p + "." for p in problems], None, answer,
                                   {"kind": "form", "text": "the chain of Jacobians does not link up"}), claim
                reason = (f"the chain rule is complete from L to {_pretty(end or d.wrt.lower(), batch)}, but it names the "
                          "factors without their values; write them out (e.g. δ1 xᵀ) to have them checked.")
                return Verdict("undecided", parsed, expected, [reason], None, answer, none(reason)), claim
            parsed = answer_latex(node, batch)
            return _judge(node, ref, d, parsed, expected, answer, claim), claim
    except (InvalidAnswer, Budget, *LIMITS) as exc:
        return stopped(exc, parsed, expected, answer, timeout), claim
    except (ValueError, ZeroDivisionError, FloatingPointError):
        reason = "the answer cannot be evaluated"
        return Verdict("invalid", parsed, expected, [reason], None, answer, none(reason)), claim


ROW_NOTE = ("read in the row convention (vectors as rows, s = zW + b, so W there is Wᵀ here): your answer is "
            "the transpose of the gradient in this network's column convention, where it is {}.")
BRACKET_NOTE = ("as written, ⊙ binds less tightly than the products, and then {}; read left to right, "
                "${}$, it is right: put in the brackets.")
READINGS = ((False, False), (False, True), (True, False), (True, True))  # (regrouped, rows), in this order


def _judge(node, ref, d, parsed, expected, answer, claim) -> Verdict:
    batch = ref.net.batch
    results = {}
    for regrouped, rows in READINGS:
        if regrouped and not (_mixes_hadamard(node) and any(isinstance(r, ShapeError) for r in results.values())):
            break
        tree = left_to_right(node) if regrouped else node
        try:
            results[regrouped, rows] = values = evaluate(tree, ref, rows)
        except ShapeError as exc:
            results[regrouped, rows] = exc
            continue
        except InvalidAnswer:  # the left-to-right reading split f′(s) apart: only the answer as written decides
            if not regrouped:
                raise
            break
        if matches(values):
            notes = []
            if regrouped:
                notes.append(BRACKET_NOTE.format(str(results[False, rows]).rstrip("?").split(":")[0],
                                                 answer_latex(left_to_right(node), batch)))
            if rows:
                own = f"∂L/∂{_pretty(d.wrt.lower(), batch)} = ${d.gradient.latex}$"
                notes.append(ROW_NOTE.format(own if claim.kind == "gradient" else claim.text))
            return _covered(tree, rows, values, ref, parsed, expected, answer, notes, claim)
    fitted = [(key, v) for key, v in results.items() if isinstance(v, Values) and matches(v) is not None]
    if fitted:
        (regrouped, rows), values = fitted[0]
        feedback = explain(values, _noun(claim))
        if rows:
            feedback.insert(0, "read in the row convention (every quantity transposed) the shapes fit, "
                               "but the values do not.")
        return Verdict("incorrect", parsed, expected, feedback, counterexample(values, ref), answer, _differs())
    column = results[False, False]
    if isinstance(column, Values):
        got, want = column.answers[0].shape, ref.points[0].expected.shape
        if got == (1, 1) and claim.kind == "jacobian":  # ∂ŷ/∂s = 1: a number where a matrix is meant
            eye = all(np.array_equal(p.expected, np.eye(want[0])) for p in ref.points)
            text = (f"{claim.text} is a {want[0]}×{want[1]} matrix{' (the identity)' if eye else ''}; the answer is "
                    "a number" + (": I is meant, not 1." if eye else "."))
            return misfit(text, parsed, expected, answer)
        text = f"shape {got[0]}×{got[1]}, expected {want[0]}×{want[1]}"
        return misfit(text + (": a transpose?" if got == want[::-1] else ""), parsed, expected, answer)
    return misfit(column, parsed, expected, answer)


def _differs() -> dict:
    return {"kind": "counterexample", "text": "a counterexample: the values differ at a point"}


def _covered(tree, rows, values, ref, parsed, expected, answer, notes, claim) -> Verdict:
    """Agreement at the first points: now both sides of every threshold, and the verdict on all of it."""
    known = {id(p): (v, k) for p, v, k in zip(values.points, values.answers, values.kinks)}

    def at(p):
        if id(p) not in known:
            known[id(p)] = _at(tree, ref, p, rows)
        return known[id(p)]

    found = cover(ref, ref.points, at)
    seen = Values([v for _, v in found.visited], rows, [p for p, _ in found.visited])
    if found.visited and not matches(seen):
        both = Values(values.answers + seen.answers, rows, values.points + seen.points)
        return Verdict("incorrect", parsed, expected, explain(both, _noun(claim)), counterexample(seen, ref), answer, _differs())
    count = len(values.points) + len(seen.points)
    mags = ref.magnitudes()
    text = ev.numeric_text(count, 0, found.crossed, mags, sets="in 2 sets of sizes", count=found.count)
    evidence = ev.Evidence("numeric", text, count, 0, found.crossed, found.uncrossed, mags)
    if found.uncrossed:
        note = (f"the values agree at all {count} points checked, but "
                f"{'this threshold was' if len(found.uncrossed) == 1 else 'these thresholds were'} never seen on "
                f"both sides: {ev.listed(found.uncrossed)}; no point reached the other side")
        evidence.kind, evidence.text = "none", note
        return Verdict("undecided", parsed, expected, [*notes, note], None, answer, evidence.to_json())
    return Verdict("correct", parsed, expected, notes, None, answer, evidence.to_json())


def _noun(claim) -> str:
    return "gradient" if claim.kind in ("gradient", "parameter", "signal") else "claimed " + (
        "Jacobian" if claim.kind == "jacobian" else "value")


def explain(values: Values, noun: str = "gradient") -> list:
    """A named mistake where there is one: zero, a sign, a constant factor; else how much is right."""
    from derive.check.feedback import constant_ratio

    a = np.concatenate([_fits(v, p.expected).ravel() for v, p in zip(values.answers, values.points)])
    e = np.concatenate([p.expected.ravel() for p in values.points])
    if np.allclose(a, 0) and not np.allclose(e, 0):
        return [f"your answer is 0 everywhere, but the {noun} is not."]
    mask = np.abs(e) > 1e-9
    if mask.any() and np.all(np.isfinite(a)) and np.allclose(a[~mask], 0, atol=1e-9):
        r = a[mask] / e[mask]
        if np.allclose(r, r[0], rtol=1e-6):
            return constant_ratio(float(r[0]), noun)
    p0 = values.points[0]
    ok = np.isclose(_fits(values.answers[0], p0.expected), p0.expected, rtol=RTOL, atol=ATOL)
    if ok.any() and not ok.all():
        return [f"right in {int(ok.sum())} of {ok.size} entries at the first point, wrong in the others."]
    return [f"the answer differs from the {noun}."]


def counterexample(values: Values, ref: NetworkReference) -> dict | None:
    for v, p in zip(values.answers, values.points):
        v = _fits(v, p.expected)
        bad = np.argwhere(~np.isclose(v, p.expected, rtol=RTOL, atol=ATOL) | ~np.isfinite(v))
        if bad.size == 0:
            continue
        r, c = (int(x) for x in bad[0])
        got, want = float(v[r, c]), float(p.expected[r, c])
        data = {k: np.round(a, 4).tolist() for k, a in p.inputs.items()}
        sizes = ", ".join(f"{k} = {n}" for k, n in p.sizes.items())
        entry = f"({r + 1}, {c + 1})" if p.expected.shape[1] > 1 else f"{r + 1}"
        claimed = getattr(ref, "claim_text", None) or f"∂L/∂{_pretty(ref.wrt.lower(), ref.net.batch)}"
        text = (f"at sizes {sizes}, with random x, W, b, y (in 'values'): entry {entry} of your answer "
                f"is {got:.6g}, of {claimed} it is {want:.6g}.")
        return {"values": data, "sizes": dict(p.sizes), "entry": {"row": r + 1, "col": c + 1},
                "answer": round(got, 6) if np.isfinite(got) else None, "expected": round(want, 6), "text": text}
    return None
