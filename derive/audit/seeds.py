"""What `derive audit` says of the seed claims a sheet's part names (`[[questions.parts.seed]]`), for the
built sheet to show beside the remark that corrects them (the sheets layer reaches it by a door)."""

from __future__ import annotations


def seed_verdicts(sheet, question: int, part) -> list:
    """What `derive audit` says of each seed claim the part names, in Markdown: the claim audited under
    the question's heading against this sheet, so the verdict shown is the one derived here."""
    from derive.audit.audit import audit
    from derive.check.verdict import markdown_math, markdown_prose

    out = []
    for line, claim in part.seed:
        document = f"# {question + 1}. {sheet.questions[question].title}\n\n$${claim}$$\n"
        for f in audit(document, sheet).findings:
            why = "; ".join(s.rstrip(".") for s in f.feedback) or f.reason or f.evidence
            end = "" if why.endswith(("?", ".")) else "."
            out.append(f"*derive audit* on the seed's line {line}, ${markdown_math(f.latex)}$: **{f.verdict}**"
                       + (f" — {markdown_prose(why)}{end}" if why else "."))
    return out
