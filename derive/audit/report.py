"""An audit as a person reads it: text for the terminal, Markdown whose math renders, JSON for tools."""

from __future__ import annotations

import json

from derive.audit.audit import Audit
from derive.check.verdict import markdown_math, markdown_prose

FORMATS = ("text", "md", "json")


def render(result: Audit, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n"
    return markdown(result) if fmt == "md" else text(result)


def _summary(result: Audit) -> str:
    s = result.summary
    return (f"{s['claims']} claims: {s['correct']} correct, {s['incorrect']} incorrect, {s['undecided']} undecided, "
            f"{s['not checked']} not checked ({s['checked_share']:.0%} checked)")


def text(result: Audit) -> str:
    lines = [f"audit of {result.document} against the sheet {result.sheet}", _summary(result), ""]
    for f in result.findings:
        lines.append(f"{result.document}:{f.line}  {f.verdict}  [{f.question or 'no question'}]")
        lines.append(f"    {f.latex}")
        lines += [f"    - {s}" for s in f.feedback]
        if f.reason:
            lines.append(f"    why not: {f.reason}")
        elif f.evidence:
            lines.append(f"    evidence: {f.evidence}")
        if f.counterexample:
            lines.append(f"    counterexample: {f.counterexample}")
    if result.notes:
        lines += ["", "across the document:"] + [f"  - {n}" for n in result.notes]
    return "\n".join(lines) + "\n"


def markdown(result: Audit) -> str:
    out = [f"# Audit of {markdown_prose(result.document)}", "",
           f"Against the sheet {markdown_prose(result.sheet)}. {markdown_prose(_summary(result))}.", ""]
    if result.notes:
        out += ["Across the document:", ""] + [f"- {markdown_prose(n)}" for n in result.notes] + [""]
    out += ["| line | question | claim | verdict | why |", "|---:|---|---|---|---|"]
    for f in result.findings:
        why = "; ".join([*f.feedback, f.reason or f.evidence, *([f.counterexample] if f.counterexample else [])])
        out.append(f"| {f.line} | {_cell(f.question)} | ${_cell_math(f.latex)}$ | {f.verdict} | {_cell(why)} |")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return markdown_prose(" ".join(str(text).split()))


def _cell_math(latex: str) -> str:
    """Math inside a table cell: one line, and no `|`, which would end the cell."""
    one_line = " ".join(markdown_math(latex).split())
    return one_line.replace(r"\|", r"\Vert ").replace("|", r"\vert ")
