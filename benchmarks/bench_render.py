"""Rendering every bundled sheet (Markdown and LaTeX) against the floor `import sympy, jinja2`.

Both are whole processes, timed in the same run. Rendering includes deriving and verifying
every result on the sheets (sympy.diff and finite differences): a sheet states nothing unchecked.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from timing import timed  # benchmarks/ is on the path when a script here runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one sheet, one run (CI)")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 3
    floor = timed([sys.executable, "-c", "import sympy, jinja2"], max(repeats, 3))
    sheets = ["nyu2020_hw1"] if args.quick else ["--all"]
    with tempfile.TemporaryDirectory() as out:
        t = timed([sys.executable, "-m", "derive", "sheet", *sheets, "-o", out, "--format", "md,tex"], repeats,
                  warm_up=False)
    label = "derive sheet " + " ".join(sheets) + " (md, tex)"
    print(f"{'command':<44} {'median':>9} {'vs floor':>9}")
    floor_label = 'python -c "import sympy, jinja2"'
    print(f"{floor_label:<44} {floor:>8.3f}s {1.0:>8.2f}x")
    print(f"{label:<44} {t:>8.3f}s {t / floor:>8.2f}x")
    print("goal: at most 1.5x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
