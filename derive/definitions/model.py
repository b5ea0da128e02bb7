"""What a definition is: a named output entry equal to a SymPy expression in index notation."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sympy as sp

# Indices are integers in range by assumption; dimensions are positive integers.
INDEX_NAMES = ("i", "j", "k", "l", "m", "n", "p", "q", "r", "s", "u", "v")
IDX = {name: sp.Symbol(name, integer=True, positive=True) for name in INDEX_NAMES}
i, j, k, l, m, n = (IDX[c] for c in "ijklmn")


def dim(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


K, D, M, N = dim("K"), dim("D"), dim("M"), dim("N")

# Sampling domains for verification and for the checker's counterexamples.
DOMAINS = ("real", "positive", "unit", "prob", "onehot", "class")


@dataclass(frozen=True)
class Var:
    """A named quantity: `x` (a K-vector), `W` (M×D), `beta` (a scalar)."""

    name: str
    shape: tuple = ()
    latex: str = ""
    role: str = "input"  # input | parameter | output | target | hyper | upstream
    domain: str = "real"

    @property
    def symbol(self) -> sp.Basic:
        return _symbol(self.name, self.domain, bool(self.shape))

    def __getitem__(self, index):
        return self.symbol[index]

    @property
    def rank(self) -> int:
        return len(self.shape)


@functools.lru_cache(maxsize=4096)
def _symbol(name: str, domain: str, shaped: bool) -> sp.Basic:
    """A Var's symbol, one object for each: an IndexedBase is made anew on every call otherwise, asking its
    assumptions each time (a third of a staged matrix-form check's environment)."""
    if domain == "class":
        return sp.Symbol(name, integer=True, positive=True)
    if not shaped:
        positive = domain in ("positive", "unit", "prob") or None
        return sp.Symbol(name, real=True, positive=positive)
    return sp.IndexedBase(name, real=True)


class OfInput(sp.Symbol):
    """A named quantity of an elementwise activation's input x, printed as a function of it: σ(x)."""

    def _derive_unicode(self, printer) -> str:
        from derive.model.notation import spoken

        return f"{spoken(self.name)}(x)"

    def _derive_latex(self, printer) -> str:
        from derive.model.notation import name_latex

        return rf"{name_latex(self.name)}(x)"


@dataclass(frozen=True)
class AppliedVar(Var):
    """A scalar Var whose symbol prints as a function of the input x (σ(x))."""

    @property
    def symbol(self) -> sp.Basic:
        return OfInput(self.name, real=True)


def entry_at(expr: sp.Expr, index: tuple, at: tuple) -> sp.Expr:
    """`expr`, defined at `index`, taken at `at`; a summation index it would capture (S_lk = Σ_l …) renamed
    first."""
    taken = set().union(*(sp.sympify(t).free_symbols for t in at)) - set(index)
    bound = {lim[0] for s in sp.preorder_traversal(expr) if isinstance(s, sp.Sum) for lim in s.limits}
    expr = expr.xreplace({b: sp.Symbol(f"{b.name}_", integer=True, positive=True) for b in bound & taken})
    return expr.xreplace(dict(zip(index, at)))


def written_out(expr: sp.Expr, base, index: tuple, value: sp.Expr) -> sp.Expr:
    """`expr` with every entry base[…] (or the scalar `base`) replaced by `value` at that entry."""
    if not index:
        return expr.xreplace({base: value})
    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == base,
                        lambda e: entry_at(value, index, e.indices))


@dataclass(frozen=True)
class Intermediate:
    """A named quantity the answer is written in: `yhat[i] = exp(theta[i]) / Σ_k exp(theta[k])`."""

    var: Var
    index: tuple
    expr: sp.Expr


@dataclass(frozen=True)
class Constraint:
    """A declared fact, e.g. `Σ_k y_k = 1` for a one-hot target."""

    lhs: sp.Expr
    rhs: sp.Expr
    reason: str


@dataclass(frozen=True)
class Definition:
    """`output[index] = expr`, differentiable in each of `inputs`.

    For an elementwise activation the output and input are scalars (`y = σ(x)`), and
    the result is read entry by entry. For a loss the output is the scalar `L`.
    """

    name: str
    kind: str  # layer | activation | loss
    title: str
    output: Var
    index: tuple
    expr: sp.Expr
    inputs: tuple  # Vars one can differentiate with respect to; the first is the default
    others: tuple = ()  # targets, hyperparameters
    sizes: dict = field(default_factory=dict)  # concrete, distinct, non-square
    intermediates: tuple = ()
    constraints: tuple = ()
    expand_logs: bool = False  # rewrite log(a/b) as log a − log b before differentiating
    conventions: tuple = ()
    upstream: str = "C"  # the cost a layer's gradient is taken of
    # layers whose outputs are named quantities, in forward order (S = QKᵀ/√d, A = softmax(S), Y = A V):
    # when given, gradients are taken stage by stage through the names (derive.calculus.staged)
    stages: tuple = ()

    @property
    def elementwise(self) -> bool:
        return self.kind == "activation" and not self.index

    def var(self, name: str) -> Var:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(name)

    @property
    def variables(self) -> tuple:
        return (self.output, *self.inputs, *self.others, *(it.var for it in self.intermediates))

    @property
    def equation(self) -> sp.Eq:
        lhs = self.output.symbol[self.index] if self.index else self.output.symbol
        return sp.Eq(lhs, self.expr, evaluate=False)

    def entry(self, var: Var, index) -> sp.Expr:
        return var.symbol[index] if index else var.symbol
