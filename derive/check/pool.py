"""Warm worker processes that check answers under a time and a memory limit.

Each worker imports SymPy and the engine once, keeps the derivations it has built, and checks
one answer at a time with an address-space limit (resource.setrlimit). The parent waits at
most the time limit (plus a margin for building a derivation the first time); a worker that
overruns it or dies is killed and replaced, and the answer gets a verdict saying why, so a
batch keeps going. Workers are forked from a forkserver that has the modules preloaded.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from derive.check.verdict import Verdict
from derive.errors import DeriveError

DEFAULT_TIMEOUT = 2.0
DEFAULT_MEMORY_MB = 1536
MARGIN = 3.0  # seconds on top of the limit: building a derivation on first use is not the student's time
PRELOAD = ["derive.check.worker"]


@dataclass(frozen=True)
class Task:
    target: str
    wrt: str | None
    answer: str
    scale: str = "1"


def _context():
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return mp.get_context("spawn")


class _Slot:
    """One worker process and the pipe to it."""

    def __init__(self, ctx, timeout: float, memory_mb: int):
        self.ctx, self.timeout, self.memory_mb = ctx, timeout, memory_mb
        self.proc = self.conn = None
        self.start()

    def start(self) -> None:
        from derive.check.worker import serve

        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=serve, args=(child, self.timeout, self.memory_mb), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
        if self.proc is not None:
            self.proc.join(timeout=5)
        if self.conn is not None:
            self.conn.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def run(self, task: Task) -> dict:
        try:
            self.conn.send(task)
            if self.conn.poll(self.timeout + MARGIN):
                return self.conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            self.restart()
            return _stopped(task, "the check ran out of memory or crashed and was stopped", "invalid")
        self.restart()
        return _stopped(task, f"the check took longer than {self.timeout:g} s and was stopped", "undecided")


def _stopped(task: Task, reason: str, verdict: str) -> dict:
    return {"verdict": verdict, "parsed": None, "expected": "", "feedback": [reason], "counterexample": None}


class CheckPool:
    """`with CheckPool(workers=2) as pool: pool.check("softmax", "x", answer)` → Verdict."""

    def __init__(self, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                 memory_mb: int = DEFAULT_MEMORY_MB):
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # workers: one thread each, small memory map
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        self.workers = workers or os.cpu_count() or 1
        ctx = _context()
        self._slots: queue.Queue = queue.Queue()
        self._all = [_Slot(ctx, timeout, memory_mb) for _ in range(self.workers)]
        for slot in self._all:
            self._slots.put(slot)
        self._lock = threading.Lock()

    def run(self, task: Task) -> Verdict:
        slot = self._slots.get()
        try:
            data = slot.run(task)
        finally:
            self._slots.put(slot)
        if "error" in data:
            raise DeriveError(data["error"])
        return Verdict.from_json(data, task.answer)

    def check(self, target: str, wrt: str | None, answer: str, scale="1") -> Verdict:
        return self.run(Task(target, wrt, answer, str(scale)))

    def map(self, tasks):
        """Verdicts in the order of `tasks`, computed on all workers at once."""
        with ThreadPoolExecutor(max_workers=self.workers) as ex:
            yield from ex.map(self.run, tasks)

    def imap_unordered(self, tasks):
        """(position, Verdict) as each finishes."""
        with ThreadPoolExecutor(max_workers=self.workers) as ex:
            futures = {ex.submit(self.run, t): n for n, t in enumerate(tasks)}
            from concurrent.futures import as_completed

            for f in as_completed(futures):
                yield futures[f], f.result()

    def close(self) -> None:
        for slot in self._all:
            slot.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
