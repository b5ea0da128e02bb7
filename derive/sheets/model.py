"""What a problem-set file holds, once read: a sheet of questions, each with lettered parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Exactly one of these says what a part derives; a part with none is answered in prose.
KINDS = ("target", "module", "network", "identity")


@dataclass(frozen=True)
class Where:
    """A place in a sheet file, for error messages: `sheet.toml:12`."""

    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Part:
    """One lettered part: its statement, what to derive, and the prose around the answer."""

    statement: str
    where: Where
    kind: str = "prose"  # target | module | network | identity | prose
    target: str | None = None
    wrt: tuple = ()
    form: str | None = None  # index | matrix; None: index first (a module), both (a network)
    scale: object = 1  # C2 = 3C is scale = 3
    module: dict | None = None
    network: dict | None = None
    identity: dict | None = None
    numeric: dict | None = None
    solution: str = ""  # Markdown before the worked answer
    remark: str = ""  # Markdown after it: conventions, the common mistake
    code: str = ""  # a Python listing
    seed: tuple = ()  # (line, claim): a claim of the seed homework the remark corrects, shown with derive audit's verdict
    fields: dict = field(default_factory=dict)  # key -> Where, for errors found while building
    names: dict = field(default_factory=dict)  # the sheet's [names], the homework's own (derive.network.names)


@dataclass(frozen=True)
class Question:
    title: str
    statement: str
    parts: tuple
    where: Where


@dataclass(frozen=True)
class Sheet:
    name: str  # the file's stem: output/<name>.md
    title: str
    course: str
    preamble: str
    questions: tuple
    path: Path
    names: dict = field(default_factory=dict)  # [names]: key -> written, stated once after the preamble
    names_at: dict = field(default_factory=dict)  # key -> Where
