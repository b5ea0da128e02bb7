"""Names that carry their own subscript, read as one name: a gate's W_f, b_f, a_f (so ∂C/∂a_f and
(W_f)_ij), and a recurrent cell's previous state h_{t−1} (hprev), c_{t−1} (cprev).

The parser takes W_f as W with the index f. Where the definition has a variable W_f and none called
W, that subscript can only be part of the name; h_{t−1} names the previous state where the definition
has one (t − 1 is no index of any gradient here). Everything else is left as written.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace

from derive.check import parse as t
from derive.check.screen import InvalidAnswer


def own_names(node: t.Node, defn) -> t.Node:
    """`node` with every subscript that is part of a name of `defn` joined to its name.

    h′ (or c′) where the definition has a previous state is refused in one line: texts write h′ for the
    previous state, for the new one and for a derivative, and no reading of it is safe."""
    names = {v.name for v in defn.variables}
    if not any("_" in n or n.endswith("prev") for n in names):
        return node
    primed = _primed_state(node, {n[:-len("prev")] for n in names if n.endswith("prev")})
    if primed is not None:
        raise InvalidAnswer(f"{primed}′ could be the previous state, the new one or a derivative: write the previous "
                            f"state {primed}_{{t-1}} (or {primed}_{{t−1}})")
    return _map(node, names)


def _primed_state(value, states: set):
    """The first state letter (h, c) written with a prime in `value` — h′, h′_j, h_j′, ∂C/∂h′ — or None."""
    if isinstance(value, tuple):
        return next((s for s in (_primed_state(v, states) for v in value) if s is not None), None)
    if not (isinstance(value, t.Node) and is_dataclass(value)):
        return None
    if isinstance(value, t.Prime):
        target = value.a.den.a if isinstance(value.a, t.Frac) and isinstance(value.a.den, t.Partial) else value.a
        target = target.base if isinstance(target, t.Sub) else target
        if isinstance(target, t.Word) and target.text in states:
            return target.text
    if isinstance(value, t.Func) and value.primes and value.name in states:
        return value.name
    return _primed_state(tuple(getattr(value, f.name) for f in fields(value)), states)


def _map(value, names):
    if isinstance(value, tuple):
        return tuple(_map(v, names) for v in value)
    if not (isinstance(value, t.Node) and is_dataclass(value)):
        return value
    if isinstance(value, t.Sub):
        base, index = _map(value.base, names), _map(value.index, names)
        joined = _joined(base, index, names) if isinstance(base, t.Word) else None
        return joined if joined is not None else t.Sub(base, index)
    return replace(value, **{f.name: _map(getattr(value, f.name), names) for f in fields(value)})


def _joined(base: t.Word, index: tuple, names: set):
    """W with the subscript (f, …) → W_f with the rest, x with (1, …) → x_1; h with (t − 1, …) → hprev."""
    first, rest = index[0], index[1:]
    name = None
    if (isinstance(first, t.Num) or isinstance(first, t.Word) and len(first.text) == 1) and base.text not in names \
            and f"{base.text}_{first.text}" in names:  # W_f, and x_1 as its printed (x_1)_j
        name = f"{base.text}_{first.text}"
    elif _is_previous(first) and f"{base.text}prev" in names:
        name = f"{base.text}prev"
    if name is None:
        return None
    return t.Sub(t.Word(name), rest) if rest else t.Word(name)


def _is_previous(node) -> bool:
    """t − 1, as written in h_{t−1}."""
    return (isinstance(node, t.Op) and node.op == "-" and isinstance(node.a, t.Word) and node.a.text == "t"
            and isinstance(node.b, t.Num) and node.b.text == "1")
