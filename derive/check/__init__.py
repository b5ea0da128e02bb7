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

    An answer may carry its left-hand side (`∂y_i/∂b_j = δ_ij`, `∂C/∂W = …`, `… for i = j`): that
    claim is what is checked (derive/check/claims.py), and `Verdict.claim` says which it was.
    In the main thread the student's part of the check (reading and comparing) is limited to
    `timeout` seconds of CPU time (the symbolic stage to half of it); a check that runs out of time
    is undecided. What is compared with is built before that time starts.
    """
    from dataclasses import replace

    if hasattr(derivation, "network"):  # a chain such as affine>relu>affine>mse
        from derive.check.network import check_network

        return check_network(derivation, answer, timeout=timeout)
    verdict, claim = _check_module(derivation, answer, timeout)
    if claim is not None and claim.value:
        verdict = _of_definition(verdict)
    return replace(verdict, claim=claim.text) if claim is not None else verdict


def _of_definition(verdict: Verdict) -> Verdict:
    """A definition's verdict speaks of the definition: the shared feedback says "the derivative"."""
    from dataclasses import replace

    def said(text):
        return text.replace("the derivative", "the definition") if isinstance(text, str) else text

    example = dict(verdict.counterexample) if verdict.counterexample else None
    if example and "text" in example:
        example["text"] = said(example["text"])
    return replace(verdict, feedback=[said(f) for f in verdict.feedback], counterexample=example)


def _check_module(derivation, answer: str, timeout: float | None):
    from derive.check.claims import claim_of, split_case
    from derive.check.compare import Budget, OutOfRange, compare, reference, time_limit
    from derive.check.feedback import counterexample, explain
    from derive.check.meaning import IndexClash, read
    from derive.check.parse import parse
    from derive.check.screen import InvalidAnswer
    from derive.check.symbolic import spent
    from derive.check.verdict import LIMITS, misfit, stopped
    from derive.model.matexpr import ShapeError

    expected = _expected_latex(derivation)  # built before the student's time starts, like the reference
    parsed = claim = None
    try:
        ref = reference(derivation)
        with spent() as used, time_limit(timeout):
            text, case = split_case(answer)
            rhs, claim = claim_of(parse(text), derivation, case)
        d = claim.derivation
        if d is not derivation:  # a claim about another quantity: its reference, not the student's time either
            ref, expected = reference(d), _expected_latex(d)
        left = None if timeout is None else max(timeout - used(), 1e-3)
        with time_limit(left):
            reading = read(rhs, d, claim)
            parsed = reading.latex
            wrong = _claim_shape(reading, ref, claim)
            if wrong:
                return misfit(wrong, parsed, expected, answer), claim
            comp = compare(reading, ref, budget=left / 2 if left else None)
            evidence = comp.evidence.to_json() if comp.evidence else None
            if comp.equal:
                return Verdict("correct", parsed, expected, [comp.note] if comp.note else [], None, answer,
                               evidence), claim
            if comp.equal is None:
                return Verdict("undecided", parsed, expected, [comp.note], counterexample(comp, ref), answer,
                               evidence), claim
            return Verdict("incorrect", parsed, expected, explain(comp, ref), counterexample(comp, ref), answer,
                           evidence), claim
    except (InvalidAnswer, Budget, *LIMITS) as exc:
        return stopped(exc, parsed, expected, answer, timeout), claim
    except ShapeError as exc:  # the matrices do not fit: a wrong answer, the way a network's is
        return misfit(exc, exc.latex, expected, answer), claim
    except IndexClash as exc:
        return Verdict("incorrect", parsed, expected, [str(exc) + "."], None, answer,
                       {"kind": "form", "text": "the answer sums over one of its own free indices"}), claim
    except OutOfRange as exc:  # y_4 of a 3-vector: indices that do not fit the shape
        if not exc.entry:  # a name the reader took but the reference cannot evaluate: no verdict on the answer
            return Verdict("undecided", parsed, expected, [f"{exc} cannot be evaluated for this derivation"], None,
                           answer, {"kind": "form", "text": f"the answer names {exc}, which the checker cannot "
                                                            "evaluate here"}), claim
        reason = f"{exc} does not exist at the sizes checked ({_sizes(derivation)}): are indices swapped?"
        return Verdict("incorrect", parsed, expected, [reason], None, answer,
                       {"kind": "form", "text": f"the answer names {exc}, an entry that does not exist"}), claim


def _claim_shape(reading, ref, claim) -> str | None:
    """A matrix answer that cannot be what the claim is: ∂y/∂W has M × M × D entries, x has D; ∂y/∂b is
    an M × M matrix (the identity), 1 a number."""
    import sympy as sp

    from derive.check.claims import free_indices

    if reading.form != "matrix" or claim is None:
        return None
    got = reading.matrix.shape
    if len(ref.shape) > 2:
        total = 1
        for n in ref.shape:
            total *= n
        has = "1 (a number)" if got == (1, 1) else f"{got[0] * got[1]} (a {got[0]}×{got[1]} matrix)"
        return f"{claim.text} has {claim.shape_text} entries ({total} at the sizes checked); the answer has {has}."
    if got == (1, 1) and len(ref.shape) == 2 and ref.shape[0] == ref.shape[1] and ref.shape[0] > 1:
        d = claim.derivation
        identity = d.result == sp.KroneckerDelta(*free_indices(d))
        return (f"{claim.text} is a matrix, {claim.shape_text}{' (the identity)' if identity else ''}; "
                f"the answer is a number" + (": I is meant, not 1." if identity else "."))
    return None


def _sizes(d) -> str:
    return ", ".join(f"{s} = {v}" for s, v in d.definition.sizes.items())


_LATEX: dict = {}


def _expected_latex(d) -> str:
    from derive.render.printer import latex

    if id(d) not in _LATEX or _LATEX[id(d)][0] is not d:
        _LATEX[id(d)] = (d, latex(d.result))
    return _LATEX[id(d)][1]
