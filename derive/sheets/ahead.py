"""Solve the parts of several sheets on every core before they are built, one after the other.

Deriving and verifying is most of a cold `derive sheet --all` and each part is independent, so
forked workers solve the parts whose results are not cached yet and store them in the cache
(derive/cache.py); the build that follows, in this process and in order, reads them from there
and renders. A part a worker cannot solve is left alone: the build solves it again and reports
the error in its place, as it would without workers. Nothing is done ahead when the cache is off
or cannot be written, with one core, or where processes cannot be forked safely (not Linux).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from derive import cache, limits

_JOBS: list = []  # the parts to solve, read by forked workers through their copy of this module


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _requests(part) -> list:
    """(kind, request) of each cache entry that solving `part` produces; None where it has none."""
    from derive.sheets.solve import network_request, part_request

    if part.kind in ("target", "module"):
        return [("derivation", part_request(part, w)) for w in part.wrt or (None,)]
    if part.kind == "network":
        return [("network", network_request(part))]
    if part.kind == "identity":
        return [("identity", part.identity)]
    return []


def pending(sheets, templates: str | None = None) -> list:
    """The parts of `sheets` worth solving ahead: every result nameable and some not yet stored.

    Each distinct part once; sheets whose whole rendering is cached are skipped.
    """
    from derive.sheets.cli import sheet_request

    parts, seen = [], set()
    for sheet in sheets:
        if cache.has("sheet", sheet_request(sheet, templates)):
            continue
        for q in sheet.questions:
            for part in q.parts:
                requests = _requests(part)
                try:
                    name = tuple(cache.key(k, r) for k, r in requests if r is not None)
                except TypeError:  # a request the cache cannot name
                    continue
                if not requests or len(name) < len(requests) or name in seen \
                        or all(cache.has(k, r) for k, r in requests):
                    continue
                seen.add(name)
                parts.append(part)
    return sorted(parts, key=_estimate, reverse=True)  # largest first, so no core waits on a late big part


def _estimate(part) -> int:
    """A rough size of the work a part takes, for ordering only: the definition's operations times
    the entries checked (three true classes for a class-indexed loss); other parts count 30."""
    import math

    import sympy as sp

    from derive.definitions import get
    from derive.errors import DeriveError

    if part.kind != "target":
        return 30
    try:
        defn = get(part.target)
    except DeriveError:
        return 0
    ops = sp.count_ops(defn.expr) + sum(sp.count_ops(it.expr) for it in defn.intermediates)
    rows = math.prod(int(defn.sizes[s]) for s in defn.output.shape) if defn.kind == "activation" and defn.index else 1
    entries = sum(math.prod(int(defn.sizes[s]) for s in defn.var(w).shape) for w in part.wrt if w in
                  {v.name for v in defn.inputs}) * rows
    return ops * entries * (3 if any(v.domain == "class" for v in defn.others) else 1)


def _solve(n: int):
    """In a worker: solve part `n` and print its derivations, each stored in the cache on the way.
    True when done; the refusal's (what, seconds, message) when it ran out of time."""
    from derive import limits
    from derive.sheets.builder import print_derivations
    from derive.sheets.solve import solve_part

    try:
        print_derivations(solve_part(_JOBS[n])[0])
    except limits.TimeLimitError as exc:  # the build says so at once, instead of running out of time again
        return exc.what, limits.time_limit_seconds(), exc.message
    except Exception:  # noqa: BLE001  (the build solves it again and says what is wrong, in place)
        return False
    return True


def _warm_up() -> None:
    """Import here what every worker needs, so that each inherits it instead of importing it again."""
    import sympy as sp

    import derive.network.chain
    import derive.render.show
    import derive.verify  # noqa: F401

    x = sp.Symbol("x")
    sp.lambdify([x], sp.Heaviside(x, 0) * x, modules=["numpy", "math"])  # NumPy and the code printers


def solve_ahead(sheets, templates: str | None = None, jobs: int | None = None) -> int:
    """Solve the pending parts of `sheets` in `jobs` forked workers (default: every core).

    Returns how many parts were solved ahead (0 when it was not worth it or not possible).
    """
    global _JOBS

    jobs = cores() if jobs is None else jobs
    if jobs < 2 or not _can_fork() or not cache.writable():
        return 0
    parts = pending(sheets, templates)
    if len(parts) < 2:
        return 0
    _JOBS = parts
    _warm_up()
    done = 0
    try:
        with ProcessPoolExecutor(min(jobs, len(parts)), mp_context=multiprocessing.get_context("fork")) as pool:
            for result in pool.map(_solve, range(len(parts))):
                if isinstance(result, tuple):
                    what, seconds, message = result
                    limits.expired[what, seconds] = message
                done += result is True
    except BrokenProcessPool:  # a worker died (out of memory, killed): the build solves what is missing
        pass
    finally:
        _JOBS = []
    return done


def _can_fork() -> bool:
    """Forking is safe only from a single thread (a thread's held lock would stay held in the child),
    and only on Linux (macOS's system libraries do not survive a fork without exec)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1
