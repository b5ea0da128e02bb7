"""The verdict on one answer: what was understood, whether it is right, and why."""

from __future__ import annotations

from dataclasses import dataclass, field

VERDICTS = ("correct", "incorrect", "undecided", "invalid")
EXIT_CODES = {"correct": 0, "incorrect": 1, "undecided": 1, "invalid": 2}


@dataclass(frozen=True)
class Verdict:
    """`verdict` is one of correct, incorrect, undecided, invalid; `parsed`/`expected` are LaTeX."""

    verdict: str
    parsed: str | None
    expected: str
    feedback: list = field(default_factory=list)
    counterexample: dict | None = None
    answer: str = ""

    @property
    def correct(self) -> bool:
        return self.verdict == "correct"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_json(self) -> dict:
        return {"verdict": self.verdict, "parsed": self.parsed, "expected": self.expected,
                "feedback": list(self.feedback), "counterexample": self.counterexample}

    @classmethod
    def from_json(cls, data: dict, answer: str = "") -> Verdict:
        return cls(data["verdict"], data.get("parsed"), data.get("expected", ""), list(data.get("feedback", [])),
                   data.get("counterexample"), answer)

    def text(self) -> str:
        lines = []
        if self.parsed is not None:
            lines.append(f"understood: {self.parsed}")
        lines.append(f"verdict:    {self.verdict}")
        if self.verdict != "correct":
            lines.append(f"expected:   {self.expected}")
        lines += [f"  - {s}" for s in self.feedback]
        if self.counterexample:
            lines.append(f"counterexample: {self.counterexample['text']}")
        return "\n".join(lines) + "\n"

    def _repr_latex_(self) -> str:
        shown = self.parsed if self.parsed is not None else r"\text{(not read)}"
        mark = {"correct": r"\checkmark", "incorrect": r"\times", "undecided": "?", "invalid": "!"}[self.verdict]
        return rf"$$ {shown} \quad {mark}\ \text{{{self.verdict}}} $$"

    def _repr_markdown_(self) -> str:
        lines = [f"**{self.verdict}**"]
        if self.parsed is not None:
            lines.append(f"\nunderstood: $${self.parsed}$$")
        if self.verdict != "correct":
            lines.append(f"\nexpected: $${self.expected}$$")
        lines += [f"- {s}" for s in self.feedback]
        if self.counterexample:
            lines.append(f"\ncounterexample: {self.counterexample['text']}")
        return "\n".join(lines) + "\n"


# What stops a check before it reaches a verdict of its own; `stopped` says it as one.
LIMITS = (RecursionError, MemoryError, OverflowError)


def stopped(exc: BaseException, parsed: str | None, expected: str, answer: str, timeout: float | None) -> Verdict:
    """The verdict when a check ends in `exc`: an invalid answer, the time limit, or a size limit."""
    from derive.check.compare import Budget

    if isinstance(exc, Budget):
        return Verdict("undecided", parsed, expected, [f"the check took longer than {timeout:g} s and was stopped"],
                       None, answer)
    if isinstance(exc, LIMITS):
        return Verdict("invalid", parsed, expected, ["the answer is too large or too deeply nested to check"],
                       None, answer)
    return Verdict("invalid", parsed, expected, [str(exc)], None, answer)  # InvalidAnswer: its own words
