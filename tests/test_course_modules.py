"""Today's course modules (issue 13): activations and losses in the form a TA writes, and the
constructs that used to hang or crash the engine. Each closed form is also compared with central
finite differences and sympy.diff (tests/test_registry.py does so for every registry entry)."""

import signal
import time

import pytest
import sympy as sp

import derive
from derive.calculus.budget import within
from derive.calculus.canonical import exp_of_sums
from derive.definitions.custom import define
from derive.verify import check_against_diff, check_finite_differences
from derive.verify_steps import check_steps

# The registry's new entries, as the text printer writes them: derived, then folded into σ, Φ, φ.
TA_FORMS = [
    ("softplus", "x", "sigma"),
    ("silu", "x", "sigma*(x*(1 - sigma) + 1)"),
    ("gelu", "x", "Phi + phi*x"),
    ("mish", "x", "sigma*x*(1 - tanh(zeta)**2) + tanh(zeta)"),
    ("dropout", "x", "m/p"),
    ("huber", "yhat", ("Piecewise((-y[i] + yhat[i], delta >= Abs(y[i] - yhat[i])), "
                       "(-delta*sign(y[i] - yhat[i]), True))")),
    ("kl_softmax", "b", "-p[i] + q[i]"),
    ("squared_hinge", "s", ("Sum(2*(1 - KroneckerDelta(k, t))*(KroneckerDelta(i, k) - KroneckerDelta(i, t))*"
                            "Max(0, Delta + s[k] - s[t]), (k, 1, K))")),
]


@pytest.mark.parametrize("target, wrt, expected", TA_FORMS)
def test_course_module_closed_form_is_the_one_a_ta_writes(target, wrt, expected):
    d = derive.derivative(target, wrt=wrt)
    assert str(d.result) == expected
    assert check_finite_differences(d) < 1e-5
    assert sum(check_against_diff(d)) > 0


def test_the_names_of_a_result_are_declared_with_their_definitions():
    """σ in SiLU′ is σ(x): the verifier expands it, so σ(1 + x(1 − σ)) is compared with sympy.diff of x σ(x)."""
    d = derive.derivative("silu")
    (sigma,) = [nm for nm in d.named if nm.symbol.name == "sigma"]
    x = d.definition.inputs[0].symbol
    assert sp.simplify(sigma.expr - 1 / (1 + sp.exp(-x))) == 0


def test_dropout_is_differentiated_with_respect_to_the_input_not_the_mask():
    d = derive.derivative("dropout")
    assert d.wrt == "x" and [v.name for v in d.definition.inputs] == ["x"]


def test_gelu_tanh_approximation_with_its_float_constant_derives_without_hanging():
    """sympy.solve on 0.044715 ran for more than 10 minutes inside folding; folding has a budget now."""
    x, y = sp.IndexedBase("x"), sp.IndexedBase("y")
    i = sp.Symbol("i", integer=True)
    u = sp.sqrt(2 / sp.pi) * (x[i] + sp.Float("0.044715") * x[i] ** 3)
    d = derive.derivative(define("gelu_float", y[i], x[i] * (1 + sp.tanh(u)) / 2))
    assert d.report is not None  # verified against sympy.diff and finite differences on the way


def test_gelu_tanh_registry_entry_is_verified_for_any_constant():
    d = derive.derivative("gelu_tanh")
    assert "t" in {s.name for s in d.result.free_symbols}
    assert check_finite_differences(d) < 1e-5
    check_steps(d)


def test_a_rewrite_past_its_budget_is_skipped_not_waited_for():
    start = time.monotonic()
    assert within(0.2, lambda: time.sleep(5) or "done", "skipped") == "skipped"
    assert time.monotonic() - start < 4


def test_the_budget_leaves_an_outer_time_limit_armed():
    from derive import limits

    previous = limits.time_limit_seconds()
    limits.set_time_limit(30)
    try:
        with limits.time_limit("outer"):
            assert within(0.1, lambda: 1, 0) == 1
            left, _ = signal.getitimer(signal.ITIMER_REAL)
            assert 25 < left <= 30
    finally:
        limits.set_time_limit(previous)


def test_the_outer_time_limit_still_fires_inside_a_budget():
    from derive import limits

    previous = limits.time_limit_seconds()
    limits.set_time_limit(0.2)
    try:
        with pytest.raises(limits.TimeLimitError), limits.time_limit("outer"):
            within(5, lambda: time.sleep(3), None)
            time.sleep(3)
    finally:
        limits.set_time_limit(previous)


def test_exp_of_an_inner_sum_stays_a_sum_not_a_product():
    U, v = sp.IndexedBase("U"), sp.IndexedBase("v")
    k, l = sp.symbols("k l", integer=True)
    D = sp.Symbol("D", integer=True, positive=True)
    e = sp.exp(sp.Sum(U[l, k] * v[l], (l, 1, D)))
    assert sp.expand(e).has(sp.Product)  # what SymPy does, and why the engine undoes it
    assert exp_of_sums(sp.expand(e)) == e


def test_word2vec_softmax_of_an_inner_product_is_verified():
    """softmax(Uᵀv) used to become a Product that verification could not evaluate."""
    U, v, L = sp.IndexedBase("U"), sp.IndexedBase("v"), sp.Symbol("L")
    m, k, l = sp.symbols("m k l", integer=True)
    K, D = sp.symbols("K D", integer=True, positive=True)
    score = lambda c: sp.Sum(U[l, c] * v[l], (l, 1, D))
    expr = -sp.log(sp.exp(score(m)) / sp.Sum(sp.exp(score(k)), (k, 1, K)))
    d = derive.derivative(define("w2v_m", L, expr, inputs=["v"]), wrt="v", verify=False)
    assert not d.result.has(sp.Product)
    assert all(not s.after.has(sp.Product) for s in d.steps)
    assert sum(check_against_diff(d)) > 0


def test_binary_focal_loss_with_a_symbolic_gamma_is_derived_and_verified():
    d = derive.derivative("binary_focal", wrt="p")
    assert d.result.has(d.definition.var("gamma").symbol)
    assert check_finite_differences(d) < 1e-5
    assert sum(check_against_diff(d)) > 0


def test_hessian_of_softmax_cross_entropy_is_diag_yhat_minus_yhat_yhat_transpose():
    d = derive.derivative("softmax_cross_entropy", wrt="theta,theta")
    assert str(d.result) == "(KroneckerDelta(i, j) - yhat[j])*yhat[i]"
    assert d.matrix.text == "diag(ŷ) − ŷ ŷᵀ"
    assert d.report is not None and check_finite_differences(d) < 1e-5
    assert d.check(r"\operatorname{diag}(\hat y) - \hat y \hat y^T").verdict == "correct"
    assert d.check(r"\operatorname{diag}(\hat y)").verdict == "incorrect"


def test_second_derivative_of_a_squared_error_is_twice_the_identity():
    d = derive.derivative("mse", wrt="yhat,yhat")
    assert str(d.result) == "2*KroneckerDelta(i, j)"
    assert sum(check_against_diff(d)) == 9


@pytest.mark.parametrize("target, wrt, message", [
    ("softmax_cross_entropy", "theta,x", "unknown variable for softmax_cross_entropy 'x'"),
    ("affine", "W,W", "a second derivative is taken of a loss"),
])
def test_a_second_derivative_that_cannot_be_taken_is_one_line(target, wrt, message):
    with pytest.raises(derive.DeriveError, match=message):
        derive.derivative(target, wrt=wrt)


# Verified against sympy.diff and finite differences by tests/test_registry.py, like every entry.
NAMED_FORMS = [
    ("word2vec_softmax", "v", "Sum((-y[m] + yhat[m])*U[i, m], (m, 1, K))", "U ŷ − U y"),
    ("word2vec_softmax", "U", "(-y[j] + yhat[j])*v[i]", "v ŷᵀ − v yᵀ"),
    ("word2vec_softmax_o", "U", "(-KroneckerDelta(j, o) + yhat[j])*v[i]", None),
    ("word2vec_negative_sampling", "v", "p*u[i] - u[i] + Sum(U[i, k]*q[k], (k, 1, K))", "p u + U q − u"),
    ("word2vec_negative_sampling", "u", "(p - 1)*v[i]", "(p − 1) v"),
    ("word2vec_negative_sampling", "U", "q[j]*v[i]", "v qᵀ"),
    ("rnn_step", "W", "(1 - h[i]**2)*dC_dh[i]*hprev[j]", "∂C/∂h h_{t−1}ᵀ − (∂C/∂h ⊙ h²) h_{t−1}ᵀ"),
    ("rnn_step", "hprev", "Sum((1 - h[m]**2)*W[m, i]*dC_dh[m], (m, 1, H))", "Wᵀ ∂C/∂h − Wᵀ (∂C/∂h ⊙ h²)"),
]


@pytest.mark.parametrize("target, wrt, index_form, matrix_form", NAMED_FORMS)
def test_results_are_written_in_the_named_quantities(target, wrt, index_form, matrix_form):
    d = derive.derivative(target, wrt=wrt)
    assert str(d.result) == index_form
    assert (d.matrix.text if d.matrix else None) == matrix_form


def test_a_derivation_from_python_runs_under_the_time_limit(monkeypatch):
    """Attention's ∂/∂Q through define() took 70 s; from Python it is now bounded like `derive show`."""
    from derive import derivation, limits

    def slow(*args, **kwargs):
        time.sleep(5)

    monkeypatch.setattr(derivation, "derive", slow)  # the engine as derive.derivation calls it
    previous = limits.time_limit_seconds()
    limits.set_time_limit(0.3)
    try:
        with pytest.raises(limits.TimeLimitError, match="deriving sigmoid took longer than 0.3 s"):
            derive.derivative("sigmoid")
    finally:
        limits.set_time_limit(previous)
