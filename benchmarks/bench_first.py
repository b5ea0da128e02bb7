"""The first answer: one `derive check` and `derive show` of each registry entry, against `python -c "import sympy"`.

Whole processes. Each run of a command follows a run of the floor, so a busy machine slows both
alike; a figure is the median of the command's runs over the median of the floor's runs beside them.
The cache is a folder of the benchmark's own:
  check            derive check softmax '\\beta y_j(\\delta_{ij} - y_i)' (cache filled: the derivation and
                   its reference values are made once per version of the engine)      goal <= 1.5x
  show, warm       derive show NAME, every registry entry, the cache filled           goal <= 1.2x each
  show, cold       the same from an empty cache: derived and checked (sympy.diff and finite differences;
                   the checks against sympy.diff in children on the second core, derive.beside)
                                                                                      goal <= 2x each
  network, warm    derive show affine>relu>affine>relu>affine>mse (three layers)     goal <= 1.5x
`bench_first.py --cold-only NAME …` times only the cold shows of the entries named.
PYTHONDONTWRITEBYTECODE is dropped for these runs, so derive's modules run from bytecode as an
installed package's do (SymPy's was compiled when it was installed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import once, once_cpu  # benchmarks/ is on the path when a script here runs

ANSWER = r"\beta y_j(\delta_{ij} - y_i)"
NETWORK = "affine>relu>affine>relu>affine>mse"
FLOOR = [sys.executable, "-c", "import sympy"]


def derive(*args: str) -> list[str]:
    return [sys.executable, "-m", "derive", *args]


def ratio(cmd: list[str], env: dict, runs: int, before=None) -> tuple[float, float, float]:
    """(median seconds of `cmd`, that over the median of the floor's runs beside it, the same ratio of
    CPU seconds)."""
    floors, times = [], []
    for _ in range(runs):
        floors.append(once_cpu(FLOOR, env))
        if before:
            before()
        times.append(once_cpu(cmd, env))
    t = statistics.median(w for w, _ in times)
    cpu = statistics.median(c for _, c in times) / statistics.median(c for _, c in floors)
    return t, t / statistics.median(w for w, _ in floors), cpu


def registry(env: dict) -> list[str]:
    out = subprocess.run(derive("list", "--json"), capture_output=True, text=True, check=True, env=env).stdout
    import json

    return [row["name"] for row in json.loads(out)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two entries, one run each (CI)")
    parser.add_argument("--runs", type=int, default=5, help="warm runs of each show (default 5)")
    parser.add_argument("--cold-runs", type=int, default=2, help="cold runs of each show (default 2; about 50 entries)")
    parser.add_argument("--cold-only", action="store_true",
                        help="only the cold shows: no check, no network, no warm shows")
    parser.add_argument("names", nargs="*", metavar="NAME", help="registry entries to show (default: every one)")
    args = parser.parse_args(argv)
    runs, cold_runs = (1, 1) if args.quick else (args.runs, args.cold_runs)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "cache"
        env = {k: v for k, v in os.environ.items() if k not in ("DERIVE_NO_CACHE", "PYTHONDONTWRITEBYTECODE")}
        env["DERIVE_CACHE_DIR"] = str(folder)
        empty = lambda: shutil.rmtree(folder, ignore_errors=True)
        names = args.names or (["softmax", "hinge"] if args.quick else registry(env))

        if not args.cold_only:
            check = derive("check", "softmax", ANSWER)
            once(check, env)  # fills the cache (and writes bytecode)
            t_check, r_check, c_check = ratio(check, env, 3 if args.quick else 15)
            once(derive("show", NETWORK), env)
            t_net, r_net, c_net = ratio(derive("show", NETWORK), env, runs)
        rows = []
        for name in names:
            once(derive("show", name), env)  # bytecode written, files in the page cache
            warm = None if args.cold_only else ratio(derive("show", name), env, runs)
            cold = ratio(derive("show", name), env, cold_runs, before=empty)
            rows.append((name, warm, cold))

    if not args.cold_only:
        print(f"{'command':<52} {'median':>9} {'vs import sympy':>16} {'CPU':>6} {'goal':>6}")
        print(f"{'derive check softmax (one answer, cache filled)':<52} {t_check:>8.3f}s {r_check:>15.2f}x "
              f"{c_check:>5.2f}x {'1.5x':>6}")
        print(f"{'derive show ' + NETWORK + ', warm':<52} {t_net:>8.3f}s {r_net:>15.2f}x {c_net:>5.2f}x {'1.5x':>6}")
    print(f"{'derive show NAME':<28} {'warm':>9} {'vs floor':>9} {'CPU':>6} {'cold':>9} {'vs floor':>9} {'CPU':>6}")
    for name, warm, (tc, rc, cc) in rows:
        tw, rw, cw = warm or (0.0, 0.0, 0.0)
        shown = f"{tw:>8.3f}s {rw:>8.2f}x {cw:>5.2f}x" if warm else f"{'-':>9} {'-':>9} {'-':>6}"
        print(f"{'  ' + name:<28} {shown} {tc:>8.3f}s {rc:>8.2f}x {cc:>5.2f}x")
    if not args.cold_only:
        worst_warm = max(rows, key=lambda r: r[1][1])
        print(f"show, worst warm: {worst_warm[0]} {worst_warm[1][1]:.2f}x (goal 1.2x); median over entries "
              f"{statistics.median(r[1][1] for r in rows):.2f}x")
    worst_cold = max(rows, key=lambda r: r[2][1])
    print(f"show, worst cold: {worst_cold[0]} {worst_cold[2][1]:.2f}x (goal 2x); median over entries "
          f"{statistics.median(r[2][1] for r in rows):.2f}x; "
          f"{sum(r[2][1] <= 2 for r in rows)} of {len(rows)} entries within 2x; by CPU time "
          f"{sum(r[2][2] <= 2 for r in rows)} of {len(rows)} (median {statistics.median(r[2][2] for r in rows):.2f}x, "
          f"worst {max(r[2][2] for r in rows):.2f}x)")
    print("vs floor: wall time over the floor's wall time (the goal); CPU: user + system seconds over the "
          "floor's, steadier on a machine shared with other work")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
