"""Fold named quantities back into a derivative: exp(βx_i)/Σ_k exp(βx_k) → y_i, 1/(1+e^{-x}) → y."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import sympy as sp

from derive.calculus.budget import FOLD_SECONDS, within
from derive.calculus.sums import contract_deltas, distribute, fixed_dummy, replace_sum
from derive.definitions.model import entry_at


@dataclass(frozen=True)
class Named:
    """`symbol[index] = expr`: a quantity the answer should be written in."""

    symbol: sp.Basic  # IndexedBase or Symbol
    index: tuple
    expr: sp.Expr

    def at(self, idx) -> sp.Expr:
        return self.symbol[idx] if self.index else self.symbol

    def expr_at(self, idx) -> sp.Expr:
        """The definition at `idx` (a summation index it would capture renamed first); at its own index, the
        definition itself (xreplace would rebuild it whole, each index mapped to itself)."""
        return self.expr if tuple(idx) == self.index else entry_at(self.expr, self.index, idx)


def _indices(expr: sp.Expr) -> set:
    out = set()
    for ind in expr.atoms(sp.Indexed):
        out |= {a for a in ind.indices if isinstance(a, sp.Symbol)}
    out |= {a for kd in expr.atoms(sp.KroneckerDelta) for a in kd.args if isinstance(a, sp.Symbol)}
    return out


def fold_direct(expr: sp.Expr, named: Named) -> sp.Expr:
    """Replace each occurrence of the definition, at any index, by its name."""
    if not named.index:
        return expr.xreplace({named.expr: named.symbol})
    return expr.xreplace({named.expr_at(idx): named.at(idx) for idx in _index_tuples(expr, named)})


def _index_tuples(expr: sp.Expr, named: Named, extra: set = frozenset()) -> list:
    """Every tuple of the expression's indices a named quantity may be taken at (A_ik: pairs)."""
    found = _indices(expr) | set(extra)
    return list(itertools.product(sorted(found, key=str), repeat=len(named.index)))


def _quotient(expr: sp.Expr, index) -> tuple | None:
    num, den = sp.fraction(expr)
    if den == 1 or index[-1] in den.free_symbols:
        return None
    return num, den


def fold_quotient(expr: sp.Expr, named: Named) -> sp.Expr:
    """For y_i = N(i)/D with D free of i: N(m) → y_m D for every index m, and D cancels. For a
    quantity with several indices (a row-wise softmax A_ik), D may depend on the leading ones (the row)."""
    for outer, inverse in ((lambda e: e, lambda e: e), (sp.exp, sp.exp)):
        # exp(log-softmax) is a quotient too: exp(y_i) = N(i)/D.
        inner = sp.expand_log(outer(named.expr), force=True) if outer is sp.exp else named.expr
        parts = _quotient(sp.powsimp(inner), named.index)
        if parts is None:
            continue
        num, den = parts
        rows = [n for n, s in enumerate(named.index) if s in den.free_symbols]
        work, holders = expr, {}
        for idx in _index_tuples(expr, named, set(named.index)):
            row = tuple(idx[n] for n in rows)
            if row not in holders:
                at = den.xreplace({named.index[n]: idx[n] for n in rows})
                holders[row] = _standing_for(at)
                work = replace_sum(work, at, holders[row]) if isinstance(at, sp.Sum) else work.xreplace(
                    {at: holders[row]})
        subs = {num.xreplace(dict(zip(named.index, idx))): inverse(named.at(idx)) * holders[tuple(idx[n] for n in rows)]
                for idx in _index_tuples(work, named, set(named.index))}
        work = contract_deltas(distribute(work.xreplace(subs)))
        if not any(work.has(h) for h in holders.values()):
            return work
    return expr


def _standing_for(den: sp.Expr) -> sp.Dummy:
    """A symbol for the denominator while it cancels, with its sign as far as SymPy knows it (Σ_k e^{x_k} is
    positive): a step function 𝟙[C + e^{x_l}/D − …] rebuilt around it then knows its argument real, where
    for a symbol of unknown sign SymPy works out the argument's imaginary part (hinge: 0.03 s)."""
    if den.is_positive:
        return sp.Dummy("D", positive=True)
    return sp.Dummy("D", real=True) if den.is_real else sp.Dummy("D")


def fold_solve(expr: sp.Expr, named: Named, variable: sp.Basic) -> sp.Expr:
    """Elementwise: solve y = f(x) for a subexpression u(x) of f, substitute, keep if x is gone.

    For y = 1/(1 + e^{-x}): e^{-x} = (1 - y)/y, so e^{-x}/(1 + e^{-x})² = y(1 - y).
    """
    return _accept(expr, expr.xreplace(solutions(expr, named, variable)), variable)


def fold_jointly(expr: sp.Expr, named: tuple, variable: sp.Basic) -> sp.Expr:
    """Every named quantity at once (GELU: erf through Φ and the Gaussian through φ; negative sampling:
    σ(u_oᵀv) and each σ(u_kᵀv)), for a result that no single one of them frees of the variable."""
    subs: dict = {}
    for nm in named:
        subs |= {u: v for u, v in solutions(expr, nm, variable).items() if u not in subs}
    return _accept(expr, expr.xreplace(subs), variable) if subs else expr


def _accept(expr: sp.Expr, work: sp.Expr, variable: sp.Basic) -> sp.Expr:
    # x may stay as a factor (SiLU: x σ(1 − σ)), never inside an exp or a log
    if work == expr or not _rational_in_names(work) or _transcendental_in(work, variable):
        return expr
    work = work.replace(lambda e: isinstance(e, sp.Sum),  # (q/(1 − q))/(q/(1 − q) + 1) = q inside a sum too
                        lambda e: sp.Sum(sp.factor(sp.cancel(e.function)), *e.limits))
    work = sp.factor(sp.cancel(work))
    return work if sp.count_ops(work) <= sp.count_ops(expr) else expr


_U = sp.Dummy("u")


def solutions(expr: sp.Expr, named: Named, variable: sp.Basic) -> dict:
    """u → its value in the names, for each subexpression u of the named quantity's definition
    that `expr` holds and that y = f(u) determines alone (e^{−x} = (1 − σ)/σ; e^{x} = σ/(1 − σ))."""
    index_sets = _index_tuples(expr, named) if named.index else [()]
    subs = {}
    for idx in index_sets:
        definition = named.expr_at(idx) if idx else named.expr
        y = named.at(idx)
        for u, target, by in _candidates(definition, variable):
            if u in subs or not expr.has(u) or definition.xreplace({target: sp.Dummy()}).has(variable):
                continue  # solving for u gives u in terms of y alone only when u holds all of the variable
            sols = _solve_for(target, by, y, definition)
            if sols is not None and len(sols) == 1 and not sols[0].has(variable):
                subs[u] = sols[0]
    return subs


def _candidates(definition: sp.Expr, variable: sp.Basic) -> list:
    """(u, the subexpression replaced, by what in _U): each subexpression, and e^{−a} beside e^{a}.

    Not a term of a sum (u_l v_l inside Σ_l): y determines the sum, never one of its terms, so there
    is nothing to solve for (SymPy's solve, asked, finds no solution, and takes its time to say so)."""
    bound = {lim[0] for s in sp.preorder_traversal(definition) if isinstance(s, sp.Sum)
             for lim in s.limits} - definition.free_symbols
    out = []
    for a in sp.preorder_traversal(definition):
        if (isinstance(a, sp.Expr) and a.has(variable) and not a.is_Atom and not isinstance(a, sp.Indexed)
                and a != definition and not a.free_symbols & bound):
            out.append((a, a, _U))
            if isinstance(a, sp.exp):
                out.append((sp.exp(-a.args[0]), a, 1 / _U))
    return out


@functools.lru_cache(maxsize=256)
def _solve_for(target: sp.Expr, by: sp.Expr, y: sp.Expr, definition: sp.Expr) -> tuple | None:
    """The solutions for _U of y = definition with `target` written as `by`; None when SymPy cannot
    say within its time budget. Remembered: the same activation is folded for every part and
    network that uses it."""

    def solve():
        equation = definition.xreplace({target: by})
        inverted = _inverted_for(equation, y)
        if inverted is not None:
            return inverted
        try:
            return tuple(sp.solve(sp.Eq(y, equation), _U))
        except (NotImplementedError, StopIteration, ValueError, TypeError):  # SymPy's solve fails on some sums
            return None

    return within(FOLD_SECONDS, solve, None)


def _inverted_for(equation: sp.Expr, y: sp.Expr) -> tuple | None:
    """`_inverted` for a stand-in of y that has y's assumptions, y then put back: the gates of a GRU
    (σ(a_r[i]), σ(a_z[k]), …) are one equation with different names on the left, inverted once."""
    stand_in = fixed_dummy("y", **y.assumptions0)  # the same stand-in, and so the same memory, on every call
    found = _inverted(equation, stand_in)
    return None if found is None else tuple(s.xreplace({stand_in: y}) for s in found)


@functools.lru_cache(maxsize=256)
def _inverted(equation: sp.Expr, y: sp.Expr) -> tuple | None:
    """The real solutions for _U of y = equation when SymPy's invert_real undoes it function by function
    (1/(e^u + 1) = y: u = log(1/y − 1)); None when it cannot isolate _U, for sympy.solve to try.

    The inversion needs no polynomial solving and no check of its solutions by substitution, which is
    what makes sympy.solve's first call cost 0.15–0.25 s (it imports sympy.physics.units)."""
    from sympy.solvers.solveset import invert_real

    try:
        isolated, solutions = invert_real(equation, y, _U)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if isolated != _U:
        return None
    if isinstance(solutions, sp.Intersection) and sp.S.Reals in solutions.args:
        solutions = sp.Intersection(*(a for a in solutions.args if a != sp.S.Reals))
    return tuple(solutions) if isinstance(solutions, sp.FiniteSet) else None


def _transcendental_in(expr: sp.Expr, variable: sp.Basic) -> bool:
    """Whether the variable still sits inside a function other than a power: then nothing was folded."""
    return any(isinstance(f, sp.Function) and f.has(variable) for f in sp.preorder_traversal(expr))


def _rational_in_names(expr: sp.Expr) -> bool:
    """y(1 − y) and 1 − y² are what a person writes; 1 − e^{−y} is not, so keep σ(x) there."""
    return not any(isinstance(f, (sp.exp, sp.log)) or (isinstance(f, sp.Pow) and not f.exp.is_integer)
                   for f in sp.preorder_traversal(expr) if isinstance(f, sp.Basic))


def fold_piecewise(expr: sp.Expr, named: Named, variable: sp.Symbol) -> sp.Expr:
    """Fold branch by branch when the definition and its derivative share their conditions."""
    if not (isinstance(expr, sp.Piecewise) and isinstance(named.expr, sp.Piecewise)):
        return expr
    if [c for _, c in expr.args] != [c for _, c in named.expr.args]:
        return expr
    pieces = []
    for (d, cond), (f, _) in zip(expr.args, named.expr.args):
        branch = Named(named.symbol, (), f)
        pieces.append((fold_solve(fold_direct(d, branch), branch, variable), cond))
    return sp.Piecewise(*pieces)


def fold(expr: sp.Expr, named: Named, variable: sp.Basic) -> sp.Expr:
    """Write `expr` in terms of `named` where that removes the variable differentiated by."""
    out = fold_direct(expr, named)
    if named.index:
        out = fold_quotient(out, named)
    if isinstance(named.expr, sp.Piecewise):
        return fold_piecewise(out, named, variable)
    return fold_solve(out, named, variable) if _transcendental_in(out, variable) else out


def fold_all(expr: sp.Expr, named: tuple, variable: sp.Basic, prepare=None) -> sp.Expr:
    """Each named quantity in turn (after `prepare(expr, named)`, e.g. folding batch statistics), then
    all of them together where the variable is still inside a function."""
    for nm in named:
        expr = fold(prepare(expr, nm) if prepare else expr, nm, variable)
    if _transcendental_in(expr, variable) and len(named) > 1:
        expr = fold_jointly(expr, named, variable)
    return expr


def apply_constraint(expr: sp.Expr, lhs: sp.Expr, rhs: sp.Expr) -> sp.Expr:
    """Σ_k y_k → 1 wherever that sum appears, whatever its dummy index."""
    if isinstance(lhs, sp.Sum):
        return replace_sum(expr, lhs, rhs)
    return expr.xreplace({lhs: rhs})
