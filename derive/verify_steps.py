"""A derivation's steps, each checked against the one before it at every index assignment: what the
printed steps claim, one by one (derive.steps.Step.check says how each kind of step is compared)."""

from __future__ import annotations

import random

import sympy as sp

from derive.concrete import Concretizer, assignments, value
from derive.steps import Derivation
from derive.verify import VerificationError, point_away_from_kinks


def check_steps(d: Derivation, seed: int = 2) -> None:
    """Each step checks itself against the one before it (`Step.check`), at every index assignment."""
    rng = random.Random(seed)
    conc = Concretizer(d)
    point = point_away_from_kinks(d, rng, conc)

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
