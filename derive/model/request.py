"""A request: what is asked of derive (a target, the variable) and the options that shape the answer.

It is made once where a request comes in (the command line, `derive.derivative`, a sheet's part)
and then passed whole, so every layer below reads the same checked options, and the cache names
the result by `cache_key()`.

    >>> Request("affine", "W", scale=3).cache_key()
    {'target': 'affine', 'wrt': 'W', 'scale': '3', 'layout': 'denominator'}
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.errors import DeriveError
from derive.model import FORMS

LAYOUTS = ("denominator", "numerator")  # ∂C/∂W shaped as W, or as its transpose


@dataclass(frozen=True)
class Request:
    """∂/∂`wrt` of `target` (a registry name, a chain such as affine>relu>affine>mse, or a
    Definition), for the cost c·C with c = `scale` (a layer's), in `layout`, shown in `form`."""

    target: object
    wrt: str | None = None
    scale: object = 1  # as given: an int, a Fraction (text is parsed by derive.limits.scale), a SymPy number
    layout: str = "denominator"
    form: str | None = None  # index | matrix; None: the default of what shows it

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise DeriveError(f"unknown layout {self.layout!r}; choose one of: {', '.join(LAYOUTS)}")
        if self.form is not None and self.form not in FORMS:
            raise DeriveError(f"unknown form {self.form!r}; choose one of: {', '.join(FORMS)}")

    def cache_key(self, what: dict | None = None) -> dict:
        """The request naming this derivation in the cache (kind "derivation"): what is derived
        ({"target": name}, or a sheet module's table as `what`), wrt, scale and layout."""
        from derive import cache

        return cache.derivation_request(what or {"target": self.target}, self.wrt, self.scale, self.layout)
