"""Verification of a staged derivation (attention, the LSTM and GRU cells) stage by stage.

Each gradient that is stated — the result ∂C/∂Q and every gradient at a name (∂C/∂S, ∂C/∂A) — is
compared by value with the sum, over the stages of the definition that read that quantity, of
`sympy.diff` of the stage's own definition, taken of the gradient arriving at the stage's output
(free entries, as random as the inputs): ∂C/∂S_e = Σ_st ∂/∂S_e Σ_c ∂C/∂A_c A_c(S). The readers are
found here from the definition's stages, not from the derivation, so a dropped reader or a wrong
contraction fails; the names (S, A) are given their values through the stages first. By the chain
rule, every stated gradient right as a function of the one arriving means the result, each name
expanded, is the gradient of the whole definition; central finite differences of the whole
definition (derive.verify) and `check_whole_at_one_point` (sympy.diff of the whole definition at one
point) check that end to end. Each stage is small, so its sympy.diff takes milliseconds where the
expanded definition's takes seconds. `NamedValues` evaluates the named quantities through their own
definitions, for the matrix-form checks and the finite differences.
"""

from __future__ import annotations

import math
import random

import sympy as sp

from derive.concrete import assignments, entries, leaves, sample, written, wrt_entry
from derive.definitions.model import Definition, Var
from derive.numpy_lambdify import compile_mp
from derive.steps import Derivation

AGREE = 1e-20  # as derive.verify: the stated gradient and the stages' sympy.diff agree to this relative difference
DIGITS = 40  # ... each evaluated to this many digits


class StageError(AssertionError):
    """A stated gradient that differs from the stages' sympy.diff (raised as derive.verify's VerificationError)."""


def staged(d: Derivation) -> bool:
    """Whether `d` is checked stage by stage: a definition given as stages, no class index among its others."""
    defn = d.definition
    return bool(getattr(defn, "stages", ())) and not any(v.domain == "class" for v in defn.others)


def gradient_base(defn: Definition, name: str) -> sp.IndexedBase:
    """∂C/∂name as the engine names the gradient arriving at a stage's output (dC_dS)."""
    return Var(f"d{defn.upstream}_d{name}", defn.var(name).shape, role="upstream").symbol


def _readers(defn: Definition, name: str) -> list:
    return [st for st in defn.stages if name in {v.name for v in st.inputs}]


def _behind(defn: Definition, wrt: str) -> list:
    """The names whose gradient ∂C/∂wrt goes through: every stage output reachable from `wrt`, but the output."""
    out, frontier = [], [wrt]
    while frontier:
        for st in _readers(defn, frontier.pop()):
            name = st.output.name
            if name != defn.output.name and name not in out:
                out.append(name)
                frontier.append(name)
    return sorted(out)  # sorted: nothing depends on the order a walk found them in


def stated_gradients(d: Derivation) -> list:
    """(name, indices, stated expression) for the result and each gradient at a name; VerificationError
    if a gradient the result goes through is not stated, or is stated differently where the result
    expands it (d.named) and where it is printed (d.through)."""
    defn = d.definition
    through = {t.wrt: t for t in d.through}
    named = {nm.symbol: nm for nm in d.named}
    out = [(d.wrt, tuple(d.indices), d.result)]
    for name in _behind(defn, d.wrt):
        base = gradient_base(defn, name)
        if name not in through or base not in named:
            raise StageError(f"{d.target} ∂/∂{d.wrt}: the gradient at {name}, which the result goes through, "
                             "is not stated")
        t = through[name]
        if sp.expand(named[base].expr_at(tuple(t.indices)) - t.result) != 0:  # the same terms, maybe ordered apart
            raise StageError(f"{d.target} ∂/∂{d.wrt}: the gradient at {name} is stated as {t.result} but "
                             f"expanded as {named[base].expr}")
        out.append((name, tuple(t.indices), t.result))
    return out


def stages_claim(stages: int, whole: int, max_fd_error: float) -> str:
    """What a staged derivation's Report says was checked (derive.verify.Report)."""
    return (f"checked stage by stage: each of {stages} entries of the result and of the gradients at the names "
            "equals the sum, over the stages that read the quantity, of sympy.diff of that stage's definition "
            f"(by value at 3 random points, to 20 digits); the result equals sympy.diff of the whole definition "
            f"at {whole} index assignments at one random point, to 20 digits; central finite differences of the "
            f"whole definition agree within a relative error of {max_fd_error:.1e}")


def check_by_stages(d: Derivation, seed: int = 0, count: int = 3) -> int:
    """Every entry of each stated gradient against the sum of its readers' sympy.diff, by value at `count`
    points to DIGITS digits; the number of entries checked. VerificationError at the first disagreement."""
    from derive.verify import VerificationError

    try:
        return _check(d, random.Random(seed), count)
    except StageError as exc:
        raise VerificationError(str(exc)) from None


def _check(d: Derivation, rng: random.Random, count: int) -> int:
    defn = d.definition
    sizes = {s: int(v) for s, v in defn.sizes.items()}
    gradients = stated_gradients(d)
    behind = [name for name, _, _ in gradients[1:]]
    arriving = {name: gradient_base(defn, name) for name in behind}
    memo: dict = {}  # each stage's cost, written out once
    rows = []  # (name, entry, stated concrete, reference concrete)
    for name, indices, stated in gradients:
        var = defn.var(name)
        if name == d.wrt:
            table = [(a, wrt_entry(d, a)) for a in assignments(d)]
        else:
            table = [(dict(zip(indices, e.indices if var.shape else ())), e) for e in entries(var, defn.sizes)]
        for a, entry in table:
            rows.append((name, entry, _concrete(stated, {**sizes, **a}),
                         _reference(d, name, entry, arriving, memo, plain=True)))
    cells = {name: _gradient_cells(defn, name) for name in behind}  # the arriving gradients: free entries
    known = set(_entries(d)) | {e for c in cells.values() for e in c} | set(_forward_entries(defn))
    for name, entry, stated, _ in rows:
        unknown = _leaves(stated) - known
        if unknown:  # a gradient that is not checked, or a quantity the definition does not have
            raise StageError(f"{d.target} ∂/∂{name}: the stated gradient at {entry} names "
                             f"{', '.join(sorted(map(str, unknown)))}, which no checked stage defines")
    symbols = {e: sp.Symbol(f"_{e}", **e.assumptions0) for e in known}
    plain = set(symbols.values())
    for name, entry, _, r in rows:  # in the stages' plain symbols already (_stage_cost), each one a known entry's
        if not r.free_symbols <= plain:
            raise StageError(f"{d.target} ∂/∂{name}: a stage that reads {entry} reads "
                             f"{', '.join(sorted(map(str, r.free_symbols - plain)))}, which no stage defines")
    exprs = [e for _, _, s, r in rows for e in (s.xreplace(symbols), r)]
    order = sorted(known, key=str)
    evaluate = compile_mp(exprs, [symbols[e] for e in order], DIGITS)
    forward = _forward(defn)
    checked = 0
    for attempt in range(200):
        if checked == count:
            return len(rows)
        p = sample(defn, rng, d.upstream, widen=attempt * 3 // 200)
        values = dict(p.values)
        values.update({e: rng.choice((-1, 1)) * rng.uniform(0.2, 1.5) for name in behind for e in cells[name]})
        if not forward(values):
            continue
        got = evaluate([values[e] for e in order])
        if any(v is None or not _real(v) for v in got):
            continue
        for n, (name, entry, _, _) in enumerate(rows):
            g, w = complex(got[2 * n]), complex(got[2 * n + 1])
            if abs(g - w) > AGREE * (1 + abs(w)):
                raise StageError(f"{d.target} ∂/∂{d.wrt}: the gradient at {entry} is {g.real:.12g} as stated, "
                                 f"{w.real:.12g} by sympy.diff of the stages that read {name}")
        checked += 1
    raise StageError(f"{d.target} ∂/∂{d.wrt}: no sample point where the stated gradients and the stages' "
                     "sympy.diff are finite real numbers, so they could not be compared")


def _gradient_cells(defn: Definition, name: str) -> list:
    return entries(Var(f"d{defn.upstream}_d{name}", defn.var(name).shape, role="upstream"), defn.sizes)


def _entries(d: Derivation) -> list:
    """Every entry a sample point gives: the inputs', the others', the upstream gradient's."""
    defn = d.definition
    return [e for v in (*defn.inputs, *defn.others, d.upstream) for e in entries(v, defn.sizes)]


def _forward_entries(defn: Definition) -> list:
    return [e for st in defn.stages if st.output.name != defn.output.name for e in entries(st.output, defn.sizes)]


def _reference(d: Derivation, name: str, entry, arriving: dict, memo: dict, plain: bool = False) -> sp.Expr:
    """Σ over the stages that read `name` of sympy.diff of Σ_c ∂C/∂out_c · out_c(stage inputs) by `entry`;
    `plain`: in the plain symbols it is differentiated in (_stage_cost), not turned back into entries only to
    be turned into them again for compiling."""
    defn = d.definition
    total = sp.Integer(0)
    for st in _readers(defn, name):
        g = d.upstream.symbol if st.output.name == defn.output.name else arriving[st.output.name]
        if (st.name, g) not in memo:
            memo[st.name, g] = _stage_cost(st, g)
        terms, symbols = memo[st.name, g]
        if entry in symbols:  # only the terms that hold the entry: the others' derivatives are 0
            x = symbols[entry]
            part = sp.diff(sp.Add(*(t for t, free in terms if x in free)), x)
            total += part if plain else part.xreplace({s: e for e, s in symbols.items()})
    return total


def _stage_cost(st: Definition, g) -> tuple:
    """Σ_c g_c out_c of one stage, written out at its sizes, each entry a plain symbol: its terms, each with
    its free symbols, and the symbols."""
    body = g[st.index] * st.expr if st.index else g * st.expr
    cost = sp.Sum(body, *[(s, 1, n) for s, n in zip(st.index, st.output.shape)]) if st.index else body
    plain: dict = {}
    cost = _concrete(cost, {s: int(v) for s, v in st.sizes.items()}, plain)
    free = cost.free_symbols
    return [(t, t.free_symbols) for t in sp.Add.make_args(cost)], {e: s for e, s in plain.items() if s in free}


def _concrete(expr: sp.Expr, subs: dict, plain: dict | None = None) -> sp.Expr:
    """`expr` at `subs`, sums written out; where `plain` is given, each entry written as a plain symbol of its
    assumptions (_{K[1, 2]}) as it is made, and added to `plain`: not made as an Indexed and then rebuilt."""
    leaf = None
    if plain is not None:
        def leaf(e):
            if e not in plain:
                plain[e] = sp.Symbol(f"_{e}", **e.assumptions0)
            return plain[e]
    out = written(expr, subs, leaf)
    return out.doit() if out.has(sp.Sum, sp.Derivative, sp.KroneckerDelta) else out


def _compile_plain(exprs: list, plain: dict) -> tuple:
    """(the entries `exprs` depend on, by name; `exprs` compiled to mpmath as a function of them): `exprs` in
    the plain symbols of `plain` (_concrete)."""
    free = set().union(*(e.free_symbols for e in exprs))
    inputs = sorted((e for e, s in plain.items() if s in free), key=str)
    return inputs, compile_mp(exprs, [plain[e] for e in inputs], DIGITS)


def _leaves(expr: sp.Expr) -> set:
    return leaves(expr)


def _forward(defn: Definition):
    """A function that gives every name's entries their values through the stages, in forward order, to
    DIGITS digits (in place); False where a stage is undefined or not real at the point."""
    compiled = []
    sizes = {s: int(v) for s, v in defn.sizes.items()}
    for st in defn.stages:
        if st.output.name == defn.output.name:
            continue
        cells = entries(st.output, defn.sizes)
        plain: dict = {}
        exprs = [_concrete(st.expr, {**sizes, **dict(zip(st.index, c.indices if st.index else ()))}, plain)
                 for c in cells]
        compiled.append((cells, *_compile_plain(exprs, plain)))

    def run(values: dict) -> bool:
        for cells, inputs, f in compiled:
            got = f([values[e] for e in inputs])
            if any(v is None or not _real(v) for v in got):
                return False
            values.update({c: v.real if hasattr(v, "imag") else v for c, v in zip(cells, got)})
        return True

    return run


def _real(v) -> bool:
    import mpmath

    z = mpmath.mpc(v)
    return mpmath.isfinite(z) and abs(z.imag) <= mpmath.mpf(10) ** -12 * (1 + abs(z.real))


def composed_reference(d: Derivation, seed: int = 0) -> tuple:
    """(a sample point, every entry of ∂C/∂wrt at it, the values used) from the stages' own sympy.diff alone, joined by the
    chain rule: each name's gradient is evaluated, the nearest to the output first, from its readers'
    references and the gradients arriving at them; the value the checks above compare each stage with.
    Equals sympy.diff of the whole definition (tests); not what the checks use, which is the stated forms."""
    defn = d.definition
    rng = random.Random(seed)
    behind = _behind(defn, d.wrt)
    arriving = {name: gradient_base(defn, name) for name in behind}
    forward = _forward(defn)
    for attempt in range(200):
        p = sample(defn, rng, d.upstream, widen=attempt * 3 // 200)
        values = dict(p.values)
        if forward(values):
            break
    else:
        raise StageError(f"{d.target}: no sample point where every stage is a finite real number")
    memo: dict = {}
    order = [st.output.name for st in reversed(defn.stages) if st.output.name in behind]
    for name in [*order, d.wrt]:
        var = defn.var(name)
        cells = entries(var, defn.sizes)
        refs = [_reference(d, name, e, arriving, memo) for e in cells]
        inputs = sorted(set().union(*(_leaves(r) for r in refs)), key=str)
        symbols = {e: sp.Symbol(f"_{e}", **e.assumptions0) for e in inputs}
        got = compile_mp([r.xreplace(symbols) for r in refs], [symbols[e] for e in inputs], DIGITS)(
            [values[e] for e in inputs])
        if name != d.wrt:
            values.update(zip(_gradient_cells(defn, name), got))
    return p, dict(zip(cells, got)), values


_KINKS = (sp.Heaviside, sp.Max, sp.Min, sp.Piecewise, sp.Abs, sp.sign)
_STEPS: dict = {}  # NamedValues' compiled steps, by the named quantities and what a point gives
_EVALUATORS: dict = {}  # NamedValues.evaluator's compiled expressions, by the expressions, assignments and sizes


class NamedValues:
    """A staged derivation's named quantities (S, A, ∂C/∂A, ∂C/∂S) at a point, each entry from its own
    definition in d.named with the names before it given their values, and expressions in the names:
    the values the expanded expressions (derive.concrete.Concretizer) have, without expanding them, for
    the matrix-form checks. `of(d)` is None where that does not apply (no stages, a kink, a class index)."""

    def __init__(self, d: Derivation, steps: list):
        self.d, self.steps = d, steps
        self._table, self._result, self._last = None, None, (None, None)

    @classmethod
    def of(cls, d: Derivation) -> NamedValues | None:
        defn = d.definition
        if not staged(d) or not d.named:
            return None
        key = (d.named, d.upstream.name, tuple(sorted((str(s), int(v)) for s, v in defn.sizes.items())),
               tuple(v.name for v in (*defn.inputs, *defn.others)))
        if key not in _STEPS:  # the gradients at the names share the result's named quantities: made once
            if len(_STEPS) > 16:
                _STEPS.clear()
            _STEPS[key] = cls._steps(d)
        return None if _STEPS[key] is None else cls(d, _STEPS[key])

    @staticmethod
    def _steps(d: Derivation) -> list | None:
        defn = d.definition
        if not staged(d) or not d.named or any(st.expr.has(*_KINKS) for st in defn.stages):
            return None
        sizes = {s: int(v) for s, v in defn.sizes.items()}
        known = set(_entries(d))
        steps = []
        for nm in d.named:  # in the order each is defined: the forward names, then the gradients nearest Y first
            try:
                var = defn.var(nm.symbol.name)
            except KeyError:
                return None
            cells = entries(var, defn.sizes)
            plain: dict = {}
            # each entry's definition at its indices (integers: no summation index to capture, as expr_at renames)
            exprs = [_concrete(nm.expr, {**sizes, **dict(zip(nm.index, c.indices))} if var.shape else sizes, plain)
                     for c in cells]
            free = set().union(*(e.free_symbols for e in exprs))
            if not {e for e, s in plain.items() if s in free} <= known or _leaves(nm.expr) & set(cells):
                return None  # a name defined by a later one, or by itself: not a chain to evaluate in order
            steps.append((cells, *_compile_plain(exprs, plain)))
            known |= set(cells)
        return steps

    def at(self, values: dict) -> dict | None:
        """`values` with every named entry added (to DIGITS digits); None where one is not a finite real."""
        values = dict(values)
        for cells, inputs, f in self.steps:
            got = f([values[e] for e in inputs])
            if any(v is None or not _real(v) for v in got):
                return None
            values.update({c: v.real for c, v in zip(cells, got)})
        return values

    def evaluator(self, exprs: list, assignments_: list):
        """A function of `at`'s values giving each expression (in the names) at its assignment, as complex."""
        sizes = {s: int(v) for s, v in self.d.definition.sizes.items()}
        key = (tuple(exprs), tuple(tuple(sorted(a.items(), key=str)) for a in assignments_), tuple(sizes.items()))
        if key not in _EVALUATORS:  # the result's: for its matrix form, at one point and for finite differences
            if len(_EVALUATORS) > 64:
                _EVALUATORS.clear()
            plain: dict = {}
            _EVALUATORS[key] = _compile_plain([_concrete(e, {**sizes, **a}, plain)
                                               for e, a in zip(exprs, assignments_)], plain)
        inputs, f = _EVALUATORS[key]
        return lambda values: [complex(math.nan) if v is None else complex(v) for v in f([values[e] for e in inputs])]


    def result_at(self, assignment: dict, point) -> float:
        """The result at one index assignment at `point`, as a float (NaN where undefined): what
        derive.verify's finite differences compare with the whole definition's differences."""
        if self._table is None:
            self._table = assignments(self.d)
            self._result = self.evaluator([self.d.result] * len(self._table), self._table)
        if self._last[0] is not point:  # every assignment at one point: the names evaluated once
            found = self.at(point.values)
            self._last = (point, None if found is None else self._result(found))
        z = math.nan if self._last[1] is None else self._last[1][self._table.index(assignment)]
        return z.real if _real(z) else math.nan


def check_whole_at_one_point(d: Derivation, conc, seed: int = 0, refs=None) -> int:
    """The result against sympy.diff of the whole definition at every index assignment at one random point
    (derive.verify.diff_at), to DIGITS digits; the number of assignments. The result is evaluated in its
    names' values (NamedValues) where it can be, else expanded (derive.verify.by_value_at_points). `refs`:
    derive.verify.references, made from `seed` already."""
    from derive.verify import by_value_at_points

    rng = refs.rng if refs is not None else random.Random(seed)
    named = NamedValues.of(d)
    if named is None:
        return by_value_at_points(d, conc, rng, count=1, refs=refs)
    table = assignments(d)
    result = named.evaluator([d.result] * len(table), table)

    def closed(p):  # the result in its names' values
        found = named.at(p.values)
        return None if found is None else result(found)

    return by_value_at_points(d, conc, rng, count=1, closed=closed, refs=refs)

