"""Matrix arithmetic at a derivation's concrete sizes, for module answers in matrix form.

Every operand is an explicit SymPy matrix of entries; a 1×1 matrix stands for a scalar. The shape
rules are the model's (derive.model.arithmetic, shared with the network checker and the model's
evaluator): a product or sum whose shapes do not fit is a ShapeError (a wrong answer), shapes named.
"""

from __future__ import annotations

import sympy as sp

from derive.check.screen import InvalidAnswer
from derive.check.unsized import resolve
from derive.model.arithmetic import SYMPY

make = SYMPY.make  # the identity or a matrix of ones at a concrete shape (for derive.check.unsized)


def _matrix_op(op: str, a, b):
    a, b, unsized = resolve(op, a, b, make)
    return unsized if unsized is not None else SYMPY.op(op, a, b)


def _elementwise2(f, a, b):
    return SYMPY.pair(f, a, b, f.__name__)


def _matrix_func(name, args, interp):
    if interp.form != "matrix":
        raise InvalidAnswer(f"{name} is matrix notation")
    if name == "diag":
        return SYMPY.diag(*args)
    if name == "rowsum":  # rowsum(X) = X 𝟏, a column of the row sums
        if len(args) != 1:
            raise InvalidAnswer("rowsum takes one matrix: rowsum(X) = X𝟏")
        (x,) = args
        return x @ make("ones", (x.shape[1], 1))
    if name == "outer":
        return _matrix_op("otimes", *args)
    (v,) = args
    if 1 not in v.shape:  # a matrix's softmax is taken along each row (attention's A = softmax(S))
        return sp.ImmutableMatrix.vstack(*[_matrix_func(name, [v[r, :]], interp).T for r in range(v.shape[0])])
    col = v.reshape(len(v), 1)
    total = sum(sp.exp(e) for e in col)
    return col.applyfunc(lambda e: sp.exp(e) / total)
