"""Checking a student's hand-written answer against a derivation: parse, compare, explain.

    >>> import derive
    >>> d = derive.derivative("softmax", wrt="x")
    >>> d.check(r"\\beta y_j(\\delta_{ij} - y_i)").verdict
    'correct'

Student text is read by a lark grammar with an allow-list of names; it is never evaluated as
Python. For untrusted input at scale use derive.check.pool, which runs checks in worker
processes with a time and memory limit.
"""

from __future__ import annotations

from derive.check.verdict import Verdict

__all__ = ["Verdict", "check"]

DEFAULT_TIMEOUT = 2.0


def check(derivation, answer: str, *, timeout: float | None = DEFAULT_TIMEOUT) -> Verdict:
    """The verdict on `answer` (LaTeX or plain text) for `derivation`.

    In the main thread the whole check is limited to `timeout` seconds (the symbolic stage to
    half of it); a check that runs out of time is undecided.
    """
    from derive.check.compare import Budget, OutOfRange, compare, reference, time_limit
    from derive.check.feedback import counterexample, explain
    from derive.check.meaning import IndexClash, ShapeMismatch, read
    from derive.check.parse import parse
    from derive.check.screen import InvalidAnswer
    from derive.check.verdict import LIMITS, stopped

    if hasattr(derivation, "network"):  # a chain such as affine>relu>affine>mse
        from derive.check.network import check_network

        return check_network(derivation, answer, timeout=timeout)
    expected = _expected_latex(derivation)  # built before the student's time starts, like the reference
    parsed = None
    try:
        ref = reference(derivation)
        with time_limit(timeout):
            reading = read(parse(answer), derivation)
            parsed = reading.latex
            comp = compare(reading, ref, budget=timeout / 2 if timeout else None)
            evidence = comp.evidence.to_json() if comp.evidence else None
            if comp.equal:
                return Verdict("correct", parsed, expected, [comp.note] if comp.note else [], None, answer, evidence)
            if comp.equal is None:
                return Verdict("undecided", parsed, expected, [comp.note], counterexample(comp, ref), answer,
                               evidence)
            return Verdict("incorrect", parsed, expected, explain(comp, ref), counterexample(comp, ref), answer,
                           evidence)
    except (InvalidAnswer, Budget, *LIMITS) as exc:
        return stopped(exc, parsed, expected, answer, timeout)
    except ShapeMismatch as exc:
        reason = str(exc).rstrip(".?") + ("?" if str(exc).endswith("?") else ".")
        return Verdict("incorrect", exc.latex, expected, [reason], None, answer, _shape_evidence())
    except IndexClash as exc:
        return Verdict("incorrect", parsed, expected, [str(exc) + "."], None, answer,
                       {"kind": "form", "text": "the answer sums over one of its own free indices"})
    except OutOfRange as exc:  # y_4 of a 3-vector: indices that do not fit the shape
        reason = f"{exc} does not exist at the sizes checked ({_sizes(derivation)}): are indices swapped?"
        return Verdict("incorrect", parsed, expected, [reason], None, answer,
                       {"kind": "form", "text": f"the answer names {exc}, an entry that does not exist"})


def _shape_evidence() -> dict:
    return {"kind": "shape", "text": "the answer's matrices do not fit together or have the wrong shape"}


def _sizes(d) -> str:
    return ", ".join(f"{s} = {v}" for s, v in d.definition.sizes.items())


_LATEX: dict = {}


def _expected_latex(d) -> str:
    from derive.render.printer import latex

    if id(d) not in _LATEX or _LATEX[id(d)][0] is not d:
        _LATEX[id(d)] = (d, latex(d.result))
    return _LATEX[id(d)][1]
