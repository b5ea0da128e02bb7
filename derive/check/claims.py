"""What an answer claims: its left-hand side, read before the right-hand side is judged.

An answer may carry its left-hand side, and then that claim is checked, never another:
- `∂C/∂W = …` (C, L, E, J, ℓ): the gradient of the cost, the derivation's own target;
- `∂y_j/∂x_i = …`: a Jacobian entry of the module's output; for a layer (`∂y_i/∂b_j = δ_ij`,
  `∂y/∂b = I` as a matrix) it is made here, by sympy.diff of the definition, for whichever variable
  the left-hand side names;
- one case of it: `… for i = j` after the answer, or a cases block of one row;
- the module's own definition, `y_i = e^{βx_i}/Σ_j e^{βx_j}`, `y = Wx + b`, `L = ‖ŷ − y‖²`: the output's
  value, compared with the definition's right-hand side at sampled points (written without the output).
Anything else on the left (another value, the gradient with respect to another variable for a cost,
a name the module does not have) is refused with a one-line reason.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import sympy as sp

from derive.check import parse as t
from derive.check.screen import InvalidAnswer
from derive.check.vocabulary import COSTS, _hat_name, _is_upstream, _pretty, _walk
from derive.definitions.model import IDX

_CASE = re.compile(r"(?:,|\\quad|\\qquad|\\[,;:]|\s)*(?:\\text\s*\{\s*(?:for|if|when)\s*\}|\b(?:for|if|when)\b)\s*"
                   r"([a-z])\s*(=|\\neq|\\ne|!=|≠)\s*([a-z])\s*[.,]?\s*\$?\s*$")


@dataclass(frozen=True)
class Claim:
    """What is checked: `text` as shown back (∂C/∂W, ∂y_i/∂b_j), against `derivation`."""

    text: str
    derivation: object
    rename: dict = dataclasses.field(default_factory=dict)  # written free indices -> the derivation's
    case: tuple | None = None  # (index, "=" or "!=", index), in the derivation's indices
    jacobian: bool = False  # of a layer's output, made here
    value: bool = False  # the module's output itself (its definition), made here
    entry: bool = False  # the left-hand side has subscripts: the answer is one entry

    @property
    def shape_text(self) -> str:
        """The claim's entries by dimension: M × M × D."""
        return " × ".join(str(s) for s in dims(self.derivation)) or "1"


def split_case(answer: str) -> tuple[str, tuple | None]:
    """`… for i = j` (or `\\text{if } i \\neq j`) at the end of an answer: the answer and the case."""
    if not isinstance(answer, str) or len(answer) > 4000:
        return answer, None
    m = _CASE.search(answer)
    if m is None or m.start() == 0:
        return answer, None
    op = "=" if m.group(2) == "=" else "!="
    return answer[:m.start()], (m.group(1), op, m.group(3))


def default_claim(d) -> Claim:
    return Claim(_derivative_text(d), d)


def claim_of(node: t.Node, d, case: tuple | None = None) -> tuple[t.Node, Claim]:
    """The right-hand side of the answer and the claim it makes for derivation `d`."""
    from derive.check.ownnames import own_names

    node = own_names(node, d.definition)  # W_f, a_f, h_{t−1}: one name each, on both sides
    if isinstance(node, t.Equation):
        lhs, rhs = node.sides[0], node.sides[-1]
        if len(node.sides) > 2:
            raise InvalidAnswer("the answer has more than one '='; write one claim: ∂C/∂W = …")
        claim = _value_claim(lhs, rhs, d) if _names_output(lhs, d) else _derivative_claim(lhs, d)
    else:
        rhs, claim = node, default_claim(d)
    if isinstance(rhs, t.Cases) and len(rhs.rows) == 1 and rhs.rows[0][1] is not None and case is None:
        expr, cond = rhs.rows[0]  # one line of a cases block on its own: a claim about that case
        if isinstance(cond, t.Cond) and cond.op in ("=", "!=") and all(_letter(x) for x in (cond.a, cond.b)):
            rhs, case = expr, (cond.a.text, cond.op, cond.b.text)
    if case is not None:
        claim = _with_case(claim, case)
    return rhs, claim


def _letter(node) -> bool:
    return isinstance(node, t.Word) and node.text in IDX


def _derivative_claim(lhs, d) -> Claim:
    defn = d.definition
    if not _is_upstream(lhs):
        shown = _pretty(getattr(lhs, "text", "")) or "the left-hand side"
        raise InvalidAnswer(f"{shown} = …: the left-hand side is not a derivative; this checks "
                            f"{_derivative_text(d)} (write {_derivative_text(d)} = … or only the right-hand side)")
    top, bottom = lhs.num.a, lhs.den.a
    top_name, top_index = _name(top)
    wrt_name, wrt_index = _name(bottom)
    names = {v.name for v in defn.variables}
    if wrt_name == "yhat" and "yhat" not in names and defn.output.name == "y":
        wrt_name = None
    if wrt_name is None or wrt_name not in names or wrt_name == defn.output.name and defn.kind != "loss":
        shown = _pretty(wrt_name or "?")
        choices = ", ".join(_pretty(v.name) for v in defn.inputs)
        raise InvalidAnswer(f"∂/∂{shown}: {shown} is not a variable of {defn.name} to differentiate by "
                            f"(its variables are: {choices})")
    output = defn.output.name
    is_output = top_name in (output, output.lower() + "hat", "yhat" if output == "y" else None)
    is_cost = top_name in COSTS or (defn.kind == "loss" and top_name == output)
    if defn.kind == "activation":
        if not is_output:
            raise InvalidAnswer(f"∂{_pretty(top_name or '?')}/∂{_pretty(wrt_name)}: {defn.name} has no cost; "
                                f"its derivative is {_derivative_text(d)}")
        return _own(d, wrt_name, top_index, wrt_index, top)
    if is_cost:
        return _own(d, wrt_name, top_index, wrt_index, top)
    if is_output and defn.kind == "layer":
        return _jacobian_claim(d, wrt_name, top, top_index, wrt_index)
    raise InvalidAnswer(f"∂{_pretty(top_name or '?')}/∂{_pretty(wrt_name)}: {_pretty(top_name or '?')} is not "
                        f"the cost or the output of {defn.name}; this checks {_derivative_text(d)}")


def _names_output(lhs, d) -> bool:
    """`y_i`, `y`, `\\mathbf{y}` for a module's output; `L`, `ℓ`, `J` for a loss's."""
    if _is_upstream(lhs) or not isinstance(lhs, (t.Word, t.Sub, t.Hat)):
        return False
    name, _ = _name(lhs) if not isinstance(lhs, t.Hat) else (None, None)
    defn = d.definition
    return name == defn.output.name or defn.kind == "loss" and name in COSTS


def _value_claim(lhs, rhs, d) -> Claim:
    """`y_k = …`: the output's value, entry k when indexed, against the definition's right-hand side."""
    defn = d.definition
    name, index = _name(lhs)
    shown = _pretty(name) + (_subscript(index) if index else "")
    for n in _walk(rhs):
        if isinstance(n, t.Word) and n.text in (defn.output.name, name):
            raise InvalidAnswer(f"{shown} = …: a definition of {shown} cannot use {_pretty(n.text)} itself; "
                                f"write it in terms of: {', '.join(_pretty(v.name) for v in defn.inputs)}")
    written = _index_letters(index) if index is not None else []
    if written and (len(written) != len(d.out_index) or not all(w in IDX for w in written)):
        raise InvalidAnswer(f"{shown} = …: an entry of {_pretty(defn.output.name)} is named by "
                            f"{len(d.out_index)} index letter{'s' * (len(d.out_index) != 1)}, e.g. "
                            f"{_pretty(defn.output.name)}_{''.join(s.name for s in d.out_index)}")
    vd = value_of(d, tuple(written) or tuple(s.name for s in d.out_index))
    return Claim(shown, vd, {}, value=True, entry=bool(written))


_VALUES: dict = {}


def value_of(d, letters: tuple):
    """The module's output as a derivation of its own: its result is the definition's right-hand side
    (`d.body`) with the output's indices named `letters` as the answer writes them, and the output is
    no name an answer may use."""
    key = (id(d), letters)
    if key in _VALUES and _VALUES[key][0] is d:
        return _VALUES[key][1]
    defn = d.definition
    if d.body is None or len(letters) != len(d.out_index):
        raise InvalidAnswer(f"the value of {_pretty(defn.output.name)} is not checked for {defn.name}")
    wanted = tuple(IDX[c] for c in letters)
    body = _free_of(d.body, set(wanted)).xreplace(dict(zip(d.out_index, wanted)))
    out = defn.output
    lhs = out.symbol[wanted] if wanted else out.symbol
    gradients = {v.symbol for v in defn.variables if v.role == "upstream"}  # ∂C/∂A, ∂C/∂S: no cost here
    named = tuple(nm for nm in d.named if nm.symbol != out.symbol  # ŷ of a loss stays a name; y of softmax not
                  and nm.symbol not in gradients)
    kept = tuple(it for it in defn.intermediates if it.var.name != out.name)
    vd = dataclasses.replace(d, target=d.target, wrt=out.name, lhs=lhs, steps=[], result=body,
                             definition=dataclasses.replace(defn, kind="layer", intermediates=kept),
                             body=body, out_index=wanted, named=named, upstream=None, cost=None, scale=sp.S.One,
                             indices=wanted, cases=None, matrix=None, matrix_refused=None, report=None)
    _VALUES[key] = (d, vd)
    return vd


def _free_of(expr: sp.Expr, letters: set) -> sp.Expr:
    """`expr` with every sum over one of `letters` re-indexed by a letter it does not use, so that
    naming the output's index `letters` captures no summation index."""
    used = {s for s in expr.free_symbols | {a for s in expr.atoms(sp.Sum) for a in s.variables}}
    spare = iter(IDX[c] for c in "klmnpqrstuv" if IDX[c] not in used | letters)
    return expr.replace(lambda e: isinstance(e, sp.Sum) and bool(set(e.variables) & letters),
                        lambda e: e.xreplace({v: next(spare) for v in e.variables if v in letters}))


def _name(node) -> tuple[str | None, tuple | None]:
    index = None
    if isinstance(node, t.Sub):
        node, index = node.base, node.index
    if isinstance(node, t.Hat):
        return _hat_name(node), index
    return getattr(node, "text", None), index


def _own(d, wrt_name: str, top_index, wrt_index, top) -> Claim:
    """The derivation's own target, with the indices as written renamed to the engine's."""
    if wrt_name != d.wrt:
        raise InvalidAnswer(f"the left-hand side is a derivative with respect to {_pretty(wrt_name)}, "
                            f"but this checks the derivative with respect to {_pretty(d.wrt)}")
    written = []
    if top_index is not None and _is_jacobian_kind(d):
        written += _index_letters(top_index)
    if wrt_index is not None:
        written += _index_letters(wrt_index)
    engine = [s.name for s in free_indices(d)]
    rename = {}
    if len(written) == len(engine) and all(w in IDX for w in written):
        rename = {IDX[w]: IDX[e] for w, e in zip(written, engine) if w != e}
    return Claim(_written_text(d, top, top_index, wrt_index), d, rename, entry=bool(written))


def _jacobian_claim(d, wrt_name: str, top, top_index, wrt_index) -> Claim:
    defn = d.definition
    if len(defn.output.shape) != 1:
        raise InvalidAnswer(f"a Jacobian entry of the matrix {_pretty(defn.output.name)} is not checked here; "
                            f"write the gradient of the cost, {_derivative_text(d)}")
    jd = jacobian(d, wrt_name)
    written = (_index_letters(top_index) if top_index is not None else []) + \
        (_index_letters(wrt_index) if wrt_index is not None else [])
    engine = [s.name for s in free_indices(jd)]
    rename = {}
    if written and len(written) != len(engine):
        raise InvalidAnswer(f"{_written_text(jd, top, top_index, wrt_index)} names {len(written)} indices; "
                            f"an entry of ∂{_pretty(defn.output.name)}/∂{_pretty(wrt_name)} has {len(engine)}")
    if written and all(w in IDX for w in written):
        rename = {IDX[w]: IDX[e] for w, e in zip(written, engine) if w != e}
    return Claim(_written_text(jd, top, top_index, wrt_index), jd, rename, jacobian=True, entry=bool(written))


_JACOBIANS: dict = {}


def jacobian(d, wrt_name: str):
    """∂y_i/∂v of a layer's vector output y, by sympy.diff of the definition: a derivation of its own
    (the activation kind: an output index and the variable's), made once per layer and variable."""
    key = (id(d), wrt_name)
    if key in _JACOBIANS and _JACOBIANS[key][0] is d:
        return _JACOBIANS[key][1]
    defn = d.definition
    var = defn.var(wrt_name)
    if d.body is None or len(d.out_index) != 1:
        raise InvalidAnswer(f"a Jacobian entry of {_pretty(defn.output.name)} is not checked for {defn.name}; "
                            f"write {_derivative_text(d)}")
    bound = {s for s in d.body.free_symbols | {a for s in d.body.atoms(sp.Sum) for a in s.variables}}
    letters = [IDX[c] for c in "ijklmnpq" if IDX[c] not in bound and IDX[c] not in d.out_index]
    out = letters[0]
    free = tuple(letters[1:1 + len(var.shape)])
    body = d.body.xreplace({d.out_index[0]: out})
    entry = var.symbol[free] if free else var.symbol
    result = sp.diff(body, entry)
    jd = dataclasses.replace(d, target=d.target, wrt=wrt_name, lhs=sp.Derivative(defn.output.symbol[out], entry),
                             steps=[], result=result, definition=dataclasses.replace(defn, kind="activation"),
                             body=body, out_index=(out,), named=(), upstream=None, cost=None, scale=sp.S.One,
                             indices=free, cases=None, matrix=None, matrix_refused=None, report=None)
    _JACOBIANS[key] = (d, jd)
    return jd


def _with_case(claim: Claim, case: tuple) -> Claim:
    a, op, b = case
    d = claim.derivation
    engine = {s.name for s in free_indices(d)}
    renamed = [claim.rename.get(IDX[x], IDX[x]).name if x in IDX else x for x in (a, b)]
    if not all(x in engine for x in renamed) or renamed[0] == renamed[1]:
        names = ", ".join(sorted(engine)) or "none"
        raise InvalidAnswer(f"the case {a} {'=' if op == '=' else '≠'} {b} names indices that are not free here "
                            f"(the free indices are: {names})")
    text = f"{claim.text} for {a} {'=' if op == '=' else '≠'} {b}"
    return dataclasses.replace(claim, text=text, case=(IDX[renamed[0]], op, IDX[renamed[1]]))


def restrict(expr: sp.Expr, claim: Claim) -> sp.Expr:
    """An index-form answer to a case claim, extended by the derivation's own value outside the case:
    equal to the reference exactly when the answer is right in that case."""
    if claim.case is None:
        return expr
    a, op, b = claim.case
    inside = sp.KroneckerDelta(a, b) if op == "=" else 1 - sp.KroneckerDelta(a, b)
    return inside * expr + (1 - inside) * claim.derivation.result


def _index_letters(index: tuple) -> list:
    out = []
    for node in index:
        if isinstance(node, t.Word):
            out += list(node.text) if len(index) == 1 else [node.text]
    return out


def _is_jacobian_kind(d) -> bool:
    return d.definition.kind == "activation" and bool(d.definition.index)


def dims(d) -> list:
    """The dimension of each free index of `d`'s result (the output's first for a Jacobian entry)."""
    out = [d.definition.output.shape[0]] if _is_jacobian_kind(d) else []
    return out + list(d.definition.var(d.wrt).shape)


def free_indices(d) -> list:
    """The free indices of `d`'s result: the output's and the variable's for a Jacobian entry."""
    if _is_jacobian_kind(d):
        return [d.lhs.expr.indices[0], *d.indices]
    return list(d.indices)


def _derivative_text(d) -> str:
    top = _pretty(d.definition.output.name) if d.cost is None and d.definition.kind != "loss" else \
        _pretty(d.definition.output.name if d.definition.kind == "loss" else d.definition.upstream)
    return f"∂{top}/∂{_pretty(d.wrt)}"


def _written_text(d, top, top_index, wrt_index) -> str:
    """The claim as the answer writes it, in Unicode: ∂y_i/∂b_j, ∂C/∂W."""
    name, _ = _name(top)
    up = _pretty(name or "?") + (_subscript(top_index) if top_index else "")
    return f"∂{up}/∂{_pretty(d.wrt)}" + (_subscript(wrt_index) if wrt_index else "")


def _subscript(index: tuple) -> str:
    letters = _index_letters(index)
    return "_" + "".join(letters) if letters else ""
