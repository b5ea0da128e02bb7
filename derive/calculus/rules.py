"""One level of a differentiation rule, left unevaluated so a step can show it.

`rule_step(Derivative(N/D, x_j))` gives `("quotient", (D ∂N − N ∂D)/D²)` with the inner
derivatives still written as ∂ — the next step evaluates them.
"""

from __future__ import annotations

import sympy as sp

# Formulas between $ signs are set as math on a printed sheet (derive.steps.Reason).
REASONS = {
    "sum": "the derivative of a sum is the sum of the derivatives",
    "constant": "constant factors come out of the derivative",
    "quotient": "quotient rule: $(N/D)′ = (N′D − ND′)/D²$",
    "product": "product rule: $(fg)′ = f′g + fg′$",
    "chain": "chain rule: $f(u)′ = f′(u) u′$",
    "power": "power rule with the chain rule: $(uⁿ)′ = n uⁿ⁻¹ u′$",
}


def _d(expr, var):
    return sp.Derivative(expr, var, evaluate=False) if expr.has(_base(var)) else sp.Integer(0)


def _base(var):
    return var.base if isinstance(var, sp.Indexed) else var


def rule_for(expr: sp.Expr, var) -> tuple[str, sp.Expr] | None:
    """The name of the rule that applies at the top of `expr`, and what it gives."""
    if isinstance(expr, sp.Sum):
        return "sum", sp.Sum(_d(expr.function, var), *expr.limits)
    if isinstance(expr, sp.Add):
        return "sum", sp.Add(*[_d(t, var) for t in expr.args if t.has(_base(var))], evaluate=False)
    if isinstance(expr, sp.Mul):
        const = [f for f in expr.args if not f.has(_base(var))]
        vary = [f for f in expr.args if f.has(_base(var))]
        num, den = sp.fraction(sp.Mul(*vary))
        if den != 1 and den.has(_base(var)):
            body = (_d(num, var) * den - num * _d(den, var)) / den**2
            return "quotient", sp.Mul(*const) * body
        if const:
            return "constant", sp.Mul(*const) * _d(sp.Mul(*vary), var)
        if len(vary) > 1:
            terms = [sp.Mul(*(vary[:n] + [_d(f, var)] + vary[n + 1:])) for n, f in enumerate(vary)]
            return "product", sp.Add(*terms, evaluate=False)
    if isinstance(expr, sp.Pow) and not expr.exp.has(_base(var)):
        base, exp = expr.args
        return "power", exp * base ** (exp - 1) * _d(base, var)
    if isinstance(expr, sp.Function) and len(expr.args) == 1 and not isinstance(expr.args[0], sp.Symbol | sp.Indexed):
        (u,) = expr.args
        U = sp.Dummy("u")
        outer = sp.diff(expr.func(U), U).xreplace({U: u})
        return "chain", outer * _d(u, var)
    return None


def apply_rule(expr: sp.Expr) -> tuple[str | None, sp.Expr]:
    """Apply one rule to each unevaluated derivative in `expr`; the rule names used, joined."""
    used = []

    def one(d):
        found = rule_for(d.expr, d.variables[0])
        if found is None:
            return d
        used.append(found[0])
        return found[1]

    out = expr.replace(lambda e: isinstance(e, sp.Derivative), one)
    names = [r for r in dict.fromkeys(used)]
    return (", ".join(names) if names else None), out


def evaluate_derivatives(expr: sp.Expr) -> sp.Expr:
    """Differentiate what is still written as ∂, keeping sums as sums (no Piecewise)."""
    out = expr.replace(lambda e: isinstance(e, sp.Derivative), lambda d: sp.diff(d.expr, *d.variables))
    # ReLU′(0) = 0: the step function is 0 at 0 (stated as a convention).
    out = out.replace(lambda e: isinstance(e, sp.Heaviside) and e.args[1:] != (0,),
                      lambda h: sp.Heaviside(h.args[0], 0))
    # sign′(u) = 2δ(u) is 0 wherever it is defined (u ≠ 0), as a step's derivative off its threshold
    return out.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero) if out.has(sp.DiracDelta) else out
