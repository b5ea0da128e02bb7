"""Claims that restate what the sheet gives, or a fact of notation, judged without the answer checker."""

from __future__ import annotations

import re

from derive.audit.claims import Claim

_SCALED = re.compile(r"C_?\{?(\d)\}?\s*(\(\s*\\?\w*\s*\))?")
_TIMES_C = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\\ast|∗|\*|\\cdot|\\,|\\times)?\s*C\s*(\(\s*\\?\w*\s*\))?")
_KRONECKER = re.compile(r"(?:\\delta|δ)_\{?\s*([a-z])\s*,?\s*([a-z])\s*\}?")


def given_fact(claim: Claim, question) -> tuple | None:
    """(verdict, feedback, evidence) of a claim that restates what the sheet gives — the scaled cost
    `C_2(y) = 3 C(y)` of a part with scale 3 — or Kronecker's δ in one case (`δ_ij = 0` for i ≠ j);
    None for any other claim."""
    import sympy as sp

    scaled, times = _SCALED.fullmatch(claim.lhs.strip()), _TIMES_C.fullmatch(claim.rhs.strip())
    part = next((p for p in question.parts if p.scale != 1), None)
    if scaled and times and part is not None:
        given = sp.nsimplify(part.scale)
        evidence = f"compared with the sheet's definition C{scaled.group(1)} = {given}·C"
        if sp.nsimplify(times.group(1)) == given:
            return "correct", (), evidence
        return "incorrect", (f"the sheet defines C{scaled.group(1)} = {given}·C, not {times.group(1)}·C.",), evidence
    delta = _KRONECKER.fullmatch(claim.lhs.strip())
    case = re.fullmatch(r"\s*([a-z])\s*(=|\\neq|\\ne|≠)\s*([a-z])\s*", claim.condition or "")
    if delta and case and {delta.group(1), delta.group(2)} == {case.group(1), case.group(3)} and \
            claim.rhs.strip() in ("0", "1") and delta.group(1) != delta.group(2):
        i, j = sp.symbols("i j", integer=True)
        value = sp.KroneckerDelta(i, i) if case.group(2) == "=" else sp.KroneckerDelta(i, j).subs({i: 1, j: 2})
        evidence = "Kronecker's δ in that case, by sympy.KroneckerDelta"
        if value == int(claim.rhs.strip()):
            return "correct", (), evidence
        return "incorrect", (f"δ is {value} when {case.group(1)} {case.group(2)} {case.group(3)}.",), evidence
    return None


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def given_value(claim: Claim, question) -> str | None:
    """Why `C = 1` or `N = 4` is not a claim to judge: a number for a hyperparameter of the question's
    module (the hinge's margin C, not a cost; its class t) or for the size of its worked example's batch; else None."""
    name = claim.lhs.strip().lstrip("\\")
    if not _NUMBER.fullmatch(claim.rhs.strip()) or not re.fullmatch(r"[A-Za-z]+", name) or claim.previous:
        return None
    for part in question.parts:
        if part.kind == "network" and part.numeric and name == "N":
            return "the size of the worked example's batch, which the sheet gives"
        if part.kind == "target" and part.target:
            from derive.definitions import get

            if any(v.name == name and not v.shape for v in get(part.target).others):
                return f"a value the sheet gives to {name}, a given of {part.target}"
    return None
