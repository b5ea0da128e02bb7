"""A module's derivation as it is shown: the engine's, with its matrix form and its checks.

The one way every layer above verification gets the derivation of a registry entry or of a
Definition (networks, the answer checker, sheets); derive.api adds chains on top of it.
"""

from __future__ import annotations

import functools

from derive.beside import Beside
from derive.calculus.engine import derive
from derive.concrete import Concretizer
from derive.definitions import builtin, get
from derive.definitions.model import Definition
from derive.model.request import Request
from derive.steps import Derivation
from derive.verify import VerificationError, against_diff, verified
from derive.verify_matrix import with_matrix_form
from derive.verify_staged import check_by_stages, staged


def module_derivative(request: Request, verify: bool | None = None, beside: bool = False) -> Derivation:
    """The derivation `request` asks for (its target a registry entry, by name, or a Definition), its
    matrix form checked against the index form; `verify` as derive.api.derivative (None: check a
    module that is not built in); `beside`: check against sympy.diff on the second core (derive.beside)."""
    from derive.limits import time_limit

    target, wrt = request.target, request.wrt
    defn = target if isinstance(target, Definition) else get(target)
    # no derivation runs unbounded (the CLI's own limit, outermost, governs when it is set)
    with time_limit(f"deriving {defn.name}" + (f" with respect to {wrt}" if wrt else "")):
        if wrt and "," in wrt:  # a second derivative, `theta,theta`: the gradient's own derivative
            from derive.calculus.second import second_derivative

            first, _, second = wrt.partition(",")
            d = with_matrix_form(second_derivative(defn, first.strip(), second.strip()), layout=request.layout)
            d.report = verified(d)  # not covered by the registry's tests: always checked
            return d
        d = derive(defn, wrt, scale=request.scale)
        conc = Concretizer(d)  # the matrix form's check and verification share the concrete expressions
        check = verify or (verify is None and not (isinstance(target, str) and builtin(target)))
        # beside: the checks against sympy.diff in children, while this process checks the matrix form and
        # the finite differences (derive.beside; `derive show` asks for it)
        against = DiffChecks(d, conc) if check and beside else None
        try:
            d = with_matrix_form(d, layout=request.layout, conc=conc)
            if d.through:
                d = _stated_through(d, request.layout)
            if check:
                d.report = verified(d, conc, against)
        finally:
            if against is not None:
                against.cancel()  # read already; or a time limit or Ctrl-C here: the children go too
    return d


class DiffChecks:
    """The checks of `d` against sympy.diff, started beside this process (derive.beside): the whole result
    against the whole definition's, and for a staged definition each stage against its own, in a child of
    its own; the machine's cores share the three processes (the stages of attention or a GRU cell take as
    long as the rest of their checks). `collect()` gives what derive.verify.verify would have computed."""

    def __init__(self, d: Derivation, conc: Concretizer):
        expected = (VerificationError,)
        self.stages = Beside(functools.partial(check_by_stages, d), expected) if staged(d) else None
        self.whole = Beside(functools.partial(against_diff, d, conc), expected)

    def collect(self) -> tuple[int, int, int]:
        """(symbolic, numeric, stages), a disagreement of a stage named before one of the whole, as in turn."""
        stages = self.stages.result() if self.stages is not None else 0
        return (*self.whole.result(), stages)

    def cancel(self) -> None:
        for child in (self.stages, self.whole):
            if child is not None:
                child.cancel()



def _stated_through(d: Derivation, layout: str) -> Derivation:
    """The gradients at the named stages (attention's ∂C/∂A, ∂C/∂S), each with its matrix form once that
    is checked against its index form (which the verification of `d` expands); stated by the renderers."""
    from dataclasses import replace

    return replace(d, through=tuple(with_matrix_form(g, layout=layout) for g in d.through))
