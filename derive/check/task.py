"""What a checking process is asked, and the limits it works under (shared by the pool and a forked check).

Light on purpose: the process that runs a pool imports this, not SymPy; its workers import the
checker (derive/check/worker.py) themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.model.request import Request

DEFAULT_TIMEOUT = 2.0
DEFAULT_MEMORY_MB = 1536
MARGIN = 1.0  # seconds on top of an answer's limit: the pipe and the scheduler, never preparing
LOAD_ALLOWANCE = 3.0  # an answer's limit is CPU time; the wall-clock backstop allows a machine this loaded


def wall_limit(timeout: float) -> float:
    """How long (wall clock) a process checking one answer may take before it is stopped: its CPU-time
    limit stretched by a loaded machine, plus the margin. Only C code a timer cannot stop reaches it."""
    return timeout * LOAD_ALLOWANCE + MARGIN


@dataclass(frozen=True)
class Task:
    """One answer to check against the derivation `request` names."""

    request: Request
    answer: str


@dataclass(frozen=True)
class Prepare:
    """A message to a worker: build (or load) the derivation `request` names before any answer for it."""

    request: Request


def request(target: str, wrt: str | None, scale: object = 1) -> Request:
    """What a check is against, made once where it comes in (the command line, a grading run, the
    checking page, CheckPool.check): the scale parsed here (derive.limits.scale), one-line DeriveError."""
    from derive.limits import scale as parse_scale

    return Request(target, wrt, parse_scale(scale, "the cost scale"))


def serve(conn, timeout: float, memory_mb: int) -> None:
    """A pool worker's entry point, named here so that starting one does not import SymPy in the parent."""
    from derive.check.worker import serve as run

    run(conn, timeout, memory_mb)
