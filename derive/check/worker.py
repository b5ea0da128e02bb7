"""What a checking process runs: prepare a derivation, then check answers against it.

Importing this module imports SymPy and the checker and loads the answer parser (the network
checker is imported with the first network), so a forkserver that preloads it hands out workers
that are warm from the start, and a process that imports it before forking
(derive/check/forked.py) hands its child everything but the student's answer.

Preparing (the derivation, the values it is compared with, its LaTeX) is never the student's
time: built-in targets come from derive's cache, shared with `derive show`, where the derivation
has been checked against sympy.diff and finite differences; the rest is built once per process.
"""

from __future__ import annotations

import signal

import sympy  # noqa: F401  (warm: the reason a worker exists)

import derive.check.compare
import derive.check.feedback
import derive.check.meaning  # noqa: F401
from derive.check.lalr import parser as _lalr_parser
from derive.check.task import Prepare
from derive.check.verdict import stopped_json
from derive.errors import DeriveError
from derive.model.request import Request
from derive.network.chain import builtin, is_chain

_lalr_parser()  # the LALR tables, loaded once before forking

_PREPARED: dict = {}  # Request -> derivation, its reference built


def prepare(request: Request):
    """The derivation `request` names, with everything a check compares against made now."""
    if request not in _PREPARED:
        _PREPARED[request] = _prepared(request)
    return _PREPARED[request]


def _prepared(request: Request):
    from derive import cache
    from derive.check import _expected_latex
    from derive.check.compare import Reference, remember
    from derive.network.chain import derive_request

    if is_chain(request.target):  # a network: its reference is the network's own generated code, quick to make
        from derive.check.network import network_reference

        d = derive_request(request)
        network_reference(d)
        return d
    if not builtin(request.target):
        d = derive_request(request)
        remember(Reference(d).warm())
    else:

        def checked():
            return cache.cached("derivation", request.cache_key(), lambda: derive_request(request, verify=True))

        # the derivation and the reference made from it (its compiled code kept as source) come from the
        # cache; made here, before any answer's time starts, when they are not there
        d = remember(cache.cached("reference", request.cache_key(), lambda: Reference(checked()))).d
    _expected_latex(d)
    return d


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass  # no rlimit on this platform: the time limit still holds


def isolate(memory_mb: int) -> None:
    """In a checking process: the memory limit, and Ctrl-C left to the parent, which stops it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(memory_mb)


def answer(task, timeout: float) -> dict:
    """The verdict on `task.answer` as a dict (Verdict.to_json), or {"error": message} for bad input."""
    from derive.check import check

    try:
        d = prepare(task.request)
        return check(d, task.answer, timeout=timeout).to_json()
    except DeriveError as exc:
        return {"error": exc.message}
    except MemoryError:
        return stopped_json("invalid", "the answer needs more memory to check than is allowed")
    except Exception as exc:  # noqa: BLE001 - a bug in the checker must not look like the student's mistake
        return stopped_json("undecided", f"the checker failed on this answer ({type(exc).__name__})")


def _ready(message: Prepare) -> dict:
    try:
        prepare(message.request)
    except DeriveError as exc:
        return {"error": exc.message}
    except Exception as exc:  # noqa: BLE001 - said once for the batch rather than as a dead worker
        return {"error": f"the derivation of {message.request.target} failed ({type(exc).__name__}: {exc})"}
    return {"ready": True}


def serve(conn, timeout: float, memory_mb: int) -> None:
    """A pool worker's loop: a Prepare or a Task in, a dict out, until the pipe closes."""
    isolate(memory_mb)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        result = _ready(message) if isinstance(message, Prepare) else answer(message, timeout)
        try:
            conn.send(result)
        except (OSError, ValueError):
            return
