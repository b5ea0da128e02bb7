"""A worked example on any graph: given numbers, the forward values, the loss, every gradient, one SGD
step (with weight decay, with chosen parameters frozen) and the loss after it.

All of it is computed by the generated code (derive.graph.codegen) after the graph's statements were
checked; at the example's own numbers every parameter's gradient is compared once more, entry by
entry, with central differences of the forward pass, and the example is refused if one disagrees.

The step: θ ← θ − η (∂L/∂θ + λ θ) for each parameter θ not frozen (λ = 0 without weight decay);
a frozen parameter keeps its value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from derive.errors import DeriveError
from derive.graph.backprop import derive_graph, partial
from derive.graph.codegen import program
from derive.graph.model import ResolvedGraph

FD_STEP = 1e-6
FD_RTOL = 1e-5


@dataclass
class GraphExample:
    graph: ResolvedGraph
    given: dict  # inputs, targets and parameters, as columns / matrices
    hypers: dict
    values: dict  # every node's output
    loss: float
    gradients: dict  # ∂L/∂v for every value with one
    lr: float
    decay: dict  # parameter -> λ
    frozen: tuple
    updated: dict  # parameter -> after the step
    loss_after: float
    check_error: float
    parts: dict  # (node, variable) -> what that node sends back to the value bound there
    decimals: int = 4

    def text(self) -> str:
        from derive.graph.example_render import example_text

        return example_text(self)

    def markdown(self) -> str:
        from derive.graph.example_render import example_markdown

        return example_markdown(self)

    def _repr_markdown_(self) -> str:
        return self.markdown()


def _array(name: str, value, shape: tuple) -> np.ndarray:
    from derive import limits

    try:
        arr = np.array(limits.array(value, name), dtype=float)  # finite, at most 10^6, axes at most MAX_SIZE
    except DeriveError:
        raise DeriveError(f"{name}: give numbers (a list, or rows), each finite and at most "
                          f"{limits.MAX_NUMBER:g}, at most {limits.MAX_SIZE} along an axis") from None
    if arr.ndim == 1 and shape[1] == "1":
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or (shape[1] == "1" and arr.shape[1] != 1):
        raise DeriveError(f"{name} is {' × '.join(shape)}; give {'a list of numbers' if shape[1] == '1' else 'rows'}")
    if not np.all(np.isfinite(arr)):
        raise DeriveError(f"{name}: every entry must be a finite number")
    return arr


def example(graph: ResolvedGraph, values: dict, *, lr: float = 0.1, weight_decay=0.0, frozen=(),
            hypers: dict | None = None, decimals: int = 4) -> GraphExample:
    """The worked example at `values` (every input, target and parameter by name; vectors as lists)."""
    derive_graph(graph)  # every statement the example relies on, checked first
    prog = program(graph)
    needed = [*graph.inputs, *graph.targets, *graph.params]
    missing = [v for v in needed if v not in values]
    if missing:
        raise DeriveError(f"graph {graph.name}: give a value for {', '.join(missing)}")
    extra = sorted(set(values) - set(needed))
    if extra:
        raise DeriveError(f"graph {graph.name} has no input or parameter {extra[0]!r}; choose from: {', '.join(needed)}")
    for f in frozen:
        if f not in graph.params:
            raise DeriveError(f"cannot freeze {f!r}: not a parameter; choose from: {', '.join(graph.params)}")
    from derive import limits

    lr = limits.real(lr, "lr")
    hypers = {h: limits.real(x, h) for h, x in (hypers or {}).items()}
    if not isinstance(weight_decay, dict):
        weight_decay = limits.real(weight_decay, "weight_decay")
    else:
        weight_decay = {p: limits.real(x, f"weight_decay of {p}") for p, x in weight_decay.items()}
    if set(hypers) != set(prog.hypers):
        raise DeriveError(f"graph {graph.name}: give hypers for exactly {', '.join(prog.hypers) or '(none)'}")
    decay = weight_decay if isinstance(weight_decay, dict) else {p: float(weight_decay) for p in graph.params}
    for p in decay:
        if p not in graph.params:
            raise DeriveError(f"weight decay on {p!r}: not a parameter; choose from: {', '.join(graph.params)}")
    given = {}
    for v in needed:
        arr = _array(v, values[v], graph.matrix_shape(v))
        given[v] = arr
    sizes = {}
    for v in needed:  # one size for every dimension
        for d, n in zip(graph.matrix_shape(v), given[v].shape):
            if d != "1" and sizes.setdefault(d, n) != n:
                raise DeriveError(f"{v} is {given[v].shape[0]} × {given[v].shape[1]}, but {d} = {sizes[d]} elsewhere")
    for whole, parts in graph.sums:  # a concatenation's blocks fill it exactly
        if whole in sizes and all(p in sizes for p in parts) and sizes[whole] != sum(sizes[p] for p in parts):
            raise DeriveError(f"{whole} = {' + '.join(parts)} = {sum(sizes[p] for p in parts)} (a concatenation), "
                              f"but a value given is {sizes[whole]} along it")
    _targets_hold(graph, given)
    env = {**given, **{h: float(x) for h, x in hypers.items()}}
    with np.errstate(all="ignore"):
        ns = prog.run(env)
        if not np.isfinite(ns["L"]):
            raise DeriveError(f"graph {graph.name}: the loss is not finite at these numbers")
        error = _check(graph, prog, env, ns)
        updated = {p: given[p] - lr * (ns[partial(p)] + decay.get(p, 0.0) * given[p])
                   for p in graph.params if p not in frozen}
        after = prog.run({**env, **updated}, upto_loss=True)["L"]
    return GraphExample(graph, given, hypers, {r: ns[r] for r, _ in prog.forward}, ns["L"],
                        {name.removeprefix("dL_d"): ns[name] for name, _ in prog.backward},
                        lr, {p: lam for p, lam in decay.items() if lam}, tuple(frozen),
                        {p: updated.get(p, given[p]) for p in graph.params}, after, error, _parts(graph, ns),
                        decimals)


def _targets_hold(graph: ResolvedGraph, given: dict) -> None:
    """A one-hot target is one-hot along the axis its loss sums it over (each row of Y for a batch of
    rows): the stated gradient, (Ŷ − Y)/N, holds only then."""
    from derive.graph.verify import target_domain

    for t in graph.targets:
        domain, axis = target_domain(graph, t)
        if domain != "onehot":
            continue
        arr = given[t]
        if not (np.isin(arr, (0.0, 1.0)).all() and np.all(arr.sum(axis=axis) == 1)):
            what = "each row" if axis == 1 else ("each column" if arr.shape[1] > 1 else "it")
            raise DeriveError(f"{t} is one-hot: {what} holds a single 1 and 0s elsewhere, as the loss assumes")


def _parts(graph: ResolvedGraph, ns: dict) -> dict:
    """Each part of each gradient at the example's numbers: what flows back along each arrow. The
    parts of a value must add up to the code's gradient (they were checked to at random values)."""
    from derive.graph.backprop import backprop
    from derive.model.evaluate import evaluate

    bp = backprop(graph)
    sizes = {}
    for v in graph.values:
        if v.shape:  # a loss term is a number
            sizes.update(zip(graph.matrix_shape(v.name), np.shape(ns[v.name])))
    out = {}
    for value, g in bp.gradients.items():
        arrays = [evaluate(p.tree, {**ns, **sizes}) for p in g.parts]
        if not np.allclose(sum(arrays), ns[partial(value)], rtol=1e-9, atol=1e-12):
            raise DeriveError(f"graph {graph.name}: the parts of ∂L/∂{value} do not add up to it at these numbers")
        out.update({(p.node, p.var): a for p, a in zip(g.parts, arrays)})
    return out


def _check(graph: ResolvedGraph, prog, env: dict, ns: dict) -> float:
    """Every parameter's gradient at these numbers against central differences, entry by entry."""
    worst = 0.0
    for p in graph.params:
        grad = ns[partial(p)]
        for idx in np.ndindex(*grad.shape):
            moved = []
            for h in (FD_STEP, -FD_STEP):
                arr = env[p].copy()
                arr[idx] += h
                moved.append(prog.run({**env, p: arr}, upto_loss=True)["L"])
            fd = (moved[0] - moved[1]) / (2 * FD_STEP)
            err = abs(fd - grad[idx]) / max(1.0, abs(fd))
            if not err <= FD_RTOL:
                raise DeriveError(f"graph {graph.name}: at these numbers ∂L/∂{p} at {tuple(i + 1 for i in idx)} is "
                                  f"{grad[idx]:.6g}, central differences give {fd:.6g} (an activation on its kink?); "
                                  "the example is not stated")
            worst = max(worst, err)
    return worst
