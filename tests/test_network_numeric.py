"""Numeric worked examples (the UvA sheet's Exercise 2, digit for digit) and generated NumPy code."""

import numpy as np
import pytest

from derive.cli import main
from derive.errors import DeriveError
from derive.network import network
from derive.network.codegen import compile_numpy

UVA = "affine_batch>relu>affine_batch>identity>half_frobenius"
X = [[0.75, 0.2, -0.75, 0.2], [0.8, 0.05, 0.8, -0.05]]
W1 = [[0.6, 0.01], [0.7, 0.43], [0.0, 0.88]]
W2 = [[0.02, 0.03, 0.09]]
Y = [[1, 1, -1, -1]]


@pytest.fixture(scope="module")
def uva():
    return network(UVA).example(X=X, weights={"W1": W1, "W2": W2}, targets=Y, lr=0.5, loss="half_mean")


# The numbers printed in seeds/004, Exercise 2.
SHEET = {
    "S1": [[0.4580, 0.1205, -0.4420, 0.1195], [0.8690, 0.1615, -0.1810, 0.1185], [0.7040, 0.0440, 0.7040, -0.0440]],
    "Z1": [[0.4580, 0.1205, 0.0, 0.1195], [0.8690, 0.1615, 0.0, 0.1185], [0.7040, 0.0440, 0.7040, 0.0]],
    "Yhat": [[0.0986, 0.0112, 0.0634, 0.0059]],
    "D2": [[-0.2254, -0.2472, 0.2658, 0.2515]],
    "D1": [[-0.0045, -0.0049, 0.0, 0.0050], [-0.0068, -0.0074, 0.0, 0.0075], [-0.0203, -0.0222, 0.0239, 0.0]],
    "dW2": [[-0.1029, -0.2060, 0.0176]],
    "dW1": [[-0.0034, -0.0041], [-0.0050, -0.0062], [-0.0376, 0.0018]],
    "W1": [[0.6017, 0.0121], [0.7025, 0.4331], [0.0188, 0.8791]],
    "W2": [[0.0715, 0.1330, 0.0812]],
}


@pytest.mark.parametrize("name", list(SHEET))
def test_uva_exercise_2_comes_out_digit_for_digit(uva, name):
    assert uva.rounded(name).tolist() == SHEET[name]


def test_uva_losses_before_and_after_the_step(uva):
    assert (round(uva.loss, 4), round(uva.loss_after, 4)) == (0.4916, 0.4657)


def test_uva_example_states_its_convention_and_passes_the_gradient_check(uva):
    assert uva.convention == "L = (1/2N)‖Ŷ − Y‖²_F with N = 4"
    assert uva.loss_scale == pytest.approx(0.25)  # half_frobenius is ½‖·‖²_F; the sheet divides by N too
    assert uva.check_error < 1e-8


def test_uva_yhat_entry_0_005945_rounds_down_only_in_binary(uva):
    """W2 Z1 at the 4th sample is exactly 0.005945; the sheet's 0.0059 is the double's rounding."""
    assert uva.value("Yhat")[0, 3] < 0.005945
    assert f"{uva.value('Yhat')[0, 3]:.4f}" == "0.0059"


def test_conventions_scale_the_gradients_as_stated():
    net = network(UVA)
    runs = {c: net.example(X=X, weights=[W1, W2], targets=Y, loss=c) for c in ("sum", "half", "mean", "half_mean")}
    g = {c: r.value("dW1") for c, r in runs.items()}
    assert np.allclose(g["sum"], 2 * g["half"]) and np.allclose(g["sum"], 4 * g["mean"])
    assert np.allclose(g["half"], 4 * g["half_mean"])
    assert runs["sum"].loss == pytest.approx(8 * runs["half_mean"].loss)


def test_half_conventions_are_refused_for_a_loss_that_is_not_squared_error():
    net = network("affine>sigmoid>affine>sigmoid>bce")
    data = {"X": [[0.5], [-1.0]], "weights": [np.ones((3, 2)), np.zeros(3), np.ones((1, 3)), np.zeros(1)],
            "targets": [[1.0]]}
    with pytest.raises(DeriveError, match="squared-error losses"):
        net.example(**data, loss="half")
    assert net.example(**data, loss="mean").loss > 0


@pytest.mark.parametrize("change, words", [
    ({"weights": {"W1": W1, "W2": [[0.1, 0.2]]}}, ["W2 is 1 × 2", "3 rows", "needs 3 columns"]),
    ({"weights": {"W1": W1}}, ["missing W2", "W1, W2"]),
    ({"weights": {"W1": W1, "W2": W2, "b1": [0, 0, 0]}}, ["no parameter b1"]),
    ({"targets": [[1, 1, -1]]}, ["targets are 1 × 3", "1 × 4"]),
    ({"X": [[0.1, 0.2, 0.3, 0.4]]}, ["W1 is 3 × 2", "X has 1 rows"]),
    ({"loss": "halfmean"}, ["unknown loss convention", "half_mean"]),
])
def test_mismatched_numeric_data_is_one_line_naming_the_problem(change, words):
    data = {"X": X, "weights": {"W1": W1, "W2": W2}, "targets": Y, "loss": "half_mean", **change}
    with pytest.raises(DeriveError) as err:
        network(UVA).example(**data)
    assert "\n" not in err.value.message
    for w in words:
        assert w in err.value.message


def test_uva_example_renders_for_sheets_and_notebooks(uva):
    md, tex, text = uva.markdown(), uva.tex(), uva.text()
    assert r"\Delta^{(1)} = \begin{bmatrix} -0.0045 & -0.0049 & 0.0000 & 0.0050" in md
    assert "$$L = 0.4657$$" in md
    assert r"W^{(2)} = \begin{bmatrix} 0.0715 & 0.1330 & 0.0812 \end{bmatrix}" in tex
    assert "L after the step = 0.4657" in text
    assert uva._repr_latex_().startswith("$$")
    assert uva.to_json()["check"]["max_abs_error"] < 1e-8


# --------------------------------------------------------------------------- generated NumPy code

ISSUE_NETWORKS = [
    "affine>relu>affine>mse",  # NYU two-layer regression
    "affine>sigmoid>affine>sigmoid>mse",  # NYU classification with MSE
    "affine>sigmoid>affine>sigmoid>bce",  # … with BCE
    "affine>relu>affine>sigmoid>bce",  # … with f = ReLU, g = σ
    "affine>sigmoid>affine>softmax_cross_entropy",  # CS224n one hidden layer
    UVA,  # UvA, two layers
    "affine_batch>relu>affine_batch>tanh>affine_batch>identity>half_frobenius",  # UvA Exercise 1, three layers
    "affine[bias=false]>leaky_relu[alpha=0.1]>affine>elu[alpha=1.5]>affine>half_mse",
    "affine>softplus>affine>bce_logits",
    "affine_batch>sigmoid>affine_batch>mse_mean",
]


def _random_problem(net, rng, samples=3):
    widths = [3, 4, 2, 5][: net.depth] + [2]  # distinct, non-square
    data = {"X": rng.normal(size=(widths[0], samples))}
    for s in net.stages:
        data[f"W{s.k}"] = rng.normal(size=(widths[s.k], widths[s.k - 1]))
        if s.bias:
            data[f"b{s.k}"] = rng.normal(size=widths[s.k])
    K = widths[net.depth]
    if net.loss.name in ("bce", "bce_logits"):
        Y = rng.uniform(0.1, 0.9, size=(K, samples))
    elif net.loss.name == "softmax_cross_entropy":
        Y = np.eye(K)[:, rng.integers(0, K, samples)]
    else:
        Y = rng.normal(size=(K, samples))
    return data, Y


@pytest.mark.parametrize("chain", ISSUE_NETWORKS)
def test_generated_numpy_gradients_agree_with_finite_differences(chain):
    net = network(chain)
    f = compile_numpy(net)
    rng = np.random.default_rng(7)
    data, Y = _random_problem(net, rng)
    _, grads = f(Y=Y, **data, loss_scale=0.5)
    assert set(grads) == set(data)
    h = 1e-6
    for name, value in data.items():
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            up = {**data, name: value.copy()}
            down = {**data, name: value.copy()}
            up[name][idx] += h
            down[name][idx] -= h
            numeric[idx] = (f(Y=Y, **up, loss_scale=0.5)[0] - f(Y=Y, **down, loss_scale=0.5)[0]) / (2 * h)
        assert grads[name].shape == value.shape, name
        assert np.allclose(grads[name], numeric, rtol=1e-5, atol=1e-7), name


def test_show_format_numpy_prints_code_that_runs(capsys):
    assert main(["show", "affine>relu>affine>mse", "--format", "numpy"]) == 0
    source = capsys.readouterr().out
    assert "D1 = (W2.T @ D2) * np.greater(S1, 0).astype(float)" in source
    assert 'grads["W1"] = D1 @ X.T' in source and 'grads["b1"] = np.sum(D1, axis=1)' in source
    namespace = {}
    exec(source, namespace)  # noqa: S102 (our own generated code)
    fn = namespace["forward_backward_affine_relu_affine_mse"]
    L, grads = fn(np.array([[1.0], [2.0]]), np.array([[0.5]]), np.eye(2), np.zeros(2), np.ones((1, 2)), np.zeros(1))
    assert L == pytest.approx((3.0 - 0.5) ** 2)
    assert grads["b2"].tolist() == [2 * (3.0 - 0.5)]


def test_hyperparameters_without_a_value_become_required_arguments():
    source = network("affine>leaky_relu>affine>mse").numpy()
    assert "loss_scale=1.0, alpha1):" in source


def test_weights_at_zero_put_relu_on_its_kink_and_the_check_says_so():
    """Zero weights make every pre-activation 0: central differences there average ReLU's two sides
    while the derivation takes ReLU′(0) = 0, so the example says where they differ and why."""
    zeros = network(UVA).example(X=X, weights={"W1": np.zeros((3, 2)), "W2": np.full((1, 3), 0.1)},
                                  targets=[[1, 1, -1, -1]], lr=0.5, loss="half_mean")
    assert zeros.at_kink and zeros.check_error > 1e-5
    assert "sits on its kink" in zeros.markdown() and "sits on its kink" in zeros.text()
    assert not network(UVA).example(X=X, weights={"W1": W1, "W2": [[0.02, 0.03, 0.09]]},
                                    targets=[[1, 1, -1, -1]], lr=0.5, loss="half_mean").at_kink


def test_a_worked_example_whose_gradients_fail_the_check_is_refused(monkeypatch):
    from derive.network import codegen

    def halved(net, trace=False):
        f = compile_numpy(net, trace)

        def wrong(*args, **kwargs):
            loss, grads, *rest = f(*args, **kwargs)
            return (loss, {**grads, "W2": grads["W2"] / 2}, *rest)

        return wrong

    monkeypatch.setattr(codegen, "compile_numpy", halved)
    with pytest.raises(DeriveError, match="differ from central differences"):
        network(UVA).example(X=X, weights={"W1": W1, "W2": [[0.02, 0.03, 0.09]]}, targets=[[1, 1, -1, -1]],
                             lr=0.5, loss="half_mean")
