"""Timing whole commands, shared by the benchmarks that compare a command with a floor."""

from __future__ import annotations

import statistics
import subprocess
import time


def timed(cmd: list[str], repeats: int, warm_up: bool = True) -> float:
    """Median wall time of `cmd` over `repeats` runs, after one untimed run for the file cache."""
    if warm_up:
        subprocess.run(cmd, capture_output=True, check=True)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)
