"""Rendering every bundled sheet (Markdown and LaTeX) against the floor `import sympy, jinja2`.

Both are whole processes, timed in the same run. Rendering includes deriving and verifying
every result on the sheets (sympy.diff and finite differences): a sheet states nothing unchecked.
Verified derivations are cached (derive/cache.py), so there are two figures:
  cold   an empty cache for every run: everything derived and verified (CI, a changed engine),
         in one process (-j 1) and with the parts solved ahead on every core (the default)
  warm   the cache filled by an earlier run with the same sources: loaded, then rendered
The benchmark uses cache folders of its own, never the user's. The warm runs alternate with runs
of the floor, so a busy machine slows both alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from timing import once, timed  # benchmarks/ is on the path when a script here runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one sheet, one run (CI)")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else 3
    floor_cmd = [sys.executable, "-c", "import sympy, jinja2"]
    sheets = ["nyu2020_hw1"] if args.quick else ["--all"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out, folder = Path(tmp) / "out", Path(tmp) / "cache"
        cmd = [sys.executable, "-m", "derive", "sheet", *sheets, "-o", str(out), "--format", "md,tex"]
        env = {k: v for k, v in os.environ.items() if k != "DERIVE_NO_CACHE"} | {"DERIVE_CACHE_DIR": str(folder)}
        empty = lambda: shutil.rmtree(folder, ignore_errors=True)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        rows.append(("cold, 1 process (-j 1)", timed([*cmd, "-j", "1"], repeats, warm_up=False, env=env, before=empty)))
        rows.append((f"cold, {cores} cores (-j {cores})", timed([*cmd, "-j", str(cores)], repeats, warm_up=False,
                                                                env=env, before=empty)))
        once(cmd, env)  # fills the cache
        floors, warm = [], []
        for _ in range(3 if args.quick else 7):
            floors.append(once(floor_cmd))
            warm.append(once(cmd, env))
        floor = statistics.median(floors)
        rows.append(("warm (cache filled)", statistics.median(warm)))
    label = "derive sheet " + " ".join(sheets) + " (md, tex)"
    print(f"{'command':<64} {'median':>9} {'vs floor':>9}")
    floor_label = 'python -c "import sympy, jinja2"'
    print(f"{floor_label:<64} {floor:>8.3f}s {1.0:>8.2f}x")
    for name, t in rows:
        print(f"{label + ', ' + name:<64} {t:>8.3f}s {t / floor:>8.2f}x")
    print("goal: at most 1.5x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
