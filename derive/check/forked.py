"""One answer checked in a child process forked after the imports: `derive check`.

The parent imports SymPy and the checker and prepares the derivation (derive/check/worker.py:
from derive's cache for a built-in target), then forks. The child has the same limits as a pool
worker — an address-space limit and the check's own time limit — and the parent kills it when
it overruns task.wall_limit (its CPU-time limit allowing for load). A child that dies with the answer is replaced once.
Ctrl-C kills the child at once. Where fork is not safe after imports (anything but Linux:
macOS system libraries do not survive fork without exec) a one-worker pool does the same.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time

from derive.beside import child_writing
from derive.check.task import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, Task, wall_limit
from derive.check.verdict import Verdict, stopped_json
from derive.errors import DeriveError


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def check_forked(task: Task, timeout: float = DEFAULT_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB) -> Verdict:
    """The verdict on `task`, checked in a child of this process; DeriveError for a bad target."""
    if not can_fork():
        from derive.check.pool import CheckPool

        with CheckPool(workers=1, timeout=timeout, memory_mb=memory_mb) as pool:
            return pool.run(task)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no BLAS threads in a process that forks
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from derive.warm import collector_paused

    with collector_paused():
        from derive.check import worker

        worker.prepare(task.request)  # a bad target or variable: DeriveError here
    for _attempt in range(2):
        data = _in_child(task, timeout, memory_mb)
        if data is not None:
            break
    else:
        data = stopped_json("invalid", "the check crashed twice (out of memory?) and was stopped")
    if "error" in data:
        raise DeriveError(data["error"])
    return Verdict.from_json(data, task.answer)


def _in_child(task: Task, timeout: float, memory_mb: int) -> dict | None:
    """The child's verdict as a dict; a "stopped" verdict when it overran; None when it died."""
    from derive.check import worker

    def verdict() -> bytes:  # in the child: isolated, then the check
        worker.isolate(memory_mb)
        return json.dumps(worker.answer(task, timeout)).encode()

    pid, read = child_writing(verdict)
    try:
        return _collect(read, pid, timeout)
    finally:
        os.close(read)
        try:
            os.kill(pid, signal.SIGKILL)  # gone already, or overran, or Ctrl-C: in every case not left behind
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


def _collect(read: int, pid: int, timeout: float) -> dict | None:
    deadline = time.monotonic() + wall_limit(timeout)
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read], [], [], left)[0]:
            return stopped_json("undecided", f"the check took longer than {timeout:g} s and was stopped")
        chunk = os.read(read, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except ValueError:  # nothing, or half a verdict: the child died
        return None
