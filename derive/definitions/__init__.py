"""The registry of modules and losses.

Each entry is a name, a kind and a title, plus a builder that makes the SymPy
definition on demand, so `derive list` answers without importing SymPy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from derive.errors import unknown

KINDS = ("layer", "activation", "loss")


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    title: str
    build: Callable  # () -> derive.definitions.model.Definition


REGISTRY: dict[str, Entry] = {}


def register(name: str, kind: str, title: str):
    """Decorator: register a builder under `name` (kinds: layer, activation, loss)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")

    def wrap(build):
        REGISTRY[name] = Entry(name, kind, title, build)
        return build

    return wrap


def _load_builtins() -> None:
    from derive.definitions import (  # noqa: F401  (registers)
        activations,
        attention,
        convolution,
        layers,
        losses,
        normalization,
        recurrent,
        word2vec,
    )


def builtin(name: str) -> bool:
    """Whether `name` is a registry entry fixed by the package's source; one registered at run time
    (`define(..., register=True)`) is not."""
    _load_builtins()
    entry = REGISTRY.get(name)
    module = getattr(entry.build, "__module__", "") if entry else ""
    return module.startswith("derive.definitions.") and module != "derive.definitions.custom"


def entry(name: str, kind: str = "target") -> Entry:
    """The registry entry `name`; a DeriveError naming the choices (as a `kind`) otherwise."""
    _load_builtins()
    if name not in REGISTRY:
        raise unknown(kind, name, REGISTRY)
    return REGISTRY[name]


def entries() -> list[Entry]:
    _load_builtins()
    order = {k: n for n, k in enumerate(KINDS)}
    return sorted(REGISTRY.values(), key=lambda e: (order[e.kind], e.name))


_BUILT: dict[str, object] = {}


def get(name: str):
    """The Definition registered as `name`; DeriveError naming the choices otherwise."""
    _load_builtins()
    if name not in REGISTRY:
        raise unknown("target", name, REGISTRY)
    if name not in _BUILT:
        _BUILT[name] = REGISTRY[name].build()
    return _BUILT[name]
