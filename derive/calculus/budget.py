"""A time budget for one optional rewrite: past it the rewrite is skipped, the derivation goes on.

`sympy.solve` on a definition with a float constant (GELU's 0.044715) can run for many minutes;
folding is only a nicer way to write a result that is already right, so it gives up instead. The
budget nests inside derive.limits.time_limit: the outer timer is paused and re-armed with what it
had left, so the outer limit still governs.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

FOLD_SECONDS = 5.0  # one attempt to solve a definition for a subexpression (well under 1 s when it succeeds)


class _Overrun(BaseException):
    """Raised by the budget's timer: a BaseException, so no `except Exception` inside SymPy swallows it."""


_armed = threading.local()


def _overrun(signum, frame):
    if getattr(_armed, "on", False):
        raise _Overrun


def within(seconds: float, work: Callable[[], T], fallback: T) -> T:
    """`work()`, or `fallback` when it runs longer than `seconds` (or the outer time limit ends first,
    which then fires as usual). Outside the main thread, where there are no timer signals, the work
    runs unbounded."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return work()
    outer_left, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    previous = signal.signal(signal.SIGALRM, _overrun)
    start = time.monotonic()
    _armed.on = True
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_left) if outer_left else seconds)
    try:
        return work()
    except _Overrun:
        return fallback
    finally:
        _armed.on = False  # first: a signal arriving while the rest of this block runs is ignored
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left:  # re-arm the outer limit with what it had left (at once if it ran out meanwhile)
            left = max(outer_left - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)
