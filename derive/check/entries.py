"""`softmax(θ)_j`, an entry of the softmax of a vector, rewritten before reading as e^{θ_j} / Σ_k e^{θ_k}.

Each vector of the argument is written at the entry (θ → θ_j, then θ_k inside the sum), so the answer
reads in index notation with the reader's own sums, ranges and index checks; a matrix, a transpose or
a name that is no vector in the argument is left for the reader to refuse.
"""

from __future__ import annotations

import dataclasses

from derive.check import parse as t

_LETTERS = "klmnpqrsuv"


def is_softmax_entry(node) -> bool:
    return isinstance(node, t.Sub) and isinstance(node.base, t.Func) and node.base.name == "softmax" \
        and not node.base.primes and node.base.power is None and len(node.base.args) == 1 and len(node.index) == 1


def _mapped(node, fn):
    """`node` with fn applied bottom-up to every node of the tree (tuples of nodes and rows included)."""
    def go(value):
        if isinstance(value, t.Node):
            fields = {f.name: go(getattr(value, f.name)) for f in dataclasses.fields(value)}
            return fn(dataclasses.replace(value, **fields))
        if isinstance(value, tuple):
            return tuple(go(v) for v in value)
        return value

    return go(node)


def _letters(node) -> set:
    found = set()

    def note(n):
        if isinstance(n, t.Word):
            found.add(n.text)
        elif isinstance(n, t.BigSum) and n.index:
            found.add(n.index)
        return n

    _mapped(node, note)
    return found


def _at(arg, index, vocab):
    """`arg` with each vector written whole (θ, ŷ) written at `index`; entries already written stay."""
    def vector(n) -> bool:
        name = n.text if isinstance(n, t.Word) else (n.base.text + "hat" if isinstance(n, t.Hat) and
                                                       isinstance(n.base, t.Word) else None)
        var = vocab.vars.get(name) if name else None
        return var is not None and len(var.shape) == 1

    def go(n):
        if isinstance(n, t.Sub):
            return n
        if vector(n):
            return t.Sub(n, (index,))
        fields = {f.name: (tuple(go(v) if isinstance(v, t.Node) else v for v in value) if isinstance(value, tuple)
                           else go(value) if isinstance(value, t.Node) else value)
                  for f in dataclasses.fields(n) for value in [getattr(n, f.name)]}
        return dataclasses.replace(n, **fields)

    return go(arg)


def softmax_entries(node, vocab, taken=()):
    """`node` with every softmax(v)_j written e^{v_j} / Σ_k e^{v_k}, k a letter the answer does not use
    (nor `taken`, the claim's free indices)."""
    if not any(is_softmax_entry(n) for n in nodes(node)):
        return node
    used = _letters(node) | set(taken)

    def rewrite(n):
        if not is_softmax_entry(n):
            return n
        k = next(c for c in _LETTERS if c not in used)
        used.add(k)
        arg = n.base.args[0]
        return t.Frac(t.Func("exp", (_at(arg, n.index[0], vocab),)),
                      t.BigSum(k, None, None, t.Func("exp", (_at(arg, t.Word(k), vocab),))))

    return _mapped(node, rewrite)


def nodes(node) -> list:
    """Every node of the tree under `node`, itself last."""
    seen: list = []
    _mapped(node, lambda n: seen.append(n) or n)
    return seen
