"""What a graph node can be: a registry entry (`affine`, `relu[alpha=0.1]`), a Definition of one's
own (derive.define), one of the gates every graph needs — add, multiply, subtract, max of two
values entry by entry, written here as Definitions like any other, so the engine derives them — or
one of the graph's own: concatenation (derive.graph.blocks), a loss over a batch of rows (derive.graph.rows).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from derive.definitions.model import Definition, Var
from derive.errors import DeriveError


def _gate(name: str, title: str, body) -> Definition:
    a, b = Var("a"), Var("b")
    return Definition(name=name, kind="activation", title=title, output=Var("y", role="output"), index=(),
                      expr=body(a.symbol, b.symbol), inputs=(a, b))


GATES = {
    "add": lambda: _gate("add", "Sum y = a + b (entry by entry)", lambda a, b: a + b),
    "subtract": lambda: _gate("subtract", "Difference y = a − b (entry by entry)", lambda a, b: a - b),
    "multiply": lambda: _gate("multiply", "Product y = a b (entry by entry)", lambda a, b: a * b),
    "max": lambda: _gate("max", "Maximum y = max(a, b) (entry by entry)", lambda a, b: sp.Max(a, b)),
}


@cache
def gate(name: str) -> Definition:
    return GATES[name]()


def own_modules() -> dict:
    """The graph's own modules beside the registry's: concatenation, and a loss over a batch of rows."""
    from derive.graph.blocks import concat
    from derive.graph.rows import softmax_cross_entropy_rows

    return {"concat": concat, "softmax_cross_entropy_rows": softmax_cross_entropy_rows}


def resolve(module) -> tuple:
    """(spelling, Definition, options) of a node's module: a gate, a registry name with options, or a
    Definition; DeriveError naming the choices otherwise."""
    from derive.definitions import REGISTRY, entry
    from derive.errors import unknown
    from derive.network.chain import Module, check_module_options, parse_module
    from derive.network.local import definition

    if isinstance(module, Definition):
        return module.name, module, ()
    if not isinstance(module, str):
        raise DeriveError(f"a node's module is a name or a Definition, not {type(module).__name__}")
    mod = parse_module(module)
    own = own_modules()
    if mod.name in GATES or mod.name in own:
        if mod.options:
            raise DeriveError(f"{mod.name} has no options")
        return mod.name, (gate(mod.name) if mod.name in GATES else own[mod.name]()), ()
    try:
        entry(mod.name, "module")
    except DeriveError:  # the registry's names, the gates' and the graph's own modules'
        raise unknown("module", mod.name, [*REGISTRY, *GATES, *own]) from None
    check_module_options(mod)
    return mod.spelling, definition(Module(mod.name, mod.options)), mod.options


_DERIVED: dict = {}


def derivation(defn: Definition, wrt: str):
    """The engine's derivation of one module with respect to one of its inputs, derived once per
    Definition (the graph's own run-time check covers it, as a network's does); a quantity defined row by
    row is folded row by row (derive.graph.rows)."""
    from derive.graph.rows import derive_by_rows

    key = (id(defn), wrt)
    if key not in _DERIVED:
        from derive.graph.blocks import in_range

        _DERIVED[key] = (defn, in_range(derive_by_rows(defn, wrt)))
    return _DERIVED[key][1]
