"""A derivation as data: typed steps from the definition to the closed form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sympy as sp

from derive.model.matexpr import MatExpr, leaves

if TYPE_CHECKING:
    from typing_extensions import Self

RULES = ("definition", "chain", "rewrite", "sum", "constant", "quotient", "product", "power",
         "differentiate", "contract", "substitute", "constraint", "cases", "factor")


class Reason(str):
    """A step's reason: as a str, plain Unicode text (terminal, JSON); `marked` keeps its formulas
    between `$` signs, so a printed sheet sets them as math (derive.render.reason).

    >>> r = Reason("quotient rule: $(N/D)′ = (N′D − ND′)/D²$"); str(r), r.marked[-3:]
    ('quotient rule: (N/D)′ = (N′D − ND′)/D²', 'D²$')
    """

    marked: str

    def __new__(cls, marked: str) -> Self:
        obj = super().__new__(cls, marked.replace("$", ""))
        obj.marked = marked
        return obj

    def __getnewargs__(self) -> tuple:
        return (self.marked,)


@dataclass(frozen=True)
class Step:
    """One line of working: `before` = `after` by `rule`, for the reason given."""

    rule: str
    before: sp.Expr
    after: sp.Expr
    reason: str


@dataclass(frozen=True)
class MatrixForm:
    """The result as matrices, `lhs = expr`: trees of derive.model.matexpr, and how to name them.

    A derivation holds one only once derive.verify has checked it against the index form
    (`max_error`); a form that failed is kept as `Derivation.matrix_refused`, never printed.
    """

    lhs: MatExpr  # ∂C/∂W; its transpose in numerator layout; ∂y/∂x for a Jacobian
    expr: MatExpr
    names: dict  # name -> derive.model.notation.Name, for every name in lhs and expr
    layout: str = "denominator"  # denominator | numerator | jacobian | entrywise
    jacobian: MatExpr | None = None  # an entrywise activation's ∂y/∂x = diag(f′), stated beside it
    max_error: float | None = None  # largest relative error against the index form, once checked

    @property
    def shape(self) -> tuple:
        return self.expr.shape

    @property
    def factors(self) -> tuple:
        """The named matrices of the right-hand side, in the order they are written."""
        return leaves(self.expr)

    @property
    def text(self) -> str:
        """The right-hand side as Unicode text (a door to derive.render.matrix)."""
        from derive.render.matrix import text

        return text(self.expr, self.names)

    @property
    def latex(self) -> str:
        from derive.render.matrix import latex

        return latex(self.expr, self.names)


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
    matrix: MatrixForm | None = None  # checked against the index form (derive.verify_matrix.with_matrix_form)
    matrix_refused: MatrixForm | None = None  # a matrix form that failed that check: only named, never shown
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
