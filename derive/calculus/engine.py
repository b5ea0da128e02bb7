"""From a definition to a derivation: rule, differentiate, contract, fold, factor."""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from derive.calculus.canonical import canonical, contract_cases, exp_of_sums
from derive.calculus.fold import Named, apply_constraint, fold, fold_all
from derive.calculus.fold_stats import fold_statistics
from derive.calculus.rules import REASONS, apply_rule, evaluate_derivatives
from derive.calculus.sums import contract_deltas
from derive.definitions.model import IDX, Definition, Var
from derive.errors import DeriveError, unknown
from derive.model.notation import spoken
from derive.steps import FORMULA, Cases, Derivation, Reason, Step, step

WRT_INDICES = ("i", "j")
POOL = ("k", "l", "m", "n", "p", "q", "r", "s", "u", "v")


def _index_symbols(expr: sp.Expr) -> list:
    found = [s for s in expr.free_symbols | {lim[0] for e in sp.preorder_traversal(expr)
                                             if isinstance(e, sp.Sum) for lim in e.limits}
             if s.name in IDX and s == IDX[s.name]]
    return sorted(found, key=lambda s: s.name)


def rename_indices(defn: Definition, keep: dict, taken: set) -> dict:
    """A renaming of the definition's indices that avoids `taken`; `keep` fixes some names. Only the indices
    that change: xreplace rebuilds every node above an index it maps, even to itself, asking SymPy's
    assumptions of each rebuilt node anew."""
    mapping = dict(keep)
    used = set(taken) | set(keep.values())
    own = _index_symbols(defn.expr) + [s for s in defn.index if isinstance(s, sp.Symbol)]
    for s in dict.fromkeys(own):
        if s in mapping:
            continue
        if s not in used:
            mapping[s] = s
        else:
            mapping[s] = next(IDX[c] for c in POOL if IDX[c] not in used and IDX[c] not in own)
        used.add(mapping[s])
    return {s: t for s, t in mapping.items() if s != t}


def _named(defn: Definition, mapping: dict) -> tuple:
    """The quantities a result may be written in: intermediates, and an activation's output."""
    out = [Named(it.var.symbol, tuple(mapping.get(s, s) for s in it.index), it.expr.xreplace(mapping))
           for it in defn.intermediates]
    if defn.kind == "activation":
        out.append(Named(defn.output.symbol, tuple(mapping.get(s, s) for s in defn.index),
                         defn.expr.xreplace(mapping)))
    return tuple(out)


def _preferred(defn: Definition) -> tuple:
    order = [it.var for it in defn.intermediates] + ([defn.output] if defn.kind == "activation" else [])
    order += list(defn.inputs) + [v for v in defn.others if v.role != "target"]
    order += [v for v in defn.others if v.role == "target"]
    return tuple(v.symbol for v in order)


def _upstream(defn: Definition) -> Var:
    out = defn.output
    return Var(f"d{defn.upstream}_d{out.name}", out.shape, role="upstream")


def derive(defn: Definition, wrt: str | None = None, *, scale=1) -> Derivation:
    """∂ of the definition's output (a layer's: of an arbitrary cost C) with respect to `wrt`."""
    wrt, scale = _asked(defn, wrt, scale)
    if defn.stages:  # through its named stages, each derived here
        from derive.calculus.staged import derive_staged

        return derive_staged(defn, wrt, derive)
    asked, mapping = _posed(defn, wrt, scale)
    var, wrt_idx, expr, out_idx = defn.var(wrt), asked.indices, asked.body, asked.out_index
    lhs, named, upstream = asked.lhs, asked.named, asked.upstream
    v = lhs.variables[0]  # the entry differentiated by, as posed
    prefer = _preferred(defn)
    steps: list[Step] = []

    def add(rule, after, reason):
        before = steps[-1].after if steps else lhs
        after = exp_of_sums(after)
        if after != before:
            reason = reason if isinstance(reason, Reason) else Reason(reason)  # formulas in $…$ set as math in print
            steps.append(step(rule, before, after, reason))

    if defn.kind == "layer":
        chain = upstream.symbol[out_idx] * sp.Derivative(expr, v, evaluate=False)
        for s, hi in reversed(list(zip(out_idx, defn.output.shape))):
            chain = sp.Sum(chain, (s, 1, hi))
        y = spoken(defn.output.name)
        reason = (f"chain rule through every entry of ${y}$, "
                  f"writing $∂{defn.upstream}/∂{y}$ for the gradient arriving from above")
        if scale != 1:  # C₂ = C/2, so ∂C₂/∂y = ∂C/∂y/2: the printers write the scale as they write the steps
            c, by = sp.Symbol(defn.upstream), sp.Symbol(defn.output.name)
            said = (sp.Eq(asked.cost, scale * c, evaluate=False),
                    sp.Eq(sp.Derivative(asked.cost, by), scale * sp.Derivative(c, by), evaluate=False))
            reason = Reason(reason + f"; ${FORMULA.format(0)}$, so ${FORMULA.format(1)}$", said)
        add("chain", scale * chain, reason)
    else:
        add("definition", sp.Derivative(expr, v, evaluate=False),
            f"write ${spoken(defn.output.name)}$ by its definition")

    if defn.expand_logs:
        add("rewrite", steps[-1].after.replace(
            lambda e: isinstance(e, sp.Derivative),
            lambda d: sp.Derivative(sp.expand_log(d.expr, force=True), *d.variables, evaluate=False)),
            "$log(a/b) = log a − log b$ and $log eᵘ = u$")

    rule, after = apply_rule(steps[-1].after)
    if rule:
        add(rule.split(", ")[0], after, "; ".join(REASONS[r] for r in rule.split(", ")))

    add("differentiate", evaluate_derivatives(steps[-1].after), _differentiate_reason(steps[-1].after, var, wrt_idx))
    differentiated = len(steps)
    contracted = contract_deltas(contract_cases(steps[-1].after))
    add("contract", contracted, _contract_reason(contracted))

    # μ, σ², x̂ first for each named quantity, then the quantity itself; together where one alone cannot
    current = fold_all(steps[-1].after, named, var.symbol,
                       prepare=lambda e, nm: fold_statistics(e, nm.symbol, nm.index, nm.expr, var.symbol))
    add("substitute", current, "write the result in terms of " + ", ".join(
        f"${_name_of(nm.symbol)}$" for nm in named) if named else "substitute")

    current = steps[-1].after
    for c in defn.constraints:
        current = apply_constraint(sp.expand(contract_deltas(current)), c.lhs.xreplace(mapping), c.rhs)
    if defn.constraints:
        add("constraint", current, "; ".join(c.reason for c in defn.constraints))

    current = sp.expand(steps[-1].after) if not steps[-1].after.has(sp.Piecewise) else steps[-1].after
    cases = None
    split = _case_delta(current, wrt_idx)
    if split is not None:
        a, b = split.args
        same = canonical(current.xreplace({split: 1}).xreplace({a: b} if a in wrt_idx else {b: a}), prefer)
        other = canonical(current.xreplace({split: 0}), prefer)
        cases = Cases(((same, sp.Eq(a, b)), (other, sp.Ne(a, b))))
        add("cases", sp.Piecewise((same, sp.Eq(a, b)), (other, sp.Ne(a, b))),
            f"the cases ${a} = {b}$ and ${a} ≠ {b}$")
    result = canonical(current, prefer)
    if cases is not None:
        # δ·(the i = j case) + (1 − δ)·(the other case), when that is shorter than one factored form
        by_cases = (same * split if same.is_number else sp.Mul(split, same, evaluate=False)) if other == 0 else sp.Add(
            sp.Mul(split, same, evaluate=False),
            sp.Mul(sp.Add(1, -split, evaluate=False), other, evaluate=False), evaluate=False)
        if sp.count_ops(by_cases) <= sp.count_ops(result):
            result = by_cases
    delta_name = f"δ_{''.join(str(a) for a in split.args)}" if split is not None else ""
    add("factor", result, f"combine the cases with ${delta_name}$ and factor" if cases else "collect and factor")

    within = _within_sum(steps[differentiated - 1].after, named, var, prefer)
    if within is not None and sp.count_ops(within[-1][1]) < sp.count_ops(result):
        del steps[differentiated:]  # the sum over the loss's terms kept: shorter than contracting it away
        for rule, after, why in within:
            add(rule, after, why)
        result = steps[-1].after
        if cases is not None and max(sp.count_ops(e) for e, _ in cases.pieces) > sp.count_ops(result):
            cases = None  # the cases are stated beside the result only when each is shorter than it

    return replace(asked, steps=steps, result=result, cases=cases)


def _asked(defn: Definition, wrt: str | None, scale) -> tuple:
    """(the variable's name, the cost's scale) `derive` is asked for; DeriveError naming the valid choices."""
    names = [v.name for v in defn.inputs]
    wrt = wrt or names[0]
    if wrt not in names:
        if defn.elementwise and any(v.name == wrt for v in defn.others):  # y = a·x: a is a hyperparameter here
            raise DeriveError(f"{defn.name} is an elementwise activation, derived with respect to its input "
                              f"{names[0]} only; to differentiate by {wrt}, define it with kind=\"layer\", "
                              f"inputs=[\"{names[0]}\", \"{wrt}\"]")
        raise unknown(f"variable for {defn.name}", wrt, names)
    scale = sp.sympify(scale)
    if scale != 1 and defn.kind != "layer":
        raise DeriveError(f"a cost scale applies to layers only; {defn.name} is a {defn.kind}")
    if scale != 1 and defn.stages:
        raise DeriveError(f"a cost scale is not supported for {defn.name}, whose gradient is taken by stages")
    return wrt, scale


def posed(defn: Definition, wrt: str | None = None, *, scale=1) -> Derivation:
    """What `derive(defn, wrt, scale=scale)` answers, before any step is taken: its left-hand side, the
    definition's body in the derivation's indices, the names its result may be written in, the gradient
    arriving from above; no steps and no result (None). Everything the checks against sympy.diff of the
    definition need but the result, so they can start while the result is derived
    (derive.derivation.DiffChecks). For a definition given by stages, the names are its stages' outputs
    only: the gradients at them are derived. DeriveError as `derive`."""
    wrt, scale = _asked(defn, wrt, scale)
    if defn.stages:
        from derive.calculus.staged import posed_staged

        return posed_staged(defn, wrt, lambda stage, name: _posed(stage, name, sp.S.One)[0])
    return _posed(defn, wrt, scale)[0]


def _posed(defn: Definition, wrt: str, scale: sp.Expr) -> tuple:
    """(`posed`, the renaming of the definition's indices it uses)."""
    var = defn.var(wrt)
    wrt_idx = tuple(IDX[c] for c in WRT_INDICES[: var.rank])
    keep = {}
    if defn.kind == "activation" and defn.index:
        if var.rank != len(defn.index):  # the Jacobian ∂y_i/∂x_j pairs an output entry with an input entry
            raise DeriveError(f"{defn.name} is an activation, whose inputs have the output's shape; {wrt} has "
                              f"{var.rank} indices and the output {len(defn.index)}: declare the module a layer "
                              f"(kind = \"layer\") to take ∂C/∂{wrt}")
        wrt_idx = (IDX["j"],)
        keep = {defn.index[0]: IDX["i"]}
    mapping = rename_indices(defn, keep, set(wrt_idx))
    expr = defn.expr.xreplace(mapping)
    out_idx = tuple(mapping.get(s, s) for s in defn.index)
    v = var.symbol[wrt_idx] if wrt_idx else var.symbol
    upstream = cost = None
    if defn.kind == "layer":
        upstream = _upstream(defn)
        cost = sp.Symbol(defn.upstream if scale == 1 else f"{defn.upstream}_2")
        lhs = sp.Derivative(cost, v, evaluate=False)
    else:
        out = defn.output.symbol[out_idx] if out_idx else defn.output.symbol
        lhs = sp.Derivative(out, v, evaluate=False)
    asked = Derivation(target=defn.name, wrt=wrt, lhs=lhs, steps=[], result=None, definition=defn, body=expr,
                       out_index=out_idx, named=_named(defn, mapping), upstream=upstream, cost=cost, scale=scale,
                       indices=wrt_idx, conventions=defn.conventions)
    return asked, mapping


def _within_sum(expr: sp.Expr, named: tuple, var: Var, prefer: tuple) -> list | None:
    """Steps that keep an outer Σ_l f(l): contract, fold and factor inside f only.

    When every term of a loss depends on the variable (a softmax inside a sum over classes),
    contracting the outer sum scatters it into many sums; a person keeps it. None unless `expr`
    is a single sum.
    """
    if not isinstance(expr, sp.Sum) or len(expr.limits) != 1:
        return None
    k = expr.limits[0][0]
    inner = contract_deltas(expr.function)
    if any(k in d.free_symbols and not all(a.is_Symbol for a in d.args) for d in inner.atoms(sp.KroneckerDelta)) \
            or any(k in p.args[0].cond.free_symbols for p in inner.atoms(sp.Piecewise) - expr.function.atoms(sp.Piecewise)):
        return None  # δ_{j, i+k−1} on the sum's own index is contracted with its range, never kept
    steps = [("contract", sp.Sum(contract_deltas(expr.function), *expr.limits),
              (f"$Σ f δ = f$ inside each term; the sum over ${k}$ stays, as each of its terms depends on "
               f"${spoken(var.name)}$"))]
    folded = steps[-1][1].function
    for nm in named:
        folded = fold(folded, nm, var.symbol)
    if named:
        steps.append(("substitute", sp.Sum(folded, *expr.limits),
                      "write each term in terms of " + ", ".join(f"${_name_of(nm.symbol)}$" for nm in named)))
    factored = canonical(folded, prefer)
    if _factors(factored) != _factors(folded):  # not a mere reordering of the same factors
        steps.append(("factor", sp.Sum(factored, *expr.limits), "factor each term"))
    return steps


def _differentiate_reason(expr: sp.Expr, var: Var, wrt_idx: tuple) -> str:
    """`differentiate each term: $∂W_lk/∂W_ij = δ_li δ_kj$`, in the summation indices the step uses."""
    if var.rank == 0:
        return "differentiate"
    x = spoken(var.name)
    x = f"({x})" if "_" in x else x  # (W_f)_lk: a name with its own subscript takes the indices outside
    inner = sorted({e for d in expr.atoms(sp.Derivative) for e in d.expr.atoms(sp.Indexed)
                    if e.base.label == var.symbol.label and e.indices != tuple(wrt_idx)}, key=sp.default_sort_key)
    summed = inner[0].indices if len(inner) == 1 else ("k", "l")[:var.rank]
    if not all(isinstance(s, (str, sp.Symbol)) for s in summed):  # x_{K (l − 1) + k}: the printers write it
        deltas = sp.Mul(*(sp.KroneckerDelta(s, w) for s, w in zip(summed, wrt_idx)), evaluate=False)
        said = sp.Eq(sp.Derivative(var.symbol[summed], var.symbol[wrt_idx], evaluate=False), deltas, evaluate=False)
        return Reason(f"differentiate each term: ${FORMULA.format(0)}$", (said,))
    a, b = _names(summed), _names(wrt_idx)
    # in SymPy's order of the delta's indices, as the step beside it prints them (δ_il, not δ_li)
    deltas = " ".join("δ_" + _names(sp.KroneckerDelta(s, w).args) for s, w in zip(summed, wrt_idx))
    return f"differentiate each term: $∂{x}_{a}/∂{x}_{b} = {deltas}$"


def _contract_reason(expr: sp.Expr) -> str:
    """Σ_k f(k) δ_kj = f(j); with index arithmetic the kept term exists only inside the sum's range."""
    ranged = [lim for e in sp.preorder_traversal(expr) if isinstance(e, sp.Sum) for lim in e.limits
              if lim[1].has(sp.Max) or lim[2].has(sp.Min)]
    ranged += [p for p in expr.atoms(sp.Piecewise) if all(s.is_integer for s in p.args[0].cond.free_symbols)]
    if ranged:
        return ("$Σ_k f(k) δ_(j, k+c) = f(j − c)$ when $j − c$ lies in the range of $k$, and 0 otherwise: "
                "the delta keeps one term of each sum, and the range of what remains is narrowed to match")
    return "$Σ_k f(k) δ_kj = f(j)$: the delta keeps one term of each sum"


def _names(index: tuple) -> str:
    """`ij`: indices that are symbols, by their names."""
    return "".join(s if isinstance(s, str) else s.name for s in index)


def _factors(expr: sp.Expr) -> list:
    return sorted(sp.Mul.make_args(expr), key=sp.default_sort_key)


def _case_delta(expr: sp.Expr, wrt_idx: tuple):
    """The Kronecker delta that ties a free index of the result to another, if there is one."""
    bound = {lim[0] for e in sp.preorder_traversal(expr) if isinstance(e, sp.Sum) for lim in e.limits}
    # a case is a statement about the result's free indices: never one naming a summation index
    deltas = [d for d in expr.atoms(sp.KroneckerDelta) if set(d.args) & set(wrt_idx) and not d.free_symbols & bound]
    return deltas[0] if len(deltas) == 1 else None


def _name_of(symbol) -> str:
    return spoken(getattr(symbol, "name", None) or str(symbol))
