"""What a checking process is asked, and the limits it works under (shared by the pool and a forked check)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TIMEOUT = 2.0
DEFAULT_MEMORY_MB = 1536
MARGIN = 1.0  # seconds on top of an answer's limit: the pipe and the scheduler, never preparing


@dataclass(frozen=True)
class Task:
    target: str
    wrt: str | None
    answer: str
    scale: str = "1"
