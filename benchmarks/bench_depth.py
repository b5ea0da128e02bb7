"""Cost of ∂L/∂W1 for affine>sigmoid chains of growing depth: derive's layer-by-layer recursion
against the naive route (write the composed scalar loss out, then sympy.diff). Not a timed test.

    python benchmarks/bench_depth.py            # depths 2..32, naive route capped at 60 s
    python benchmarks/bench_depth.py --quick    # for CI: fewer repeats, naive route capped at 10 s

Goal (issue 4): deriving at depth 32 costs at most 12 times depth 4. Both columns include the
network's gradient check (finite differences of the generated code), which every derivation runs.

Second table (issue 14): an RNN unrolled over T = 4 … 64 steps (derive.graph.rnn), backprop on the
graph with every statement checked. Goal: the cost grows linearly in T, so the cost per step at the
largest T is at most twice the cost per step at T = 4.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WIDTH = 2  # every layer 2 wide, input 2, output 2: the naive expression is already large at depth 5


def chain(depth: int) -> str:
    return ">".join(["affine>sigmoid"] * depth) + ">mse"


def clear_caches(engine: bool) -> None:
    from derive.network import backprop, local
    from derive.network import chain as chain_mod

    chain_mod._build.cache_clear()
    backprop.backprop.cache_clear()
    backprop._checked.cache_clear()  # the gradient check is part of deriving a network
    if engine:  # also forget the engine's derivations of affine, sigmoid and mse
        local.derivation.cache_clear()
        local.definition.cache_clear()


def ours(depth: int, engine: bool, repeats: int) -> float:
    from derive.network import network

    best = float("inf")
    for _ in range(repeats):
        clear_caches(engine)
        start = time.perf_counter()
        d = network(chain(depth)).derive("W1")
        assert d.gradient.latex == r"\delta^{(1)} x^\top"
        best = min(best, time.perf_counter() - start)
    return best


def _naive(depth: int, out) -> None:
    """The composed loss at width 2, written out entry by entry, differentiated by sympy.diff."""
    import sympy as sp

    start = time.perf_counter()
    z = list(sp.symbols(f"x1:{WIDTH + 1}"))
    first = None
    for k in range(1, depth + 1):
        W = sp.Matrix(WIDTH, WIDTH, lambda i, j, k=k: sp.Symbol(f"W{k}_{i + 1}{j + 1}"))
        b = [sp.Symbol(f"b{k}_{i + 1}") for i in range(WIDTH)]
        first = first or W[0, 0]
        z = [1 / (1 + sp.exp(-(sum(W[i, j] * z[j] for j in range(WIDTH)) + b[i]))) for i in range(WIDTH)]
    y = sp.symbols(f"y1:{WIDTH + 1}")
    loss = sum((z[i] - y[i]) ** 2 for i in range(WIDTH))
    grad = sp.diff(loss, first)
    out.put((time.perf_counter() - start, sp.count_ops(grad)))


def naive(depth: int, cap: float):
    """(seconds, operations in the result), or (None, None) past the cap."""
    queue = mp.Queue()
    proc = mp.Process(target=_naive, args=(depth, queue))
    proc.start()
    proc.join(cap)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return None, None
    return queue.get() if not queue.empty() else (None, None)


def unrolled(steps: int, repeats: int) -> tuple:
    """(best seconds, statements checked) for the RNN unrolled over `steps`, its graph built afresh."""
    from derive.graph import backprop, codegen
    from derive.graph.rnn import rnn

    best, count = float("inf"), 0
    for _ in range(repeats):
        backprop.backprop.cache_clear()
        codegen.program.cache_clear()
        codegen._compiled.cache_clear()
        start = time.perf_counter()
        bp = rnn(steps).derive()
        best = min(best, time.perf_counter() - start)
        count = bp.checked.statements
        assert len(bp.gradient("W_hh").parts) == steps  # the sum over t
    return best, count


def rnn_table(quick: bool) -> bool:
    steps = (4, 8, 16) if quick else (4, 8, 16, 32, 64)
    unrolled(2, 1)  # the engine's derivations of the cell, tanh, affine and mse, once
    times = {t: unrolled(t, 1 if quick else 2) for t in steps}
    print()
    print("an RNN unrolled over T steps (tanh cell, a loss at every step): backprop on the graph, every statement "
          "checked")
    print(f"{'T':>5}  {'seconds':>9}  {'per step':>9}  {'statements':>10}")
    for t, (sec, count) in times.items():
        print(f"{t:>5}  {sec:8.3f}s  {sec / t:8.4f}s  {count:>10d}")
    ratio = (times[steps[-1]][0] / steps[-1]) / (times[4][0] / 4)
    print(f"cost per step at T = {steps[-1]} / at T = 4: {ratio:.2f}x; goal <= 2x (linear in T)")
    return ratio <= 2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and a 10 s cap on the naive route")
    args = parser.parse_args(argv)
    depths = (2, 4, 8, 16, 32)
    repeats = 2 if args.quick else 5
    cap = 10.0 if args.quick else 60.0

    cold = {d: ours(d, engine=True, repeats=repeats) for d in depths}
    warm = {d: ours(d, engine=False, repeats=repeats) for d in depths}
    slow, gave_up = {}, False
    for d in depths:
        slow[d] = (None, None) if gave_up else naive(d, cap)
        gave_up = slow[d][0] is None

    print(f"dL/dW1 of affine>sigmoid chains (naive route: width {WIDTH}, composed loss + sympy.diff, cap {cap:.0f} s)")
    print(f"{'depth':>5}  {'derive, cold':>13}  {'derive, warm':>13}  {'naive':>10}  {'naive ops':>10}")
    for d in depths:
        t, ops = slow[d]
        naive_t = f"{t:9.3f}s" if t is not None else f">{cap:.0f}s".rjust(10)
        naive_ops = f"{ops:10d}" if ops is not None else "-".rjust(10)
        print(f"{d:>5}  {cold[d]:12.3f}s  {warm[d]:12.4f}s  {naive_t}  {naive_ops}")
    ratio_cold, ratio_warm = cold[32] / cold[4], warm[32] / warm[4]
    print(f"depth 32 / depth 4: {ratio_cold:.1f}x cold (engine derivations included), "
          f"{ratio_warm:.1f}x warm (the recursion alone); goal <= 12x")
    linear = rnn_table(args.quick)
    return 0 if max(ratio_cold, ratio_warm) <= 12 and linear else 1


if __name__ == "__main__":
    sys.exit(main())
