"""A module's derivation as it is shown: the engine's, with its matrix form and its checks.

The one way every layer above verification gets the derivation of a registry entry or of a
Definition (networks, the answer checker, sheets); derive.api adds chains on top of it.
"""

from __future__ import annotations

from derive.calculus.engine import derive
from derive.concrete import Concretizer
from derive.definitions import builtin, get
from derive.definitions.model import Definition
from derive.model.request import Request
from derive.steps import Derivation
from derive.verify import verified
from derive.verify_matrix import with_matrix_form


def module_derivative(request: Request, verify: bool | None = None) -> Derivation:
    """The derivation `request` asks for (its target a registry entry, by name, or a Definition), its
    matrix form checked against the index form; `verify` as derive.api.derivative (None: check a
    module that is not built in)."""
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
        d = with_matrix_form(d, layout=request.layout, conc=conc)
        if d.through:
            d = _stated_through(d, request.layout)
        if verify or (verify is None and not (isinstance(target, str) and builtin(target))):
            d.report = verified(d, conc)
    return d



def _stated_through(d: Derivation, layout: str) -> Derivation:
    """The gradients at the named stages (attention's ∂C/∂A, ∂C/∂S), each with its matrix form once that
    is checked against its index form (which the verification of `d` expands); stated by the renderers."""
    from dataclasses import replace

    return replace(d, through=tuple(with_matrix_form(g, layout=layout) for g in d.through))
