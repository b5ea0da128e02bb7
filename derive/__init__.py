"""derive: backpropagation worked step by step, the way a teaching assistant does it, and checked.

    >>> import derive
    >>> d = derive.derivative("softmax", wrt="x")
    >>> d.result
    beta*(KroneckerDelta(i, j) - y[j])*y[i]

Attributes load on first use, so `import derive` (and `derive --help`) does not import SymPy.
"""

from importlib import import_module

from derive import doors

__version__ = "0.1.0"

_EXPORTS = {
    "derivative": "derive.api",
    "targets": "derive.api",
    "sheet": "derive.api",
    "network": "derive.api",
    "assert_correct": "derive.api",
    "define": "derive.definitions.custom",
    "DeriveError": "derive.errors",
    "Definition": "derive.definitions.model",
    "Var": "derive.definitions.model",
}

# Who serves each door of a low-layer value (derive.doors): the printers and the checker, above it.
DOORS = {
    "sheet.seed_verdicts": "derive.audit.seeds:seed_verdicts",
    "derivation.latex": "derive.render.show:derivation_latex",
    "derivation.markdown": "derive.render.show:derivation_markdown",
    "derivation.tex": "derive.render.show:derivation_tex",
    "derivation.text": "derive.render.show:derivation_text",
    "derivation.json": "derive.render.show:derivation_json",
    "check": "derive.check:check",
    "matrix.latex": "derive.render.matrix:latex",
    "matrix.text": "derive.render.matrix:text",
    "formula.text": "derive.render.unicode:unicode_text",
    "proof.latex": "derive.render.show:proof_latex",
    "proof.markdown": "derive.render.show:proof_markdown",
}
doors.HANDLERS.update(DOORS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'derive' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
