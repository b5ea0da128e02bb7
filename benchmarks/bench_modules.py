"""Time per registry entry: derive's derivation with its verification (the matrix form checked against
the index form, sympy.diff and central finite differences, as `derivative(..., verify=True)` runs
them) against the plain route, sympy.diff of the definition expanded at the entry's concrete sizes,
for every entry and every variable it can be differentiated by. Not a timed test.

    python benchmarks/bench_modules.py            # every entry, a fresh process each (--repeats N: best of N)
    python benchmarks/bench_modules.py --quick    # one entry, one run (CI)
    python benchmarks/bench_modules.py layernorm  # the named entries only

Goal (issue 13): each derivation with its verification under 2 s on a 2-core machine, judged on the
CPU time of the process (wall time on a machine shared with other work measures the other work too;
both are printed, and the ratio is of CPU times). Both routes
are timed after the imports, in the same process; derive's includes what its first call costs
(NumPy for the matrix form). The ratio is derive's time over the plain route's: derive does more
(steps, folding, a closed form and its matrix form, and the checks, which run sympy.diff itself).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, random, sys, time
sys.path.insert(0, sys.argv[1])
import sympy as sp
from derive.api import derivative
from derive.concrete import Concretizer, assignments, sample, wrt_entry
target, wrt = sys.argv[2], sys.argv[3]
t0, c0 = time.perf_counter(), time.process_time()
d = derivative(target, wrt=wrt, verify=True)
ours, ours_cpu = time.perf_counter() - t0, time.process_time() - c0

# the plain route: every entry of the gradient as sympy.diff of the definition written out at the sizes
point = sample(d.definition, random.Random(0), d.upstream)
from sympy.core.cache import clear_cache
clear_cache()  # SymPy remembers the checks' own sympy.diff calls: the plain route starts afresh
t0, c0 = time.perf_counter(), time.process_time()
conc = Concretizer(d)
for a in assignments(d):
    sp.diff(conc(d.lhs.expr, a, point.classes), wrt_entry(d, a))
plain, plain_cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"ours": ours, "plain": plain, "ours_cpu": ours_cpu, "plain_cpu": plain_cpu,
                  "cells": len(assignments(d))}))
"""


def pairs(names: list[str]) -> list[tuple[str, str]]:
    """(entry, variable) for every registry entry (or those named) and every input it has."""
    sys.path.insert(0, str(ROOT))
    from derive.definitions import entries, get

    chosen = [e.name for e in entries() if not names or e.name in names]
    return [(name, var.name) for name in chosen for var in get(name).inputs]


def run_one(target: str, wrt: str) -> dict:
    env = {**{k: v for k, v in os.environ.items() if k != "DERIVE_CACHE_DIR"}, "DERIVE_NO_CACHE": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), target, wrt], capture_output=True,
                         text=True, timeout=600, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one entry, one run (CI)")
    ap.add_argument("--repeats", type=int, default=1, help="runs of each, the best kept (default 1)")
    ap.add_argument("names", nargs="*", help="registry entries to time (default: every entry)")
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    todo = pairs(args.names or (["softmax"] if args.quick else []))
    print(f"{'entry':<28} {'∂/∂':<6} {'cells':>5} {'derive + checks':>16} {'(wall)':>8} {'sympy.diff':>11} "
          f"{'ratio':>6}  under 2 s")
    slow, worst = [], ("", "", 0.0)
    for target, wrt in todo:
        runs = [run_one(target, wrt) for _ in range(repeats)]
        ours, plain = min(r["ours_cpu"] for r in runs), min(r["plain_cpu"] for r in runs)
        wall = min(r["ours"] for r in runs)
        if ours >= 2:
            slow.append(f"{target} ∂/∂{wrt}")
        worst = max(worst, (target, wrt, ours), key=lambda w: w[2])
        print(f"{target:<28} {wrt:<6} {runs[0]['cells']:>5} {ours:>15.2f}s {wall:>7.2f}s {plain:>10.3f}s "
              f"{ours / max(plain, 1e-3):>5.0f}x  {'yes' if ours < 2 else 'no'}", flush=True)
    print("CPU seconds of the process; (wall) the same run's wall time")
    print(f"{len(todo) - len(slow)} of {len(todo)} under 2 s (goal: all); slowest {worst[0]} ∂/∂{worst[1]} "
          f"{worst[2]:.2f}s" + (f"; over: {', '.join(slow)}" if slow else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
