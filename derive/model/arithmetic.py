"""Matrix arithmetic at concrete sizes: one set of shape rules for every evaluator of matrices.

The model's evaluator (derive.model.evaluate), the module answer reader (SymPy matrices of
expressions) and the network answer evaluator (NumPy arrays) all combine matrices here, so a
product, a sum or a ⊙ that does not fit is refused the same way everywhere: a ShapeError naming
the operation and both shapes. A 1×1 matrix stands for a scalar.

    >>> NUMPY.op("juxt", np.ones((2, 3)), np.ones((2, 3)))
    Traceback (most recent call last):
    ...
    derive.model.matexpr.ShapeError: cannot multiply a 2×3 by a 2×3 matrix: a transpose?
"""

from __future__ import annotations

import operator

import numpy as np
import sympy as sp

from derive.model.matexpr import ShapeError

_ENTRYWISE = {"+": (operator.add, "cannot add a {} and a {} matrix"),
              "-": (operator.sub, "cannot subtract a {} and a {} matrix"),
              "/": (operator.truediv, "cannot divide a {} by a {} matrix"),
              "odot": (operator.mul, "the Hadamard product ⊙ needs equal shapes, not {} and {}")}


def shape_text(shape: tuple) -> str:
    """3×4, as a concrete shape is named in every shape error."""
    return "×".join(str(s) for s in shape)


def is_scalar(m) -> bool:
    return tuple(m.shape) == (1, 1)


class Arithmetic:
    """The shape rules; a subclass says how its kind of matrix is made and combined entry by entry."""

    def op(self, op: str, a, b, *, row_vectors: bool = False):
        """`a op b`. `op` is + - / odot otimes, or a product (juxt, *, ·, @). Two vectors of one shape
        written side by side (y(1 − y)) multiply entry by entry: columns always, rows if `row_vectors`."""
        if op in _ENTRYWISE and not (op == "odot" and (is_scalar(a) or is_scalar(b))):
            f, message = _ENTRYWISE[op]
            return self.entrywise(f, *self.fit(a, b, message))
        if op == "otimes":
            if 1 not in a.shape or 1 not in b.shape:
                raise ShapeError(f"an outer product ⊗ is read for vectors, not {shape_text(a.shape)} and "
                                 f"{shape_text(b.shape)}")
            return self.matmul(self.column(a), self.column(b).T)
        if op != "@" and (is_scalar(a) or is_scalar(b)):
            return self.entrywise(operator.mul, *self.fit(a, b, ""))
        if a.shape[1] == b.shape[0]:
            return self.matmul(a, b)
        vector = a.shape[1] == 1 or (row_vectors and a.shape[0] == 1)
        if op != "@" and a.shape == b.shape and vector:
            return self.entrywise(operator.mul, a, b)
        hint = ": a transpose?" if a.shape[1] == b.shape[1] or a.shape[0] == b.shape[0] else ""
        raise ShapeError(f"cannot multiply a {shape_text(a.shape)} by a {shape_text(b.shape)} matrix{hint}")

    def fit(self, a, b, message: str) -> tuple:
        """(a, b) at one shape, a scalar spread over the other's; else ShapeError(message with both shapes)."""
        if is_scalar(a) and not is_scalar(b):
            return self.full(a, b.shape), b
        if is_scalar(b) and not is_scalar(a):
            return a, self.full(b, a.shape)
        if a.shape != b.shape:
            raise ShapeError(message.format(shape_text(a.shape), shape_text(b.shape)))
        return a, b

    def pair(self, f, a, b, name: str):
        """f(a, b) entry by entry (max, min, a comparison): equal shapes, or a scalar beside a matrix."""
        return self.entrywise(f, *self.fit(a, b, name + " of a {} and a {} matrix"))

    def diag(self, v):
        if 1 not in v.shape:
            raise ShapeError(f"diag of a {shape_text(v.shape)} matrix: diag takes a vector")
        return self.diagonal(v)

    # what a subclass provides
    def full(self, scalar, shape: tuple):
        raise NotImplementedError

    def entrywise(self, f, a, b):
        raise NotImplementedError

    def matmul(self, a, b):
        raise NotImplementedError

    def column(self, v):
        raise NotImplementedError

    def diagonal(self, v):
        raise NotImplementedError

    def make(self, kind: str, shape: tuple):
        """The identity ("identity") or a matrix of ones ("ones") at a concrete shape."""
        raise NotImplementedError


class NumpyArithmetic(Arithmetic):
    """Over 2-d NumPy arrays of floats."""

    def full(self, scalar, shape: tuple):
        return np.broadcast_to(scalar, shape)

    def entrywise(self, f, a, b):
        return f(a, b)

    def matmul(self, a, b):
        return a @ b

    def column(self, v):
        return v.reshape(-1, 1)

    def diagonal(self, v):
        return np.diag(v.reshape(-1))

    def make(self, kind: str, shape: tuple):
        return np.eye(shape[0]) if kind == "identity" else np.ones(shape)


class SympyArithmetic(Arithmetic):
    """Over SymPy matrices whose entries are expressions."""

    def full(self, scalar, shape: tuple):
        return sp.ImmutableMatrix(*shape, lambda r, c: scalar[0, 0])

    def entrywise(self, f, a, b):
        return sp.ImmutableMatrix(*a.shape, lambda r, c: f(a[r, c], b[r, c]))

    def matmul(self, a, b):
        return a * b

    def column(self, v):
        return v.reshape(len(v), 1)

    def diagonal(self, v):
        entries = list(v)
        return sp.ImmutableMatrix(len(entries), len(entries), lambda r, c: entries[r] if r == c else 0)

    def make(self, kind: str, shape: tuple):
        return sp.ImmutableMatrix(sp.eye(shape[0]) if kind == "identity" else sp.ones(*shape))


NUMPY, SYMPY = NumpyArithmetic(), SympyArithmetic()
