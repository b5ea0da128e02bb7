"""Warm worker processes that check batches of answers under a time and a memory limit.

Each worker imports SymPy and the engine once (a forkserver preloads them), prepares each
derivation it is given before any answer for it (derive/check/worker.py: loaded from derive's
cache where it can be, and never within an answer's time), and checks one answer at a time with an
address-space limit (resource.setrlimit). The parent waits at most the time limit plus a small
margin; a worker that overruns it is killed and replaced and the answer is undecided. A worker
that dies with an answer in flight is replaced and the answer tried once more in the fresh worker;
if that one dies too the answer is invalid. Either way the batch goes on. `close()` (also on
Ctrl-C) kills every worker at once and starts none.

A single answer from the command line does not need a pool: derive/check/forked.py.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

from derive.check.task import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, Prepare, Task, request, wall_limit
from derive.check.verdict import Verdict
from derive.errors import DeriveError
from derive.model.request import Request

__all__ = ["DEFAULT_MEMORY_MB", "DEFAULT_TIMEOUT", "CheckPool", "Task", "cores", "worker_count"]

PREPARE_LIMIT = 120.0  # seconds to build or load one derivation in a worker (not an answer's time)
PRELOAD = ["derive.check.preload"]
WORKERS_PER_CORE = 4


class Closed(Exception):
    """The pool was closed (Ctrl-C) while this answer was in flight."""


_DIED, _LATE = object(), object()  # what a worker did instead of answering


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_count(workers: int | None) -> int:
    """`workers`, or every core for None; DeriveError naming the range for anything else."""
    if workers is None:
        return cores()
    most = WORKERS_PER_CORE * cores()
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= most:
        raise DeriveError(f"--workers must be a whole number from 1 to {most} ({WORKERS_PER_CORE} per core); "
                          f"got {workers!r} (default: every core, {cores()})")
    return workers


def _context():
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return mp.get_context("spawn")


class _Slot:
    """One worker process, the pipe to it, and the derivations it has prepared."""

    def __init__(self, pool: CheckPool):
        self.pool = pool
        self.proc = self.conn = None
        self.prepared: set = set()
        self.start()

    def start(self) -> None:
        from derive.check.task import serve

        with self.pool._lock:
            if self.pool.closed:
                return
            parent, child = self.pool._ctx.Pipe()
            self.proc = self.pool._ctx.Process(target=serve, args=(child, self.pool.timeout, self.pool.memory_mb),
                                               daemon=True)
            self.proc.start()
            child.close()
            self.conn, self.prepared = parent, set()

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
        if self.proc is not None:
            self.proc.join(timeout=5)
        if self.conn is not None:
            self.conn.close()

    def _call(self, message, limit: float):
        """The worker's reply to `message`; _LATE or _DIED (the worker replaced) when there is none."""
        if self.pool.closed:
            raise Closed()
        try:
            self.conn.send(message)
            if self.conn.poll(limit):
                return self.conn.recv()
            outcome = _LATE
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            outcome = _DIED
        if self.pool.closed:
            raise Closed()
        self.stop()
        self.start()
        return outcome

    def _prepare(self, task: Task):
        key = task.request
        if key in self.prepared:
            return None
        data = self._call(Prepare(key), PREPARE_LIMIT)
        if data is _LATE:
            raise DeriveError(f"preparing {key.target} took longer than {PREPARE_LIMIT:g} s")
        if data is _DIED:
            return data
        if "error" not in data:
            self.prepared.add(key)
        return data if "error" in data else None

    def run(self, task: Task) -> dict:
        """The verdict on `task` as a dict; a worker that dies with it is replaced and tried once more."""
        for _attempt in range(2):
            data = self._prepare(task)
            if data is None:
                data = self._call(task, wall_limit(self.pool.timeout))
            if data is _LATE:
                return _stopped(f"the check took longer than {self.pool.timeout:g} s and was stopped", "undecided")
            if data is not _DIED:
                return data
        return _stopped("the check crashed its worker twice (out of memory?) and was stopped", "invalid")


def _stopped(reason: str, verdict: str) -> dict:
    from derive.check.verdict import stopped_json

    return stopped_json(verdict, reason)


class CheckPool:
    """`with CheckPool(workers=2) as pool: pool.check("softmax", "x", answer)` → Verdict."""

    def __init__(self, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                 memory_mb: int = DEFAULT_MEMORY_MB):
        self.workers = worker_count(workers)
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # workers: one thread each, small memory map
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        self.timeout, self.memory_mb = timeout, memory_mb
        self.closed = False
        self._lock = threading.Lock()
        self._ctx = _context()
        self._slots: queue.Queue = queue.Queue()
        self._all = [_Slot(self) for _ in range(self.workers)]
        for slot in self._all:
            self._slots.put(slot)

    def run(self, task: Task) -> Verdict:
        slot = self._slots.get()
        try:
            data = slot.run(task)
        finally:
            self._slots.put(slot)
        if "error" in data:
            raise DeriveError(data["error"])
        return Verdict.from_json(data, task.answer)

    def check(self, target: str, wrt: str | None, answer: str, scale: object = 1) -> Verdict:
        return self.run(Task(request(target, wrt, scale), answer))

    def prepare(self, target: str, wrt: str | None, scale: object = 1) -> None:
        """Have every worker build (or load) the derivation now; DeriveError for a bad target or variable."""
        self.ready(request(target, wrt, scale))

    def ready(self, asked: Request) -> None:
        """`prepare` for a request already made (derive.check.task.request)."""
        task, target = Task(asked, ""), asked.target
        slots = [self._slots.get() for _ in self._all]  # every worker, each once

        def one(slot):
            for _attempt in range(2):
                data = slot._prepare(task)
                if data is not _DIED:
                    break
            if data is _DIED:
                raise DeriveError(f"the workers preparing {target} crashed twice (out of memory?)")
            if data is not None:
                raise DeriveError(data["error"])

        try:
            with ThreadPoolExecutor(max_workers=len(slots)) as ex:
                list(ex.map(one, slots))
        finally:
            for slot in slots:
                self._slots.put(slot)

    def map(self, tasks):
        """Verdicts in the order of `tasks`, computed on all workers at once."""
        ex = ThreadPoolExecutor(max_workers=self.workers)
        try:
            yield from ex.map(self.run, tasks)
        finally:
            ex.shutdown(wait=False, cancel_futures=True)

    def imap_unordered(self, tasks):
        """(position, Verdict) as each finishes."""
        ex = ThreadPoolExecutor(max_workers=self.workers)
        try:
            futures = {ex.submit(self.run, t): n for n, t in enumerate(tasks)}
            for f in as_completed(futures):
                yield futures[f], f.result()
        finally:
            ex.shutdown(wait=False, cancel_futures=True)  # on Ctrl-C: do not wait for the batch

    def close(self) -> None:
        """Kill every worker now; answers in flight raise Closed and no worker is started again."""
        with self._lock:
            self.closed = True
        for slot in self._all:
            slot.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
