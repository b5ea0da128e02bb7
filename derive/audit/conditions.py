"""Conditions a solution states as equations of their own: `y_j = 1`, the one-hot target's class is j.

A claim that uses the condition's index is judged under it by a rewriting that holds for every one-hot y:
- a value E(j) of the loss, with j free only through the condition, is Σ_j y_j E(j) (= E at the class);
- a derivative entry ∂L/∂θ_j = E(j) claimed at the class is y_j E(j) + (1 − y_j) R(j), with R the
  derivation's own result: it equals R everywhere exactly when E does at j = the class.
What cannot be judged so and fails without the condition is undecided, never incorrect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from derive.audit.derivatives import derivative_of

_CONDITION = re.compile(r"^\s*([A-Za-z])_\{?\s*([a-z])\s*\}?\s*$")


@dataclass(frozen=True)
class Condition:
    target: str  # y
    index: str  # j
    line: int

    @property
    def stated(self) -> str:
        return f"{self.target}_{self.index} = 1"

    def used_by(self, latex: str) -> bool:
        return re.search(rf"_\{{?\s*{self.index}(?![A-Za-z])", latex) is not None


class Conditions:
    """Claims judged with the conditions their question stated before them."""

    def __init__(self, judge):
        self.judge = judge
        self._by_question: dict = {}

    def judged(self, claim, question, title: str):
        condition = next((c for c in self._by_question.get(title, ()) if c.used_by(claim.latex)), None)
        if condition is not None:
            rewritten = self._under(claim, question, condition)
            if rewritten is not None:
                found = self.judge.claim(rewritten, question, title)
                if found.verdict != "not checked":
                    how = f"judged under {condition.stated} (line {condition.line}) as {rewritten.rhs}"
                    return replace(found, latex=claim.latex, evidence=f"{how}; {found.evidence}".rstrip("; "))
        return self._read(claim, self._case(claim, self.judge.claim(claim, question, title), question, title),
                          condition)

    def _case(self, claim, finding, question, title: str):
        """A case whose indices the claim does not have (∂L/∂θ = ŷ − y for k ≠ j): a claim that holds for
        every value of its indices holds in that case too; one that does not stays not checked."""
        if finding.verdict != "not checked" or not claim.condition or "not free here" not in finding.reason:
            return finding
        found = self.judge.claim(replace(claim, condition=""), question, title)
        if found.verdict == "incorrect":  # it may still hold at the entries the case means (k ≠ j of ŷ − y)
            return replace(finding, reason=f"{finding.reason}; it does not hold for every index, and derive "
                           "cannot apply the case to it")
        if found.verdict != "correct":
            return finding
        return replace(found, latex=claim.latex, evidence=f"it holds without the case {claim.condition}, so in it "
                       f"too; {found.evidence}")

    def _under(self, claim, question, c: Condition):
        y, k = c.target, c.index
        match = derivative_of(claim.lhs)
        if match is None:  # a value: E(j) at the class is Σ_j y_j E(j)
            return replace(claim, rhs=f"\\sum_{{{k}}} {y}_{{{k}}} \\left({claim.rhs}\\right)", previous="")
        reference = self.judge.reference(question, match, k)
        if reference is None:
            return None
        rhs = f"{y}_{{{k}}} \\left({claim.rhs}\\right) + (1 - {y}_{{{k}}}) \\left({reference}\\right)"
        return replace(claim, rhs=rhs, previous="")

    def _read(self, claim, finding, condition):
        match = _CONDITION.match(claim.lhs or "")
        if match and (claim.rhs or "").strip() == "1" and finding.verdict == "not checked":
            stated = Condition(match.group(1), match.group(2), claim.line)
            self._by_question.setdefault(finding.question, []).append(stated)
            return replace(finding, reason=f"a condition the document states ({stated.stated}); later claims of "
                                           "this question that use its index are judged under it")
        if finding.verdict != "incorrect" or condition is None:
            return finding
        said = "; ".join(f.rstrip(".") for f in finding.feedback) or "the sides differ"
        why = (f"it does not hold in general ({said}), but line {condition.line} states {condition.stated}, "
               "which derive could not apply to this claim: it may hold under it.")
        return replace(finding, verdict="undecided", feedback=(why,),
                       evidence=f"{finding.evidence}; judged without the condition {condition.stated}".lstrip("; "))
