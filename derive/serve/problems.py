"""What a student can check on the page: any registry target and variable, and the parts of sheets.

A problem is a target (a registry name or a chain such as affine>relu>affine>mse) and a variable;
a sheet part names one through its question and part letter. Parts whose answer is prose, a proof
or a module defined on the sheet itself are listed as not checkable here, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.errors import DeriveError

LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Problem:
    target: str
    wrt: str | None
    scale: str = "1"
    title: str = ""
    sheet: str | None = None
    question: int | None = None  # 1-based, as printed on the sheet
    part: str | None = None  # a, b, …

    def to_json(self) -> dict:
        return {"target": self.target, "wrt": self.wrt, "scale": self.scale, "title": self.title,
                "sheet": self.sheet, "question": self.question, "part": self.part}


def registry_problems() -> list[Problem]:
    """Every registry entry with each variable it can be differentiated by."""
    from derive.definitions import entries, get

    out = []
    for e in entries():
        defn = get(e.name)
        for v in defn.inputs:
            out.append(Problem(e.name, v.name, title=f"{e.name}: ∂/∂{v.name} ({e.title})"))
    return out


def sheet_problems(names: list[str]) -> list[Problem]:
    """The checkable parts of the named sheets (bundled names or files); bad names are one line."""
    from derive.sheets import resolve
    from derive.sheets.loader import load

    out = []
    for name in names:
        sheet = load(resolve(name))
        for q, question in enumerate(sheet.questions, start=1):
            for p, part in enumerate(question.parts):
                target = part.target if part.kind == "target" else part.network if part.kind == "network" else None
                if not isinstance(target, str):
                    continue
                for wrt in part.wrt or (None,):
                    letter = LETTERS[p] if len(question.parts) > 1 else None
                    label = f"{sheet.name} {q}{letter or ''}: {question.title}"
                    out.append(Problem(target, wrt, str(part.scale), label, sheet.name, q, letter))
    return out


def find(problems: list[Problem], sheet: str, question: int, part: str | None, wrt: str | None) -> Problem:
    """The sheet part a request names, or DeriveError naming what exists."""
    found = [p for p in problems if p.sheet == sheet and p.question == question and p.part == part
             and (wrt is None or p.wrt == wrt)]
    if not found:
        known = sorted({f"{p.sheet} {p.question}{p.part or ''}" for p in problems if p.sheet})
        raise DeriveError(f"no checkable part {sheet} {question}{part or ''}; choose one of: "
                          + (", ".join(known) or "(no sheet was loaded)"))
    return found[0]
