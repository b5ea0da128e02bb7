"""A derivation as data: typed steps from the definition to the closed form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import sympy as sp

from derive.doors import open_door
from derive.model.matexpr import MatExpr, leaves

if TYPE_CHECKING:
    from typing_extensions import Self


FORMULA = "⟦{}⟧"  # where formula n of Reason.formulas stands in Reason.marked


class Reason(str):
    """A step's reason: as a str, plain Unicode text (terminal, JSON); `marked` keeps its formulas
    between `$` signs, so a printed sheet sets them as math (derive.render.reason).

    A formula that is a SymPy expression (an index with arithmetic, x_{K (l − 1) + k}) is kept as one
    in `formulas` and stands in `marked` as ⟦n⟧: the printers write it (Unicode text through the
    door "formula.text", LaTeX on a page), never SymPy's str.

    >>> r = Reason("quotient rule: $(N/D)′ = (N′D − ND′)/D²$"); str(r), r.marked[-3:]
    ('quotient rule: (N/D)′ = (N′D − ND′)/D²', 'D²$')
    """

    marked: str
    formulas: tuple = ()

    def __new__(cls, marked: str, formulas: tuple = ()) -> Self:
        text = marked.replace("$", "")
        for n, formula in enumerate(formulas):
            text = text.replace(FORMULA.format(n), open_door("formula.text", formula))
        return cls._made(text, marked, tuple(formulas))

    @classmethod
    def _made(cls, text: str, marked: str, formulas: tuple) -> Self:
        obj = super().__new__(cls, text)
        obj.marked, obj.formulas = marked, formulas
        return obj

    def __reduce__(self) -> tuple:  # unpickled as printed: no printer is needed to load a cached step
        return (_reason, (str(self), self.marked, self.formulas))


def _reason(text: str, marked: str, formulas: tuple = ()) -> Reason:
    return Reason._made(text, marked, formulas)


@dataclass(frozen=True)
class Step:
    """One line of working: `before` = `after`, for the reason given; the class says by which rule.

    Module steps hold SymPy expressions; network steps (below) hold matrix trees
    (derive.model.matexpr) and the index forms they were read from. `rule` is the class's name for
    the rule, as JSON and the templates print it.
    """

    before: Any
    after: Any
    reason: str = ""
    rule: ClassVar[str] = ""

    def check(self, previous: Step | None, disagreement: Callable[[Any, Any], str | None]) -> str | None:
        """What is wrong with this step written after `previous` (None for the first), or None.

        A line of working starts where the one before ended and keeps the value: `disagreement(a, b)`
        (derive.verify_steps.check_steps) compares two expressions at concrete points and says where they differ.
        """
        if previous is not None and self.before != previous.after:
            return "does not start where the step before it ended"
        differs = disagreement(self.before, self.after)
        return f"({self.rule}) changes the value {differs}" if differs else None


class WriteDefinition(Step):
    rule = "definition"


class ChainRule(Step):
    """The chain rule; for a network `after` is the chain of LocalJacobian steps."""

    rule = "chain"


class Rewrite(Step):
    rule = "rewrite"


class SumRule(Step):
    rule = "sum"


class ConstantFactor(Step):
    rule = "constant"


class QuotientRule(Step):
    rule = "quotient"


class ProductRule(Step):
    rule = "product"


class PowerRule(Step):
    rule = "power"


class Differentiate(Step):
    rule = "differentiate"


class ContractDeltas(Step):
    rule = "contract"


class Substitute(Step):
    """Fold an intermediate back in: the result written in terms of ŷ, σ, …"""

    rule = "substitute"


class ApplyConstraint(Step):
    rule = "constraint"


class SplitCases(Step):
    rule = "cases"

    def check(self, previous: Step | None, disagreement: Callable[[Any, Any], str | None]) -> str | None:
        """Also: each case names only indices free in the expression it splits, never one summed over."""
        for _, condition in getattr(self.after, "args", ()):
            bound = condition.free_symbols - self.before.free_symbols
            if bound:
                names = ", ".join(sorted(map(str, bound)))
                return f"(cases) splits on {names}, which the expression it splits does not leave free"
        return super().check(previous, disagreement)


class Factor(Step):
    rule = "factor"


class Cancel(Step):
    rule = "cancel"


# The rules a module derivation or an identity is made of, by name (the engine's vocabulary).
RULES = {cls.rule: cls for cls in (WriteDefinition, ChainRule, Rewrite, SumRule, ConstantFactor, QuotientRule,
                                   ProductRule, PowerRule, Differentiate, ContractDeltas, Substitute,
                                   ApplyConstraint, SplitCases, Factor, Cancel)}


def step(rule: str, before: sp.Expr, after: sp.Expr, reason: str) -> Step:
    """The step of the rule named `rule`; ValueError for a name outside RULES."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose one of: {', '.join(RULES)}")
    return RULES[rule](before, after, reason)


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
        """The right-hand side as Unicode text (a door to the printers, derive.render.matrix)."""
        return open_door("matrix.text", self.expr, self.names)

    @property
    def latex(self) -> str:
        return open_door("matrix.latex", self.expr, self.names)


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
    through: tuple = ()  # Derivations of the gradients at the named stages the result is written in (∂C/∂S)

    @property
    def equation(self) -> sp.Eq:
        return sp.Eq(self.lhs, self.result, evaluate=False)

    # Rendering lives in derive.render and checking in derive.check; these are doors to them (derive.doors).
    def latex(self, form: str = "index") -> str:
        """`form` = matrix boxes the matrix form (where there is one) and gives the index form after it."""
        return open_door("derivation.latex", self, form)

    def markdown(self, form: str = "index") -> str:
        return open_door("derivation.markdown", self, form)

    def tex(self, form: str = "index") -> str:
        return open_door("derivation.tex", self, form)

    def text(self, form: str = "index") -> str:
        return open_door("derivation.text", self, form)

    def to_json(self) -> dict:
        return open_door("derivation.json", self)

    def _repr_latex_(self) -> str:
        return self.latex()

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def check(self, answer: str, **options):
        """The verdict on a hand-written answer; options as for `derive.check.check` (timeout)."""
        return open_door("check", self, answer, **options)


# -- network steps: the backward pass, layer by layer, as matrix trees beside their index forms -----


def _printed(tree, names: dict, printer: str) -> str:
    return open_door(f"matrix.{printer}", tree, names)


@dataclass(frozen=True, kw_only=True)
class ForwardRow(Step):
    """One row of the forward table: `before` (the output, a MatSym) = `after` (a tree; None when the
    row is read in index form only, e.g. a softmax), from the index form `lhs = rhs`."""

    rule = "forward"
    label: str  # "affine 1", "relu 1", "output", "loss"
    module: str  # the chain's spelling of the module
    inputs: tuple  # names of what goes in
    lhs: sp.Expr
    rhs: sp.Expr
    shape: tuple  # as printed: (d_k,) or (d_k, N); () for the loss
    expanded: MatExpr | None = None  # the output in terms of the input and the parameters only
    names: dict = field(default_factory=dict)  # name -> derive.model.notation.Name

    @property
    def name(self) -> str:
        return self.before.name


@dataclass(frozen=True, kw_only=True)
class LocalJacobian(Step):
    """One factor ∂top/∂bottom of the chain rule: `after` is what it equals as a matrix, or None
    when it is a tensor stated by its `entry` (an index-form equation from the engine's rules)."""

    rule = "jacobian"
    top: str
    bottom: str
    shape: tuple
    entry: sp.Expr | None = None
    names: dict = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ErrorSignal(Step):
    """δ^{(k)} = ∂L/∂s^{(k)}: `before` δ_k, `general` = ∂L/∂z_k ⊙ f_k′(s_k) with f_k′ named, `after`
    the same written out (⊙ between every entrywise factor), `simplified` where the product
    simplifies; `lhs = rhs` in index form."""

    rule = "substitute"
    k: int
    name: str  # delta2 / Delta2
    lhs: sp.Expr
    rhs: sp.Expr
    general: MatExpr
    simplified: MatExpr | None
    upstream: sp.Expr  # ∂L/∂(output of layer k), index form
    derivative: sp.Expr | None  # f_k′ as an index-form expression (None: no activation)
    upstream_tree: MatExpr
    fprime_tree: MatExpr | None
    shape: tuple
    sources: tuple  # "relu: ∂y/∂x = …", the engine derivations used
    names: dict = field(default_factory=dict)

    @property
    def matrix(self) -> MatExpr:
        return self.after

    @property
    def forms(self) -> tuple:
        """The written-out form, then the simplified one where there is one."""
        return (self.after,) if self.simplified is None else (self.after, self.simplified)

    @property
    def latex(self) -> str:
        return " = ".join(_printed(t, self.names, "latex") for t in self.forms)

    @property
    def text(self) -> str:
        return " = ".join(_printed(t, self.names, "text") for t in self.forms)


@dataclass(frozen=True, kw_only=True)
class ParamGradient(Step):
    """∂L/∂(variable): `before` its name, `after` the tree (δ xᵀ, Wᵀ δ, Δ Xᵀ), `lhs = rhs` in index form."""

    rule = "contract"
    wrt: str
    lhs: sp.Expr
    rhs: sp.Expr
    shape: tuple
    source: str
    names: dict = field(default_factory=dict)

    @property
    def matrix(self) -> MatExpr:
        return self.after

    @property
    def factors(self) -> tuple:
        """The factors of the product, each a tree with its own shape."""
        return self.after.args if type(self.after).__name__ == "MatMul" else (self.after,)

    @property
    def latex(self) -> str:
        return _printed(self.after, self.names, "latex")

    @property
    def text(self) -> str:
        return _printed(self.after, self.names, "text")
