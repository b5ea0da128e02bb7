"""The bundled sheets show what `derive audit` says of the seed claims their remarks correct: the verdict
is derived when the sheet is built, and it is the verdict the audit of the seed itself gives at that line."""

import re
from pathlib import Path

import pytest

from derive.audit.audit import audit
from derive.audit.seeds import seed_verdicts
from derive.sheets import load, resolve

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_OF = {"nyu2020_hw1": "000", "nyu2019_hw1": "001", "cs224n_a1": "002", "nyu_two_layer": "003",
           "uva2018_pen_paper": "004"}


def _claims(name):
    sheet = load(resolve(name))
    return sheet, [(n, p, line, claim) for n, q in enumerate(sheet.questions) for p in q.parts
                   for line, claim in p.seed]


def _same(a: str, b: str) -> bool:
    """One claim in two spellings: bold, spacing, braces and δ written for ∂ aside."""
    def bare(s):
        return re.sub(r"\\mathbf\s*|\\(delta|partial)(?![A-Za-z])|\s|[{}]", "", s)

    return bare(a) == bare(b)


@pytest.mark.parametrize("name", sorted(SEED_OF))
def test_each_seed_claim_a_sheet_names_has_the_audits_verdict_shown(name):
    sheet, claims = _claims(name)
    for n, part, line, claim in claims:
        shown = seed_verdicts(sheet, n, part)
        assert shown and all(f"line {line}" in s for s in shown)
        assert not any("**not checked**" in s for s in shown)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed homeworks are not on this machine")
@pytest.mark.parametrize("name", sorted(SEED_OF))
def test_the_verdict_a_sheet_shows_is_the_one_the_audit_of_the_seed_gives_at_that_line(name):
    sheet, claims = _claims(name)
    seed = next(SEEDS.glob(f"{SEED_OF[name]}_*")).read_text(encoding="utf-8")
    findings = audit(seed, sheet).findings
    for n, part, line, claim in claims:
        shown = seed_verdicts(sheet, n, part)
        at = [f for f in findings if f.line == line and _same(f.latex.split("=", 1)[1], claim.split("=", 1)[1])]
        assert at, f"no claim like {claim} at line {line} of the seed"
        assert all(f"**{f.verdict}**" in " ".join(shown) for f in at)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed homeworks are not on this machine")
def test_the_seed_mistakes_the_remarks_name_are_found():
    found = {}
    for name, prefix in SEED_OF.items():
        text = next(SEEDS.glob(f"{prefix}_*")).read_text(encoding="utf-8")
        found[name] = {f.line for f in audit(text, load(resolve(name))).findings if f.verdict == "incorrect"}
    assert {40, 56, 66, 68} <= found["nyu2020_hw1"]  # ∂C/∂y x without the transpose; x in the bias gradient
    assert {25, 43, 47, 64} <= found["nyu_two_layer"]  # Wᵀ in the forward table; the chain for W⁽¹⁾; 1 for I
    assert {116, 132} <= found["uva2018_pen_paper"]  # j both summation and free index


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed homeworks are not on this machine")
def test_at_least_four_in_five_seed_claims_are_checked_and_the_seeds_right_steps_are_not_called_wrong():
    checked = total = 0
    verdicts = {}
    for name, prefix in SEED_OF.items():
        text = next(SEEDS.glob(f"{prefix}_*")).read_text(encoding="utf-8")
        findings = audit(text, load(resolve(name))).findings
        total += len(findings)
        checked += sum(f.verdict != "not checked" for f in findings)
        verdicts[name] = {(f.line, f.latex): f.verdict for f in findings}
    assert checked / total >= 0.8, f"{checked} of {total} seed claims checked"
    # right steps read by the notations added for the seeds (softmax(θ)_j, D_{i,j}, linear_i, ∂W_k, f′ = …)
    right = {("cs224n_a1", 11, r"\text{softmax}(x + c)_j = \text{softmax}(x)_j"),
             ("nyu2019_hw1", 31, r"D_{i,j} y_t = x_j \quad \text{for } i = t"),
             ("nyu_two_layer", 9, r"linear_{i}(x) = W^{(i)}x + b^{(i)}"),
             ("uva2018_pen_paper", 62, r"\partial W_k = \Delta_k \cdot Z_{k-1}^T"),
             ("nyu2019_hw1", 61, r"f'(x) = \frac{g'(x)h(x) - g(x)h'(x)}{h^2(x)}")}
    for name, line, latex in right:
        assert verdicts[name].get((line, latex)) == "correct", (name, line, latex)
