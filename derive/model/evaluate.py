"""The one NumPy evaluator of a matrix-expression tree (derive.model.matexpr).

    >>> from derive.model.matexpr import MatSym, matmul
    >>> W, x = MatSym("W", ("M", "D")), MatSym("x", ("D", "1"))
    >>> evaluate(matmul(W.T, W, x), {"W": np.eye(3, 2), "x": np.ones((2, 1)), "M": 3, "D": 2}).shape
    (2, 1)
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from derive.model.arithmetic import NUMPY as ARITHMETIC
from derive.model.matexpr import MatExpr, ShapeError

NUMPY = {"exp": np.exp, "log": np.log, "tanh": np.tanh, "sqrt": np.sqrt}
# Functions NumPy lacks (a GELU's erf): lambdify would call math's, which takes one number only.
MATH_ENTRYWISE = {name: np.vectorize(getattr(math, name), otypes=[float]) for name in ("erf", "erfc", "gamma", "lgamma")}
COMPARE = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}


def evaluate(tree: MatExpr, env: dict) -> np.ndarray:
    """The value of `tree` as a 2-d array.

    `env` maps each named matrix to its value (a vector as a column), and each scalar and each
    dimension name (K, N) to a number. A value whose size disagrees with its shape is a ShapeError.
    """
    return _Evaluator(env).value(tree)


class _Evaluator:
    def __init__(self, env: dict):
        self.env = env

    def value(self, node: MatExpr) -> np.ndarray:
        return getattr(self, "_eval_" + type(node).__name__)(node)

    def size(self, shape: tuple) -> tuple:
        return tuple(1 if d == "1" else int(self.env[d]) for d in shape)

    def scalar(self, expr: sp.Expr) -> float:
        expr = sp.sympify(expr)
        return float(expr.xreplace({s: sp.Float(self.env[s.name]) for s in expr.free_symbols}))

    def _eval_MatSym(self, node) -> np.ndarray:
        out = np.asarray(self.env[node.name], dtype=float)
        out = out.reshape(-1, 1) if out.ndim == 1 else out
        if out.shape != self.size(node.shape):
            raise ShapeError(f"{node.name} is {out.shape[0]} × {out.shape[1]}, not {' × '.join(node.shape)}")
        return out

    def _eval_Ones(self, node) -> np.ndarray:
        return np.ones(self.size(node.shape))

    def _eval_Identity(self, node) -> np.ndarray:
        return np.eye(self.size(node.shape)[0])

    def _eval_Transpose(self, node) -> np.ndarray:
        return self.value(node.arg).T

    def _fold(self, op: str, args) -> np.ndarray:
        out = self.value(args[0])
        for a in args[1:]:  # the shape rules of every matrix evaluator (derive.model.arithmetic)
            out = ARITHMETIC.op(op, out, self.value(a))
        return out

    def _eval_MatMul(self, node) -> np.ndarray:
        return self._fold("@", node.args)

    def _eval_Hadamard(self, node) -> np.ndarray:
        return self._fold("odot", node.args)

    def _eval_MatAdd(self, node) -> np.ndarray:
        return self._fold("+", node.args)

    def _eval_Quotient(self, node) -> np.ndarray:
        return self._fold("/", (node.num, node.den))

    def _eval_Power(self, node) -> np.ndarray:
        return self.value(node.base) ** node.exp

    def _eval_Scaled(self, node) -> np.ndarray:
        return self.scalar(node.scalar) * self.value(node.arg)

    def _eval_Diag(self, node) -> np.ndarray:
        return ARITHMETIC.diag(self.value(node.arg))

    def _eval_Apply(self, node) -> np.ndarray:
        return NUMPY[node.fn](self.value(node.arg))

    def _eval_Indicator(self, node) -> np.ndarray:
        return COMPARE[node.op](self.value(node.arg), self.scalar(node.bound)).astype(float)

    def _eval_Stack(self, node) -> np.ndarray:
        out = np.vstack([self.value(a) for a in node.args])
        if out.shape[0] != self.size((node.rows,))[0]:
            raise ShapeError(f"the blocks stack to {out.shape[0]} rows, not {node.rows} = {self.size((node.rows,))[0]}")
        return out

    def _eval_Rows(self, node) -> np.ndarray:
        arg = self.value(node.arg)
        start = sum(self.size(node.skip))
        stop = start + self.size((node.rows,))[0]
        if stop > arg.shape[0]:
            raise ShapeError(f"rows {start + 1} to {stop} of a matrix of {arg.shape[0]} rows")
        return arg[start:stop]

    def _eval_Entrywise(self, node) -> np.ndarray:
        others = {s: sp.Float(self.env[s.name]) for s in node.expr.free_symbols if s != node.symbol}
        f = sp.lambdify(node.symbol, node.expr.xreplace(others), modules=[MATH_ENTRYWISE, "numpy"])
        arg = self.value(node.arg)
        return np.broadcast_to(np.asarray(f(arg), dtype=float), arg.shape).copy()
