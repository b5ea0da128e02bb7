"""Timing whole commands, shared by the benchmarks that compare a command with a floor."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable


def once(cmd: list[str], env: dict | None = None) -> float:
    """Wall time of one run of `cmd`."""
    return once_cpu(cmd, env)[0]


def once_cpu(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall time, CPU seconds: user + system of the command and its children) of one run of `cmd`.
    On a machine shared with other work the CPU time is the steadier of the two."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed(cmd: list[str], repeats: int, warm_up: bool = True, env: dict | None = None,
          before: Callable[[], None] | None = None) -> float:
    """Median wall time of `cmd` over `repeats` runs, after one untimed run for the file cache.

    `before` runs ahead of each timed run, untimed (e.g. to empty a cache folder).
    """
    if warm_up:
        subprocess.run(cmd, capture_output=True, check=True, env=env)
    runs = []
    for _ in range(repeats):
        if before:
            before()
        runs.append(once(cmd, env))
    return statistics.median(runs)
