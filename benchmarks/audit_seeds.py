"""How much of the five seed homeworks `derive audit` checks, and why the rest is not checked.

    python benchmarks/audit_seeds.py [SEEDS_DIR] [-v]

Per seed: claims checked / claims; then the "not checked" claims grouped by kind (the reason's first
clause, with the claim's line), so that the largest kinds left are the next to read.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

from derive.audit.audit import audit
from derive.sheets import load, resolve

SEED_OF = {"nyu2020_hw1": "000", "nyu2019_hw1": "001", "cs224n_a1": "002", "nyu_two_layer": "003",
           "uva2018_pen_paper": "004"}
KINDS = [  # (kind, pattern on the reason or the claim) — first match wins
    ("a left-hand side the checker does not judge (a name the document defines, Dy, Σ y_k)", r"left-hand side is (not a derivative|checked when)|deltaout ="),
    ("a condition stated as an equation", r"a condition the document states"),
    ("sum or matrix written with dots", r"ellipsis"),
    ("unreadable LaTeX (\\hspace, \\Sigma, e^o_l, f(.))", r"unknown LaTeX command|unexpected|cannot read '"),
    ("Jacobian entries of a batch", r"four indices|Jacobian entry of the matrix"),
    ("∂/∂ of what the question does not derive by (y, e^{o_j}), or a mismatched index", r"derives with respect to|is not the cost"),
    ("derivative of a written expression inside the answer", r"inside an expression|not a layer"),
    ("class index written y_i", r"subscript yi"),
    ("index clash of a case", r"not free here"),
]


def kind_of(reason: str) -> str:
    return next((k for k, pattern in KINDS if re.search(pattern, reason)), "other: " + reason[:60])


def main(argv: list[str]) -> int:
    seeds = Path(next((a for a in argv if not a.startswith("-")), Path(__file__).resolve().parents[2] / "shared" / "seeds"))
    total = checked = 0
    kinds: dict = defaultdict(list)
    for name, prefix in SEED_OF.items():
        path = next(seeds.glob(f"{prefix}_*"), None)
        if path is None:
            print(f"{name}: no seed in {seeds}")
            continue
        result = audit(path.read_text(encoding="utf-8"), load(resolve(name)), document=path.name)
        n, left = len(result.findings), result.summary["not checked"]
        total, checked = total + n, checked + n - left
        print(f"{name:20s} {n - left:3d}/{n:3d} checked  {result.summary}")
        for f in result.findings:
            if f.verdict == "not checked":
                kinds[kind_of(f.reason)].append(f"{name}:{f.line}" + (f"  {f.latex[:70]}" if "-v" in argv else ""))
    print(f"{'all':20s} {checked:3d}/{total:3d} checked ({checked / max(total, 1):.1%})\n")
    for kind, where in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        print(f"{len(where):3d}  {kind}")
        for w in where:
            print(f"       {w}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
