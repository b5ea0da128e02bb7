"""A module's derivation as it is shown: the engine's, with its matrix form and its checks.

The one way every layer above verification gets the derivation of a registry entry or of a
Definition (networks, the answer checker, sheets); derive.api adds chains on top of it.
"""

from __future__ import annotations

import functools
import os
import pickle
from dataclasses import replace

from derive.beside import Beside, forks
from derive.calculus.engine import derive, posed
from derive.concrete import Concretizer
from derive.definitions import builtin, get
from derive.definitions.model import Definition
from derive.model.request import Request
from derive.steps import Derivation
from derive.verify import VerificationError, against_diff, references, verified
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
        check = verify or (verify is None and not (isinstance(target, str) and builtin(target)))
        # beside: the checks against sympy.diff in children, started before the result is derived, while this
        # process derives it, then checks the matrix form and the finite differences (`derive show` asks for it)
        against = DiffChecks(posed(defn, wrt, scale=request.scale)) if check and beside else None
        try:
            d = derive(defn, wrt, scale=request.scale)
            conc = Concretizer(d)  # the matrix form's check and verification share the concrete expressions
            if against is not None:
                against.derived(d, conc)
            d = with_matrix_form(d, layout=request.layout, conc=conc)
            if d.through:
                d = _stated_through(d, request.layout)
            if check:
                d.report = verified(d, conc, against)
        finally:
            if against is not None:
                against.cancel()  # read already; or a time limit, Ctrl-C or a failed derivation: the children go too
    return d


class DiffChecks:
    """The checks of a derivation against sympy.diff, beside this process (derive.beside): the whole result
    against the whole definition's, and for a staged definition each stage against its own, in a child of
    its own; the machine's cores share the three processes (the stages of attention or a GRU cell take as
    long as the rest of their checks). `collect()` gives what derive.verify.verify would have computed.

    Made from the derivation as posed (derive.calculus.engine.posed), before it is derived: the child of the
    whole takes sympy.diff of the definition (derive.verify.references) while this process derives, then
    reads the derivation from a pipe (`derived`) and compares. The stages' child starts once it is derived;
    where no child can be forked (derive.beside.forks), both checks run here when collected."""

    def __init__(self, asked: Derivation):
        self.stages = self.whole = self._send = self._d = self._conc = None
        if forks():
            read, self._send = os.pipe()
            self.whole = Beside(functools.partial(_compared_when_sent, asked, read, self._send),
                                (VerificationError,), again=lambda: against_diff(self._d, self._conc))
            os.close(read)

    def derived(self, d: Derivation, conc: Concretizer) -> None:
        """`d` is derived (`conc` its concrete expressions): sent to the child of the whole, or that check
        made ready to run here; the stages' child started."""
        self._d, self._conc = d, conc
        expected = (VerificationError,)
        if self._send is not None:
            send, self._send = self._send, None
            try:
                with os.fdopen(send, "wb") as pipe:
                    pipe.write(pickle.dumps(d))  # a child that died reads nothing: collect() checks here
            except BrokenPipeError:
                pass
        else:
            self.whole = Beside(functools.partial(against_diff, d, conc), expected)
        self.stages = Beside(functools.partial(check_by_stages, d), expected) if staged(d) else None

    def collect(self) -> tuple[int, int, int]:
        """(symbolic, numeric, stages), a disagreement of a stage named before one of the whole, as in turn."""
        stages = self.stages.result() if self.stages is not None else 0
        return (*self.whole.result(), stages)

    def cancel(self) -> None:
        if self._send is not None:
            os.close(self._send)
            self._send = None
        for child in (self.stages, self.whole):
            if child is not None:
                child.cancel()


def _compared_when_sent(asked: Derivation, read: int, write: int) -> tuple[int, int]:
    """In the child: the references of `asked`, then the derivation read from `read`, then the comparison;
    the references made again from the derivation where it does not answer what `asked` posed."""
    os.close(write)  # the parent's end: were the parent to die, the read below ends
    conc = Concretizer(asked)
    refs = references(asked, conc)
    with os.fdopen(read, "rb") as pipe:
        d = pickle.load(pipe)
    if not _posed_the_same(d, asked):
        return against_diff(d, Concretizer(d))
    return against_diff(d, conc if d.named == asked.named else Concretizer(d), refs)


def _posed_the_same(d: Derivation, asked: Derivation) -> bool:
    """Whether `d` answers what `asked` posed, in everything the references read: its left-hand side, body,
    cost, the names `asked` has (a staged derivation adds the gradients at them), the definition's variables."""
    fields = ("target", "wrt", "lhs", "body", "out_index", "upstream", "cost", "scale", "indices")
    defined = ("name", "kind", "inputs", "others", "sizes", "expr", "stages")
    return (all(getattr(d, f) == getattr(asked, f) for f in fields) and d.named[:len(asked.named)] == asked.named
            and all(getattr(d.definition, f) == getattr(asked.definition, f) for f in defined))


def _stated_through(d: Derivation, layout: str) -> Derivation:
    """The gradients at the named stages (attention's ∂C/∂A, ∂C/∂S), each with its matrix form once that
    is checked against its index form (which the verification of `d` expands); stated by the renderers."""
    return replace(d, through=tuple(with_matrix_form(g, layout=layout) for g in d.through))
