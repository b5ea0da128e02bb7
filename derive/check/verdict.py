"""The verdict on one answer: what was understood, whether it is right, why, and on what evidence."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

VERDICTS = ("correct", "incorrect", "undecided", "invalid")
EXIT_CODES = {"correct": 0, "incorrect": 1, "undecided": 1, "invalid": 2}


@dataclass(frozen=True)
class Verdict:
    """`verdict` is one of correct, incorrect, undecided, invalid; `parsed`/`expected` are LaTeX.

    `evidence` is what the verdict rests on: {"kind": symbolic | numeric | counterexample | shape |
    none, "text": one sentence, …details}.
    """

    verdict: str
    parsed: str | None
    expected: str
    feedback: list = field(default_factory=list)
    counterexample: dict | None = None
    answer: str = ""
    evidence: dict | None = None
    claim: str | None = None  # what was checked: ∂C/∂W, ∂y_i/∂b_j, ∂y_i/∂x_j for i = j, z₂ …

    @property
    def correct(self) -> bool:
        return self.verdict == "correct"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def evidence_text(self) -> str:
        return (self.evidence or {}).get("text", "")

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "parsed": self.parsed, "expected": self.expected,
                "feedback": list(self.feedback), "counterexample": self.counterexample,
                "evidence": dict(self.evidence) if self.evidence else None, "claim": self.claim}

    @classmethod
    def from_json(cls, data: dict, answer: str = "") -> Verdict:
        return cls(data["verdict"], data.get("parsed"), data.get("expected", ""), list(data.get("feedback", [])),
                   data.get("counterexample"), answer, data.get("evidence"), data.get("claim"))

    def text(self) -> str:
        lines = []
        if self.parsed is not None:
            lines.append(f"understood: {self.parsed}")
        if self.claim:
            lines.append(f"claim:      {self.claim}")
        lines.append(f"verdict:    {self.verdict}")
        if self.verdict != "correct":
            lines.append(f"expected:   {self.expected}")
        lines += [f"  - {s}" for s in self.feedback]
        if self.counterexample:
            lines.append(f"counterexample: {self.counterexample['text']}")
        if self.evidence_text:
            lines.append(f"evidence:   {self.evidence_text}")
        return "\n".join(lines) + "\n"

    def _repr_latex_(self) -> str:
        shown = markdown_math(self.parsed) if self.parsed is not None else r"\text{(not read)}"
        mark = {"correct": r"\checkmark", "incorrect": r"\times", "undecided": "?", "invalid": "!"}[self.verdict]
        return rf"$$ {shown} \quad {mark}\ \text{{{self.verdict}}} $$"

    def _repr_markdown_(self) -> str:
        lines = [f"**{self.verdict}**" + (f" (claim checked: {markdown_prose(self.claim)})" if self.claim else "")]
        if self.parsed is not None:
            lines.append(f"\nunderstood: $${markdown_math(self.parsed)}$$")
        if self.verdict != "correct":
            lines.append(f"\nexpected: $${markdown_math(self.expected)}$$")
        lines += [f"- {markdown_prose(s)}" for s in self.feedback]
        if self.counterexample:
            lines.append(f"\ncounterexample: {markdown_prose(self.counterexample['text'])}")
        if self.evidence_text:
            lines.append(f"\nevidence: {markdown_prose(self.evidence_text)}")
        return "\n".join(lines) + "\n"


# Markdown that would make emphasis, a link, code or math of plain text (HTML is escaped first).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]$|~#!])")


def markdown_prose(text: str) -> str:
    """Text (which may quote the student) as Markdown prose: no HTML, no links, no math."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def markdown_math(latex: str | None) -> str:
    """LaTeX inside $$…$$ in a notebook: no raw HTML (< and > as \\lt, \\gt) and no way out of the math."""
    text = str(latex or "")
    return text.replace("$", r"\$").replace("<", r"\lt ").replace(">", r"\gt ")


# What stops a check before it reaches a verdict of its own; `stopped` says it as one.
LIMITS = (RecursionError, MemoryError, OverflowError)


def stopped(exc: BaseException, parsed: str | None, expected: str, answer: str, timeout: float | None) -> Verdict:
    """The verdict when a check ends in `exc`: an invalid answer, the time limit, or a size limit."""
    from derive.check.compare import Budget

    if isinstance(exc, Budget):
        reason = f"the check took longer than {timeout:g} s and was stopped"
        return Verdict("undecided", parsed, expected, [reason], None, answer, none(reason))
    if isinstance(exc, LIMITS):
        reason = "the answer is too large or too deeply nested to check"
        return Verdict("invalid", parsed, expected, [reason], None, answer, none(reason))
    return Verdict("invalid", parsed, expected, [str(exc)], None, answer, none(f"the answer was not read: {exc}"))


SHAPE = {"kind": "shape", "text": "the answer's matrices do not fit together or have the wrong shape"}


def misfit(reason: object, parsed: str | None, expected: str, answer: str) -> Verdict:
    """The verdict on an answer whose matrices do not fit together (a ShapeError) or have the wrong
    shape, for a module and a network alike: incorrect, the reason as one sentence, shape evidence."""
    text = str(reason)
    return Verdict("incorrect", parsed, expected, [text.rstrip(".?") + ("?" if text.endswith("?") else ".")], None,
                   answer, dict(SHAPE))


def none(reason: str) -> dict:
    """The evidence of a verdict that rests on none: the reason."""
    return {"kind": "none", "text": reason}


def stopped_json(verdict: str, reason: str) -> dict:
    """The JSON of a check that ended without a verdict of its own (a worker that crashed or ran out of
    time or memory): it rests on no evidence, and says so."""
    return {"verdict": verdict, "parsed": None, "expected": "", "feedback": [reason], "counterexample": None,
            "evidence": {"kind": "none", "text": f"no evidence: {reason}"}}
