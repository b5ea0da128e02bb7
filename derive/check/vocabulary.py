"""What the names in an answer stand for in one derivation, and which form (index or matrix) it is written in.

The allow-list of names (a derivation's variables, by code name and by their LaTeX word, ŷ for an
activation's output, ∂C/∂y for the gradient arriving from above), the exceptions that make a
readable answer wrong rather than unreadable, and the Reading the interpreter returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from derive.check import parse as t
from derive.check.screen import InvalidAnswer
from derive.definitions.model import IDX
from derive.model.matexpr import ShapeError

COSTS = ("C", "L", "E", "J", "ell", "l", "Lcal")
MATRIX_ONLY_FUNCS = ("diag", "rowsum", "outer", "softmax", "tr", "norm")


class IndexClash(Exception):
    """A sum runs over an index that is also free in the answer (Σ_j … in ∂L/∂o_j); `str()` says so."""

    latex: str | None = None


# The answer is readable but its matrices do not fit together: the one shape error (derive.model).
ShapeMismatch = ShapeError


MAX_EXPONENT = 64


def number(text: str) -> sp.Rational:
    f = Fraction(text)
    return sp.Rational(f.numerator, f.denominator)


def safe_power(base: sp.Expr, exp: sp.Expr) -> sp.Expr:
    """b**e, refusing exponents that would make a huge number or a huge expansion."""
    if exp.is_number:
        if not exp.is_rational:
            raise InvalidAnswer("only rational exponents are read")
        if abs(exp) > MAX_EXPONENT:
            raise InvalidAnswer(f"the exponent {exp} is larger than this checker reads ({MAX_EXPONENT})")
        if base.is_number and base.is_rational and abs(base) > 10**6 and exp > 4:
            raise InvalidAnswer("that power is too large a number to check")
    elif exp.has(sp.Pow) and any(p.exp.is_number and abs(p.exp) > 4 for p in exp.atoms(sp.Pow)):
        raise InvalidAnswer("the exponent is too large to check")
    return sp.Pow(base, exp)


@dataclass(frozen=True)
class Reading:
    """An answer as understood: index form (`expr`) or matrix form (`matrix`, concrete)."""

    form: str  # "index" | "matrix"
    expr: sp.Expr | None = None
    matrix: sp.ImmutableMatrix | None = None
    latex: str = ""


def _shape_text(shape) -> str:
    return "×".join(str(s) for s in shape) if shape else "scalar"


class Vocabulary:
    """The names one derivation allows, and what each stands for."""

    def __init__(self, d):
        self.d = d
        defn = d.definition
        self.defn = defn
        self.vars = {v.name: v for v in defn.variables}
        self.output = defn.output.name
        self.sizes = {s: int(v) for s, v in defn.sizes.items()}
        self.dims = {s.name: s for s in defn.sizes}
        self.upstream = d.upstream
        for v in defn.variables:  # a variable written by its own LaTeX name: λ for lam
            word = v.latex[1:] if v.latex.startswith("\\") else ""
            if word.isalpha() and word not in self.vars:
                self.vars[word] = v
        if "yhat" not in self.vars and defn.kind == "activation":
            self.vars["yhat"] = defn.output  # ŷ for the output of an activation
        if "Yhat" not in self.vars and defn.output.name == "Y":
            self.vars["Yhat"] = defn.output

    def allowed(self) -> str:
        names = sorted(n for n in self.vars if (n != self.output or self.defn.kind == "activation")
                       and self.vars[n].role != "upstream")
        if self.upstream is not None:
            names.append(f"∂C/∂{self.output}")
            names += [f"∂C/∂{v.name.split('_d', 1)[1]}" for v in self.defn.variables
                      if v.role == "upstream" and v.name.startswith(f"d{self.defn.upstream}_d")]
        return ", ".join(names)

    def gradient_word(self, text: str):
        """The Var that dY or dA names, a TA's shorthand for ∂C/∂Y (from above) and ∂C/∂A (at a named
        stage, attention's A); None where it names none, or where d is a name of its own here."""
        if self.upstream is None or len(text) < 2 or text[0] != "d" or text in self.vars or "d" in self.vars:
            return None
        name = text[1:]
        if name == self.output:
            return self.upstream
        return next((v for v in self.defn.variables
                     if v.role == "upstream" and v.name == f"d{self.defn.upstream}_d{name}"), None)

    def splits(self, text: str) -> bool:
        """Whether `text` is read as a product of one-letter names (xy is x·y)."""
        if text in self.vars or self.is_upstream_word(text) or text in ("e", "pi", "I", "ones") \
                or text in self.dims or self.gradient_word(text) is not None:
            return False
        return len(text) > 1 and all(c in self.vars or c in self.dims or c == "e" for c in text)

    def dimension_word(self, text: str):
        """The dimension a lower-case letter names when its capital is one and it is nothing else here
        (attention's key dimension d, written D); None otherwise."""
        if len(text) == 1 and text.islower() and text not in self.vars and text not in IDX and text != "e":
            return self.dims.get(text.upper())
        return None

    def no_gradient_at(self, name: str | None) -> InvalidAnswer:
        """∂C/∂name is no gradient of this answer: the one arriving from above, and for a staged definition
        (a cell's gates) the gradients at the names this one goes through, are."""
        named = [v.name.split("_d", 1)[1] for v in self.defn.variables if v.role == "upstream"
                 and v.name.startswith(f"d{self.defn.upstream}_d") and v.name != self.upstream.name]
        if named:
            return InvalidAnswer(f"∂C/∂{_pretty(name or '?')} is not one of the gradients this one goes through: "
                                 + ", ".join(f"∂C/∂{_pretty(n)}" for n in [self.output, *named]))
        return InvalidAnswer(f"∂C/∂{_pretty(name or '?')}: the gradient arriving from above is ∂C/∂{self.output}")

    def is_upstream_word(self, text: str) -> bool:
        return self.upstream is not None and text in ("g", "delta", "Delta") and text not in self.vars

    def var_of_word(self, text: str):
        """The Var a word names, None if it names none (letters may then be split)."""
        return self.vars.get(text)


# ---------------------------------------------------------------------------------------------
# Which form: index notation anywhere makes an index answer; ᵀ, ⊙, ⊗, diag make a matrix one.


def _walk(node):
    yield node
    for value in vars(node).values() if isinstance(node, t.Node) else ():
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, tuple):
                for sub in item:
                    if isinstance(sub, t.Node):
                        yield from _walk(sub)
            elif isinstance(item, t.Node):
                yield from _walk(item)


def _is_identity(n) -> bool:
    return isinstance(n, t.Sub) and isinstance(n.base, t.Word) and n.base.text == "I" and len(n.index) == 1


def form_of(node: t.Node, vocab: Vocabulary, entry: bool = False) -> str:
    """index, matrix or scalar; `entry`: the left-hand side names an entry (∂y_i/∂b_j), so an answer
    without matrix notation is that entry, in index form."""
    index = matrix = None
    for n in _walk(node):
        if _is_identity(n):  # I_K: a matrix with its size, not an entry
            matrix = matrix or n
        elif isinstance(n, (t.Sub, t.BigSum, t.Cases)) or isinstance(n, t.Func) and n.name == "KroneckerDelta":
            index = index or n
        elif isinstance(n, t.Transpose) or (isinstance(n, t.Op) and n.op in ("@", "odot", "otimes")) or isinstance(n, t.Func) and n.name in MATRIX_ONLY_FUNCS:
            matrix = matrix or n
    if index is not None and matrix is not None:
        raise InvalidAnswer("the answer mixes index notation (y_i, δ_ij, Σ) with matrix notation "
                            "(ᵀ, ⊙, ⊗, diag): write it in one of them")
    if index is not None or (entry and matrix is None):
        return "index"
    scalars = all(not v.shape for v in vocab.vars.values()) and (vocab.upstream is None or not vocab.upstream.shape)
    return "scalar" if matrix is None and scalars else "matrix"



def rewritten(node, vocab: Vocabulary):
    """A superscript on a product of letters, as LaTeX sets it, on the last letter only (QKᵀ is Q·Kᵀ, xy²
    is x·y²), and 1ᵀ, a number's transpose, the vector of ones 𝟏ᵀ; None where nothing is rewritten."""
    if isinstance(node, t.Transpose) and isinstance(node.a, t.Num) and node.a.text == "1":
        return t.Transpose(t.Word("ones"))
    base = node.a if isinstance(node, t.Transpose) else node.base if isinstance(node, t.Power) else None
    if not (isinstance(base, t.Word) and vocab.splits(base.text)):
        return None
    last = t.Word(base.text[-1])
    top = t.Transpose(last) if isinstance(node, t.Transpose) else t.Power(last, node.exp)
    return t.Op("juxt", t.Word(base.text[:-1]), top)


def _is_upstream(node) -> bool:
    return isinstance(node, t.Frac) and isinstance(node.num, t.Partial) and isinstance(node.den, t.Partial)


def _hat_name(node: t.Hat) -> str:
    inner = node.base
    if isinstance(inner, t.Word) and len(inner.text) == 1:
        return inner.text + "hat"
    raise InvalidAnswer("a hat is read on a single letter, e.g. \\hat{y}")


def _pretty(name: str) -> str:
    return {"yhat": "ŷ", "Yhat": "Ŷ", "beta": "β", "alpha": "α", "lambda": "λ", "theta": "θ",
            "delta": "δ", "Delta": "Δ", "ell": "ℓ"}.get(name, name)


def _shape_word(shape) -> str:
    return {1: "vector", 2: "matrix"}.get(len(shape), "tensor")


def _describe(node) -> str:
    if isinstance(node, t.Word):
        return _pretty(node.text)
    if isinstance(node, t.Num):
        return node.text
    return type(node).__name__.lower()


def is_updown_delta(node) -> bool:
    base = node.base
    return (isinstance(base, t.Sub) and isinstance(base.base, t.Word) and base.base.text == "delta"
            and len(base.index) == 1 and isinstance(node.exp, (t.Word, t.Num)))


def is_delta_split(pieces) -> bool:
    (_, c1), (_, c2) = pieces
    if not isinstance(c1, sp.Eq) or not all(isinstance(a, sp.Symbol) and a.name in IDX for a in c1.args):
        return False
    return c2 is sp.true or (isinstance(c2, sp.Ne) and set(c2.args) == set(c1.args))

