"""One matrix arithmetic (derive.model.arithmetic) for the model's evaluator, module answers and
network answers: the same shape rules, the same ShapeError, the same feedback for a misfit."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import derive
from derive.check import matrices, neteval, vocabulary
from derive.model.arithmetic import NUMPY, SYMPY
from derive.model.matexpr import ShapeError

OPS = ("+", "-", "/", "odot", "otimes", "juxt", "*", "@")
shapes = st.tuples(st.integers(1, 3), st.integers(1, 3))


def _outcome(arith, op, a, b, **kw):
    try:
        return np.array(arith.op(op, a, b, **kw), dtype=float)
    except ShapeError as exc:
        return str(exc)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(OPS), shapes, shapes, st.integers(0, 2**16))
def test_numbers_and_expressions_follow_the_same_shape_rules(op, sa, sb, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(1, 2, sa), rng.uniform(1, 2, sb)  # no zero: / is defined wherever it fits
    got = _outcome(NUMPY, op, a, b)
    want = _outcome(SYMPY, op, sp.ImmutableMatrix(a), sp.ImmutableMatrix(b))
    if isinstance(want, str):
        assert got == want
    else:
        assert not isinstance(got, str), got
        assert got.shape == want.shape and np.allclose(got, want)


def test_row_vectors_side_by_side_are_entrywise_only_in_the_row_convention():
    a, b = np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 2.0, 2.0]])
    assert np.array_equal(NUMPY.op("juxt", a, b, row_vectors=True), [[2.0, 4.0, 6.0]])
    with pytest.raises(ShapeError, match="cannot multiply a 1×3 by a 1×3 matrix: a transpose"):
        NUMPY.op("juxt", a, b)
    with pytest.raises(ShapeError, match="cannot multiply a 3×1 by a 3×1 matrix"):
        NUMPY.op("@", a.T, b.T)  # @ is a matrix product only, never entry by entry


def test_diag_of_a_matrix_is_a_shape_error_in_both_kinds():
    for arith, m in ((NUMPY, np.ones((2, 3))), (SYMPY, sp.ones(2, 3))):
        with pytest.raises(ShapeError, match="diag of a 2×3 matrix: diag takes a vector"):
            arith.diag(m)


def test_the_checkers_have_one_shape_error_class():
    assert vocabulary.ShapeMismatch is ShapeError
    assert not hasattr(neteval, "Mismatch")
    with pytest.raises(ShapeError):
        matrices._matrix_op("juxt", sp.ones(2, 1), sp.ones(3, 1))
    with pytest.raises(ShapeError):
        neteval._op("juxt", np.ones((2, 1)), np.ones((3, 1)))


@pytest.mark.parametrize("target, wrt, answer, feedback", [
    ("affine", "W", r"x \frac{\partial C}{\partial y}", "cannot multiply a 2×1 by a 3×1 matrix: a transpose?"),
    ("affine>sigmoid>affine>mse", "W1", r"x \delta_1", "cannot multiply a 4×1 by a 3×1 matrix: a transpose?"),
    ("affine", "W", r"x \odot W", "the Hadamard product ⊙ needs equal shapes, not 2×1 and 3×2."),
    ("affine>sigmoid>affine>mse", "W1", r"x \odot W_1", "the Hadamard product ⊙ needs equal shapes, not 4×1 and 3×4."),
])
def test_a_misfit_gets_the_same_verdict_from_the_module_and_the_network_checker(target, wrt, answer, feedback):
    v = derive.derivative(target, wrt=wrt).check(answer)
    assert (v.verdict, v.feedback, v.evidence["kind"]) == ("incorrect", [feedback], "shape")
