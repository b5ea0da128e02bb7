"""Conditions a solution states as equations of their own (`y_j = 1`: the one-hot target's class is j).

derive does not judge a claim under such a condition; a claim that fails without it, and that uses the
condition's index, is therefore undecided (never incorrect): it may hold exactly where the condition does.
"""

from __future__ import annotations

import re
from dataclasses import replace

_CONDITION = re.compile(r"^\s*([A-Za-z])_\{?\s*([a-z])\s*\}?\s*$")
_VALUE = re.compile(r"^\s*[01]\s*$")


class Conditions:
    """The conditions stated so far, per question, each with its line."""

    def __init__(self):
        self._by_question: dict = {}

    def read(self, claim, finding):
        """Record `claim` if it states a condition (its finding then says so); other findings are judged
        against the conditions their question stated before them."""
        match = _CONDITION.match(claim.lhs or "")
        if match and _VALUE.match(claim.rhs or "") and finding.verdict == "not checked":
            stated = f"{match.group(1)}_{match.group(2)} = {claim.rhs.strip()}"
            self._by_question.setdefault(finding.question, []).append((match.group(2), stated, claim.line))
            return replace(finding, reason=f"a condition the document states ({stated}); later claims of this "
                                           "question that use its index are not judged incorrect without it")
        if finding.verdict != "incorrect":
            return finding
        for index, stated, line in self._by_question.get(finding.question, ()):
            if re.search(rf"_\{{?\s*{index}(?![A-Za-z])", claim.latex):
                said = '; '.join(f.rstrip('.') for f in finding.feedback) or 'the sides differ'
                why = (f"it does not hold in general ({said}), but "
                       f"line {line} states {stated}, a condition derive does not apply: it may hold under it.")
                return replace(finding, verdict="undecided", feedback=(why,),
                               evidence=f"{finding.evidence}; judged without the condition {stated}".lstrip("; "))
        return finding
