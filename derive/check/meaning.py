"""What a parsed answer means for one derivation: names from an allow-list, index or matrix form.

Index form (`β y_i(δ_ij − y_j)`) becomes a SymPy expression in the engine's own symbols, with
free indices i, j. Matrix form (`∂C/∂y xᵀ`, `W^T δ`) is evaluated at the definition's concrete,
non-square sizes into an explicit matrix of entries; shapes are checked on the way, and a
product that does not fit is a ShapeMismatch (a wrong answer), not an unreadable one.

The pieces: derive/check/vocabulary.py (names, form), interpret.py (the reading), matrices.py
(matrix arithmetic at concrete sizes); here the whole answer is unpacked, read and printed back.
"""

from __future__ import annotations

import sympy as sp

from derive.check import parse as t
from derive.check.claims import Claim, claim_of, default_claim, dims, free_indices, restrict
from derive.check.ellipsis import general_entry
from derive.check.entries import softmax_entries
from derive.check.interpret import Interpreter
from derive.check.matrices import make
from derive.check.screen import InvalidAnswer
from derive.check.unsized import Unsized, at_shape
from derive.check.vocabulary import (
    IndexClash,
    Reading,
    ShapeMismatch,
    Vocabulary,
    _hat_name,
    _is_upstream,
    _walk,
    form_of,
)
from derive.definitions.model import IDX

__all__ = ["IndexClash", "Reading", "ShapeMismatch", "Vocabulary", "form_of", "function_latex", "matrix_latex",
           "read", "unpack"]


# -- the whole answer -----------------------------------------------------------------------


def unpack(node: t.Node, d) -> tuple[t.Node, dict]:
    """The right-hand side of `∂y_j/∂x_i = …`, and the renaming of its indices to the engine's; a claim
    about anything but `d` itself is refused here (derive.check.check reads claims with claim_of)."""
    rhs, claim = claim_of(node, d)
    if claim.derivation is not d or claim.case is not None:
        raise InvalidAnswer(f"the left-hand side claims {claim.text}; this reads only {default_claim(d).text}")
    return rhs, claim.rename


_free_indices = free_indices


def renamed(expr: sp.Expr, rename: dict) -> sp.Expr:
    """The free indices renamed as written to the engine's (k → i); a sum over one of the new names
    first takes an index of its own, so Σ_i ∂C/∂y_i x_{i+k−1} keeps its sum when k becomes i."""
    if not rename:
        return expr
    names = {*rename, *rename.values()}
    used = {s.name for s in expr.atoms(sp.Symbol)} | {s.name for s in names}
    spare = iter([s for c, s in IDX.items() if c not in used])  # the index letters, in their order

    def own_index(s: sp.Sum) -> sp.Sum:
        clash = [v for v in s.variables if v in names]
        return s.xreplace({v: next(spare) for v in clash}) if clash else s

    return expr.replace(lambda e: isinstance(e, sp.Sum), own_index).xreplace(rename)


def read(node: t.Node, d, claim: Claim | None = None) -> Reading:
    """The Reading of a parsed answer for derivation `d` (for `claim`, `node` is its right-hand side
    and `d` its derivation); InvalidAnswer or ShapeMismatch if none."""
    from derive.render.printer import latex

    vocab = Vocabulary(d)
    if claim is None:
        node, rename = unpack(node, d)
    else:
        rename = claim.rename
    if isinstance(node, t.Matrix):  # ⋯ ⋮: read as the general entry at the gradient's free indices
        if claim is not None and (claim.entry or claim.case is not None):
            raise InvalidAnswer("the left-hand side names one entry, but the right-hand side is a whole matrix")
        node = general_entry(node, [(i.name, n) for i, n in zip(_free_indices(d), dims(d))], vocab.dims)
    taken = {s.name for s in (*_free_indices(d), *rename, *rename.values())}
    node = softmax_entries(node, vocab, taken)  # softmax(θ)_j: e^{θ_j} / Σ_k e^{θ_k}, in index notation
    form = form_of(node, vocab, entry=claim is not None and (claim.entry or claim.case is not None))
    text = matrix_latex(node, vocab) if form in ("matrix", "scalar") else None
    scalar, form = form == "scalar", "index" if form == "scalar" else form  # all scalars: no 1×1 matrices needed
    written = {**{e: e for e in _free_indices(d)}, **{w: w for w in rename}}
    free = tuple(w for w in written if w not in rename.values() or w in rename)
    own = claim is None or not (claim.entry or claim.rename or claim.case is not None)  # no left-hand side
    clash = None
    try:
        try:
            value = Interpreter(vocab, form, free=free).read(node)
        except IndexClash as exc:  # Σ_i … x_{i+k−1} with no left-hand side: its free index may be k, not i
            if not (own and form == "index" and len(_free_indices(d)) == 1):
                raise
            clash, value = exc, Interpreter(vocab, form, free=()).read(node)
    except ShapeMismatch as exc:
        exc.latex = text
        raise
    except InvalidAnswer:
        raise
    except (TypeError, ValueError, ZeroDivisionError) as exc:  # SymPy refusing a value: 1[√(−1) > 0], max(i, 0)
        raise InvalidAnswer(f"the answer has no real value: {_refusal(exc)}") from None
    if isinstance(value, Unsized):  # the whole answer is I or 𝟏: the gradient's shape gives its size
        value = at_shape(value, _matrix_shape(d, vocab), make)
    _defined(value)
    if form == "index":
        if isinstance(value, sp.MatrixBase):  # cannot happen: index reading makes no matrices
            raise InvalidAnswer("cannot read the answer")
        value = sp.sympify(value)
        allowed = set(_free_indices(d))
        if own and not rename and len(allowed) == 1:  # one free index, named as the student likes: k for i
            mine = {s for s in value.free_symbols if s.name in IDX and s == IDX[s.name]}
            if len(mine) == 1 and not mine & allowed:
                rename = {mine.pop(): next(iter(allowed))}
        if clash is not None and not rename:  # the sum took the only free index and left none
            raise clash
        value = renamed(value, rename)
        free = {s for s in value.free_symbols if s.name in IDX and s == IDX[s.name]}
        stray = sorted(s.name for s in free - allowed)
        if stray:
            names = ", ".join(s.name for s in _free_indices(d)) or "none"
            raise InvalidAnswer(f"index {', '.join(stray)} is not free in this gradient "
                                f"(its indices are: {names})")
        checked = restrict(value, claim) if claim is not None else value  # a case: only it is judged
        if scalar:
            return Reading("index", expr=checked, latex=text)
        shown = value
        if any(isinstance(n, t.Cases) for n in _walk(node)):
            shown = Interpreter(vocab, form, keep_cases=True).read(node)
            shown = renamed(sp.sympify(shown), rename)
        return Reading("index", expr=checked, latex=latex(shown))
    if claim is not None and claim.case is not None:
        raise InvalidAnswer(f"a case ({claim.text}) is read in index notation: write the entry, e.g. y_i")
    return Reading("matrix", matrix=value, latex=text)


def _matrix_shape(d, vocab) -> tuple:
    shape = [vocab.sizes[s] for s in dims(d)]
    return (shape + [1, 1])[:2] if len(shape) < 2 else tuple(shape)


def _refusal(exc: Exception) -> str:
    text = str(exc)
    if "comparable" in text or "Complex" in text or "non-real" in text:
        return "it compares or takes max/min of a number that is not real (a root of a negative number?)"
    return "it cannot be evaluated"


def _defined(value) -> None:
    """A division by zero or log 0 that SymPy already sees (y/0, 1/(x − x)) makes the answer undefined."""
    items = list(value) if isinstance(value, sp.MatrixBase) else [value]
    if any(isinstance(e, sp.Basic) and e.has(sp.zoo, sp.nan, sp.oo, -sp.oo) for e in items):
        raise InvalidAnswer("the answer is undefined: it divides by zero (or takes log 0)")


def matrix_latex(node, vocab) -> str:
    """LaTeX of a matrix-form answer as written (products, ᵀ, ⊙), names in the project's style."""
    from derive.render.printer import name_latex

    def go(n, parent=0):
        if isinstance(n, t.Num):
            return n.text
        if isinstance(n, t.Word):
            if vocab.is_upstream_word(n.text) or n.text in vocab.vars or n.text in ("e", "pi") or n.text in vocab.dims:
                return name_latex(n.text) if not vocab.is_upstream_word(n.text) else up()
            if n.text in ("I", "ones"):
                return "I" if n.text == "I" else r"\mathbf{1}"
            if vocab.gradient_word(n.text) is not None:  # dA: ∂C/∂A
                return up(n.text[1:])
            if vocab.dimension_word(n.text) is not None:  # d: the dimension D
                return name_latex(vocab.dimension_word(n.text).name)
            return " ".join(name_latex(c) for c in n.text)
        if isinstance(n, t.Hat):
            return name_latex(_hat_name(n))
        if isinstance(n, t.Sub) and isinstance(n.base, t.Word) and n.base.text == "I" and len(n.index) == 1:
            return f"I_{{{go(n.index[0])}}}"
        if isinstance(n, t.Frac):
            return up(n) if _is_upstream(n) else rf"\frac{{{go(n.num)}}}{{{go(n.den)}}}"
        if isinstance(n, t.Transpose):
            return rf"{go(n.a, 3)}^{{\top}}"
        if isinstance(n, t.Neg):
            return "-" + go(n.a, 2)
        if isinstance(n, t.Power):
            return rf"{go(n.base, 3)}^{{{go(n.exp)}}}"
        if isinstance(n, t.Op):
            prec = 1 if n.op in "+-" else 2
            sym = {"+": " + ", "-": " - ", "*": " ", "juxt": " ", "/": " / ", "@": " ",
                   "odot": r" \odot ", "otimes": r" \otimes "}[n.op]
            text = go(n.a, prec) + sym + go(n.b, prec + (n.op in "-/"))
            return rf"\left({text}\right)" if parent > prec else text
        if isinstance(n, (t.Func, t.Indicator)):
            return function_latex(n, go)
        return "?"

    def up(at=None):
        """∂C/∂y, or the gradient at the named stage `at` names: a name (dA's A), or the fraction ∂C/∂a_f
        (a cell's gate, attention's ∂C/∂S)."""
        if isinstance(at, t.Frac):
            target = at.den.a
            at = _hat_name(target) if isinstance(target, t.Hat) else getattr(target, "text", None)
        staged = at is not None and any(v.role == "upstream" and v.name == f"d{vocab.defn.upstream}_d{at}"
                                        for v in vocab.defn.variables)
        return rf"\frac{{\partial C}}{{\partial {name_latex(at if staged else vocab.output)}}}"

    return go(node)


def function_latex(n, go) -> str:
    """A function application or an indicator as LaTeX; `go` prints the arguments."""
    if isinstance(n, t.Indicator):
        c = n.cond
        op = {">": ">", "<": "<", ">=": r"\geq", "<=": r"\leq", "=": "=", "!=": r"\neq"}[c.op]
        return rf"\mathbb{{1}}\left[{go(c.a)} {op} {go(c.b)}\right]"
    name = {"sigma": r"\sigma", "sigmoid": r"\sigma", "diag": r"\operatorname{diag}"}.get(
        n.name, "\\" + n.name if n.name in ("exp", "log", "tanh", "max", "min") else rf"\operatorname{{{n.name}}}")
    power = rf"^{{{go(n.power)}}}" if n.power is not None else ""
    return name + "'" * n.primes + power + r"\left(" + ", ".join(go(a) for a in n.args) + r"\right)"
