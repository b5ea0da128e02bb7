"""The loop a pool worker runs: receive a task, check it, send the verdict back as a dict.

Importing this module imports SymPy and the engine, so a forkserver that preloads it hands
out workers that are warm from the start.
"""

from __future__ import annotations

import sympy  # noqa: F401  (warm: the reason a worker exists)

import derive.check.compare
import derive.check.feedback
import derive.check.meaning
import derive.check.network  # noqa: F401
import derive.check.parse as _parse
from derive.errors import DeriveError

_parse._parser()  # build the LALR tables once, before forking


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass  # no rlimit on this platform: the time limit still holds


def serve(conn, timeout: float, memory_mb: int) -> None:
    from fractions import Fraction

    from derive.api import derivative
    from derive.check import check

    _limit_memory(memory_mb)
    derivations: dict = {}
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        try:
            key = (task.target, task.wrt, task.scale)
            if key not in derivations:
                derivations[key] = derivative(task.target, wrt=task.wrt, scale=Fraction(task.scale))
            result = check(derivations[key], task.answer, timeout=timeout).to_json()
        except DeriveError as exc:
            result = {"error": exc.message}
        except MemoryError:
            result = {"verdict": "invalid", "parsed": None, "expected": "", "counterexample": None,
                      "feedback": ["the answer needs more memory to check than is allowed"]}
        except Exception as exc:  # noqa: BLE001 - a bug in the checker must not look like the student's mistake
            result = {"verdict": "undecided", "parsed": None, "expected": "", "counterexample": None,
                      "feedback": [f"the checker failed on this answer ({type(exc).__name__})"]}
        try:
            conn.send(result)
        except (OSError, ValueError):
            return
