"""Start-up: `derive --help` and `derive list` against `python -c "import sympy"`, in one run.

The CLI imports SymPy only when a command needs it; goal: at most 0.5x the floor.
"""

from __future__ import annotations

import argparse
import sys

from timing import timed  # benchmarks/ is on the path when a script here runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three runs each (CI)")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 15
    floor = timed([sys.executable, "-c", "import sympy"], repeats)
    print(f"{'command':<32} {'median':>9} {'vs import sympy':>16}")
    floor_label = 'python -c "import sympy"'
    print(f"{floor_label:<32} {floor:>8.3f}s {1.0:>15.2f}x")
    for label, cmd in (("derive --help", ["--help"]), ("derive list", ["list"])):
        t = timed([sys.executable, "-m", "derive", *cmd], repeats)
        print(f"{label:<32} {t:>8.3f}s {t / floor:>15.2f}x")
    print("goal: at most 0.5x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
