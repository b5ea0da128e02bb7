"""Doors: the methods by which a value made in a low layer hands itself to a layer above it.

A derivation is made below the printers and the checker, which import it, yet it offers
`d.latex()` and `d.check(answer)`. So that no layer imports upward, such a method names its door
(`"derivation.latex"`) and the package root, which sits above every layer and is imported
first, says which function serves it (`derive.DOORS`, as "module:function"). The function is
imported on the first call, so a door costs nothing at start-up.
"""

from __future__ import annotations

from importlib import import_module

HANDLERS: dict[str, str] = {}  # door -> "module:function", filled by derive/__init__.py


def open_door(door: str, *args, **options):
    """Call the function that serves `door` with `args` and `options`."""
    module, _, name = HANDLERS[door].partition(":")
    return getattr(import_module(module), name)(*args, **options)
