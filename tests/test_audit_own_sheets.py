"""derive's own rendered sheets, audited against themselves: every formula a sheet prints is read back by
the answer reader and judged, and none is wrong — except the seed claims a sheet quotes to correct them."""

from pathlib import Path

import pytest

from derive.audit.audit import audit
from derive.sheets import load, resolve

OUTPUT = Path(__file__).resolve().parents[1] / "output"
SHEETS = sorted(p.stem for p in OUTPUT.glob("*.md"))


def _plain(latex: str) -> str:
    return "".join(latex.split())


@pytest.mark.parametrize("name", SHEETS)
def test_a_bundled_sheet_states_nothing_its_own_audit_finds_wrong(name):
    sheet = load(resolve(name))
    quoted = {_plain(claim) for q in sheet.questions for p in q.parts for _, claim in p.seed}
    result = audit((OUTPUT / f"{name}.md").read_text(encoding="utf-8"), sheet, document=f"{name}.md")
    wrong = [(f.line, f.latex) for f in result.findings if f.verdict == "incorrect"
             and not any(q in _plain(f.latex) or _plain(f.latex) in q for q in quoted)]
    assert wrong == []
    assert sum(f.verdict == "correct" for f in result.findings) >= 5  # the read-back reads the sheet at all
