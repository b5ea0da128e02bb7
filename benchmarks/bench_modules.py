"""Time per course module: derive's derivation with its verification (sympy.diff and central finite
differences, as `derivative(..., verify=True)` runs them) against the plain route, sympy.diff of
the definition expanded at the module's concrete sizes, for every entry. Not a timed test.

    python benchmarks/bench_modules.py            # every module, best of 3, fresh process each
    python benchmarks/bench_modules.py --quick    # one repeat

Goal (issue 13): each derivation with its verification under 2 s on a 2-core machine. The ratio
is derive's time over the plain route's; derive does more (steps, folding, a closed form, checks).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = [("mean", "x"), ("variance", "x"), ("batchnorm", "x"), ("batchnorm", "gamma"),
           ("layernorm", "x"), ("conv1d", "x"), ("conv1d", "w"), ("conv1d_strided", "x"),
           ("conv2d", "X"), ("conv2d", "W"), ("avgpool1d", "x"), ("maxpool1d", "x")]

_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import sympy as sp
from derive.definitions import get
target, wrt = sys.argv[2], sys.argv[3]
defn = get(target)
t0 = time.perf_counter()
from derive.api import derivative
d = derivative(target, wrt=wrt, verify=True)
ours = time.perf_counter() - t0

# the plain route: the definition at concrete sizes, every output entry differentiated by sympy.diff
from derive.concrete import unroll
sizes = {s: int(v) for s, v in defn.sizes.items()}
var = defn.var(wrt)
t0 = time.perf_counter()
shape = [sizes[s] for s in defn.output.shape]
import itertools
outs = [dict(zip(defn.index, idx)) for idx in itertools.product(*[range(1, n + 1) for n in shape])] or [{}]
entries = ([var.symbol[idx] for idx in itertools.product(*[range(1, sizes[s] + 1) for s in var.shape])]
           if var.shape else [var.symbol])
for a in outs:
    e = unroll(defn.expr.xreplace({**sizes, **a})).doit()
    for x in entries:
        sp.diff(e, x)
plain = time.perf_counter() - t0
print(json.dumps({"ours": ours, "plain": plain}))
"""


def run_one(target: str, wrt: str) -> dict:
    env = {"DERIVE_NO_CACHE": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), target, wrt], capture_output=True,
                         text=True, timeout=600, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> str:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else 3
    rows = ["| module | ∂/∂ | derive + verification (s) | sympy.diff expanded (s) | ratio | under 2 s |",
            "| --- | --- | --- | --- | --- | --- |"]
    for target, wrt in MODULES:
        runs = [run_one(target, wrt) for _ in range(repeats)]
        ours, plain = min(r["ours"] for r in runs), min(r["plain"] for r in runs)
        rows.append(f"| {target} | {wrt} | {ours:.2f} | {plain:.3f} | {ours / plain:.0f}× | "
                    f"{'yes' if ours < 2 else 'no'} |")
    table = "\n".join(rows)
    print(table)
    return table


if __name__ == "__main__":
    main()
