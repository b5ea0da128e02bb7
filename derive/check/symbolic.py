"""Symbolic confirmation: the answer minus the derived result, shown to be zero.

In index form by contracting Kronecker deltas (which settles `β y_j(δ_ij − y_i)` at once),
otherwise entry by entry at the fixed size, region by region where a kink sits at ±(one symbol).
Everything runs under a time limit; running out of time is an answer of its own (None).
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

import sympy as sp

from derive.concrete import Point, concrete

if TYPE_CHECKING:
    from derive.check.compare import Reference
    from derive.check.meaning import Reading


class Budget(Exception):
    """The symbolic confirmation ran out of time."""


@contextmanager
def time_limit(seconds: float | None):
    """Raise Budget after `seconds` of this process's CPU time, where a timer can be set (the main
    thread); else no limit. CPU time, not wall time: a loaded machine that runs the check more slowly
    does not change its verdict (the pool's wall-clock backstop allows for the load, derive/check/task.py).

    Nests: an inner limit never outlasts the outer one, and the outer one resumes afterwards.
    The worker pool's hard limit is the backstop for C code a timer cannot interrupt.
    """
    if seconds is None or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def fire(signum, frame):
        raise Budget()

    outer = signal.getitimer(signal.ITIMER_PROF)[0]
    if outer:
        seconds = min(seconds, outer)
    start = time.process_time()
    old = signal.signal(signal.SIGPROF, fire)
    signal.setitimer(signal.ITIMER_PROF, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)
        if outer:
            signal.setitimer(signal.ITIMER_PROF, max(outer - (time.process_time() - start), 1e-3))


@contextmanager
def spent():
    """`with spent() as used:` — used() is the CPU time spent inside the block (so far, or in all)."""
    start = time.process_time()
    end = []
    yield lambda: (end[0] if end else time.process_time()) - start
    end.append(time.process_time())


def delta_normal(expr: sp.Expr) -> sp.Expr:
    """In each term with δ_ab, write b as a (the term vanishes unless a = b): δ_ij(y_j − y_i) → 0."""
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        deltas = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.KroneckerDelta)]
        for delta in deltas:
            a, b = sorted(delta.args, key=sp.default_sort_key)
            rest = sp.Mul(*[f for f in sp.Mul.make_args(term) if f is not delta]).xreplace({b: a})
            term = sp.KroneckerDelta(a, b) * rest
        out += term
    return sp.expand(out)


def _regions(expr: sp.Expr):
    """Substitutions that fix the sign of every kink argument that is ±(one symbol)."""
    kinks = []
    for e in sp.preorder_traversal(expr):
        if isinstance(e, sp.Heaviside):
            kinks.append(e.args[0])
        elif isinstance(e, (sp.Max, sp.Min)):
            kinks += [a - b for a in e.args for b in e.args if a is not b]
        elif isinstance(e, sp.Piecewise):
            kinks += [c.lhs - c.rhs for _, c in e.args if isinstance(c, sp.core.relational.Relational)]
        elif isinstance(e, (sp.Abs, sp.sign)):
            kinks.append(e.args[0])
    symbols = set()
    for k in kinks:
        coeff, leaf = k.as_coeff_Mul()
        if not coeff.is_nonzero or not isinstance(leaf, (sp.Symbol, sp.Indexed)):
            return None  # a kink at a general expression: leave it to the numbers
        symbols.add(leaf)
    if len(symbols) > 4:
        return None
    symbols = sorted(symbols, key=sp.default_sort_key)
    out = []
    for signs in range(2 ** len(symbols)):
        sub = {}
        for n, s in enumerate(symbols):
            pos = sp.Dummy("p", positive=True)
            sub[s] = pos if signs >> n & 1 else -pos
        out.append(sub)
    return out


def vanishes(expr: sp.Expr) -> bool | None:
    """True if zero, False if provably not, None if this cannot tell."""
    if expr == 0:
        return True
    if expr.has(sp.Heaviside, sp.Max, sp.Min, sp.Piecewise, sp.Abs, sp.sign):
        regions = _regions(expr)
        if regions is None:
            return None
        results = [vanishes(expr.xreplace(r)) if not expr.xreplace(r).has(sp.Heaviside, sp.Max, sp.Min, sp.Piecewise)
                   else None for r in regions]
        if all(r is True for r in results):
            return True
        return False if any(r is False for r in results) else None
    work = sp.expand_log(expr.rewrite(sp.exp))  # not forced: log(x²) = 2 log x only for x > 0
    residual = sp.cancel(sp.together(sp.expand(work)))
    if residual == 0:
        return True
    if residual.has(sp.log, sp.sqrt) or any(isinstance(p, sp.Pow) and not p.exp.is_integer
                                             for p in sp.preorder_traversal(residual) if isinstance(p, sp.Basic)):
        return None
    return False


def index_proof(reading: Reading, ref: Reference) -> bool:
    """True if the answer equals the result in index form once Kronecker deltas are contracted."""
    if reading.form != "index" or reading.expr.has(sp.Piecewise):
        return False
    try:
        diff = reading.expr - ref.d.result
        return diff == 0 or diff.has(sp.KroneckerDelta) and delta_normal(diff) == 0
    except (TypeError, ValueError, NotImplementedError, sp.PolynomialError, RecursionError, ZeroDivisionError):
        return False


def confirm(reading: Reading, ref: Reference, budget: float | None) -> tuple[bool | None, str]:
    """Symbolic confirmation: (True | False | None, how)."""
    d = ref.d
    start = time.monotonic()
    try:
        with time_limit(budget):
            if index_proof(reading, ref):
                return True, "equal in index form after contracting δ"
            flat = list(reading.matrix) if reading.form == "matrix" else None
            for classes in ref.classes:
                point = Point({}, dict(classes))
                expected = ref.expected(classes)
                for n, a in enumerate(ref.assignments):
                    ans = concrete(flat[n], d, {}, point) if flat is not None else concrete(reading.expr, d, a, point)
                    verdict = vanishes(ans - expected[n])
                    if verdict is not True:
                        return verdict, (f"entry {n + 1} differs symbolically" if verdict is False else
                                         f"SymPy could not reduce entry {n + 1} minus the derivative to 0")
            return True, "equal entry by entry at the fixed size"
    except Budget:
        return None, f"symbolic confirmation stopped after {time.monotonic() - start:.1f} s"
    except (TypeError, ValueError, NotImplementedError, sp.PolynomialError, RecursionError, ZeroDivisionError):
        return None, "symbolic confirmation was not possible"
