"""Backpropagation through a definition's named stages: S = QKᵀ/√d, A = softmax(S), Y = A V.

A definition may give its output as a chain of stages, each a layer whose output is a named
quantity (S, A) and whose inputs are the definition's inputs or earlier names. The gradient with
respect to an input is then the engine's derivation of each stage that reads it, taken of the
gradient arriving at that stage's output: ∂C/∂Q = ∂C/∂S K/√d. The gradients at the names
(∂C/∂S, ∂C/∂A) are named quantities themselves, each defined by the engine's derivation of the
stage after it, so the result is what a TA writes and verification expands every name back into
the inputs (derive.concrete), checking the whole chain against sympy.diff of the definition.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from derive.calculus.fold import Named
from derive.definitions.model import IDX, Definition, Intermediate, Var
from derive.errors import unknown
from derive.steps import Derivation, Reason, step

_GRAD = ("i", "j")


def gradient_var(defn: Definition, var: Var) -> Var:
    """∂C/∂S as a variable of the shape of S, named like the engine's upstream gradient (dC_dS)."""
    return Var(f"d{defn.upstream}_d{var.name}", var.shape, role="upstream")


def _readers(defn: Definition, name: str) -> list:
    return [st for st in defn.stages if name in {v.name for v in st.inputs}]


def derive_staged(defn: Definition, wrt: str | None, derive_one) -> Derivation:
    """∂C/∂wrt through the stages (`derive_one(stage, name)` is the engine's derivation of one stage)."""
    names = [v.name for v in defn.inputs]
    wrt = wrt or names[0]
    if wrt not in names:
        raise unknown(f"variable for {defn.name}", wrt, names)
    memo: dict = {}

    def through(name: str) -> list:
        """The engine's derivation of each stage that reads `name`, with respect to it."""
        if name not in memo:
            memo[name] = [derive_one(st, name) for st in _readers(defn, name)]
        return memo[name]

    # the gradient at each name on the way back from the output, the nearest to the output first
    needed, frontier = [], [wrt]
    while frontier:
        for st in _readers(defn, frontier.pop()):
            if st.output.name != defn.output.name and st.output.name not in needed:
                needed.append(st.output.name)
                frontier.append(st.output.name)
    order = [st.output.name for st in reversed(defn.stages) if st.output.name in needed]
    gradients = []
    for name in order:
        var = defn.var(name)
        result = sp.Add(*(d.result for d in through(name)))
        gradients.append(Named(gradient_var(defn, var).symbol, tuple(IDX[c]
                                                                      for c in _GRAD[:var.rank]), result))
    parts = through(wrt)
    named = _forward(defn) + tuple(gradients)  # expanded last-first: ∂C/∂S, then ∂C/∂A, then A, S
    first = parts[0]
    if len(parts) == 1:
        steps = list(first.steps)
    else:  # several stages read the variable: their contributions add, step by step
        depth = max(len(d.steps) for d in parts)
        steps = []
        for n in range(depth):
            after = sp.Add(*(d.steps[min(n, len(d.steps) - 1)].after for d in parts))
            rules = [d.steps[n] for d in parts if n < len(d.steps)]
            reason = "; ".join(dict.fromkeys(_marked(s.reason) for s in rules))
            before = steps[-1].after if steps else first.lhs
            if after != before:
                steps.append(step(rules[0].rule, before, after, Reason(reason)))
        if steps:
            steps[0] = step("chain", first.lhs, steps[0].after, Reason(
                "each quantity that depends on $" + _spoken(wrt) + "$ contributes: " + _marked(steps[0].reason)))
    result = sp.Add(*(d.result for d in parts))
    if steps and steps[-1].after != result:
        steps.append(step("factor", steps[-1].after, result, Reason("collect the contributions")))
    shown = replace(defn, intermediates=defn.intermediates + tuple(
        Intermediate(gradient_var(defn, defn.var(nm)), g.index, g.expr) for nm, g in zip(order, gradients)))
    common = {"target": defn.name, "definition": shown, "body": defn.expr, "out_index": defn.index, "named": named,
                  "upstream": _upstream(defn), "cost": first.cost}
    # the gradient at each name, as a result of its own: stated beside the answer once its matrix form is checked
    through = tuple(Derivation(wrt=name, lhs=sp.Derivative(first.cost, defn.var(name).symbol[g.index]), steps=[], result=g.expr,
                               indices=g.index, **common) for name, g in zip(order, gradients))
    return Derivation(wrt=wrt, lhs=first.lhs, steps=steps, result=result, indices=first.indices,
                      conventions=defn.conventions, through=through, **common)


def posed_staged(defn: Definition, wrt: str, pose_one) -> Derivation:
    """What derive_staged answers, before any stage is derived (derive.calculus.engine.posed; `pose_one(stage,
    name)` the engine's posing of one stage): the left-hand side of the first stage that reads `wrt`, the
    definition's body and its stages' outputs as names; no steps, no result."""
    first = pose_one(_readers(defn, wrt)[0], wrt)
    return Derivation(target=defn.name, wrt=wrt, lhs=first.lhs, steps=[], result=None, definition=defn,
                      body=defn.expr, out_index=defn.index, named=_forward(defn), upstream=_upstream(defn),
                      cost=first.cost, indices=first.indices, conventions=defn.conventions)


def _forward(defn: Definition) -> tuple:
    """The stages' outputs but the definition's own, as names."""
    return tuple(Named(st.output.symbol, st.index, st.expr) for st in defn.stages if st.output.name != defn.output.name)


def _upstream(defn: Definition) -> Var:
    return gradient_var(defn, defn.output)


def _spoken(name: str) -> str:
    from derive.model.notation import spoken

    return spoken(name)


def _marked(reason) -> str:
    """A reason with its formulas between $ signs, to be joined with others (a sheet sets them as math);
    one holding SymPy formulas (⟦n⟧) as plain text, as their numbers would clash once joined."""
    return str(reason) if getattr(reason, "formulas", ()) else getattr(reason, "marked", str(reason))
