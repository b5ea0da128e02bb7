"""NumPy code for a network's forward pass and every gradient, printed from the derived trees.

Each line is a tree of the backward pass (derive.network.backprop) printed as NumPy
(derive.render.numpy_code): the forward rows (`W1 @ X + b1[:, None]`), the error signals
(`(W2.T @ D2) * np.greater(S1, 0).astype(float)`) and the gradients (`D1 @ X.T`); a row read in index
form only (a softmax) and the loss print from their index forms. Samples are columns.
"""

from __future__ import annotations

import re

import sympy as sp

from derive.errors import DeriveError
from derive.network.backprop import backprop
from derive.network.chain import Network
from derive.render.numpy_code import ScalarNumPy, numpy_code


def code_name(name: str) -> str:
    """The variable a quantity lives in: x → X, s1 → S1, delta2 → D2, yhat → Yhat."""
    m = re.fullmatch(r"(delta|Delta)(\d+)", name)
    if m:
        return f"D{m.group(2)}"
    m = re.fullmatch(r"([szSZ])(\d+)", name)
    if m:
        return m.group(1).upper() + m.group(2)
    return {"x": "X", "y": "Y", "yhat": "Yhat"}.get(name, name)


def _axis(sym: sp.Symbol, body: sp.Expr) -> int:
    for ind in body.atoms(sp.Indexed):
        if sym in ind.indices:
            return list(ind.indices).index(sym)
    raise DeriveError(f"cannot vectorise a sum over {sym}")


def numpy_expr(expr: sp.Expr, sizes: dict | None = None, name=code_name) -> str:
    """An elementwise index-form expression as NumPy over whole arrays; a sum over an index
    becomes `np.sum(..., axis=a, keepdims=True)` along that index's axis. `name` gives an array's
    variable from its base name (a graph keeps its names as they are)."""
    table: dict = {}

    def walk(e):
        if isinstance(e, sp.Sum):
            axes = sorted({_axis(lim[0], e.function) for lim in e.limits})
            body = numpy_expr(e.function, sizes, name)
            sym = sp.Symbol(f"_sum{len(table)}_")
            axis = axes[0] if len(axes) == 1 else tuple(axes)
            table[sym.name] = f"np.sum({body}, axis={axis}, keepdims=True)"
            return sym
        if isinstance(e, sp.Indexed):
            return sp.Symbol(name(e.base.name))
        if isinstance(e, sp.Symbol) and sizes and e in sizes:
            return sp.Symbol(sizes[e])
        if not e.args:
            return e
        return e.func(*[walk(a) for a in e.args])

    out = ScalarNumPy().doprint(sp.factor_terms(walk(expr)))
    for key, value in table.items():
        out = out.replace(key, value)
    return out


def size_code(net: Network) -> dict:
    """Each size symbol as the NumPy code that reads it off the arguments (W2.shape[0])."""
    from derive.network.local import dim
    from derive.network.names import N

    out = {dim(0): "X.shape[0]", N: "X.shape[1]"}
    for s in net.stages:
        out[dim(s.k)] = f"W{s.k}.shape[0]"
    return out


def _quantities(bp) -> set:
    """Every name the trees of the backward pass use."""
    from derive.model.matexpr import leaves

    steps = (*bp.forward, *bp.signals, *bp.gradients.values())
    return {leaf.name for s in steps for t in (s.after, getattr(s, "simplified", None)) if t is not None
            for leaf in leaves(t)}


def hyperparameter_names(net: Network) -> list:
    """The hyperparameters the chain leaves free (alpha1, beta2), which the code takes as arguments."""
    return sorted(name for s in net.stages for name in s.free_hyper)


def numpy_source(net: Network, name: str | None = None, trace: bool = False) -> str:
    """Python source defining `name(X, Y, W1, b1, …, *, loss_scale=1.0) -> (L, grads)`.

    With `trace`, the function also returns every forward value and error signal by name
    (for worked examples); the code to paste into an assignment has no trace.
    """
    bp = backprop(net)
    sizes = size_code(net)
    code = {name: code_name(name) for name in _quantities(bp)}
    code.update({p: f"{p}[:, None]" for p in net.params if p.startswith("b")})  # b_k is passed as a vector
    fname = name or "forward_backward_" + re.sub(r"\W+", "_", net.spec).strip("_")
    hypers = hyperparameter_names(net)
    names = bp.names

    def said(name: str) -> str:  # a sheet's own name for the quantity, as a comment (none by default)
        return f"  # {names.name(name).text}" if names.written else ""

    args = ", ".join(["X", "Y", *net.params])
    kw = ", *, loss_scale=1.0" + "".join(f", {h}" for h in hypers)
    lines = [
        "import numpy as np",
        "",
        "",
        f"def {fname}({args}{kw}):",
        f'    """Loss and gradients of {net.spec}, derived by `derive`.',
        "",
        "    Samples are the columns of X (d0 x N) and Y; W_k is d_k x d_(k-1)"
        + (", b_k has d_k entries." if any(s.bias for s in net.stages) else "."),
        f"    L = loss_scale * (the {net.loss.name} loss"
        + (")." if net.batch else ", summed over the samples)."),
        "    Returns (L, grads) with grads[name] = dL/d(name), the shape of the variable.",
        '    """',
        "    # forward pass",
    ]
    if trace:
        lines.append("    trace = {}")
    for row in bp.forward:
        if row is bp.loss_row:
            continue
        lhs = code_name(row.name)
        rhs = numpy_expr(row.rhs, sizes) if row.after is None else numpy_code(row.after, code, sizes)
        lines.append(f"    {lhs} = {rhs}{said(row.name)}")
        if trace:
            lines.append(f'    trace["{lhs}"] = {lhs}')
    lines.append(f"    L = loss_scale * np.sum({numpy_expr(bp.loss_row.rhs, sizes)}){said('L')}")
    lines.append("    # backward pass: error signals and gradients")
    lines.append("    grads = {}")
    for sig in bp.signals:
        body = numpy_code(sig.forms[-1], code, sizes)
        value = f"loss_scale * ({body})" if sig is bp.signals[0] else body
        lines.append(f"    {code_name(sig.name)} = {value}{said(sig.name)}")
        if trace:
            lines.append(f'    trace["{code_name(sig.name)}"] = {code_name(sig.name)}')
        stage = net.stages[sig.k - 1]
        for p in (*stage.params, *((net.input_name,) if sig.k == 1 else ())):
            g = numpy_code(bp.gradients[p].after, code, sizes)
            if p.startswith("b"):  # a bias is shared by the samples (the columns): sum its per-sample gradients
                g = f"np.sum({g}, axis=1)"
            lines.append(f'    grads["{code_name(p)}"] = {g}{said(f"dL_d{p}")}')
    lines.append("    return L, grads, trace" if trace else "    return L, grads")
    if any("math." in line for line in lines[4:]):  # a GELU's erf: the code imports what it calls
        lines.insert(1, "import math")
    return "\n".join(lines) + "\n"


def compile_numpy(net: Network, trace: bool = False, hyper: dict | None = None, per_call: bool = False):
    """The generated function itself (our own generated source, executed in a fresh namespace), with
    every free hyperparameter bound from `hyper`, so no caller can forget one; `per_call` leaves
    them as keyword arguments for a caller that samples them at every point (the answer checker)."""
    import functools

    from derive.errors import DeriveError

    source = numpy_source(net, "forward_backward", trace=trace)
    namespace: dict = {}
    exec(compile(source, f"<derive numpy: {net.spec}>", "exec"), namespace)  # noqa: S102
    free = hyperparameter_names(net)
    if per_call:
        return namespace["forward_backward"]
    missing = [h for h in free if h not in (hyper or {})]
    if missing:
        raise DeriveError(f"{net.spec}: give a value for {', '.join(missing)} "
                          "(e.g. leaky_relu[alpha=0.1] in the chain)")
    return functools.partial(namespace["forward_backward"], **{h: float(hyper[h]) for h in free})


def sample_hyperparameters(net: Network, rng) -> dict:
    """A value in (0.1, 0.9) for each free hyperparameter (all are declared positive), to check at."""
    return {h: float(rng.uniform(0.1, 0.9)) for h in hyperparameter_names(net)}
