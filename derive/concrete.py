"""A derivation at concrete sizes: random points, index assignments, sums written out.

Verification (derive.verify), identity proofs (derive.calculus.identity), the answer checker and
worked examples all evaluate index-notation expressions the same way: sizes and indices replaced
by numbers, every sum with integer limits written out, named quantities (y_i, ŷ_i) expanded into
the inputs, then the value at a random point drawn with each variable's domain.
"""

from __future__ import annotations

import functools
import itertools
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from derive.definitions.model import Definition, Var

if TYPE_CHECKING:
    from derive.steps import Derivation


@dataclass(frozen=True)
class Point:
    """Concrete values for every variable of a definition, and for the upstream gradient."""

    values: dict  # sympy entry (Symbol or Indexed with integer indices) -> float
    classes: dict  # class-index Symbol -> int


def entries(var: Var, sizes: dict) -> list:
    """Every entry of `var`; the same objects each time, so dictionaries of points find them by identity."""
    return entry_list(var.symbol, tuple(int(sizes[s]) for s in var.shape))


@functools.lru_cache(maxsize=1024)
def entry_list(symbol, dims: tuple) -> list:
    """Every entry of `symbol` at the sizes `dims`, in order; one list for each, so its objects are shared."""
    if not dims:
        return [symbol]
    return [symbol[idx] for idx in itertools.product(*[range(1, n + 1) for n in dims])]


def sample(defn: Definition, rng: random.Random, upstream: Var | None = None, widen: int = 0) -> Point:
    """Random values with each variable's domain: both signs for reals, one-hot targets, …

    `widen` 1 draws the reals positive, 2 positive and ten times larger: where a definition is
    not real at both signs (a log, a root), points are drawn again so
    (derive.verify.point_away_from_kinks).
    """
    values, classes = {}, {}
    for var in (*defn.inputs, *defn.others) + ((upstream,) if upstream else ()):
        cells = entries(var, defn.sizes)
        if var.domain == "class":
            classes[var.symbol] = rng.randint(1, int(defn.sizes[var_size(defn)]))
            continue
        if var.domain == "onehot":
            hot = rng.randrange(len(cells))
            values.update({e: float(n == hot) for n, e in enumerate(cells)})
        elif var.domain == "prob":
            raw = [rng.uniform(0.2, 1.0) for _ in cells]
            values.update({e: r / sum(raw) for e, r in zip(cells, raw)})
        elif var.domain == "unit":
            values.update({e: rng.uniform(0.1, 0.9) for e in cells})
        elif var.domain == "positive":
            values.update({e: rng.uniform(0.5, 2.0) for e in cells})
        elif widen:
            values.update({e: rng.uniform(0.2, 1.5) * (10 if widen > 1 else 1) for e in cells})
        else:
            values.update({e: rng.choice((-1, 1)) * rng.uniform(0.2, 1.5) for e in cells})
    return Point(values, classes)


def var_size(defn: Definition):
    """The size a class index ranges over: the length of the scores."""
    return defn.inputs[0].shape[0]


def substitute_names(expr: sp.Expr, d: Derivation) -> sp.Expr:
    """Replace each named quantity (y_i, ŷ_i, p_i) by its definition, so only inputs remain."""
    for nm in reversed(d.named):
        if nm.index:
            expr = expr.replace(lambda e, base=nm.symbol: isinstance(e, sp.Indexed) and e.base == base,
                                lambda e, nm=nm: nm.expr_at(e.indices))
        else:
            expr = expr.xreplace({nm.symbol: nm.expr})
    return expr


def concrete(expr: sp.Expr, d: Derivation, assignment: dict, point: Point) -> sp.Expr:
    """`expr` at concrete sizes and indices, named quantities expanded, sums and ∂ evaluated."""
    return Concretizer(d)(expr, assignment, point.classes)


class Concretizer:
    """Concrete expressions of one derivation, each made once.

    Sums are written out while the named quantities (y_k, p_k) are still symbols, and each named
    entry is then expanded once and shared by every term that names it, instead of expanding the
    definition into the sum first and writing out its inner sums again in every term. An
    expression holding ∂ is expanded the plain way: its derivatives need the definitions inside.
    """

    def __init__(self, d: Derivation):
        self.d = d
        self._exprs: dict = {}
        self._entries: dict = {}
        self._named = {nm.symbol: nm for nm in d.named}
        self._inputs: dict = {}
        self._cost = None  # made on first use: a check that only reads named entries never needs it

    def __call__(self, expr: sp.Expr, assignment: dict, classes: dict | None = None) -> sp.Expr:
        # an assignment of indices `expr` lacks makes the same expression
        expr, named = self.inputs_only(expr)
        key = (expr, _items({k: v for k, v in assignment.items() if k in named}),
               _items({k: v for k, v in (classes or {}).items() if k in named}))
        if key not in self._exprs:
            self._exprs[key] = self._make(expr, assignment, classes or {})
        return self._exprs[key]

    def inputs_only(self, expr: sp.Expr) -> tuple:
        """A loss's output written as its body, the upstream cost as the linear cost it stands for;
        and every symbol the expression names. Not `free_symbols`: ∂/∂s_i binds the i of its variable
        there, yet the expression depends on it."""
        if expr not in self._inputs:
            d, defn, out = self.d, self.d.definition, expr
            if defn.kind == "loss":
                out = out.xreplace({defn.output.symbol: d.body})
            if d.cost is not None:
                if self._cost is None:  # a linear cost with ∂C/∂y = g stands for an arbitrary one
                    self._cost = d.scale * _linear_cost(d)
                out = out.xreplace({d.cost: self._cost})
            self._inputs[expr] = out, out.atoms(sp.Symbol)
        return self._inputs[expr]

    def _subs(self, assignment: dict, classes: dict) -> dict:
        return {**{s: int(v) for s, v in self.d.definition.sizes.items()}, **assignment, **classes}

    def _make(self, expr: sp.Expr, assignment: dict, classes: dict) -> sp.Expr:
        subs = self._subs(assignment, classes)
        if expr.has(sp.Derivative) and getattr(self.d.definition, "stages", ()):
            # a stage's derivative is partial: the other stages' names (a GRU's r in a_h) held fixed
            return self._expand_named(unroll(expr.xreplace(subs)).doit(), classes)
        if expr.has(sp.Derivative):
            return unroll(substitute_names(expr, self.d).xreplace(subs)).doit()
        return self._expand_named(written(expr, subs), classes)

    def _expand_named(self, expr: sp.Expr, classes: dict) -> sp.Expr:
        entries = [e for e in expr.atoms(sp.Indexed, sp.Symbol)
                   if (e.base if isinstance(e, sp.Indexed) else e) in self._named]
        if entries:
            expr = expr.xreplace({e: self._entry(e, classes) for e in entries})
        return expr.doit() if expr.has(sp.Sum, sp.Derivative) else expr

    def _entry(self, e, classes: dict) -> sp.Expr:
        """A named entry (y[2], or a scalar name) as an expression in the inputs, made once."""
        key = (e, _items(classes))
        if key not in self._entries:
            nm = self._named[e.base if isinstance(e, sp.Indexed) else e]
            body = nm.expr_at(e.indices) if isinstance(e, sp.Indexed) else nm.expr
            self._entries[key] = self._expand_named(written(body, self._subs({}, classes)), classes)
        return self._entries[key]


def _items(mapping: dict) -> tuple:
    return tuple(sorted(mapping.items(), key=str))


def unroll(expr: sp.Expr) -> sp.Expr:
    """Write every sum with integer limits out term by term (SymPy's own delta summation can
    recurse without end on sums of Kronecker deltas)."""

    def one(s):
        body = s.function
        for k, lo, hi in s.limits:
            body = sp.Add(*[body.xreplace({k: v}) for v in range(int(lo), int(hi) + 1)])
        return body

    return expr.replace(lambda e: isinstance(e, sp.Sum), one)


def written(expr: sp.Expr, subs: dict, leaf=None) -> sp.Expr:
    """`unroll(expr.xreplace(subs))` (`subs`: symbols to integers, sizes and indices) built in one pass from
    the leaves up, each entry (K[1, 2], a scalar x) as `leaf(entry)` where `leaf` is given (a plain symbol, a
    number). Each node is made once, with its children final: xreplace and unroll rebuild the whole tree
    twice over, and every rebuilt exp or tanh of a sum asks SymPy's assumptions of it again (most of a
    concrete definition's time); an entry is made once per base and indices (an Indexed asks its
    assumptions as it is made). A subtree is made once for the indices it reads (a softmax's denominator
    in every term). A sum's bound index shadows `subs`."""
    made: dict = {}
    names: dict = {}
    leaf = leaf or (lambda e: e)

    def symbols(e) -> frozenset:  # the symbols a subtree names, bound or not: what its making can depend on
        if e not in names:
            names[e] = (frozenset((e,)) if isinstance(e, sp.Symbol)
                        else frozenset().union(*map(symbols, e.args)))
        return names[e]

    def make(e, env: dict):
        if e.is_Atom and not isinstance(e, (sp.Symbol, sp.Indexed)):
            return e
        key = (e, tuple((s, env[s]) for s in symbols(e) if s in env))
        if key in made:
            return made[key]
        if isinstance(e, sp.Indexed):
            idx = tuple(env.get(i, i) if i.is_Symbol else i.xreplace(env) for i in e.indices)
            if all(i is j for i, j in zip(idx, e.indices)):
                out = leaf(e)
            else:
                out = leaf(_at(e.base, idx) if all(i.is_Integer for i in idx) else e.base[idx])
        elif isinstance(e, sp.Symbol):
            out = env[e] if e in env else leaf(e)
        elif isinstance(e, sp.Sum):
            envs = [env]
            for k, lo, hi in e.limits:
                envs = [{**x, k: sp.Integer(v)} for x in envs
                        for v in range(int(lo.xreplace(x)), int(hi.xreplace(x)) + 1)]
            out = sp.Add(*[make(e.function, x) for x in envs])
        else:  # as xreplace: a node none of whose children changed is kept as it is (unevaluated, say)
            args = [make(a, env) for a in e.args]
            if all(a is b for a, b in zip(args, e.args)):
                out = e
            elif isinstance(e, (sp.Max, sp.Min)) and not all(a.is_number for a in args) and len(set(args)) == len(args):
                out = e.func(*args, evaluate=False)  # comparing symbolic arguments asks SymPy's assumptions
            else:
                out = e.func(*args)
        made[key] = out
        return out

    return make(expr, {k: sp.Integer(v) for k, v in subs.items()})


def leaves(expr: sp.Expr) -> set:
    """The entries an expression's value depends on (Q[1, 2], a scalar x), not the bases they index: the
    atoms of its Indexed and its free symbols but their bases' labels, found in one walk of its distinct
    subtrees (`free_symbols` makes a set at every node, and an Indexed's again from its assumptions)."""
    out, seen, stack = set(), set(), [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, sp.Indexed):
            out.add(e)
            out |= set().union(*(i.free_symbols for i in e.indices))
        elif isinstance(e, sp.Symbol):
            out.add(e)
        elif isinstance(e, (sp.Sum, sp.Product, sp.Integral, sp.Lambda, sp.Subs)):  # binds symbols: SymPy's own
            out |= e.free_symbols | e.atoms(sp.Indexed)
        elif not e.is_Atom:
            for a in e.args:
                if a not in seen:
                    seen.add(a)
                    stack.append(a)
    return out - {e.base.label for e in out if isinstance(e, sp.Indexed)}


@functools.lru_cache(maxsize=4096)
def _at(base: sp.IndexedBase, idx: tuple) -> sp.Indexed:
    """base[idx], one object for each entry."""
    return base[idx]


def _linear_cost(d: Derivation) -> sp.Expr:
    defn = d.definition
    idx = tuple(sp.Dummy(f"c{n}", integer=True) for n in range(defn.output.rank))
    body = d.upstream.symbol[idx] * d.body.xreplace(dict(zip(d.out_index, idx)))
    for s, hi in zip(idx, defn.output.shape):
        body = sp.Sum(body, (s, 1, hi))
    return body


def value(expr: sp.Expr, point: Point, prec: int = 30) -> complex:
    return complex(sp.N(expr.xreplace({k: sp.Float(v, prec) for k, v in point.values.items()}), prec))


def assignments(d: Derivation) -> list[dict]:
    """Every assignment of the result's free indices at the concrete sizes."""
    shape = d.definition.var(d.wrt).shape
    free = list(d.indices)
    ranges = [range(1, int(d.definition.sizes[s]) + 1) for s in shape]
    if d.definition.kind == "activation" and d.definition.index:
        out = d.definition.output.shape
        free = [d.lhs.expr.indices[0], *free]
        ranges = [range(1, int(d.definition.sizes[out[0]]) + 1), *ranges]
    return [dict(zip(free, combo)) for combo in itertools.product(*ranges)]


def wrt_entry(d: Derivation, assignment: dict) -> sp.Expr:
    var = d.definition.var(d.wrt)
    return var.symbol[tuple(assignment[s] for s in d.indices)] if d.indices else var.symbol
