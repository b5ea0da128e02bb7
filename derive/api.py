"""The Python interface: everything the CLI does is a function call here."""

from __future__ import annotations

from derive.errors import DeriveError


def derivative(target, wrt: str | None = None, *, scale=1, layout: str = "denominator"):
    """The derivation of a registry module or loss (or a Definition) with respect to `wrt`.

    >>> derivative("softmax", wrt="x").result
    beta*(KroneckerDelta(i, j) - y[j])*y[i]
    """
    from derive.calculus.engine import derive
    from derive.calculus.matrix import attach_matrix_form
    from derive.definitions import get
    from derive.definitions.model import Definition

    if layout not in ("denominator", "numerator"):
        raise DeriveError(f"unknown layout {layout!r}; choose one of: denominator, numerator")
    defn = target if isinstance(target, Definition) else get(target)
    return attach_matrix_form(derive(defn, wrt, scale=scale), layout=layout)


def targets() -> list:
    """The registry entries: name, kind and title of every module and loss."""
    from derive.definitions import entries

    return entries()
