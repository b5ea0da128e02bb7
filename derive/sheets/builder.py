"""From a sheet to its solution: every part solved once (derive.sheets.solve), then rendered as
Markdown and LaTeX.

Rendering only reads the results, through `templates/sheet.{md,tex}.j2` and the partials, which
`--templates DIR` can override.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from markupsafe import Markup

from derive.doors import open_door
from derive.network.chain import builtin
from derive.sheets.markup import to_markdown, to_tex
from derive.sheets.model import Part, Sheet
from derive.sheets.names import notation_rows
from derive.sheets.solve import Solved, solve

FORMATS = ("md", "tex")


@dataclass
class Built:
    sheet: Sheet
    outputs: dict  # fmt -> text
    warnings: list
    pictures: dict = field(default_factory=dict)  # file name -> SVG: the pictures the Markdown shows


def print_derivations(s: Solved) -> list:
    """Each derivation's LaTeX (the same for every format), printed once; cached when it can be."""
    from derive import cache

    if len(s.printed) != len(s.derivations):
        from derive import limits

        requests = s.requests or [None] * len(s.derivations)
        with limits.time_limit(f"{s.part.where}: printing this part"):
            s.printed = [cache.cached("printed", r, lambda d=d: _printed(d)) for d, r in zip(s.derivations, requests)]
    return s.printed


def _text(fmt: str, text: str) -> Markup:
    return to_tex(text) if fmt == "tex" else to_markdown(text)


def _math(expr) -> Markup:
    from derive.render.printer import latex

    return Markup(latex(expr))


def _printed(d) -> dict:
    """What the derivation partials read, as LaTeX: the same for Markdown and TeX."""
    from derive.render.printer import latex
    from derive.render.show import context

    return {**context(d), "wrt_latex": Markup(latex(d.definition.var(d.wrt).symbol))}


def _derivation_block(printed: dict, fmt: str, override: str | None, form: str, above: bool = False) -> Markup:
    from derive.render.environment import render

    name = "partials/sheet_derivation.tex.j2" if fmt == "tex" else "partials/derivation.md.j2"
    return Markup(render(name, fmt, override, **printed, form=form, stages_above=above).strip())


def _network_blocks(part: Part, answer, fmt: str, override: str | None, edition: str = "ta") -> list:
    """The network's rendered blocks; with the bundled templates they are cached, printed once."""
    if answer is None:
        return []
    from derive import cache
    from derive.sheets.network import render_network

    request = {"network": part.network, "wrt": part.wrt, "numeric": part.numeric, "format": fmt, "form": part.form,
               "edition": edition, **({"names": part.names} if part.names else {})}
    if override or not (isinstance(part.network, str) and builtin(part.network)):
        request = None
    blocks = cache.cached("network_blocks", request,
                          lambda: [str(b) for b in render_network(answer, fmt, override, part.form, edition)])
    return [Markup(b) for b in blocks]


def _proof_context(proof: dict) -> dict:
    steps = None
    if proof["steps"] is not None:
        from derive.render.printer import latex
        from derive.render.show import step_lines

        lhs = latex(proof["lhs"])
        steps = [{"latex": _math(getattr(s, "after", s)), "reason": getattr(s, "reason", ""),
                  "rule": getattr(s, "rule", ""), "lines": step_lines(getattr(s, "after", s), lhs)}
                 for s in proof["steps"]]
    rhs = _math(proof["rhs"])
    ends = bool(steps) and str(steps[-1]["latex"]) == str(rhs)
    return {"lhs": _math(proof["lhs"]), "rhs": rhs, "steps": steps, "ends_at_rhs": ends}


EDITIONS = ("ta", "solutions", "exercises")  # the TA's copy, the students' solutions, the questions only


def context(sheet: Sheet, solved: list, fmt: str, override: str | None = None, edition: str = "ta") -> dict:
    """Everything the sheet template reads, for one format and one edition (EDITIONS): the students'
    solutions leave out what the tool says about its own checks, the exercises every answer."""
    from derive.render.environment import render
    from derive.render.show import check_note

    ext = "tex" if fmt == "tex" else "md"
    questions, pictures = [], {}
    for n, (q, row) in enumerate(zip(sheet.questions, solved), 1):
        parts, staged = [], set()
        lettered = len(q.parts) > 1 or bool(q.parts[0].statement)
        for m, s in enumerate(row):
            p = s.part
            blocks = []
            for c, d in zip(print_derivations(s), s.derivations):
                # a staged definition (an LSTM's gates) is printed once per question, not before every gradient
                above = bool(d.definition.stages) and d.target in staged
                staged.add(d.target)
                blocks.append(_derivation_block(c, fmt, override, p.form if p.form and d.matrix is not None
                                                else "index", above))
            notes = [check_note(d) if edition == "ta" else None for d in s.derivations]
            tables = [Markup(render(f"partials/value_table.{ext}.j2", fmt, override, tables=t).strip())
                      for t in s.numeric]
            proof = None
            if s.proof is not None:
                proof = Markup(render(f"partials/proof.{ext}.j2", fmt, override,
                                      **_proof_context(s.proof)).strip())
            picture = None
            if s.network is not None and edition != "exercises":
                from derive.sheets.network import network_picture

                file = f"{sheet.name}-network-{len(pictures) + 1}.svg"
                picture, svg = network_picture(s.network, fmt, file)
                pictures[file] = svg
            parts.append({
                "label": string.ascii_lowercase[m] if lettered else "",
                "statement": _text(fmt, p.statement),
                "solution": _text(fmt, p.solution),
                "remark": _text(fmt, p.remark),
                "audit": [_text(fmt, line) for line in open_door("sheet.seed_verdicts", sheet, n - 1, p)]
                if edition != "exercises" and p.seed else [],
                "code": p.code,
                "fence": _fence(p.code),
                "derivations": [{"block": b, "check": c, "numeric": t}
                                for b, c, t in zip(blocks, notes, tables + [None] * len(blocks))],
                "proof": proof,
                "network": _network_blocks(p, s.network, fmt, override, edition),
                "picture": picture,
                "missing": s.missing,
            })
        questions.append({"number": n, "title": _plain(fmt, q.title), "statement": _text(fmt, q.statement),
                          "parts": parts})
    return {"title": _plain(fmt, sheet.title), "course": _plain(fmt, sheet.course),
            "preamble": _text(fmt, sheet.preamble), "questions": questions, "name": sheet.name,
            "edition": edition, "notation": notation_rows(sheet, fmt, _text),
            "pictures": {f: svg for f, svg in pictures.items() if svg is not None}, "has_pictures": bool(pictures)}


def _plain(fmt: str, text: str):
    """A title: escaped for TeX by the template's finalize hook, its raw HTML made text for Markdown."""
    from derive.sheets.markup import markdown_text

    return text if fmt == "tex" else markdown_text(text)


def _fence(code: str) -> str:
    """A Markdown fence longer than any run of backticks in `code`, so the code cannot close it."""
    import re

    return "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", code)), default=0))


def build(sheet: Sheet, *, formats=FORMATS, override: str | None = None, verify: bool = True,
          edition: str = "ta") -> Built:
    """The sheet rendered in each of `formats` (md, tex), as the `edition` (EDITIONS) asks."""
    from derive.render.environment import render

    solved, warnings = solve(sheet, verify=verify)
    outputs, pictures = {}, {}
    for fmt in formats:
        ctx = context(sheet, solved, fmt, override, edition)
        text = render(f"sheet.{fmt}.j2", fmt, override, **ctx)
        outputs[fmt] = text.rstrip() + "\n"
        if fmt == "md":  # the SVG pictures the Markdown shows, written beside it
            pictures = ctx["pictures"]
    return Built(sheet, outputs, warnings, pictures)
