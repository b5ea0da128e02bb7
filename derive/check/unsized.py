"""I and 𝟏 written without a size (`W − I`, `𝟏ᵀ x`): they take the size their neighbour gives them.

Shared by the module reader (SymPy matrices) and the network evaluator (NumPy arrays): `resolve`
turns the placeholder into a concrete matrix made by the caller's `make(kind, shape)`. Anything
else asked of a placeholder (its shape, a function of it) is a one-line InvalidAnswer asking for
the size, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.check.screen import InvalidAnswer

PRODUCTS = ("juxt", "*", "@")
MAX_SIZE = 64  # I_n written with a number: larger than any size an answer is checked at
SAME_SHAPE = ("+", "-", "odot", "/")


@dataclass(frozen=True)
class Unsized:
    """The identity ("identity") or a vector of ones ("ones"), times `factor` (a scalar, or None for 1);
    `left`, a column x before a row of ones (x 𝟏ᵀ, each row of x repeated across the columns)."""

    kind: str
    transposed: bool = False
    factor: object = None
    left: object = None

    @property
    def T(self) -> Unsized:
        if self.left is not None:  # (x 𝟏ᵀ)ᵀ = 𝟏 xᵀ: not a form this placeholder holds
            raise InvalidAnswer(self.unknown())
        return Unsized(self.kind, not self.transposed, self.factor)

    def __neg__(self) -> Unsized:
        return self.scaled(-1)

    def scaled(self, value) -> Unsized:
        return Unsized(self.kind, self.transposed, value if self.factor is None else self.factor * value, self.left)

    @property
    def name(self) -> str:
        return "I" if self.kind == "identity" else "𝟏"

    @property
    def shape(self):
        raise InvalidAnswer(self.unknown())

    def applyfunc(self, f):
        raise InvalidAnswer(self.unknown())

    def unknown(self) -> str:
        example = "I_K" if self.kind == "identity" else "a product such as 𝟏ᵀ x"
        return f"the size of {self.name} cannot be told from where it stands; write it with its size ({example})"


def constant(text: str, index: tuple | None, form: str, vocab, make):
    """I (I_K, 𝕀) or 𝟏 read by the module reader: sized by a subscript naming a dimension (made by
    `make`), else a placeholder its neighbours size."""
    from derive.check import parse as t

    kind = "identity" if text == "I" else "ones"
    if form != "matrix":
        raise InvalidAnswer("I is a matrix: in index notation the identity is δ_ij" if kind == "identity" else
                            "𝟏 is a vector of ones: in index notation its entries are 1")
    if index is None or kind == "ones":
        if index is not None:
            raise InvalidAnswer("𝟏 takes no subscript here; its size comes from its neighbours")
        return Unsized(kind)
    if len(index) == 1 and isinstance(index[0], t.Word) and index[0].text in vocab.dims:
        return make(kind, (vocab.sizes[vocab.dims[index[0].text]],) * 2)
    if len(index) == 1 and isinstance(index[0], t.Num):
        return make(kind, (written_size(index[0].text),) * 2)
    return Unsized(kind)  # I_K with a letter that is no dimension here: sized by its neighbours


def written_size(text: str) -> int:
    """The n of I_n, refused unless a whole number from 1 to MAX_SIZE."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_SIZE:
        raise InvalidAnswer(f"I_{text}: the size of an identity is a whole number from 1 to {MAX_SIZE}, "
                            "or a dimension such as I_K")
    return int(text)


def is_scalar_shape(shape) -> bool:
    return tuple(shape) == (1, 1)


def shape_beside(u: Unsized, other: tuple, op: str, left: bool) -> tuple:
    """The shape `u` takes as the left (`left`) or right operand of `op` beside a matrix of shape `other`."""
    rows, cols = other
    if op in SAME_SHAPE:
        shape = (rows, cols)
    elif op in PRODUCTS:
        n = rows if left else cols  # the inner dimension
        if u.kind == "identity":
            shape = (n, n)
        elif u.transposed == left:  # 𝟏ᵀ b or a 𝟏: the inner dimension is all there is
            shape = (1, n) if left else (n, 1)
        else:
            raise InvalidAnswer(u.unknown())
    else:
        raise InvalidAnswer(u.unknown())
    if u.kind == "identity" and shape[0] != shape[1]:
        raise InvalidAnswer(f"I beside a {rows}×{cols} matrix would not be square; is I meant here?")
    return shape


def at_shape(u: Unsized, shape: tuple, make):
    """`u` standing alone where a matrix of `shape` is expected (the whole answer is I, or 𝟏)."""
    if u.kind == "identity" and shape[0] != shape[1]:
        raise InvalidAnswer(f"I is square, but a {shape[0]}×{shape[1]} matrix is expected here")
    return materialize(u, shape_beside(u, tuple(shape), "+", left=True), make)


def materialize(u: Unsized, shape: tuple, make):
    """`u` at `shape`, made by `make(kind, shape)` and multiplied by its factor."""
    if u.left is not None:  # x 𝟏ᵀ: the row of ones as long as the shape's columns
        value = u.left @ make("ones", (shape[1], 1)).T
    elif u.kind == "ones" and u.transposed:
        value = make("ones", (shape[1], shape[0])).T
    else:
        value = make(u.kind, shape)
    return value if u.factor is None else scale(value, u.factor)


def scale(value, factor):
    return value * factor


def resolve(op: str, a, b, make) -> tuple:
    """(a, b, None) with any placeholder among them made concrete, or (None, None, placeholder) when
    the result is still one (`2 I`, `I / 2`); two placeholders, or one beside a scalar in a sum, refused."""
    ua, ub = isinstance(a, Unsized), isinstance(b, Unsized)
    if not (ua or ub):
        return a, b, None
    if ua and ub:
        if op in ("+", "-") and (a.kind, a.transposed) == (b.kind, b.transposed):  # I + I: 2 I, still unsized
            fa, fb = (1 if u.factor is None else u.factor for u in (a, b))
            return None, None, Unsized(a.kind, a.transposed, fa + fb if op == "+" else fa - fb)
        raise InvalidAnswer(a.unknown())
    u, other = (a, b) if ua else (b, a)
    if ub and op in PRODUCTS and (b.kind, b.transposed, b.left) == ("ones", True, None) \
            and a.shape[1] == 1 and not is_scalar_shape(a.shape):  # x 𝟏ᵀ: its width from what it meets
        return None, None, Unsized("ones", True, b.factor, a)
    if is_scalar_shape(other.shape):
        if op in ("juxt", "*") or (op == "/" and ua):
            s = other[0, 0]
            return None, None, u.scaled(s if op != "/" else 1 / s)
        raise InvalidAnswer(u.unknown())
    if ua:
        return materialize(a, shape_beside(a, tuple(b.shape), op, left=True), make), b, None
    return a, materialize(b, shape_beside(b, tuple(a.shape), op, left=False), make), None
