"""Numeric worked examples: forward values, loss, error signals, gradients, one SGD step, and a
gradient check, computed by the NumPy code generated from the derived formulas.

    >>> net = network("affine_batch>relu>affine_batch>identity>half_frobenius")
    >>> ex = net.example(X=X, weights={"W1": W1, "W2": W2}, targets=Y, lr=0.5, loss="half_mean")
    >>> round(ex.loss, 4), round(ex.loss_after, 4)
    (0.4916, 0.4657)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from derive.errors import DeriveError
from derive.network.chain import Network

# L = c ‖Ŷ − Y‖²_F for a squared-error loss; for other losses only sum / mean over samples apply.
CONVENTIONS = {
    "sum": (Fraction(1), 0, "L = ‖Ŷ − Y‖²_F", r"L = \lVert \hat{Y} - Y \rVert_F^2"),
    "half": (Fraction(1, 2), 0, "L = ½‖Ŷ − Y‖²_F", r"L = \tfrac{1}{2}\lVert \hat{Y} - Y \rVert_F^2"),
    "mean": (Fraction(1), 1, "L = (1/N)‖Ŷ − Y‖²_F", r"L = \tfrac{1}{N}\lVert \hat{Y} - Y \rVert_F^2"),
    "half_mean": (Fraction(1, 2), 1, "L = (1/2N)‖Ŷ − Y‖²_F",
                  r"L = \tfrac{1}{2N}\lVert \hat{Y} - Y \rVert_F^2"),
}


@dataclass(frozen=True)
class Value:
    """A named array of the example: `name` (code), LaTeX name, the array, and the name as text."""

    name: str
    latex: str
    array: np.ndarray
    text: str = ""

    @property
    def printed(self) -> str:
        return self.text or self.name


@dataclass
class NumericExample:
    network: Network
    convention: str  # plain text, e.g. "L = (1/2N)‖Ŷ − Y‖²_F with N = 4"
    convention_latex: str
    loss_scale: float
    lr: float
    decimals: int
    inputs: list  # Values: X, Y, weights
    forward: list  # Values: S1, Z1, …
    loss: float
    signals: list  # Values: Δ_L … Δ_1
    gradients: list  # Values: ∂L/∂W_k …
    updated: list  # Values: W_k after one step
    loss_after: float
    check_error: float  # largest |analytic − central difference| over every parameter entry
    check_step: float
    at_kink: bool = False  # some disagreement, all of it where an activation's input is on its kink

    def value(self, name: str) -> np.ndarray:
        """The array called `name`: 'S1', 'D2', 'dW1', 'W1' (updated), 'X', …"""
        for group in (self.forward, self.signals, self.gradients, self.updated, self.inputs):
            for v in group:
                if v.name == name:
                    return v.array
        raise KeyError(name)

    def rounded(self, name: str) -> np.ndarray:
        return np.round(self.value(name), self.decimals)

    def markdown(self) -> str:
        from derive.network.numeric_render import numeric_markdown

        return numeric_markdown(self)

    def tex(self) -> str:
        from derive.network.numeric_render import numeric_tex

        return numeric_tex(self)

    def latex(self) -> str:
        from derive.network.numeric_render import numeric_latex

        return numeric_latex(self)

    def text(self) -> str:
        from derive.network.numeric_render import numeric_text

        return numeric_text(self)

    def to_json(self) -> dict:
        from derive.network.numeric_render import numeric_json

        return numeric_json(self)

    def _repr_latex_(self) -> str:
        return self.latex()

    def _repr_markdown_(self) -> str:
        return self.markdown()


def _column(a, what: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        raise DeriveError(f"{what} is not a numeric array") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DeriveError(f"{what} must be a vector or a matrix with samples as columns, not {arr.ndim}-dimensional")
    return arr


def _shape(a) -> str:
    return " × ".join(str(s) for s in a.shape)


def _weights(net: Network, weights, X: np.ndarray) -> dict:
    if not isinstance(weights, dict):
        weights = list(weights)
        if len(weights) != len(net.params):
            raise DeriveError(f"{net.spec} takes {len(net.params)} parameters ({', '.join(net.params)}); "
                              f"got {len(weights)}")
        weights = dict(zip(net.params, weights))
    missing = [p for p in net.params if p not in weights]
    extra = [p for p in weights if p not in net.params]
    if missing or extra:
        problem = f"missing {', '.join(missing)}" if missing else f"no parameter {', '.join(extra)}"
        raise DeriveError(f"{net.spec}: {problem}; the parameters are: {', '.join(net.params)}")
    out, width = {}, X.shape[0]
    for s in net.stages:
        W = np.asarray(weights[f"W{s.k}"], dtype=float)
        if W.ndim == 1 and net.depth == s.k:
            W = W[None, :]
        if W.ndim != 2 or W.shape[1] != width:
            what = "X has" if s.k == 1 else f"layer {s.k - 1} has"
            raise DeriveError(f"W{s.k} is {_shape(W)} but {what} {width} rows; W{s.k} needs {width} columns "
                              f"(W{s.k} is d{s.k} × d{s.k - 1})")
        out[f"W{s.k}"] = W
        if s.bias:
            b = np.asarray(weights[f"b{s.k}"], dtype=float).reshape(-1)
            if b.shape[0] != W.shape[0]:
                raise DeriveError(f"b{s.k} has {b.shape[0]} entries but W{s.k} has {W.shape[0]} rows")
            out[f"b{s.k}"] = b
        width = W.shape[0]
    return out


def _loss_scale(net: Network, convention: str | None, f, X, Y, weights) -> tuple:
    N = X.shape[1]
    if convention is None:  # the chain's own loss, as its row of the forward table states it
        from derive.network.backprop import backprop

        names = backprop(net).names
        summed = "" if net.batch else ", summed over the samples"
        row, cost = names.index_latex(backprop(net).loss_row.rhs), names.name("L").latex
        tex = rf"{cost} = {row},\ N = {N}" if net.batch else \
            rf"{cost} = \sum_n {cost}_n,\ {cost}_n = {row},\ N = {N}"
        return 1.0, f"the {net.loss.name} loss{summed} (N = {N})", tex
    if convention not in CONVENTIONS:
        raise DeriveError(f"unknown loss convention {convention!r}; choose one of: {', '.join(CONVENTIONS)}")
    c, per_sample, text, tex = CONVENTIONS[convention]
    c_conv = float(c) / (N if per_sample else 1)
    c_net = _squared_constant(net, f, X, Y, weights)
    if c_net is None:
        if convention.startswith("half"):
            raise DeriveError(f"the convention {convention!r} is for squared-error losses; {net.loss.name} "
                              "takes one of: sum, mean")
        what = "summed" if convention == "sum" else "averaged"
        return (1.0 if convention == "sum" else 1.0 / N,
                f"L = {net.loss.name} {what} over the N = {N} samples",
                (r"L = " + ("" if convention == "sum" else r"\tfrac{1}{N}") + r"\sum_n \ell(\hat{y}_n, y_n)"))
    return c_conv / c_net, f"{text} with N = {N}", tex + rf",\ N = {N}"


def _squared_constant(net: Network, f, X, Y, weights):
    """c if the network's loss is c‖Ŷ − Y‖²_F (measured from the derived ∂L/∂Ŷ), else None."""
    from derive.network.names import LayerNames

    if not LayerNames(net).takes_prediction:
        return None
    from derive.network.backprop import backprop
    from derive.network.codegen import numpy_expr, size_code

    code = numpy_expr(backprop(net).signals[0].upstream, size_code(net))
    pred = "Yhat"
    env = {"np": np, "X": X, "Y": Y, **weights}
    with np.errstate(all="ignore"):  # a loss that is not squared error may divide by zero here
        g1, g2, g0 = _at_offsets(code, env, pred, Y)
    g1, g2, g0 = (np.broadcast_to(g, Y.shape) for g in (g1, g2, g0))
    if np.allclose(g0, 0) and np.allclose(g2, 2 * g1) and np.allclose(g1, g1.flat[0]):
        return float(g1.flat[0]) / 2  # ∂(c‖e‖²)/∂e = 2c e at e = 1
    return None


def _at_offsets(code, env, pred, Y):
    g1 = eval(code, {**env, pred: Y + 1.0})  # our own generated expression, not user text
    g2 = eval(code, {**env, pred: Y + 2.0})
    g0 = eval(code, {**env, pred: Y.copy()})
    return g1, g2, g0


def example(net: Network, *, X, weights, targets, lr: float = 0.5, loss: str | None = None,
            decimals: int = 4, check_step: float = 1e-6) -> NumericExample:
    """Forward values, loss, error signals, gradients, one SGD step with learning rate `lr`, the loss
    after it, and a central-difference check of every gradient entry.

    `loss` is the convention: None (the chain's loss, summed over samples), or one of sum, half,
    mean, half_mean (L = c‖Ŷ − Y‖²_F with c = 1, ½, 1/N, 1/2N; only sum and mean for other losses).
    `decimals` is the rounding for display; all arithmetic is in full double precision.
    """
    from derive.network.codegen import code_name, compile_numpy

    Xa = _column(X, "X")
    W = _weights(net, weights, Xa)
    Y = _column(targets, "the targets")
    out_rows = W[f"W{net.depth}"].shape[0]
    if Y.shape != (out_rows, Xa.shape[1]):
        raise DeriveError(f"the targets are {_shape(Y)} but the network gives {out_rows} × {Xa.shape[1]} "
                          f"(d{net.depth} outputs for each of the {Xa.shape[1]} columns of X)")
    f = compile_numpy(net, trace=True)
    scale, convention, convention_tex = _loss_scale(net, loss, f, Xa, Y, W)
    with np.errstate(all="ignore"):  # an overflow is said below in one line, not as NumPy warnings
        L0, grads, trace = f(Xa, Y, **W, loss_scale=scale)
        updated = {p: W[p] - lr * grads[p] for p in net.params}
        L1 = f(Xa, Y, **updated, loss_scale=scale)[0]
        worst, disagree = _check(f, net, Xa, Y, W, grads, scale, check_step)
    if not all(np.all(np.isfinite(a)) for a in (L0, L1, *grads.values(), *trace.values())) or not np.isfinite(worst):
        raise DeriveError(f"{net.spec}: at these values the worked example is not finite (an overflow, or a log "
                          "of 0); choose smaller values")

    from derive.network.backprop import backprop

    bp = backprop(net)
    at_kink = disagree and _on_a_kink(net, bp, trace)
    if disagree and not at_kink:  # never print a gradient that fails its check
        raise DeriveError(f"{net.spec}: the derived gradients differ from central differences by up to "
                          f"{worst:.3g} at these values")
    ln = bp.names

    def value(code: str, name: str, array) -> Value:
        written = ln.name(name)
        return Value(code, written.latex, array, written.text if ln.written else "")  # default: code names

    forward = [value(code_name(r.name), r.name, trace[code_name(r.name)])
               for r in bp.forward if r is not bp.loss_row]
    signals = [value(code_name(s.name), s.name, trace[code_name(s.name)]) for s in bp.signals]
    gradients = [value(f"d{p}", f"dL_d{p}", grads[p]) for p in net.params]
    new = [value(p, p, updated[p]) for p in net.params]
    inputs = [value("X", "X", Xa), value("Y", "Y", Y), *(value(p, p, W[p]) for p in net.params)]
    return NumericExample(net, convention, convention_tex, scale, lr, decimals, inputs, forward, float(L0),
                          signals, gradients, new, float(L1), float(worst), check_step, at_kink)


def _check(f, net: Network, Xa, Y, W: dict, grads: dict, scale: float, check_step: float) -> tuple:
    """(largest |analytic − central difference| over every parameter entry, whether any disagrees)."""
    worst, disagree = 0.0, False
    for p in net.params:
        for idx in np.ndindex(W[p].shape):
            up = {**W, p: W[p].copy()}
            down = {**W, p: W[p].copy()}
            up[p][idx] += check_step
            down[p][idx] -= check_step
            fd = (f(Xa, Y, **up, loss_scale=scale)[0] - f(Xa, Y, **down, loss_scale=scale)[0]) / (2 * check_step)
            gap = abs(fd - grads[p][idx])
            worst = gap if not gap <= worst else worst  # NaN stays: it is no agreement
            disagree = disagree or not gap <= 1e-5 * max(1.0, abs(fd))
    return worst, disagree


KINK = 1e-4  # a pre-activation this close to a kink is on it, for the step of the gradient check


def _on_a_kink(net: Network, bp, trace: dict) -> bool:
    """Whether an activation with a kink (ReLU at 0) receives a value on it: there central differences
    average the two sides, while the derivation takes one (ReLU′(0) = 0)."""
    from derive.derivation import module_derivative
    from derive.model.request import Request
    from derive.network.codegen import code_name

    for row in bp.forward:
        if not row.label.startswith("affine"):
            continue
        stage = net.stages[int(row.label.split()[1]) - 1]
        if stage.activation is None:
            continue
        step = module_derivative(Request(stage.activation.name)).result
        if step.has(sp.Heaviside, sp.Piecewise) and np.any(np.abs(trace[code_name(row.lhs.base.name)]) < KINK):
            return True
    return False
