"""Backpropagation through a network, layer by layer, from the engine's local derivations.

Every quantity keeps its name (s^{(k)}, z^{(k)}, δ^{(k)}); the composed expression is never
written out, so each layer adds a bounded amount of work and the cost is linear in depth:

    δ^{(L)} = ∂L/∂ŷ ⊙ f_L′(s^{(L)}),   δ^{(k)} = (W^{(k+1)ᵀ} δ^{(k+1)}) ⊙ f_k′(s^{(k)}),
    ∂L/∂W^{(k)} = δ^{(k)} z^{(k−1)ᵀ},   ∂L/∂b^{(k)} = δ^{(k)} (summed over the samples of a batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from derive.definitions.model import IDX
from derive.errors import DeriveError
from derive.network.chain import Network
from derive.network.local import definition, derivation, dim, rename
from derive.network.matrix import COLUMN, Product, product_latex, read_product
from derive.network.printer import latex, net_name

I, J = IDX["i"], IDX["j"]
N_IDX = IDX["n"]
N = sp.Symbol("N", integer=True, positive=True)


@dataclass(frozen=True)
class Row:
    """One line of the forward table: `lhs = rhs` computed by `module` from `input`."""

    label: str
    module: str
    input: str  # LaTeX of what goes in
    symbol: str  # LaTeX of what comes out
    lhs: sp.Expr  # index form
    rhs: sp.Expr
    matrix: str  # LaTeX, matrices and elementwise functions
    shape: tuple
    expanded: str = ""  # LaTeX in terms of x and the parameters only (filled in for the table)


@dataclass(frozen=True)
class Jacobian:
    """One factor of the chain rule, ∂A/∂B, with its dimensions and what it equals."""

    latex: str
    shape: tuple
    equals: str


@dataclass(frozen=True)
class ErrorSignal:
    """δ^{(k)} = ∂L/∂s^{(k)} in index form and in matrix form, with the shapes of its factors."""

    k: int
    name: str  # delta2 / Delta2
    lhs: sp.Expr
    rhs: sp.Expr
    general: str  # LaTeX: (W^{(k+1)⊤} δ^{(k+1)}) ⊙ f_k′(s^{(k)})
    matrix: str  # LaTeX with f′ and ∂L/∂ŷ written out
    factors: tuple  # ((LaTeX, shape), ...)
    shape: tuple
    upstream: object  # Product (hidden layer) or sp.Expr (∂L/∂ŷ, elementwise)
    derivative: sp.Expr | None  # f′ as an elementwise expression of names (None: no activation)
    sources: tuple  # "relu: ∂y/∂x = …", the engine derivations used


@dataclass(frozen=True)
class Gradient:
    """∂L/∂(variable) in index form and matrix form."""

    wrt: str
    lhs: sp.Expr
    rhs: sp.Expr
    product: Product
    matrix: str
    factors: tuple
    shape: tuple
    source: str


@dataclass(frozen=True)
class Backprop:
    """The whole backward pass of a network: every error signal and every gradient."""

    network: Network
    forward: tuple  # Rows
    signals: tuple  # ErrorSignal, from the output layer down to layer 1
    gradients: dict  # name -> Gradient
    names: dict  # per layer k: (pre, out) base names
    loss_row: Row
    conventions: tuple


@dataclass(frozen=True)
class NetStep:
    rule: str
    latex: str
    reason: str
    text: str = ""


@dataclass
class NetworkDerivation:
    """∂L/∂wrt of a network: forward table, chain of Jacobians, error signals, gradient."""

    network: Network
    wrt: str
    backprop: Backprop
    chain: tuple
    signals: tuple  # the error signals needed, output layer first
    gradient: Gradient
    steps: list = field(default_factory=list)
    check_error: float | None = None  # every gradient against central differences (verify.check_gradients)

    @property
    def target(self) -> str:
        return self.network.spec

    @property
    def lhs(self) -> sp.Expr:
        return self.gradient.lhs

    @property
    def result(self) -> sp.Expr:
        return self.gradient.rhs

    @property
    def forward(self) -> tuple:
        return self.backprop.forward

    @property
    def conventions(self) -> tuple:
        return self.backprop.conventions

    def latex(self, form: str | None = None) -> str:
        from derive.network.render import network_latex

        return network_latex(self, form)

    def markdown(self, form: str | None = None) -> str:
        from derive.network.render import network_markdown

        return network_markdown(self, form)

    def tex(self, form: str | None = None) -> str:
        from derive.network.render import network_tex

        return network_tex(self, form)

    def text(self, form: str | None = None) -> str:
        from derive.network.render import network_text

        return network_text(self, form)

    def to_json(self) -> dict:
        from derive.network.render import network_json

        return network_json(self)

    def numpy(self) -> str:
        return self.network.numpy()

    def check(self, answer: str, *, timeout: float | None = 2.0):
        """The checker's Verdict on a student's matrix answer for this gradient (derive.check)."""
        from derive.check import check

        return check(self, answer, timeout=timeout)

    def _repr_latex_(self) -> str:
        return self.latex()

    def _repr_markdown_(self) -> str:
        return self.markdown()


# --------------------------------------------------------------------------- names


def _base(name: str) -> sp.IndexedBase:
    return sp.IndexedBase(name, real=True)


class _Names:
    """Base names of layer k's quantities, and their entries at the feature (and sample) index."""

    def __init__(self, net: Network):
        self.net = net
        self.batch = net.batch
        pred = definition(net.loss).inputs[0].name
        self.takes_prediction = pred in ("yhat", "Yhat")
        L = net.depth
        self.pre, self.out = {0: None}, {0: net.input_name}
        for s in net.stages:
            pre = ("S" if self.batch else "s") + str(s.k)
            out = ("Z" if self.batch else "z") + str(s.k) if s.activation else pre
            if s.k == L and self.takes_prediction:
                out = pred
                pre = pred if s.activation is None else pre
            self.pre[s.k], self.out[s.k] = pre, out
        self.target = "Y" if self.batch else "y"

    def entry(self, name: str, index=I) -> sp.Expr:
        return _base(name)[(index, N_IDX)] if self.batch else _base(name)[index]

    def delta(self, k: int) -> str:
        return ("Delta" if self.batch else "delta") + str(k)

    def shape(self, k: int) -> tuple:
        return (f"d{k}", "N") if self.batch else (f"d{k}",)

    @property
    def column(self) -> tuple:
        """The index pattern of a per-sample column: (i, n) in a batch, (i, •) for one sample."""
        return (I, N_IDX) if self.batch else (I, COLUMN)

    @property
    def vectors(self) -> frozenset:
        if self.batch:
            return frozenset()
        return frozenset([*filter(None, self.pre.values()), *self.out.values(),
                          *(self.delta(s.k) for s in self.net.stages), self.target])


def _hyper(defn, module, k) -> dict:
    """Hyperparameters: the option's number if given (leaky_relu[alpha=0.1]), else α_k."""
    out = {}
    for v in defn.others:
        if v.role == "hyper":
            given = module.option(v.name)
            out[v.name] = sp.nsimplify(given) if given is not None else sp.Symbol(f"{v.name}{k}", positive=True)
    return out


def _elementwise(expr: sp.Expr) -> sp.Expr:
    """An index-form elementwise expression with its entries replaced by the whole arrays."""
    return sp.factor_terms(expr.replace(lambda e: isinstance(e, sp.Indexed), lambda e: sp.Symbol(e.base.name)))


def _array_latex(expr: sp.Expr) -> str:
    """LaTeX of an elementwise quantity as arrays; one with a sum over an index stays in index form."""
    return latex(expr) if expr.has(sp.Sum) else latex(_elementwise(expr))


def _frac(top: str, bottom: str) -> str:
    return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"


def _summary(d) -> str:
    from derive.render.printer import text

    return f"derive show {d.target} --wrt {d.wrt}: {text(d.lhs)} = {text(d.result)}"


# --------------------------------------------------------------------------- the backward pass


@lru_cache(maxsize=64)
def backprop(net: Network) -> Backprop:
    names = _Names(net)
    L = net.depth
    forward, signals, gradients = [], [], {}
    dims = {k: dim(k) for k in range(L + 1)}

    for s in net.stages:
        k = s.k
        adef = definition(s.affine)
        W, X = adef.inputs[0], adef.var("X" if net.batch else "x")
        affine_names = {W.name: _base(f"W{k}"), X.name: _base(names.out[k - 1]), "b": _base(f"b{k}")}
        sizes = {adef.output.shape[0]: dims[k], X.shape[0]: dims[k - 1]}
        rhs = rename(adef.expr, adef, affine_names, extra=sizes)
        lhs = names.entry(names.pre[k])
        forward.append(Row(f"affine {k}", s.affine.spelling, net_name(names.out[k - 1]), net_name(names.pre[k]),
                           lhs, rhs, _affine_matrix(rhs, names), names.shape(k)))
        if s.activation:
            fdef = definition(s.activation)
            sub = {"x": names.entry(names.pre[k]), **_hyper(fdef, s.activation, k)}
            rhs = rename(fdef.expr, fdef, sub)
            forward.append(Row(f"{s.activation.name} {k}", s.activation.spelling, net_name(names.pre[k]),
                               net_name(names.out[k]), names.entry(names.out[k]), rhs,
                               latex(_elementwise(rhs)), names.shape(k)))

    ldef = definition(net.loss)
    pred = ldef.inputs[0]
    target = next(v for v in ldef.others if v.role == "target")
    loss_names = {pred.name: _base(names.out[L]), target.name: _base(names.target)}
    loss_sizes = {pred.shape[0]: dims[L]}
    loss_rhs = rename(ldef.expr, ldef, loss_names, extra=loss_sizes)
    for it in ldef.intermediates:  # e.g. ŷ = softmax(θ) inside softmax cross-entropy
        rhs = rename(it.expr, ldef, loss_names, extra=loss_sizes)
        forward.append(Row("output", net.loss.spelling, net_name(names.out[L]), net_name(it.var.name),
                           _base(it.var.name)[it.index], rhs, _array_latex(rhs), names.shape(L)))
    loss_row = Row("loss", net.loss.spelling, net_name(names.out[L]) + ", " + net_name(names.target),
                   "L", sp.Symbol("L"), loss_rhs, latex(loss_rhs), ())
    forward.append(loss_row)

    # ∂L/∂(network output), from the engine's derivation of the loss.
    dl = derivation(net.loss)
    index_map = {**loss_sizes, J: N_IDX} if net.batch else loss_sizes
    upstream = sp.factor_terms(rename(dl.result, ldef, loss_names, extra=index_map))
    up_name = _frac("L", net_name(names.out[L]))
    up_matrix = latex(_elementwise(upstream))
    up_factors = ((up_matrix, names.shape(L)),)
    sources = [_summary(dl)]
    upstream_index = upstream  # ∂L/∂(output of the layer being processed), in index form
    for s in reversed(net.stages):
        k = s.k
        fprime, f_tex = None, None
        if s.activation:
            fdef = definition(s.activation)
            df = derivation(s.activation)
            sub = {"x": names.entry(names.pre[k]), "y": names.entry(names.out[k]), **_hyper(fdef, s.activation, k)}
            fprime = rename(df.result, fdef, sub)
            f_tex = latex(_elementwise(fprime))
            sources.append(_summary(df))
        delta = names.delta(k)
        up_tex = product_latex(upstream, net_name) if isinstance(upstream, Product) else up_matrix
        rhs = upstream_index * fprime if fprime is not None else upstream_index
        shape = names.shape(k)
        if fprime is None:
            general, matrix = up_name, up_tex
            factors = up_factors
        else:
            fname = rf"f_{{{k}}}'\left({net_name(names.pre[k])}\right)"
            general = rf"{_paren(up_name)} \odot {fname}"
            matrix = rf"{_paren(up_tex)} \odot {_paren(f_tex)}"
            if not isinstance(upstream, Product) and _array_latex(rhs) != f_tex:  # e.g. BCE after σ: (ŷ − y)/K
                matrix += " = " + _array_latex(rhs)
            factors = (*up_factors, (f_tex, shape))
        signals.append(ErrorSignal(k, delta, names.entry(delta), rhs, general, matrix, factors, shape,
                                   upstream, fprime, tuple(sources)))
        sources = []

        # gradients of layer k's parameters, from the engine's affine derivations
        adef = definition(s.affine)
        W, X = adef.inputs[0], adef.var("X" if net.batch else "x")
        sub = {W.name: _base(f"W{k}"), X.name: _base(names.out[k - 1]), "b": _base(f"b{k}"),
               "upstream": _base(delta)}
        sizes = {adef.output.shape[0]: dims[k], X.shape[0]: dims[k - 1]}
        for var in adef.inputs:
            if var.role != "parameter" and k > 1:
                continue
            dv = derivation(s.affine, var.name)
            pname = f"{var.name}{k}" if var.role == "parameter" else net.input_name
            if var.role == "parameter":
                index = result = (I, J) if var.rank == 2 else (I,)
                if var.rank == 1:
                    result = (I, COLUMN)  # b exists only in one-sample `affine` layers
                pshape = (f"d{k}", f"d{k - 1}")[: var.rank]
            else:
                index, result, pshape = names.column[: var.rank], names.column, names.shape(0)
            extra = {**sizes, J: N_IDX} if (net.batch and var.role != "parameter") else sizes
            rhs = rename(dv.result, adef, sub, upstream=dv.upstream, extra=extra)
            lhs = sp.Derivative(sp.Symbol("L"), _base(pname)[index], evaluate=False)
            prod = read_product(rhs, result, names.vectors)
            ftex = [(product_latex(Product(1, (f,)), net_name), _factor_shape(f, names, k)) for f in prod.factors]
            gradients[pname] = Gradient(pname, lhs, rhs, prod, product_latex(prod, net_name), tuple(ftex), pshape,
                                        _summary(dv))
        if k > 1:
            # ∂L/∂z^{(k-1)}: the affine layer's gradient with respect to its input, Wᵀ δ
            extra = {**sizes, J: N_IDX} if net.batch else sizes
            dx = derivation(s.affine, X.name)
            upstream_index = rename(dx.result, adef, sub, upstream=dx.upstream, extra=extra)
            upstream = read_product(upstream_index, names.column, names.vectors)
            up_name = _frac("L", net_name(names.out[k - 1]))
            up_factors = tuple((product_latex(Product(1, (f,)), net_name), _factor_shape(f, names, k))
                               for f in upstream.factors)
            sources.append(_summary(dx))

    conventions = (
        "Vectors are columns; " + ("samples are the columns of X, S^{(k)}, Z^{(k)} (d_k × N)." if net.batch
                                   else "one sample x (d_0), layer k has width d_k."),
        "The gradient has the shape of the variable (denominator layout).",
        "⊙ is the elementwise (Hadamard) product; f_k′ acts elementwise.",
        *dict.fromkeys(c for s in net.stages if s.activation for c in definition(s.activation).conventions),
        *definition(net.loss).conventions,
    )
    return Backprop(net, tuple(forward), tuple(signals), gradients, {"pre": names.pre, "out": names.out},
                    loss_row, tuple(conventions))


def _paren(tex: str) -> str:
    return rf"\left({tex}\right)" if (" " in tex and not tex.startswith(r"\frac")) else tex


def _factor_shape(f, names: _Names, k: int) -> tuple:
    if f.name == "1":
        return ("N", "1") if names.batch else ("1",)
    if f.name.startswith(("W",)) and f.name[1:].isdigit():
        m = int(f.name[1:])
        shape = (f"d{m}", f"d{m - 1}")
    else:
        layer = _layer_of(f.name, names)
        shape = (f"d{layer}", "N") if names.batch else (f"d{layer}",)
    if f.transposed:
        shape = tuple(reversed(shape)) if len(shape) == 2 else ("1", shape[0])
    return shape


def _layer_of(name: str, names: _Names) -> int:
    for k, v in names.out.items():
        if v == name:
            return k
    for k, v in names.pre.items():
        if v == name:
            return k
    digits = "".join(c for c in name if c.isdigit())
    return int(digits) if digits else names.net.depth


# --------------------------------------------------------------------------- one gradient


@lru_cache(maxsize=64)
def _checked(net: Network) -> float:
    """Every gradient of `net` checked once (derive.network.verify.check_gradients); raises if wrong."""
    from derive.network.verify import check_gradients

    return check_gradients(net)


def derive_network(net: Network, wrt: str | None = None) -> NetworkDerivation:
    wrt = wrt or "W1"
    check_variable(net, wrt)
    bp = backprop(net)
    error = _checked(net)  # the formulas, as NumPy code, against central differences: before anything is stated
    names = _Names(net)
    k = 1 if wrt == net.input_name else int(wrt[1:])
    L = net.depth
    signals = tuple(s for s in bp.signals if s.k >= k)
    grad = bp.gradients[wrt]

    chain = []
    top = names.out[L]
    chain.append(Jacobian(_frac("L", net_name(top)), ((f"d{L}", "N") if net.batch else ("1", f"d{L}")),
                          signals[0].factors[0][0]))
    for m in range(L, k - 1, -1):
        stage = net.stages[m - 1]
        if m < L:
            chain.append(Jacobian(_frac(net_name(names.pre[m + 1]), net_name(names.out[m])),
                                  ((f"d{m + 1}", "N", f"d{m}", "N") if net.batch else (f"d{m + 1}", f"d{m}")),
                                  net_name(f"W{m + 1}")))
        if stage.activation:
            sig = next(s for s in bp.signals if s.k == m)
            f_tex = sig.factors[-1][0]
            chain.append(Jacobian(_frac(net_name(names.out[m]), net_name(names.pre[m])),
                                  ((f"d{m}", "N") if net.batch else (f"d{m}", f"d{m}")),
                                  f_tex if net.batch else rf"\operatorname{{diag}}\left({f_tex}\right)"))
    pre = net_name(names.pre[k])
    if wrt.startswith("W"):
        shape = (f"d{k}", "N", f"d{k}", f"d{k - 1}") if net.batch else (f"d{k}", f"d{k}", f"d{k - 1}")
        sub = "_{in}" if net.batch else "_{i}"
        equals = rf"{_frac(pre + sub, net_name(wrt) + '_{ij}')} = {latex(names.entry(names.out[k - 1], J))}"
    elif wrt.startswith("b"):
        shape = (f"d{k}", f"d{k}")
        equals = "I"
    else:
        shape = (f"d{k}", "N", f"d{k - 1}", "N") if net.batch else (f"d{k}", f"d{k - 1}")
        equals = net_name("W1")
    chain.append(Jacobian(_frac(pre, net_name(wrt)), shape, equals))

    steps = [NetStep("chain", rf"{_frac('L', net_name(wrt))} = " + r" \cdot ".join(j.latex for j in chain),
                     f"chain rule from the loss down to {wrt}, one local Jacobian per layer")]
    for s in signals:
        steps.append(NetStep("substitute", rf"{net_name(s.name)} = {s.general} = {s.matrix}",
                             "; ".join(s.sources) or "error signal of the layer above",
                             f"{s.name} = {_text(s.rhs)}"))
    steps.append(NetStep("contract", rf"{_frac('L', net_name(wrt))} = {grad.matrix}", grad.source,
                         f"{_text(grad.lhs)} = {_text(grad.rhs)}"))
    return NetworkDerivation(net, wrt, bp, tuple(chain), signals, grad, steps, error)


def _text(expr) -> str:
    from derive.render.printer import text

    return text(expr)


def _affine_matrix(rhs: sp.Expr, names: _Names) -> str:
    parts = []
    for term in sorted(sp.Add.make_args(rhs), key=lambda t: isinstance(t, sp.Indexed)):
        if isinstance(term, sp.Indexed) and len(term.indices) == 1 and term.base.name.startswith("b"):
            parts.append(net_name(term.base.name))
        else:
            parts.append(product_latex(read_product(term, names.column, names.vectors), net_name))
    return " + ".join(parts)


def check_variable(net: Network, wrt: str) -> None:
    if wrt not in net.variables:
        raise DeriveError(f"{net.spec} has no variable {wrt!r}; choose one of: {', '.join(net.variables)}")
