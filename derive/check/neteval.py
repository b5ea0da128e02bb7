"""Evaluating a network answer's tree over NumPy arrays at one point, never as Python.

The evaluator also records every threshold the answer has — the argument of 1[·], relu, |·|, sign,
the difference of the arguments of max/min, the base of a fractional power — as an array with a
label, so both sides of each can be visited (derive/check/netref.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from derive.check import parse as t
from derive.check.functions import KINKED, NAMED, numpy_function
from derive.check.nettext import COSTS, MULTIPLY, _flatten, _is_partial, _pretty, name_key, plain
from derive.check.screen import InvalidAnswer
from derive.check.unsized import Unsized, resolve, written_size
from derive.check.vocabulary import MAX_EXPONENT
from derive.model.arithmetic import NUMPY, shape_text
from derive.model.matexpr import ShapeError

make = NUMPY.make  # the identity or a matrix of ones at a concrete shape (for derive.check.unsized)


def _op(op: str, a, b):
    """`a op b` by the model's shape rules; the row convention reads row vectors side by side entry by entry."""
    a, b, unsized = resolve(op, a, b, make)
    return unsized if unsized is not None else NUMPY.op(op, a, b, row_vectors=True)


_JACOBIAN = "a Jacobian ∂{}/∂{} inside an expression is not read; write its value (e.g. Wᵀ δ, σ′(s) ⊙ …)"


class Evaluator:
    """The value of an answer's tree at one point; `rows` reads every quantity transposed."""

    def __init__(self, ref, point, rows: bool = False):
        self.ref, self.p, self.rows = ref, point, rows
        self.kinks: list = []  # (label, array): the answer's thresholds at this point, in reading order

    def kink(self, label: str, array) -> None:
        self.kinks.append((label, np.array(array, dtype=float)))

    def __call__(self, node):
        return getattr(self, "read_" + type(node).__name__, self.unread)(node)

    def unread(self, node):
        raise InvalidAnswer(f"cannot read {type(node).__name__.lower()} in a network answer")

    def leaf(self, array):
        a = np.asarray(array, dtype=float)
        return a.T if self.rows else a

    def named(self, key: str | None, node):
        ref = self.ref
        key = ref.aliases.get(key, key)
        if key in getattr(ref, "forbidden", ()):  # a value claim written in terms of itself or what follows
            what = "is what the left-hand side claims" if ref.said(key) == ref.claim_text else \
                f"is not known yet where {ref.claim_text} is computed"
            raise InvalidAnswer(f"{ref.said(key)} {what}; write {ref.claim_text} in terms of earlier quantities")
        if key in self.p.values:
            return self.leaf(self.p.values[key])
        if key in ("w", "b", "delta", "s", "z"):
            raise InvalidAnswer(f"{_pretty(key, ref.net.batch)} needs its layer here, e.g. "
                                f"{_pretty(key, ref.net.batch)}_1 or {_pretty(key, ref.net.batch)}^{{(1)}}")
        if key == "n" and ref.net.batch:
            return np.array([[float(self.p.sizes["N"])]])
        if key == "e":
            return np.array([[np.e]])
        text = getattr(node, "text", None)
        if isinstance(node, t.Word) and text and len(text) > 1 and all(c.lower() in self.p.values or
                                                                       c.lower() in ref.aliases for c in text):
            out = self.named(text[0].lower(), t.Word(text[0]))
            for c in text[1:]:
                out = _op("juxt", out, self.named(c.lower(), t.Word(c)))
            return out
        shown = _pretty(key or "?", ref.net.batch) if key else type(node).__name__.lower()
        raise InvalidAnswer(f"unknown name {shown}; the names here are: {ref.allowed()}")

    def read_Num(self, node):
        return np.array([[float(Fraction(node.text))]])

    def read_Word(self, node):
        if node.text in ("I", "ones"):  # the identity and 𝟏: sized by their neighbours
            return Unsized("identity" if node.text == "I" else "ones")
        return self.named(node.text.lower(), node)

    def read_Hat(self, node):
        return self.named(name_key(node), node)

    def read_Sub(self, node):
        if isinstance(node.base, t.Word) and node.base.text == "I" and len(node.index) == 1:
            size = node.index[0]  # I_3 sized as written; I_K by its neighbours (K is not a width here)
            return make("identity", (written_size(size.text),) * 2) if isinstance(size, t.Num) else Unsized("identity")
        key = name_key(node)
        known = key is not None and (key in self.p.values or key in self.ref.aliases)
        base = node.base.text if isinstance(node.base, t.Word) else ""
        if not known and len(base) > 1 and all(c.lower() in self.p.values or c.lower() in self.ref.aliases
                                                for c in base[:-1]):  # hW_2: h times W_2
            out = self.read_Sub(t.Sub(t.Word(base[-1]), node.index))
            for c in reversed(base[:-1]):
                out = _op("juxt", self.named(c.lower(), t.Word(c)), out)
            return out
        if not known:
            idx = node.index[0] if len(node.index) == 1 else None
            if isinstance(idx, t.Word) and set(idx.text) <= set("ijklmn"):
                raise InvalidAnswer("index notation (entries such as W_ij) is not read for a network; "
                                    "write the answer with matrices: products, ᵀ and ⊙")
        return self.named(key, node)

    def read_Op(self, node):
        if node.op == "juxt" and isinstance(node.a, t.Op) and node.a.op == "juxt" and _is_layer_function(node.a.b):
            return self(t.Op("juxt", node.a.a, t.Op("juxt", node.a.b, node.b)))  # W_2 f_1(S_1): f_1 takes S_1
        if node.op == "odot" and any(self._layer_jacobian(n) for n in (node.a, node.b)):
            a, b = (self.leaf(self.p.fprime[self._layer_jacobian(n)]) if self._layer_jacobian(n) else self(n)
                    for n in (node.a, node.b))  # ∂L/∂Z ⊙ ∂Z/∂S: an entrywise layer's Jacobian is f′(S) there
            return _op("odot", a, b)
        if node.op == "juxt" and isinstance(node.a, t.Prime):  # f_1'(S_1): layer 1's f′ at its S_1
            return self.layer_prime(node.a, node.b)
        if node.op == "juxt" and _layer_f(node.a) is not None:  # f_1(S_1): layer 1's activation, its Z_1
            return self.layer_f(_layer_f(node.a), node.b)
        return _op(node.op, self(node.a), self(node.b))

    def layer_prime(self, prime, arg):
        f = prime.a
        k = f.index[0].text if isinstance(f, t.Sub) and isinstance(f.index[0], t.Num) else None
        if not (isinstance(f, t.Sub) and isinstance(f.base, t.Word) and f.base.text == "f" and k):
            raise InvalidAnswer("a prime (′) is read on a function: σ'(s_1), f_1'(s_1)")
        k = int(k)
        if k not in self.p.fprime:
            raise InvalidAnswer(f"layer {k} has no activation whose derivative f_{k}′ could be taken")
        pre = self.ref.names.pre[k].lower()
        if self.ref.aliases.get(name_key(arg), name_key(arg)) != pre:
            raise InvalidAnswer(f"f_{k}′ is read at layer {k}'s pre-activation: f_{k}′({_pretty(pre, self.ref.net.batch)})")
        return self.leaf(self.p.fprime[k])

    def _layer_jacobian(self, node) -> int | None:
        """k where `node` is ∂z_k/∂s_k of a layer with an entrywise activation, else None."""
        if not _is_partial(node):
            return None
        top, bottom = (self.ref.aliases.get(name_key(n), name_key(n)) for n in (node.num.a, node.den.a))
        names = self.ref.names
        return next((k for k in self.p.fprime if top == names.out[k].lower() and bottom == names.pre[k].lower()), None)

    def layer_f(self, k: int, arg):
        pre, out = self.ref.names.pre.get(k), self.ref.names.out.get(k)
        if pre is None or pre == out:
            raise InvalidAnswer(f"layer {k} has no activation f_{k} here")
        if self.ref.aliases.get(name_key(arg), name_key(arg)) != pre.lower():
            raise InvalidAnswer(f"f_{k} is read at layer {k}'s pre-activation: f_{k}({_pretty(pre.lower(), self.ref.net.batch)})")
        self(arg)  # S_k itself must be a name the claim may use
        return self.leaf(self.p.values[out.lower()])  # f_k(S_k) is Z_k, computed by the network

    def read_Neg(self, node):
        return -self(node.a)

    def read_Transpose(self, node):
        return self(node.a).T

    def read_Power(self, node):
        exp = self(node.exp)
        if exp.shape != (1, 1) or not isinstance(node.exp, (t.Num, t.Neg)):
            raise InvalidAnswer("an exponent must be a number")
        e = float(exp[0, 0])
        if abs(e) > MAX_EXPONENT:
            raise InvalidAnswer(f"the exponent {e:g} is larger than this checker reads ({MAX_EXPONENT})")
        base = self(node.base)
        if isinstance(base, Unsized):
            raise InvalidAnswer(base.unknown())
        if not e.is_integer():  # a fractional power has a branch point where its base is 0
            self.kink(f"{plain(node.base, self.ref.net.batch)} = 0", base)
        with np.errstate(all="ignore"):
            return np.power(base, e)

    def read_Func(self, node):
        name = node.name
        if name in NAMED and (name.lower() in self.ref.aliases or name.lower() in self.p.values):
            raise InvalidAnswer(f"{_pretty(name.lower())} is a quantity of this network, not a function")
        args = [self(a) for a in node.args]
        if name in ("tr", "norm", "softmax") and len(args) == 1 and not isinstance(args[0], Unsized):
            return self._whole(name, args[0])
        if name == "diag":
            return NUMPY.diag(*args)
        if name == "outer" and len(args) == 2:
            return _op("otimes", *args)
        if name.lower() in ("max", "min") and len(args) == 2:
            a, b = NUMPY.fit(*args, name + " of a {} and a {} matrix")
            self.kink(f"{plain(node.args[0], self.ref.net.batch)} = {plain(node.args[1], self.ref.net.batch)}", a - b)
            out = np.maximum(a, b) if name.lower() == "max" else np.minimum(a, b)
        else:
            if len(args) != 1:
                raise InvalidAnswer(f"{name} takes one argument")
            f = numpy_function(name, node.primes)  # the module reader's own definition, over arrays
            if f is None or isinstance(args[0], Unsized):
                raise InvalidAnswer(f"cannot read {name}{chr(39) * node.primes} in a network answer"
                                    if f is None else args[0].unknown())
            if name in KINKED:
                self.kink(f"{plain(node.args[0], self.ref.net.batch)} = 0", args[0])
            with np.errstate(all="ignore"):
                out = f(args[0])
        if node.power is not None:
            out = self.read_Power(t.Power(_Const(out), node.power))
        return out

    def _whole(self, name: str, a):
        """tr(A), ‖A‖ (Frobenius) and softmax(a) (of each column; of each row when read in rows)."""
        if name == "tr":
            if a.shape[0] != a.shape[1]:
                raise ShapeError(f"the trace of a {shape_text(a.shape)} matrix: it needs a square one")
            return np.array([[np.trace(a)]])
        if name == "norm":
            return np.array([[np.sqrt(np.sum(a * a))]])
        axis = 1 if self.rows else 0
        with np.errstate(all="ignore"):
            e = np.exp(a - np.max(a, axis=axis, keepdims=True))
            return e / np.sum(e, axis=axis, keepdims=True)

    def read__Const(self, node):
        return node.value

    def read_Indicator(self, node):
        c = node.cond
        a, b = NUMPY.fit(self(c.a), self(c.b), "cannot compare a {} and a {} matrix")
        ops = {">": np.greater, "<": np.less, ">=": np.greater_equal, "<=": np.less_equal,
               "=": np.equal, "!=": np.not_equal}
        if c.op not in ("=", "!="):  # an equality holds on a set of measure zero: no sides to visit
            batch = self.ref.net.batch
            self.kink(f"{plain(c.a, batch)} = {plain(c.b, batch)}", a - b)
        return ops[c.op](a, b).astype(float)

    def read_Frac(self, node):
        if _is_partial(node):
            if getattr(self.ref, "no_partials", False):
                raise InvalidAnswer(f"{self.ref.claim_text} is a value of the forward pass: it is written without "
                                    "gradients")
            top, bottom = node.num.a, node.den.a
            if name_key(top) not in COSTS and getattr(top, "text", None) not in COSTS:
                raise InvalidAnswer(_JACOBIAN.format(_pretty(name_key(top) or "?"), _pretty(name_key(bottom) or "?")))
            key = self.ref.aliases.get(name_key(bottom), name_key(bottom))
            if key == self.ref.wrt.lower():
                raise InvalidAnswer("the answer is the gradient itself; write what it equals")
            if key not in self.p.upstream:
                raise InvalidAnswer(f"∂L/∂{_pretty(key or '?', self.ref.net.batch)} is not one of the "
                                    f"network's error signals; the names here are: {self.ref.allowed()}")
            return self.leaf(self.p.upstream[key])
        if isinstance(node.num, t.Partial) or isinstance(node.den, t.Partial):
            raise InvalidAnswer("∂ is read only in a fraction ∂L/∂q")
        return _op("/", self(node.num), self(node.den))

    def read_Partial(self, node):
        raise InvalidAnswer("∂ is read only in a fraction ∂L/∂q")

    def read_Prime(self, node):
        raise InvalidAnswer("a prime (′) is read on a function: σ'(s_1), f_1'(s_1)")

    def read_Cases(self, node):
        raise InvalidAnswer("cases are index notation, not read for a network; write the answer with matrices")

    def read_BigSum(self, node):
        raise InvalidAnswer("Σ is index notation, not read for a network; write the answer with matrices")

    def read_Cond(self, node):
        raise InvalidAnswer("a comparison on its own is not an answer; write 1[s_1 > 0] for an indicator")


def _is_layer_function(node) -> bool:
    return _layer_f(node) is not None or isinstance(node, t.Prime)


def _layer_f(node) -> int | None:
    """k of `f_k`, a layer's activation written by its layer number; None for anything else."""
    if isinstance(node, t.Sub) and isinstance(node.base, t.Word) and node.base.text == "f" and len(node.index) == 1 \
            and isinstance(node.index[0], t.Num) and node.index[0].text.isdigit():
        return int(node.index[0].text)
    return None


@dataclass(frozen=True)
class _Const(t.Node):
    value: object


def _delta_partials(node):
    """`\\frac{\\delta \\ell}{\\delta \\hat{y}}` (δ for ∂, as NYU writes it) → ∂ℓ/∂ŷ, everywhere in the tree."""
    if isinstance(node, t.Frac):
        num, den = node.num, node.den
        if all(isinstance(n, t.Op) and n.op == "juxt" and isinstance(n.a, t.Word) and n.a.text == "delta"
               for n in (num, den)):
            return t.Frac(t.Partial(num.b), t.Partial(den.b))
        return t.Frac(_delta_partials(num), _delta_partials(den))
    if isinstance(node, t.Op):
        return t.Op(node.op, _delta_partials(node.a), _delta_partials(node.b))
    if isinstance(node, (t.Neg, t.Transpose)):
        return type(node)(_delta_partials(node.a))
    if isinstance(node, t.Equation):
        return t.Equation(tuple(_delta_partials(s) for s in node.sides))
    return node


def left_to_right(node):
    """The reading with ⊙ as tight as a product, left to right: `A B ∘ C D` → ((A B) ∘ C) D."""
    if isinstance(node, t.Op) and node.op in MULTIPLY:
        factors, ops = [], []
        _flatten(node, factors, ops)
        factors = [left_to_right(f) for f in factors]
        for i in reversed(range(len(ops))):  # f_1'(S_1), f_1(S_1): a function keeps its argument
            if ops[i] == "juxt" and _is_layer_function(factors[i]):
                factors[i:i + 2] = [t.Op("juxt", factors[i], factors[i + 1])]
                del ops[i]
        out = factors[0]
        for op, f in zip(ops, factors[1:]):
            out = t.Op(op, out, f)
        return out
    if isinstance(node, t.Op):
        return t.Op(node.op, left_to_right(node.a), left_to_right(node.b))
    if isinstance(node, (t.Neg, t.Transpose)):
        return type(node)(left_to_right(node.a))
    return node


def _mixes_hadamard(node) -> bool:
    factors, ops = [], []
    _flatten(node, factors, ops)
    return "odot" in ops and any(o != "odot" for o in ops)
