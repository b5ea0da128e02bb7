"""`derive.define` on the modules of today's courses: sums of the variable, index arithmetic,
two-index outputs, parameters with assumptions. Each is derived and checked, or refused in one line."""

import numpy as np
import pytest
import sympy as sp

import derive
from derive.concrete import concrete
from derive.errors import DeriveError
from derive.verify import verify

x, y, w, b = (sp.IndexedBase(n) for n in "xywb")
i, j, k, m = sp.symbols("i j k m", integer=True)
D, K, N = sp.symbols("D K N", integer=True, positive=True)


def _values(d):
    """The result at every assignment of its free indices, as an array, at a fixed random point."""
    from derive.concrete import assignments, sample, value

    rng = __import__("random").Random(5)
    point = sample(d.definition, rng, d.upstream)
    table = assignments(d)
    return point, {tuple(a.values()): value(concrete(d.result, d, a, point), point).real for a in table}


def test_a_mean_subtracted_from_the_input_is_derived_and_checked():
    d = derive.derivative(derive.define("centre", y[i], x[i] - sp.Sum(x[k], (k, 1, N)) / N), wrt="x")
    n = d.definition.sizes[sp.Symbol("N", integer=True, positive=True)]
    assert sp.simplify(d.result - (sp.KroneckerDelta(*d.lhs.expr.indices, *d.indices) - 1 / sp.Symbol(
        "N", integer=True, positive=True))) == 0
    assert verify(d).max_fd_error < 1e-6 and n == 5


def test_a_variance_is_derived_and_checked():
    var = sp.Sum((x[m] - sp.Sum(x[k], (k, 1, N)) / N) ** 2, (m, 1, N)) / N
    d = derive.derivative(derive.define("variance_of_x", sp.Symbol("L"), var), wrt="x")
    xs, Ns, i_ = d.definition.inputs[0].symbol, sp.Symbol("N", integer=True, positive=True), d.indices[0]
    mean = sp.Sum(xs[k], (k, 1, Ns)) / Ns
    assert sp.simplify(d.result - 2 * (xs[i_] - mean.xreplace({k: sp.Symbol("m", integer=True, positive=True)})) / Ns) == 0
    assert verify(d).max_fd_error < 1e-6


def test_a_parameter_declared_positive_is_one_variable_with_the_plain_one():
    a = sp.Symbol("a", positive=True)
    d = derive.derivative(derive.define("pos_tanh", y[i], a * sp.tanh(x[i])), wrt="x")
    assert [v.name for v in d.definition.others] == ["a"]
    assert verify(d).max_fd_error < 1e-6
    d = derive.derivative(derive.define("pos_sum", y[i], a * x[i] ** 2 + sp.Sum(x[k], (k, 1, K))), wrt="x")
    assert verify(d).max_fd_error < 1e-6


def test_a_two_index_output_is_a_layer_with_distinct_sizes():
    defn = derive.define("outer_xy", y[i, j], x[i] * w[j])
    assert defn.kind == "layer"
    rows, cols = (defn.sizes[s] for s in defn.output.shape)
    assert rows != cols, "a square output would hide a transpose"
    d = derive.derivative(defn, wrt="x")
    assert d.matrix is not None and d.matrix.text == "∂C/∂y w"
    verify(d)


def test_inputs_choose_the_variable_of_an_elementwise_module():
    p = sp.Symbol("p")
    defn = derive.define("dropout_mask", y[i], x[i] * b[i] / p, inputs=["x"])
    assert [v.name for v in defn.inputs] == ["x"] and {v.name for v in defn.others} == {"b", "p"}
    d = derive.derivative(defn)
    assert d.wrt == "x" and sp.simplify(d.result - sp.Symbol("b", real=True) / sp.Symbol("p", real=True)) == 0


def test_index_arithmetic_without_shapes_is_one_line_naming_it():
    with pytest.raises(DeriveError, match=r"index arithmetic.*shapes"):
        derive.define("conv_noshape", y[i], sp.Sum(w[k] * x[i + k - 1], (k, 1, K)), kind="layer")


def test_index_arithmetic_that_runs_past_its_variable_names_the_size_that_fits():
    with pytest.raises(DeriveError, match=r"reaches entry 6 .* N = 5 .*'N': 6"):
        derive.define("conv_short", y[i], sp.Sum(w[k] * x[i + k - 1], (k, 1, K)), kind="layer",
                      shapes={"x": ("N",), "y": ("M",)})


def _conv1d():
    return derive.define("conv_valid", y[i], sp.Sum(w[k] * x[i + k - 1], (k, 1, K)), kind="layer",
                         shapes={"x": ("N",), "y": ("M",)}, sizes={"N": 6})


def test_the_input_gradient_of_a_convolution_is_a_full_convolution_with_the_flipped_kernel():
    d = derive.derivative(_conv1d(), wrt="x")
    assert "cases" not in [s.rule for s in d.steps]
    assert not d.result.has(sp.KroneckerDelta, sp.Piecewise)
    (s,) = [e for e in sp.preorder_traversal(d.result) if isinstance(e, sp.Sum)]
    (_, lo, hi), = s.limits
    assert lo.has(sp.Max) and hi.has(sp.Min), "the sum's range is narrowed at the borders"
    report = verify(d)
    assert report.max_fd_error < 1e-6
    point, got = _values(d)
    sizes = {str(k_): int(v) for k_, v in d.definition.sizes.items()}
    g = np.array([point.values[d.upstream.symbol[n + 1]] for n in range(sizes["M"])])
    ker = np.array([point.values[d.definition.var("w").symbol[n + 1]] for n in range(sizes["K"])])
    full = np.convolve(g, ker, mode="full")  # g zero-padded by K − 1 on each side, against the flipped kernel
    assert len(full) == sizes["N"]
    assert np.allclose([got[(n + 1,)] for n in range(sizes["N"])], full)


def test_a_jacobian_with_index_arithmetic_states_its_condition_on_free_indices_only():
    d = derive.derivative(derive.define("conv_act", y[i], sp.Sum(w[k] * x[i + k - 1], (k, 1, K)),
                                        shapes={"x": ("N",), "y": ("M",)}, sizes={"N": 6}), wrt="x")
    bound = {lim[0] for e in sp.preorder_traversal(d.result) if isinstance(e, sp.Sum) for lim in e.limits}
    for p in d.result.atoms(sp.Piecewise):
        for _, cond in p.args:
            assert not cond.free_symbols & bound
    for st in d.steps:
        if st.rule == "cases":
            assert not st.after.free_symbols & bound
    verify(d)


def test_a_two_dimensional_convolution_is_derived_with_both_ranges_narrowed():
    defn = derive.define("conv2d_valid", y[i, j], sp.Sum(sp.Sum(x[i + k - 1, j + m - 1] * w[k, m], (k, 1, K)),
                                                         (m, 1, D)), kind="layer",
                         shapes={"x": ("N", "H"), "y": ("M", "T"), "w": ("K", "D")},
                         sizes={"M": 3, "K": 2, "N": 4, "T": 4, "D": 3, "H": 6})
    for wrt in ("x", "w"):
        d = derive.derivative(defn, wrt=wrt)
        assert not d.result.has(sp.KroneckerDelta, sp.Piecewise)
        assert d.matrix is None  # no product of whole matrices reads x_{i+k−1, j+m−1}
        assert verify(d).max_fd_error < 1e-6


# -- the same modules from a sheet --------------------------------------------------------------


def _module(**spec):
    from derive.sheets.custom import module_definition

    return module_definition(spec)


def test_a_sheet_module_takes_index_arithmetic_and_checks_its_sizes():
    defn = _module(output="y[i]", expr="sum(w[k]*x[i+k-1], k, 1, K)", inputs=["x", "w"], kind="layer",
                   shapes={"x": ["N"], "y": ["M"], "w": ["K"]}, sizes={"N": 6})
    d = derive.derivative(defn, wrt="x")
    assert not d.result.has(sp.KroneckerDelta) and verify(d).max_fd_error < 1e-6
    with pytest.raises(DeriveError, match="reaches entry 7"):
        _module(output="y[i]", expr="sum(w[k]*x[i+k], k, 1, K)", inputs=["x"], kind="layer",
                shapes={"x": ["N"], "y": ["M"], "w": ["K"]})


@pytest.mark.parametrize("expr, message", [
    ("x[i*x[i]]", "not an index"),
    ("x[i] > 0", "cannot parse"),
    ("exp(x[i] > 0)", "first argument of where"),
    ("where(x[i], 1, 0)", "where takes"),
])
def test_a_sheet_expression_outside_the_grammar_is_one_line(expr, message):
    with pytest.raises(DeriveError, match=message):
        _module(output="y[i]", expr=expr, inputs=["x"], shapes={"x": ["K"], "y": ["K"]})


def test_a_sheet_module_takes_erf_abs_sign_min_where_and_p_and_t_as_names():
    defn = _module(output="y[i]", expr="where(x[i] > 0, x[i], p*x[i]) + abs(x[i]) + sign(x[i])*erf(x[i])"
                   " + min(x[i], T)", inputs=["x"], shapes={"x": ["K"], "y": ["K"], "p": [], "T": []})
    d = derive.derivative(defn)
    assert not d.result.has(sp.DiracDelta) and d.result.has(sp.erf) is False  # erf′ is the Gaussian
    assert verify(d).max_fd_error < 1e-6


def test_a_threshold_inside_a_sum_contracts_its_delta():
    d = derive.derivative(_module(output="L", expr="sum(where(x[k] > 1, x[k]^2, 0), k, 1, K)", inputs=["x"],
                                  shapes={"x": ["K"]}))
    assert not d.result.has(sp.Sum, sp.KroneckerDelta) and d.matrix is not None
    verify(d)


def test_default_sizes_are_distinct():
    from derive.definitions.custom import SIZES
    from derive.sheets.custom import DEFAULT_SIZES

    for table in (SIZES, DEFAULT_SIZES):
        assert len(set(table.values())) == len(table)


@pytest.mark.parametrize("expr, message", [
    (sp.Integral(x[k], (k, 1, K)), "Integral is not supported"),
    (sp.Product(x[k], (k, 1, K)), "Product is not supported"),
])
def test_a_construct_the_engine_does_not_derive_is_one_line_naming_it(expr, message):
    with pytest.raises(DeriveError, match=message):
        derive.define("unsupported", sp.Symbol("L"), expr)


def test_an_index_nothing_binds_is_one_line():
    with pytest.raises(DeriveError, match="index j is neither in the output"):
        derive.define("loose_index", y[i], x[j])


def test_a_sheet_module_declares_a_class_index():
    defn = _module(output="L", expr="-log(exp(u[t]) / sum(exp(u[k]), k, 1, K))", inputs=["u"],
                   shapes={"u": ["K"], "t": "class"})
    d = derive.derivative(defn)
    from derive.definitions.model import IDX

    u, t_ = sp.IndexedBase("u", real=True), sp.Symbol("t", integer=True, positive=True)
    i_, k_ = d.indices[0], IDX["k"]
    softmax = sp.exp(u[i_]) / sp.Sum(sp.exp(u[k_]), (k_, 1, K))
    assert sp.expand(d.result - (softmax - sp.KroneckerDelta(i_, t_))) == 0
    assert verify(d).max_fd_error < 1e-6
    with pytest.raises(DeriveError, match="class index cannot be differentiated"):
        _module(output="L", expr="u[t]", inputs=["t"], shapes={"u": ["K"], "t": "class"})


def test_an_activations_hyperparameter_is_not_a_variable_and_the_error_says_how_to_make_it_one():
    import sympy as sp

    x, y = sp.IndexedBase("x"), sp.IndexedBase("y")
    i, a = sp.symbols("i", integer=True), sp.Symbol("a")
    with pytest.raises(derive.DeriveError, match=r'kind="layer", inputs=\["x", "a"\]'):
        derive.derivative(derive.define("scaled", y[i], a * x[i]), wrt="a")
    layer = derive.define("scaled", y[i], a * x[i], kind="layer", inputs=["x", "a"])
    r = derive.derivative(layer, wrt="a").report  # derived and verified: the check ran at every index
    assert r.symbolic + r.numeric > 0 and r.max_fd_error < 1e-6


def test_log_cosh_comes_out_as_tanh():
    t = sp.IndexedBase("t")
    d = derive.derivative(derive.define("log_cosh", sp.Symbol("L"), sp.Sum(sp.log(sp.cosh(x[k] - t[k])), (k, 1, K)),
                                        kind="loss"), wrt="x")
    xs, ts = (next(v.symbol for v in d.definition.inputs if v.name == n) for n in "xt")
    assert d.result.has(sp.tanh) and not d.result.has(sp.sinh, sp.cosh)
    assert sp.simplify((d.result - sp.tanh(xs[d.indices[0]] - ts[d.indices[0]])).rewrite(sp.exp)) == 0
    assert verify(d).max_fd_error < 1e-6


def test_the_inputs_and_so_the_default_variable_do_not_depend_on_the_hash_seed():
    import os
    import subprocess
    import sys

    code = ("import derive, sympy as sp; x, t, w = (sp.IndexedBase(n) for n in 'xtw'); k = sp.Symbol('k', integer=True); "
            "K = sp.Symbol('K', integer=True, positive=True); "
            "m = derive.define('wsq', sp.Symbol('L'), sp.Sum(w[k] * (x[k] - t[k])**2, (k, 1, K)), kind='loss'); "
            "print([v.name for v in m.inputs], derive.derivative(m).wrt)")
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in (0, 1, 2, 3)}
    assert len(seen) == 1, seen
