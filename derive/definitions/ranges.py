"""Index arithmetic stays inside its variable at the sizes a definition is checked at.

x[i + k − 1] with i ≤ M and k ≤ K reaches x_{M+K−1}: at sizes where x is shorter the definition
names entries that do not exist, and its check would fail with a KeyError deep in verification.
Here it is one line naming the entry, the sizes and the size that fits.
"""

from __future__ import annotations

import itertools

import sympy as sp

from derive.errors import DeriveError


def _ranges(defn) -> dict:
    """Each index symbol's (lo, hi) range: the output's indices over its shape, summation indices
    over their limits (limits that depend on other indices are left out)."""
    out = {s: (sp.Integer(1), d) for s, d in zip(defn.index, defn.output.shape) if isinstance(s, sp.Symbol)}
    for e in sp.preorder_traversal(defn.expr):
        if isinstance(e, sp.Sum):
            out.update({v: (lo, hi) for v, lo, hi in e.limits})
    return out


def check_index_ranges(defn) -> None:
    """DeriveError when an arithmetic index (x[i + k − 1]) runs outside its variable at `defn.sizes`."""
    sizes = {s: int(v) for s, v in defn.sizes.items()}
    ranges = _ranges(defn)
    shapes = {v.symbol.label if v.shape else v.symbol: v.shape for v in (*defn.inputs, *defn.others)}
    for ind in sorted(defn.expr.atoms(sp.Indexed), key=sp.default_sort_key):
        shape = shapes.get(ind.base.label, ())
        for pos, (index, d) in enumerate(zip(ind.indices, shape)):
            if isinstance(index, sp.Symbol):
                continue
            symbols = sorted(index.free_symbols, key=lambda s: s.name)
            bounds = [ranges.get(s) for s in symbols]
            if any(b is None for b in bounds):
                continue
            corners = [[int(sp.sympify(v).xreplace(sizes)) for v in b] for b in bounds]
            values = [int(index.xreplace(dict(zip(symbols, c)))) for c in itertools.product(*corners)]
            size = sizes[d]
            if min(values) < 1 or max(values) > size:
                at = ", ".join(f"{k} = {v}" for k, v in sorted((str(k), v) for k, v in sizes.items()))
                reach = min(values) if min(values) < 1 else max(values)
                raise DeriveError(
                    f"{ind} reaches entry {reach} of axis {pos + 1} of {ind.base}, which has {d} = {size} "
                    f"entries at {at}; choose sizes that fit (sizes={{'{d}': {max(values)}}} if the index "
                    f"starts at 1)")


def has_index_arithmetic(defn) -> bool:
    """Whether an entry is indexed by arithmetic (x_{i+k−1}): no product of whole matrices reads it."""
    return any(not isinstance(s, sp.Symbol) for e in defn.expr.atoms(sp.Indexed) for s in e.indices)
