"""Starting a short command: its imports and preparation with the cyclic garbage collector paused.

Importing SymPy and the checker builds some 70,000 tracked objects that live as long as the process,
and the collector, triggered every 700 allocations, walks them again and again while they are built:
about a tenth of a one-answer `derive check` (0.09–0.10 s of 1.2 s, measured with gc.callbacks). Objects freed by reference counting are
freed as always; only cycles wait. When the pause ends, everything built so far is frozen (never
walked again) and collection resumes for the command's own work.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def collector_paused():
    """Collection off inside; on leaving, what exists is frozen and collection is as it was."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was:
            gc.enable()
