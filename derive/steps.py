"""A derivation as data: typed steps from the definition to the closed form."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

RULES = ("definition", "chain", "rewrite", "sum", "constant", "quotient", "product", "power",
         "differentiate", "contract", "substitute", "constraint", "cases", "factor")


@dataclass(frozen=True)
class Step:
    """One line of working: `before` = `after` by `rule`, for the reason given."""

    rule: str
    before: sp.Expr
    after: sp.Expr
    reason: str


@dataclass(frozen=True)
class MatrixForm:
    """The result as matrices: `lhs = expr`, with the shape of each named factor."""

    lhs: str  # LaTeX
    expr: str  # LaTeX
    text: str  # plain text, e.g. "dC/dy x^T"
    shape: tuple  # of the result, as dimension names
    factors: tuple = ()  # (LaTeX, shape) of each factor, shown under it
    layout: str = "the gradient has the shape of the variable (denominator layout)"


@dataclass(frozen=True)
class Cases:
    """The result split by index pattern, e.g. i = j and i ≠ j."""

    pieces: tuple  # ((expr, condition LaTeX), ...)


@dataclass
class Derivation:
    """∂(output)/∂(wrt): the steps, the closed form in index form and, where one exists, as matrices."""

    target: str
    wrt: str
    lhs: sp.Expr
    steps: list
    result: sp.Expr
    definition: object  # derive.definitions.model.Definition
    body: sp.Expr = None  # the definition's right-hand side, indices renamed for this derivation
    out_index: tuple = ()  # the output's indices in `body`
    named: tuple = ()  # derive.calculus.fold.Named: what the result is written in
    upstream: object = None  # the IndexedBase standing for ∂C/∂output, for layers
    cost: sp.Symbol | None = None
    scale: sp.Expr = sp.S.One
    indices: tuple = ()  # the free indices of the result, for the wrt variable
    cases: Cases | None = None
    matrix: MatrixForm | None = None
    conventions: tuple = field(default_factory=tuple)
    report: object = None  # derive.verify.Report, once the result was checked at run time

    @property
    def equation(self) -> sp.Eq:
        return sp.Eq(self.lhs, self.result, evaluate=False)

    # Rendering lives in derive.render; these are thin doors to it.
    def latex(self, form: str = "index") -> str:
        """`form` = matrix boxes the matrix form (where there is one) and gives the index form after it."""
        from derive.render.show import derivation_latex

        return derivation_latex(self, form)

    def markdown(self, form: str = "index") -> str:
        from derive.render.show import derivation_markdown

        return derivation_markdown(self, form)

    def tex(self, form: str = "index") -> str:
        from derive.render.show import derivation_tex

        return derivation_tex(self, form)

    def text(self, form: str = "index") -> str:
        from derive.render.show import derivation_text

        return derivation_text(self, form)

    def to_json(self) -> dict:
        from derive.render.show import derivation_json

        return derivation_json(self)

    def _repr_latex_(self) -> str:
        return self.latex()

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def check(self, answer: str, **options):
        """The verdict on a hand-written answer; options as for `derive.check.check` (timeout)."""
        from derive.check import check

        return check(self, answer, **options)
