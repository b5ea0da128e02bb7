"""Work done beside the caller, on the machine's second core: a child forked now computes `work()`
while the parent goes on, and `result()` collects it.

`derive show` verifies a result before printing it: the check against sympy.diff is about half of a
cold show, and the matrix form's check and the finite differences, which the parent does meanwhile,
most of the rest. A child forked holds everything the parent had made by then; what it still needs is
sent to it through a pipe of its own (derive.derivation.DiffChecks sends the derivation to a child started
before it was derived), and what comes back is small (a few counts, or the one line of a disagreement).

Only where forking after imports is safe (Linux) and a second core is free to this process;
elsewhere `result()` runs the work in the caller, when it is collected. The child runs no limit of
its own: the parent's time limit and Ctrl-C end the parent, which kills the child on its way out.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_MESSAGE = "message"  # the child ended in an exception the caller expects (`expected`): its class and line


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def forks() -> bool:
    """Whether a Beside starts a child: where forking after imports is safe (Linux) and a second core is free."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and cores() >= 2


def child_writing(produce: Callable[[], bytes]) -> tuple[int, int]:
    """A child forked now that writes `produce()` to a pipe and leaves without the parent's cleanup or
    buffered output (exit status 1 if `produce` raised); (its pid, the pipe's end to read it from)."""
    read, write = os.pipe()
    gc.freeze()  # the child's collections leave the parent's objects alone: fewer pages copied
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(read)
            data = produce()
            with os.fdopen(write, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    return pid, read


class Beside(Generic[T]):
    """`work()`, computed in a forked child from now on; `result()` gives it, or raises what it raised.

    `expected`: the exception classes the work may end in (a failed check); the child sends such an
    exception's class and message, and `result()` raises it again. Any other end of the child (a
    defect, a crash, a signal) makes `result()` run the work in the caller, so it fails there as it
    would have, with its traceback: `again()` where the child's work is not the caller's to do (it reads
    what the caller sends it), else `work()`."""

    def __init__(self, work: Callable[[], T], expected: tuple[type[BaseException], ...] = (),
                 again: Callable[[], T] | None = None):
        self._work, self._expected, self._again = work, expected, again or work
        self._pid = None
        if forks():
            self._start()

    def _start(self) -> None:
        def written() -> bytes:
            gc.disable()  # a short life: what it allocates is freed when it exits
            try:
                return pickle.dumps(("value", self._work()))
            except self._expected as exc:
                return pickle.dumps((_MESSAGE, (type(exc), str(exc))))

        self._pid, self._read = child_writing(written)

    def result(self) -> T:
        """The work's value (waiting for the child), or the exception it ended in."""
        if self._pid is None:
            return self._again()
        try:
            chunks = []
            while chunk := os.read(self._read, 1 << 16):
                chunks.append(chunk)
        finally:
            self.cancel()
        try:
            kind, value = pickle.loads(b"".join(chunks))
        except (EOFError, pickle.UnpicklingError, ValueError):  # the child died: the caller does the work
            return self._again()
        if kind == _MESSAGE:
            cls, message = value
            raise cls(message)
        return value

    def cancel(self) -> None:
        """The child stopped and reaped (a time limit or Ctrl-C in the parent, or its value read)."""
        if self._pid is None:
            return
        pid, self._pid = self._pid, None
        os.close(self._read)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
