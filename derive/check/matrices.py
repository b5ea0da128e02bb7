"""Matrix arithmetic at a derivation's concrete sizes, for answers in matrix form.

Every operand is an explicit SymPy matrix of entries; a 1×1 matrix stands for a scalar. A product
or sum whose shapes do not fit is a ShapeMismatch (a wrong answer), with the shapes named.
"""

from __future__ import annotations

import sympy as sp

from derive.check.screen import InvalidAnswer
from derive.check.unsized import resolve
from derive.check.vocabulary import ShapeMismatch, _shape_text


def make(kind: str, shape: tuple) -> sp.ImmutableMatrix:
    """The identity or a matrix of ones at a concrete shape (for derive.check.unsized)."""
    return sp.ImmutableMatrix(sp.eye(shape[0]) if kind == "identity" else sp.ones(*shape))

# -- matrix arithmetic at concrete sizes ----------------------------------------------------


def _is_scalar(m) -> bool:
    return m.shape == (1, 1)


def _matrix_op(op: str, a, b):
    a, b, unsized = resolve(op, a, b, make)
    if unsized is not None:
        return unsized
    sa, sb = _shape_text(a.shape), _shape_text(b.shape)
    if op in ("+", "-"):
        if a.shape != b.shape and not (_is_scalar(a) or _is_scalar(b)):
            raise ShapeMismatch(f"cannot {'add' if op == '+' else 'subtract'} a {sa} and a {sb} matrix")
        if _is_scalar(a) and not _is_scalar(b):
            a = sp.ImmutableMatrix(*b.shape, lambda r, c: a[0, 0])
        if _is_scalar(b) and not _is_scalar(a):
            b = sp.ImmutableMatrix(*a.shape, lambda r, c: b[0, 0])
        return a + b if op == "+" else a - b
    if op == "/":
        if _is_scalar(b):
            return a.applyfunc(lambda e: e / b[0, 0])
        if _is_scalar(a):
            return b.applyfunc(lambda e: a[0, 0] / e)
        if a.shape == b.shape:
            return sp.ImmutableMatrix(*a.shape, lambda r, c: a[r, c] / b[r, c])
        raise ShapeMismatch(f"cannot divide a {sa} by a {sb} matrix")
    if op == "odot":
        if _is_scalar(a) or _is_scalar(b):
            return _matrix_op("*", a, b)
        if a.shape != b.shape:
            raise ShapeMismatch(f"the Hadamard product needs equal shapes, not {sa} and {sb}")
        return sp.ImmutableMatrix(*a.shape, lambda r, c: a[r, c] * b[r, c])
    if op == "otimes":
        if 1 not in a.shape or 1 not in b.shape:
            raise ShapeMismatch(f"an outer product ⊗ is read for vectors, not {sa} and {sb}")
        u, w = a.reshape(len(a), 1), b.reshape(len(b), 1)
        return u * w.T
    # juxtaposition, *, ·, @
    if _is_scalar(a) and op != "@":
        return b.applyfunc(lambda e: a[0, 0] * e)
    if _is_scalar(b) and op != "@":
        return a.applyfunc(lambda e: e * b[0, 0])
    if a.shape[1] == b.shape[0]:
        return a * b
    if op != "@" and a.shape == b.shape and a.shape[1] == 1:  # y(1 − y) for vectors: entry by entry
        return sp.ImmutableMatrix(*a.shape, lambda r, c: a[r, c] * b[r, c])
    hint = ": a transpose?" if a.shape[1] == b.shape[1] or a.shape[0] == b.shape[0] else ""
    raise ShapeMismatch(f"cannot multiply a {sa} by a {sb} matrix{hint}")


def _elementwise2(f, a, b):
    if _is_scalar(a) and not _is_scalar(b):
        a = sp.ImmutableMatrix(*b.shape, lambda r, c: a[0, 0])
    if _is_scalar(b) and not _is_scalar(a):
        b = sp.ImmutableMatrix(*a.shape, lambda r, c: b[0, 0])
    if a.shape != b.shape:
        raise ShapeMismatch(f"{f.__name__} of a {_shape_text(a.shape)} and a {_shape_text(b.shape)} matrix")
    return sp.ImmutableMatrix(*a.shape, lambda r, c: f(a[r, c], b[r, c]))


def _matrix_func(name, args, interp):
    if interp.form != "matrix":
        raise InvalidAnswer(f"{name} is matrix notation")
    if name == "diag":
        (v,) = args
        if 1 not in v.shape:
            raise ShapeMismatch(f"diag of a {_shape_text(v.shape)} matrix: diag takes a vector")
        entries = list(v)
        return sp.ImmutableMatrix(len(entries), len(entries), lambda r, c: entries[r] if r == c else 0)
    if name == "outer":
        return _matrix_op("otimes", *args)
    (v,) = args
    col = v.reshape(len(v), 1)
    total = sum(sp.exp(e) for e in col)
    return col.applyfunc(lambda e: sp.exp(e) / total)

