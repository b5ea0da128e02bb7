"""Which question of a sheet each claim of a written solution answers.

A claim belongs to the question its headings name — by number ("Exercise 2", "1.2 Softmax") or by
the words of the question's title ("The softmax module" for "1.2. Softmax Module") — and otherwise
to the question of the claim before it, as a reader would assume. Within its question, a claim
about ∂·/∂W goes to the part that derives with respect to W.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from derive.audit.claims import Claim

_STOP = {"the", "a", "an", "of", "and", "module", "task", "exercise", "question", "problem", "part", "solution",
         "solutions", "homework", "assignment", "with", "for", "to", "in", "on"}


@dataclass(frozen=True)
class Tie:
    """The question (0-based index, None when the sheet has none that fits) and how it was chosen."""

    question: int | None
    how: str  # "heading", "number", "order"


def _words(text: str) -> set:
    text = re.sub(r"\$[^$]*\$|\\[A-Za-z]+|[*_`]", " ", text.lower())
    return {w.rstrip("s") for w in re.findall(r"[a-z][a-z-]+", text)} - _STOP


def _number(heading: str) -> int | None:
    """2 for "Exercise 2", "2 Neural network basics", "1.2 Softmax" (the last component), "(b)" → None."""
    m = re.match(r"\W*(?:(?:exercise|question|problem|task|part)\s+)?(\d+(?:\.\d+)*)\.?(\s|$)", heading.lower())
    return int(m.group(1).split(".")[-1]) if m else None


def tie(claims: list[Claim], titles: list[str]) -> list[Tie]:
    """One Tie per claim, in order."""
    title_words = [_words(t) for t in titles]
    out, current = [], Tie(0 if titles else None, "order")
    for claim in claims:
        found = None
        for heading in reversed(claim.section):  # the nearest heading decides
            words = _words(heading)
            scores = [len(words & tw) / len(tw) if tw else 0 for tw in title_words]
            best = max(range(len(scores)), key=scores.__getitem__, default=None)
            if best is not None and scores[best] >= 0.75:  # most of the title: "Error signals" is not "Why reuse the error signals"
                found = Tie(best, "heading")
                break
            number = _number(heading)
            if number is not None and 1 <= number <= len(titles) and not words - {"exercise"}:
                found = Tie(number - 1, "number")
                break
        if found is None:
            for heading in reversed(claim.section):
                number = _number(heading)
                if number is not None and 1 <= number <= len(titles):
                    found = Tie(number - 1, "number")
                    break
        current = found or Tie(current.question, "order")
        out.append(current)
    return out
