"""Backpropagation through a network, layer by layer, from the engine's local derivations.

Every quantity keeps its name (s^{(k)}, z^{(k)}, δ^{(k)}); the composed expression is never
written out, so each layer adds a bounded amount of work and the cost is linear in depth:

    δ^{(L)} = ∂L/∂ŷ ⊙ f_L′(s^{(L)}),   δ^{(k)} = (W^{(k+1)ᵀ} δ^{(k+1)}) ⊙ f_k′(s^{(k)}),
    ∂L/∂W^{(k)} = δ^{(k)} z^{(k−1)ᵀ},   ∂L/∂b^{(k)} = δ^{(k)} (summed over the samples of a batch).

Each quantity is an index form (the engine's result with the network's names) and the matrix
tree read from it (derive.network.trees); the steps are derive.steps' ForwardRow, ErrorSignal and
ParamGradient. Nothing here prints (derive.network.render does), and nothing is stated before
derive.network.verify has checked it (derive_network).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

import sympy as sp

from derive.doors import open_door
from derive.errors import DeriveError
from derive.model import matexpr as mx
from derive.network import trees
from derive.network.chain import Network
from derive.network.local import definition, derivation, dim, rename
from derive.network.names import N_IDX, I, J, LayerNames, base
from derive.steps import ChainRule, ErrorSignal, ForwardRow, ParamGradient

EXPANDED_DEPTH = 3  # each output is also written in terms of x only for shallow networks
L_SYMBOL = sp.Symbol("L")


@dataclass(frozen=True)
class Backprop:
    """The whole backward pass of a network: every forward row, error signal and gradient."""

    network: Network
    forward: tuple  # ForwardRow steps, the loss last
    signals: tuple  # ErrorSignal steps, from the output layer down to layer 1
    gradients: dict  # name -> ParamGradient
    names: LayerNames
    loss_row: ForwardRow
    conventions: tuple


@dataclass
class NetworkDerivation:
    """∂L/∂wrt of a network: forward table, chain of Jacobians, error signals, gradient; `steps`
    are the typed steps (ChainRule, then ErrorSignal…, then ParamGradient)."""

    network: Network
    wrt: str
    backprop: Backprop
    chain: tuple  # LocalJacobian steps
    signals: tuple  # the error signals needed, output layer first
    gradient: ParamGradient
    steps: list = field(default_factory=list)
    check_error: float | None = None  # every gradient against central differences (verify.check_gradients)
    checked: object = None  # derive.network.verify.Report: what was checked before anything was stated

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
        return open_door("check", self, answer, timeout=timeout)

    def _repr_latex_(self) -> str:
        return self.latex()

    def _repr_markdown_(self) -> str:
        return self.markdown()


def _hyper(stage) -> dict:
    """The stage's hyperparameters as bound in the chain: the option's number if given
    (leaky_relu[alpha=0.1]), else α_k."""
    return {name: sp.nsimplify(value) if value is not None else sp.Symbol(f"{name}{stage.k}", positive=True)
            for name, value in stage.hyper}


def _summary(d) -> str:
    from derive.render.unicode import unicode_text

    return f"derive show {d.target} --wrt {d.wrt}: {unicode_text(d.lhs)} = {unicode_text(d.result)}"


def _in_names(convention: str, net: Network, names: LayerNames) -> str:
    """The loss's convention (`Samples are the columns of Ŷ and Y`) in a sheet's own names."""
    import re

    from derive.model.notation import spoken

    if not names.written:
        return convention
    for var, ours in _loss_names(net, names)[0].items():
        convention = re.sub(rf"(?<!\w){re.escape(spoken(var))}(?!\w)", names.name(ours.name).text, convention)
    return convention


def _loss_names(net: Network, names: LayerNames) -> tuple:
    ldef = definition(net.loss)
    target = next(v for v in ldef.others if v.role == "target")
    return ({ldef.inputs[0].name: base(names.out[net.depth]), target.name: base(names.target)},
            {ldef.inputs[0].shape[0]: dim(net.depth)})


# --------------------------------------------------------------------------- the forward pass


def _forward(net: Network, names: LayerNames) -> tuple:
    rows = []
    known = {net.input_name: names.mat(net.input_name)} if net.depth <= EXPANDED_DEPTH else None

    def row(label, module, inputs, out, lhs, rhs, tree, shape):
        expanded = None
        if known is not None and tree is not None:
            inner = {leaf.name for leaf in mx.leaves(tree)} - {*net.params}
            if inner <= known.keys():
                expanded = known[out] = mx.substitute(tree, known)
        rows.append(ForwardRow(before=names.mat(out), after=tree, label=label, module=module.spelling,
                               inputs=inputs, lhs=lhs, rhs=rhs, shape=shape, expanded=expanded,
                               names=names.table([names.mat(out), tree, expanded])))

    for s in net.stages:
        k = s.k
        adef = definition(s.affine)
        W, X = adef.inputs[0], adef.var("X" if net.batch else "x")
        sub = {W.name: base(f"W{k}"), X.name: base(names.out[k - 1]), "b": base(f"b{k}")}
        rhs = rename(adef.expr, adef, sub, extra={adef.output.shape[0]: dim(k), X.shape[0]: dim(k - 1)})
        row(f"affine {k}", s.affine, (names.out[k - 1],), names.pre[k], names.entry(names.pre[k]), rhs,
            trees.affine(rhs, names, k), names.shape(k))
        if s.activation:
            fdef = definition(s.activation)
            hyper = _hyper(s)
            rhs = rename(fdef.expr, fdef, {"x": names.entry(names.pre[k]), **hyper})
            tree = trees.entrywise(rename(fdef.expr, fdef, hyper), fdef.inputs[0].symbol, names.mat(names.pre[k]))
            row(f"{s.activation.name} {k}", s.activation, (names.pre[k],), names.out[k], names.entry(names.out[k]),
                rhs, tree, names.shape(k))

    L = net.depth
    ldef = definition(net.loss)
    loss_names, loss_sizes = _loss_names(net, names)
    for it in ldef.intermediates:  # e.g. ŷ = softmax(θ) inside softmax cross-entropy
        rhs = rename(it.expr, ldef, loss_names, extra=loss_sizes)
        row("output", net.loss, (names.out[L],), it.var.name, base(it.var.name)[it.index], rhs,
            trees.optional(rhs, names, names.dims(L)), names.shape(L))
    rows.append(ForwardRow(before=mx.MatSym("L", ("1", "1")), after=None, label="loss", module=net.loss.spelling,
                           inputs=(names.out[L], names.target), lhs=L_SYMBOL,
                           rhs=rename(ldef.expr, ldef, loss_names, extra=loss_sizes), shape=()))
    return tuple(rows)


# --------------------------------------------------------------------------- the backward pass


@lru_cache(maxsize=64)
def backprop(net: Network) -> Backprop:
    names = LayerNames(net)
    forward = _forward(net, names)
    signals, gradients = _backward(net, names)
    conventions = (
        "Vectors are columns; " + ("samples are the columns of X and of every layer's S_k and Z_k (d_k × N)."
                                   if net.batch else "one sample x (d_0), layer k has width d_k."),
        "The gradient has the shape of the variable (denominator layout).",
        "⊙ is the elementwise (Hadamard) product; f_k′ acts elementwise.",
        *dict.fromkeys(c for s in net.stages if s.activation for c in definition(s.activation).conventions),
        *(_in_names(c, net, names) for c in definition(net.loss).conventions),
    )
    return Backprop(net, forward, tuple(signals), gradients, names, forward[-1], tuple(conventions))


def _backward(net: Network, names: LayerNames) -> tuple:
    L = net.depth
    ldef = definition(net.loss)
    loss_names, loss_sizes = _loss_names(net, names)
    dl = derivation(net.loss)
    index_map = {**loss_sizes, J: N_IDX} if net.batch else loss_sizes
    # ∂L/∂(output of the layer being processed): index form, its tree, and its name
    upstream = sp.factor_terms(rename(dl.result, ldef, loss_names, extra=index_map))
    up_tree = trees.required(upstream, names, names.dims(L), f"∂L/∂{names.out[L]}")
    up_name = names.partial(names.out[L])
    sources = [_summary(dl)]
    signals, gradients = [], {}
    for s in reversed(net.stages):
        k = s.k
        fprime = fprime_tree = None
        if s.activation:
            fdef, df = definition(s.activation), derivation(s.activation)
            sub = {"x": names.entry(names.pre[k]), "y": names.entry(names.out[k]), **_hyper(s)}
            fprime = rename(df.result, fdef, sub)
            fprime_tree = trees.required(fprime, names, names.dims(k), f"f_{k}′")
            sources.append(_summary(df))
        rhs = upstream * fprime if fprime is not None else upstream
        general = mx.hadamard(up_name, names.fprime(k)) if fprime is not None else up_name
        written = mx.hadamard(up_tree, fprime_tree) if fprime is not None else up_tree
        simplified = None
        if fprime is not None and k == L:  # e.g. BCE after σ: the quotient cancels, (ŷ − y)/K
            candidate = trees.optional(sp.factor_terms(rhs), names, names.dims(k))
            simplified = None if candidate is None or trees.same(candidate, written) else candidate
        delta = names.delta(k)
        signals.append(ErrorSignal(
            before=names.mat(delta), after=written, reason="; ".join(sources) or "error signal of the layer above",
            k=k, name=delta, lhs=names.entry(delta), rhs=rhs, general=general, simplified=simplified,
            upstream=upstream, derivative=fprime, upstream_tree=up_tree, fprime_tree=fprime_tree,
            shape=names.shape(k), sources=tuple(sources),
            names=names.table([names.mat(delta), general, written, simplified, up_name, names.partial(names.pre[k])])))
        sources = []
        gradients.update(_gradients(net, names, s, delta))
        if k > 1:  # ∂L/∂z^{(k-1)}: the affine layer's gradient with respect to its input, Wᵀ δ
            adef = definition(s.affine)
            X = adef.var("X" if net.batch else "x")
            dx = derivation(s.affine, X.name)
            upstream = rename(dx.result, adef, _affine_sub(names, adef, k, delta), upstream=dx.upstream,
                              extra=_affine_sizes(net, adef, k, per_sample=True))
            up_tree = trees.required(upstream, names, names.dims(k - 1), f"∂L/∂{names.out[k - 1]}")
            up_name = names.partial(names.out[k - 1])
            sources.append(_summary(dx))
    return signals, gradients


def _affine_sub(names: LayerNames, adef, k: int, delta: str) -> dict:
    W, X = adef.inputs[0], adef.var("X" if names.batch else "x")
    return {W.name: base(f"W{k}"), X.name: base(names.out[k - 1]), "b": base(f"b{k}"), "upstream": base(delta)}


def _affine_sizes(net: Network, adef, k: int, per_sample: bool) -> dict:
    X = adef.var("X" if net.batch else "x")
    sizes = {adef.output.shape[0]: dim(k), X.shape[0]: dim(k - 1)}
    return {**sizes, J: N_IDX} if (net.batch and per_sample) else sizes


def _gradients(net: Network, names: LayerNames, stage, delta: str) -> dict:
    """∂L/∂W_k, ∂L/∂b_k (and ∂L/∂x at layer 1), from the engine's derivations of the affine layer."""
    k = stage.k
    adef = definition(stage.affine)
    sub = _affine_sub(names, adef, k, delta)
    out = {}
    for var in adef.inputs:
        if var.role != "parameter" and k > 1:
            continue
        dv = derivation(stage.affine, var.name)
        if var.role == "parameter":
            pname = f"{var.name}{k}"
            index = (I, J)[: var.rank]
            pshape = (f"d{k}", f"d{k - 1}")[: var.rank]
        else:
            pname, index, pshape = net.input_name, names.free, names.shape(0)
        rhs = rename(dv.result, adef, sub, upstream=dv.upstream,
                     extra=_affine_sizes(net, adef, k, per_sample=var.role != "parameter"))
        lhs = sp.Derivative(L_SYMBOL, base(pname)[index], evaluate=False)
        lhs_tree = names.partial(pname)
        tree = trees.required(rhs, names, lhs_tree.shape, f"∂L/∂{pname}", free=index)
        out[pname] = ParamGradient(before=lhs_tree, after=tree, reason=_summary(dv), wrt=pname, lhs=lhs, rhs=rhs,
                                   shape=pshape, source=_summary(dv), names=names.table([lhs_tree, tree]))
    return out


# --------------------------------------------------------------------------- one gradient


@lru_cache(maxsize=64)
def _checked(net: Network):
    """Everything the network states, checked once (derive.network.verify.check_network); raises if wrong."""
    from derive.network.verify_statements import check_network

    return check_network(net)


def derive_network(net: Network, wrt: str | None = None) -> NetworkDerivation:
    from derive.network.jacobians import local_jacobians

    wrt = wrt or "W1"
    check_variable(net, wrt)
    bp = backprop(net)
    # every statement and the code's gradients, before anything is stated; names change only the printing
    report = _checked(replace(net, names=()))
    k = 1 if wrt == net.input_name else int(wrt[1:])
    signals = tuple(s for s in bp.signals if s.k >= k)
    grad = bp.gradients[wrt]
    chain = local_jacobians(net, wrt)
    steps = [ChainRule(before=grad.before, after=chain,
                       reason=f"chain rule from the loss down to {wrt}, one local Jacobian per layer"),
             *signals, grad]
    return NetworkDerivation(net, wrt, bp, chain, signals, grad, steps, report.gradient_error, report)


def check_variable(net: Network, wrt: str) -> None:
    if wrt not in net.variables:
        raise DeriveError(f"{net.spec} has no variable {wrt!r}; choose one of: {', '.join(net.variables)}")
