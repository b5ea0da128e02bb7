"""The Unicode text printer: blackboard notation, and every printed formula reads back as itself."""

import pytest
import sympy as sp

from derive.api import derivative
from derive.definitions import entries, get
from derive.definitions.model import IDX
from derive.definitions.ranges import has_index_arithmetic
from derive.render.unicode import unicode_text

i, j, k = IDX["i"], IDX["j"], IDX["k"]
x, y, W, dC_dy = (sp.IndexedBase(n) for n in ("x", "y", "W", "dC_dy"))
beta, K = sp.symbols("beta K")

RAW_SYMPY = ("Derivative(", "KroneckerDelta", "Heaviside", "Piecewise", "**", "Eq(", "Ne(", "Sum(", "exp(-")


def test_softmax_jacobian_reads_as_written_on_paper():
    assert unicode_text(beta * y[i] * (sp.KroneckerDelta(i, j) - y[j])) == "β y_i (δ_ij − y_j)"


def test_step_function_is_an_indicator():
    assert unicode_text(sp.Heaviside(x[i], 0)) == "𝟙[x_i > 0]"


def test_upstream_gradient_is_a_partial_fraction():
    assert unicode_text(dC_dy[i] * x[j]) == "∂C/∂y_i x_j"


def test_a_sum_in_a_product_is_bracketed_and_a_quotient_summand_too():
    s = sp.Sum(sp.exp(x[k]), (k, 1, K))
    assert unicode_text(sp.exp(x[i]) * s) == "exp(x_i) (Σ_{k=1}^{K} exp(x_k))"
    assert unicode_text(sp.Sum(y[k] / x[k], (k, 1, K))) == "Σ_{k=1}^{K} (y_k/x_k)"


def test_reciprocal_and_negative_powers():
    t = sp.Symbol("t")
    assert unicode_text(1 / (1 + sp.exp(-t))) == "1/(1 + exp(−t))"
    assert unicode_text(t**-2) == "1/t²"
    assert unicode_text(-(t + 1) ** 2) == "−(t + 1)²"


def test_matrix_entries_carry_both_indices():
    assert unicode_text(W[k, i] * dC_dy[k]) == "∂C/∂y_k W_ki"


def _cases():
    for e in entries():
        defn = get(e.name)
        for v in [*defn.inputs, *[o for o in defn.others if o.role == "param"]]:
            yield e.name, v.name


CASES = list(_cases())
# Known limits of the answer checker (derive/check), not of the printer: σ before a term is read as
# the sigmoid σ(·), and a constant index form (∂μ/∂x_i = 1/N) as a scalar.
NOT_READ = ("batchnorm", "layernorm", "mean")


@pytest.mark.parametrize("target, wrt", CASES)
def test_every_result_and_step_prints_without_raw_sympy_and_reads_back_as_itself(target, wrt):
    """Each printed formula goes through the answer checker, which compares it with the model
    (numerically at every index pattern, then symbolically): a dropped bracket fails here."""
    d = derivative(target, wrt=wrt)
    printed = [("result", d.result)] + [(s.rule, s.after) for s in d.steps]
    for label, expr in printed:
        text = unicode_text(expr)
        assert not any(raw in text for raw in RAW_SYMPY), f"{label}: {text}"
        if expr.has(sp.Derivative, sp.Piecewise) or has_index_arithmetic(d.definition) or target in NOT_READ:
            continue  # ∂/∂x (…), cases and index arithmetic (x_{i+k−1}) are not answers the reader takes
        verdict = d.check(text, timeout=20)
        # equal only under a declared constraint (Σ y = 1): the symbolic stage cannot know it
        allowed = ("correct", "undecided") if d.definition.constraints and label != "result" else ("correct",)
        assert verdict.verdict in allowed, f"{label}: {text} read as {verdict.parsed}: {verdict.feedback}"
