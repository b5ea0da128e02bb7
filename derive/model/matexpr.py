"""Matrix expressions as a tree: a module's gradient in matrices, before anything prints it.

A node knows its shape, two dimension names such as ("M", "D") with "1" for a unit dimension
(a vector is (n, "1")); a node whose operands do not fit raises ShapeError. Scalars (β, 1/N, 2)
are SymPy expressions inside `Scaled`; the 1 of `1 − y` is `Ones`. Printers
(derive.render.matrix) and the NumPy evaluator (derive.model.evaluate) walk the tree by class
name. Build trees with the functions at the end: they keep one normal form (scalars in front,
transposes on symbols only, so there is no xᵀᵀ).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields, replace

import sympy as sp

FUNCTIONS = ("exp", "log", "tanh", "sqrt")  # applied entry by entry
COMPARISONS = (">", ">=", "<", "<=")


class ShapeError(ValueError):
    """Operands whose shapes do not fit; `str()` names the operation and the shapes.

    The one shape error of derive: the tree's, the evaluators' (derive.model.arithmetic) and an
    answer's whose matrices do not fit (then a wrong answer, with `latex` what was understood)."""

    latex: str | None = None


def _shape_text(shape: tuple) -> str:
    return " × ".join(shape)


def _same_shapes(what: str, args: tuple) -> None:
    for a in args[1:]:
        if a.shape != args[0].shape:
            raise ShapeError(f"{what} needs equal shapes, not {_shape_text(args[0].shape)} and {_shape_text(a.shape)}")


def _chained(args) -> None:
    for a, b in itertools.pairwise(args):
        if a.shape[1] != b.shape[0]:
            raise ShapeError(f"cannot multiply a {_shape_text(a.shape)} by a {_shape_text(b.shape)} matrix")


class MatExpr:
    """A matrix expression; every subclass is a frozen dataclass with a `shape`."""

    shape: tuple

    @property
    def T(self) -> MatExpr:
        return transpose(self)

    @property
    def children(self) -> tuple:
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            out += [v for v in (value if isinstance(value, tuple) else (value,)) if isinstance(v, MatExpr)]
        return tuple(out)


class _SameShape(MatExpr):
    """A node with the shape of its first operand: it acts entry by entry, or scales."""

    @property
    def shape(self) -> tuple:
        return self.children[0].shape


@dataclass(frozen=True)
class MatSym(MatExpr):
    """A named matrix or vector: W (M × D), x (D × 1), ∂C/∂y (M × 1)."""

    name: str
    shape: tuple


@dataclass(frozen=True)
class Ones(MatExpr):
    """The matrix of ones; printed 1 where it is added or multiplied entry by entry."""

    shape: tuple


@dataclass(frozen=True)
class Identity(MatExpr):
    n: str

    @property
    def shape(self) -> tuple:
        return (self.n, self.n)


@dataclass(frozen=True)
class Transpose(MatExpr):
    arg: MatExpr

    def __post_init__(self):
        if isinstance(self.arg, Transpose):
            raise TypeError("the transpose of a transpose is its argument: build it with transpose()")

    @property
    def shape(self) -> tuple:
        return self.arg.shape[::-1]


@dataclass(frozen=True)
class MatMul(MatExpr):
    args: tuple

    def __post_init__(self):
        _chained(self.args)

    @property
    def shape(self) -> tuple:
        return (self.args[0].shape[0], self.args[-1].shape[1])


@dataclass(frozen=True)
class Hadamard(_SameShape):
    """The entrywise product ⊙."""

    args: tuple

    def __post_init__(self):
        _same_shapes("the entrywise product ⊙", self.args)


@dataclass(frozen=True)
class MatAdd(_SameShape):
    args: tuple

    def __post_init__(self):
        _same_shapes("a sum", self.args)


@dataclass(frozen=True)
class Quotient(_SameShape):
    """Entrywise division."""

    num: MatExpr
    den: MatExpr

    def __post_init__(self):
        _same_shapes("an entrywise quotient", (self.num, self.den))


@dataclass(frozen=True)
class Power(_SameShape):
    """An entrywise power with a whole exponent of at least 2."""

    base: MatExpr
    exp: int


@dataclass(frozen=True)
class Scaled(_SameShape):
    """A scalar multiple: β X, (1/N) X, −X."""

    scalar: sp.Expr
    arg: MatExpr


@dataclass(frozen=True)
class Diag(MatExpr):
    """The diagonal matrix of a vector."""

    arg: MatExpr

    def __post_init__(self):
        if self.arg.shape[1] != "1":
            raise ShapeError(f"diag takes a vector, not a {_shape_text(self.arg.shape)} matrix")

    @property
    def shape(self) -> tuple:
        return (self.arg.shape[0], self.arg.shape[0])


@dataclass(frozen=True)
class Apply(_SameShape):
    """A function of FUNCTIONS applied entry by entry: exp(x)."""

    fn: str
    arg: MatExpr

    def __post_init__(self):
        if self.fn not in FUNCTIONS:
            raise ValueError(f"unknown entrywise function {self.fn!r}; choose one of: {', '.join(FUNCTIONS)}")


@dataclass(frozen=True)
class Indicator(_SameShape):
    """𝟙[arg > bound] entry by entry (1 where it holds, else 0); `bound` is a scalar."""

    arg: MatExpr
    op: str = ">"
    bound: sp.Expr = sp.S.Zero

    def __post_init__(self):
        if self.op not in COMPARISONS:
            raise ValueError(f"unknown comparison {self.op!r}; choose one of: {', '.join(COMPARISONS)}")


@dataclass(frozen=True)
class Entrywise(_SameShape):
    """A scalar SymPy expression in `symbol`, applied to each entry of `arg`."""

    expr: sp.Expr
    symbol: sp.Symbol
    arg: MatExpr


@dataclass(frozen=True)
class Stack(MatExpr):
    """Blocks stacked one above the other, [a; b]: the rows of each in turn. `rows` names the whole
    stacked dimension (its size is the sum of the blocks' rows, which the evaluator checks)."""

    args: tuple
    rows: str

    def __post_init__(self):
        if len(self.args) < 2:
            raise ShapeError("a stack needs two blocks or more")
        for a in self.args[1:]:
            if a.shape[1] != self.args[0].shape[1]:
                raise ShapeError(f"blocks stacked one above the other need as many columns, not "
                                 f"{_shape_text(self.args[0].shape)} and {_shape_text(a.shape)}")

    @property
    def shape(self) -> tuple:
        return (self.rows, self.args[0].shape[1])


@dataclass(frozen=True)
class Rows(MatExpr):
    """A block of rows of `arg`: `rows` of them, after the rows whose sizes the dimensions in `skip` add
    up to. The gradient of [a; b] splits so: ∂L/∂b is the rows d_a + 1 … d_a + d_b of ∂L/∂c."""

    arg: MatExpr
    skip: tuple
    rows: str

    @property
    def shape(self) -> tuple:
        return (self.rows, self.arg.shape[1])


def walk(node: MatExpr):
    """Every node of the tree, parents before children."""
    yield node
    for child in node.children:
        yield from walk(child)


def leaves(node: MatExpr) -> tuple:
    """The named matrices, in the order they are written, each once."""
    return tuple(dict.fromkeys(n for n in walk(node) if isinstance(n, MatSym)))


# -- building trees in normal form -------------------------------------------------------------


def scale(scalar, x: MatExpr) -> MatExpr:
    scalar = sp.sympify(scalar)
    if isinstance(x, Scaled):
        scalar, x = scalar * x.scalar, x.arg
    return x if scalar == 1 else Scaled(scalar, x)


def _unscaled(args) -> tuple:
    """(product of the scalars, the arguments without them)."""
    coeff, out = sp.S.One, []
    for a in args:
        if isinstance(a, Scaled):
            coeff, a = coeff * a.scalar, a.arg
        out.append(a)
    return coeff, out


def matmul(*args: MatExpr) -> MatExpr:
    flat = [b for a in args for b in (a.args if isinstance(a, MatMul) else (a,))]
    coeff, flat = _unscaled(flat)
    _chained(flat)  # a mismatch is refused before an identity is dropped
    kept = [a for a in flat if not isinstance(a, Identity)] or flat[:1]
    return scale(coeff, kept[0] if len(kept) == 1 else MatMul(tuple(kept)))


def hadamard(*args: MatExpr) -> MatExpr:
    flat = [b for a in args for b in (a.args if isinstance(a, Hadamard) else (a,))]
    coeff, flat = _unscaled(flat)
    _same_shapes("the entrywise product ⊙", tuple(flat))
    kept = [a for a in flat if not isinstance(a, Ones)] or flat[:1]
    return scale(coeff, kept[0] if len(kept) == 1 else Hadamard(tuple(kept)))


def _negative(x: MatExpr) -> bool:
    return isinstance(x, Scaled) and x.scalar.could_extract_minus_sign()


def add(*args: MatExpr) -> MatExpr:
    """A sum, positive terms first (otherwise in the order given)."""
    flat = [b for a in args for b in (a.args if isinstance(a, MatAdd) else (a,))]
    flat = [a for a in flat if not (isinstance(a, Scaled) and a.scalar == 0)]
    flat.sort(key=_negative)
    return flat[0] if len(flat) == 1 else MatAdd(tuple(flat))


def quotient(num: MatExpr, den: MatExpr) -> MatExpr:
    (c_num, (num,)), (c_den, (den,)) = _unscaled((num,)), _unscaled((den,))
    _same_shapes("an entrywise quotient", (num, den))
    return scale(c_num / c_den, num if isinstance(den, Ones) else Quotient(num, den))


def power(base: MatExpr, exp: int) -> MatExpr:
    if exp == 1:
        return base
    if isinstance(base, Scaled):
        return scale(base.scalar ** exp, power(base.arg, exp))
    return base if isinstance(base, Ones) else Power(base, int(exp))


def diag(v: MatExpr) -> MatExpr:
    if isinstance(v, Scaled):
        return scale(v.scalar, diag(v.arg))
    return Identity(v.shape[0]) if isinstance(v, Ones) and v.shape[1] == "1" else Diag(v)


def transpose(x: MatExpr) -> MatExpr:
    """xᵀ, pushed down to the named matrices and functions: (A B)ᵀ = Bᵀ Aᵀ, and (xᵀ)ᵀ = x."""
    if isinstance(x, Transpose):
        return x.arg
    if isinstance(x, MatSym):
        return Transpose(x)
    if isinstance(x, Ones):
        return Ones(x.shape[::-1])
    if isinstance(x, (Identity, Diag)):
        return x
    if isinstance(x, (Apply, Indicator, Entrywise, Stack, Rows)):  # exp(y)ᵀ reads better than exp(yᵀ)
        return Transpose(x)
    if isinstance(x, MatMul):
        return matmul(*(transpose(a) for a in reversed(x.args)))
    if isinstance(x, (MatAdd, Hadamard)):
        return type(x)(tuple(transpose(a) for a in x.args))
    # a scalar multiple or an entrywise function: transpose what it acts on
    return replace(x, **{f.name: transpose(getattr(x, f.name)) for f in fields(x)
                         if isinstance(getattr(x, f.name), MatExpr)})


def substitute(node: MatExpr, trees: dict) -> MatExpr:
    """`node` with each named matrix in `trees` (name → tree) replaced by its tree, in normal form."""
    if isinstance(node, MatSym):
        return trees.get(node.name, node)
    rebuilt = {f.name: _substituted(getattr(node, f.name), trees) for f in fields(node)}
    builder = {MatMul: matmul, Hadamard: hadamard, MatAdd: add}.get(type(node))
    if builder is not None:
        return builder(*rebuilt["args"])
    if isinstance(node, Transpose):
        return transpose(rebuilt["arg"])
    if isinstance(node, Scaled):
        return scale(node.scalar, rebuilt["arg"])
    return replace(node, **rebuilt)


def _substituted(value, trees: dict):
    if isinstance(value, tuple):
        return tuple(_substituted(v, trees) for v in value)
    return substitute(value, trees) if isinstance(value, MatExpr) else value
