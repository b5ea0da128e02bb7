"""Checking a matrix answer for a network gradient, e.g. ∂J/∂x of affine>sigmoid>affine>softmax_cross_entropy.

The answer is read by the same screen and lark grammar as every other answer and evaluated here,
node by node, over NumPy arrays: never as Python. The names are the network's own quantities
(x, W1, b1, s1 or φ, z1 or h, ŷ, y, δ1, ∂L/∂ŷ; upper case in a batch) plus σ′, f_k′, 1[·], ⊙, ᵀ.
The expected gradient is what the network's generated NumPy code computes, at two sets of
random, distinct, non-square sizes and several random points of both signs; nothing is hard-coded.

Conventions, decided here:
- Column convention first (vectors are columns, s_k = W_k z_{k−1} + b_k). A vector answer may be
  a row or a column.
- Row convention second (CS224n writes φ = xW₁ + b₁): every quantity is read transposed (vectors
  as rows, W_k as the matrix of z W_k, i.e. W_kᵀ here) and the answer is then the transpose of the
  gradient. It is accepted, with a note, if and only if that reading matches at every point.
- Bracketing: `A B ∘ C D` parses as (A B) ∘ (C D). Only when that does not fit in shape is the
  left-to-right reading ((A B) ∘ C) D tried; if it is right, the answer is accepted with a note
  asking for brackets.
- A chain of Jacobians (∂ℓ/∂ŷ ∂ŷ/∂z₃ …) is checked for links only: a broken chain is incorrect
  (the missing factor named); a complete one is undecided, since it states no values.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from derive.check import parse as t
from derive.check.meaning import function_latex
from derive.check.screen import InvalidAnswer
from derive.check.verdict import Verdict

COSTS = ("C", "L", "E", "J", "ell", "l", "Lcal")
MAX_EXPONENT = 64
POINTS = 4  # per set of sizes
RTOL, ATOL = 1e-7, 1e-10
# Two sets of sizes, every width distinct from the others and from N, so no transpose can hide.
SIZES = ((4, 3, 5, 2, 6, 7, 8), (3, 5, 2, 4, 7, 6, 8))
SAMPLES = (9, 10)  # N for a batch network


class Mismatch(Exception):
    """The answer's matrices do not fit together; `str()` says how."""


# -------------------------------------------------------------------------------- the samples


@dataclass
class Point:
    sizes: dict  # d0, d1, …, N
    inputs: dict  # code name -> array (X, Y, W1, b1, …), vectors as columns
    values: dict  # answer name -> 2-D array (x, W1, s1, z1, yhat, y, delta1, …)
    upstream: dict  # answer name q -> ∂L/∂q as a 2-D array
    fprime: dict  # k -> f_k′(s_k) as a 2-D array
    expected: np.ndarray


class NetworkReference:
    """The network's quantities and gradient at every point, from its own generated NumPy code."""

    def __init__(self, d, seed: int = 11):
        from derive.network.backprop import backprop
        from derive.network.codegen import _sizes, code_name, compile_numpy, numpy_expr
        from derive.network.names import LayerNames

        self.d, self.net, self.wrt = d, d.network, d.wrt
        net = self.net
        self.names = LayerNames(net)
        bp = backprop(net)
        from derive.network.codegen import sample_hyperparameters

        hyper = sample_hyperparameters(net, np.random.default_rng(seed))
        f = compile_numpy(net, trace=True, hyper=hyper)
        up_code = numpy_expr(bp.signals[0].upstream, _sizes(net))
        fprime_code = {s.k: numpy_expr(s.derivative, _sizes(net)) for s in bp.signals if s.derivative is not None}
        self.aliases = _aliases(net, self.names)
        rng = np.random.default_rng(seed)
        self.points = []
        for widths, samples in zip(SIZES, SAMPLES):
            n = samples if net.batch else 1
            for _ in range(POINTS):
                inputs = _inputs(net, widths, n, rng)
                _loss, grads, trace = f(inputs["X"], inputs["Y"], **{p: inputs[p] for p in net.params})
                env = {"np": np, **inputs, **trace, **hyper}
                values = {"x": inputs["X"], "y": inputs["Y"]}
                for p in net.params:
                    values[p.lower()] = inputs[p] if p.startswith("W") else inputs[p][:, None]
                for row in bp.forward:
                    if row is not bp.loss_row:
                        values[row.lhs.base.name.lower()] = trace[code_name(row.lhs.base.name)]
                for s in bp.signals:
                    values[f"delta{s.k}"] = trace[code_name(s.name)]
                with np.errstate(all="ignore"):  # our own generated expressions, evaluated on our arrays
                    top = np.broadcast_to(eval(up_code, env), values["y"].shape)
                    fprime = {k: np.broadcast_to(eval(c, env), trace[f"S{k}"].shape)
                              for k, c in fprime_code.items()}
                upstream = {self.names.out[net.depth].lower(): top}
                for s in bp.signals:
                    upstream[self.names.pre[s.k].lower()] = values[f"delta{s.k}"]
                    if s.k > 1:
                        upstream[self.names.out[s.k - 1].lower()] = inputs[f"W{s.k}"].T @ values[f"delta{s.k}"]
                g = grads[code_name(self.wrt)]
                expected = g[:, None] if g.ndim == 1 else g
                sizes = {f"d{k}": widths[k] for k in range(net.depth + 1)}
                if net.batch:
                    sizes["N"] = n
                self.points.append(Point(sizes, inputs, values, upstream, fprime, expected))

    def allowed(self) -> str:
        names = sorted(set(self.points[0].values) | set(self.aliases))
        shown = [_pretty(n, self.net.batch) for n in names]
        return ", ".join(shown + [f"∂L/∂{_pretty(q, self.net.batch)}" for q in sorted(self.points[0].upstream)])


def _aliases(net, names) -> dict:
    """Other names for a network's quantities: CS224n's h = σ(φ), φ = xW₁ + b₁, θ the logits."""
    out = {}
    if net.depth == 2 and net.stages[0].activation is not None:
        out["h"] = names.out[1].lower()
        out["phi"] = names.pre[1].lower()
    if net.loss.name == "softmax_cross_entropy":
        out["theta"] = names.pre[net.depth].lower()
    return out


def _inputs(net, widths, n, rng) -> dict:
    """Random inputs of both signs; a one-hot target for cross-entropy, (0, 1) for BCE."""
    L = net.depth

    def signed(*shape):
        return rng.choice((-1.0, 1.0), size=shape) * rng.uniform(0.3, 1.5, size=shape)

    out = {"X": signed(widths[0], n)}
    for s in net.stages:
        out[f"W{s.k}"] = signed(widths[s.k], widths[s.k - 1])
        if s.bias:
            out[f"b{s.k}"] = rng.uniform(-0.5, 0.5, size=widths[s.k])
    if net.loss.name in ("softmax_cross_entropy", "cross_entropy"):
        Y = np.zeros((widths[L], n))
        Y[rng.integers(0, widths[L], size=n), np.arange(n)] = 1.0
    elif net.loss.name.startswith("bce"):
        Y = rng.uniform(0.1, 0.9, size=(widths[L], n))
    else:
        Y = rng.uniform(-1, 1, size=(widths[L], n))
    out["Y"] = Y
    return out


_REFERENCES: dict = {}


def network_reference(d) -> NetworkReference:
    key = (d.network.spec, d.wrt)
    if key not in _REFERENCES:
        _REFERENCES[key] = NetworkReference(d)
    return _REFERENCES[key]


# -------------------------------------------------------------------------------- names


def _pretty(name: str, batch: bool = False) -> str:
    import re

    m = re.fullmatch(r"(delta|s|z|w|b)(\d+)", name)
    if m:
        base = {"delta": "Δ" if batch else "δ", "w": "W", "s": "S" if batch else "s",
                "z": "Z" if batch else "z", "b": "b"}[m.group(1)]
        return f"{base}{m.group(2)}"
    return {"yhat": "Ŷ" if batch else "ŷ", "x": "X" if batch else "x", "y": "Y" if batch else "y",
            "phi": "φ", "theta": "θ", "ell": "ℓ"}.get(name, name)


def name_key(node) -> str | None:
    """The name a node spells, lower case: W_1, W^{(1)}, W1 → w1; \\hat{y} → yhat; δ_2 → delta2."""
    if isinstance(node, t.Word):
        return node.text.lower()
    if isinstance(node, t.Hat) and isinstance(node.base, t.Word) and len(node.base.text) == 1:
        return node.base.text.lower() + "hat"
    if isinstance(node, t.Sub) and len(node.index) == 1:
        base, idx = name_key(node.base), node.index[0]
        if base is not None and isinstance(idx, (t.Num, t.Word)):
            return base + idx.text.lower()
    return None


def _latex_name(key: str, batch: bool = False) -> str:
    """LaTeX of a name key: w1 → W^{(1)}, delta2 → δ^{(2)} (Δ in a batch), yhat → ŷ (Ŷ), φ, ℓ."""
    import re

    from derive.network.names import net_name

    m = re.fullmatch(r"(w|b|s|z|delta)(\d+)", key)
    if m:
        base = m.group(1)
        base = "W" if base == "w" else base.capitalize() if batch and base != "b" else base
        return net_name(base + m.group(2))
    if key in ("x", "y", "yhat"):
        return net_name(key.capitalize() if batch else key)
    return {"phi": r"\phi", "theta": r"\theta", "ell": r"\ell", "Lcal": r"\mathcal{L}"}.get(key, key)


# -------------------------------------------------------------------------------- evaluation


def _fit_scalar(a, b):
    if a.shape == (1, 1) and b.shape != (1, 1):
        return np.broadcast_to(a, b.shape), b
    if b.shape == (1, 1) and a.shape != (1, 1):
        return a, np.broadcast_to(b, a.shape)
    return a, b


def _shape(a) -> str:
    return "×".join(str(s) for s in a.shape)


def _op(op: str, a, b):
    if op in ("+", "-"):
        a, b = _fit_scalar(a, b)
        if a.shape != b.shape:
            raise Mismatch(f"cannot {'add' if op == '+' else 'subtract'} a {_shape(a)} and a {_shape(b)} matrix")
        return a + b if op == "+" else a - b
    if op == "/":
        a, b = _fit_scalar(a, b)
        if a.shape != b.shape:
            raise Mismatch(f"cannot divide a {_shape(a)} by a {_shape(b)} matrix")
        return a / b
    if op == "odot":
        a, b = _fit_scalar(a, b)
        if a.shape != b.shape:
            raise Mismatch(f"the Hadamard product ⊙ needs equal shapes, not {_shape(a)} and {_shape(b)}")
        return a * b
    if op == "otimes":
        if 1 not in a.shape or 1 not in b.shape:
            raise Mismatch(f"an outer product ⊗ is read for vectors, not {_shape(a)} and {_shape(b)}")
        return a.reshape(-1, 1) @ b.reshape(1, -1)
    if op != "@" and (a.shape == (1, 1) or b.shape == (1, 1)):
        return a * b
    if a.shape[1] == b.shape[0]:
        return a @ b
    if op != "@" and a.shape == b.shape and 1 in a.shape:  # y(1 − y) for vectors: entry by entry
        return a * b
    hint = ": a transpose?" if a.shape[1] == b.shape[1] or a.shape[0] == b.shape[0] else ""
    raise Mismatch(f"cannot multiply a {_shape(a)} by a {_shape(b)} matrix{hint}")


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


_FUNCS = {
    "exp": np.exp, "log": np.log, "ln": np.log, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh,
    "sigma": _sigmoid, "sigmoid": _sigmoid, "sqrt": np.sqrt, "abs": np.abs, "sgn": np.sign, "sign": np.sign,
    "relu": lambda a: np.maximum(a, 0), "Heaviside": lambda a: np.heaviside(a, 0), "sech": lambda a: 1 / np.cosh(a),
}
_PRIMES = {
    "sigma": lambda a: _sigmoid(a) * (1 - _sigmoid(a)), "sigmoid": lambda a: _sigmoid(a) * (1 - _sigmoid(a)),
    "tanh": lambda a: 1 - np.tanh(a) ** 2, "relu": lambda a: np.heaviside(a, 0), "exp": np.exp,
}
_JACOBIAN = "a Jacobian ∂{}/∂{} inside an expression is not read; write its value (e.g. Wᵀ δ, σ′(s) ⊙ …)"


class Evaluator:
    """The value of an answer's tree at one point; `rows` reads every quantity transposed."""

    def __init__(self, ref: NetworkReference, point: Point, rows: bool = False):
        self.ref, self.p, self.rows = ref, point, rows

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
        return self.named(node.text.lower(), node)

    def read_Hat(self, node):
        return self.named(name_key(node), node)

    def read_Sub(self, node):
        key = name_key(node)
        if key is None or not (key in self.p.values or key in self.ref.aliases):
            idx = node.index[0] if len(node.index) == 1 else None
            if isinstance(idx, t.Word) and set(idx.text) <= set("ijklmn"):
                raise InvalidAnswer("index notation (entries such as W_ij) is not read for a network; "
                                    "write the answer with matrices: products, ᵀ and ⊙")
        return self.named(key, node)

    def read_Op(self, node):
        if node.op == "juxt" and isinstance(node.a, t.Prime):  # f_1'(S_1): layer 1's f′ at its S_1
            return self.layer_prime(node.a, node.b)
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
        with np.errstate(all="ignore"):
            return np.power(self(node.base), e)

    def read_Func(self, node):
        name = node.name
        args = [self(a) for a in node.args]
        if name == "diag":
            (v,) = args
            if 1 not in v.shape:
                raise Mismatch(f"diag of a {_shape(v)} matrix: diag takes a vector")
            return np.diag(v.reshape(-1))
        if name == "outer" and len(args) == 2:
            return _op("otimes", *args)
        if name.lower() in ("max", "min") and len(args) == 2:
            a, b = _fit_scalar(*args)
            if a.shape != b.shape:
                raise Mismatch(f"{name} of a {_shape(a)} and a {_shape(b)} matrix")
            out = np.maximum(a, b) if name.lower() == "max" else np.minimum(a, b)
        else:
            if len(args) != 1:
                raise InvalidAnswer(f"{name} takes one argument")
            table = _PRIMES if node.primes else _FUNCS
            if name not in table or node.primes > 1:
                raise InvalidAnswer(f"cannot read {name}{chr(39) * node.primes} in a network answer")
            with np.errstate(all="ignore"):
                out = table[name](args[0])
        if node.power is not None:
            out = self.read_Power(t.Power(_Const(out), node.power))
        return out

    def read__Const(self, node):
        return node.value

    def read_Indicator(self, node):
        c = node.cond
        a, b = _fit_scalar(self(c.a), self(c.b))
        if a.shape != b.shape:
            raise Mismatch(f"cannot compare a {_shape(a)} and a {_shape(b)} matrix")
        ops = {">": np.greater, "<": np.less, ">=": np.greater_equal, "<=": np.less_equal,
               "=": np.equal, "!=": np.not_equal}
        return ops[c.op](a, b).astype(float)

    def read_Frac(self, node):
        if _is_partial(node):
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


@dataclass(frozen=True)
class _Const(t.Node):
    value: object


def _is_partial(node) -> bool:
    return isinstance(node, t.Frac) and isinstance(node.num, t.Partial) and isinstance(node.den, t.Partial)


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


MULTIPLY = ("juxt", "*", "@", "odot")


def _flatten(node, out: list, ops: list) -> None:
    if isinstance(node, t.Op) and node.op in MULTIPLY:
        _flatten(node.a, out, ops)
        ops.append(node.op)
        _flatten(node.b, out, ops)
    else:
        out.append(node)


def left_to_right(node):
    """The reading with ⊙ as tight as a product, left to right: `A B ∘ C D` → ((A B) ∘ C) D."""
    if isinstance(node, t.Op) and node.op in MULTIPLY:
        factors, ops = [], []
        _flatten(node, factors, ops)
        factors = [left_to_right(f) for f in factors]
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


# -------------------------------------------------------------------------------- chains of Jacobians


def _chain(node) -> list | None:
    """The factors (top, bottom) of a product of ∂a/∂b, if the answer is one and names a Jacobian."""
    factors, ops = [], []
    _flatten(node, factors, ops)
    if len(factors) < 2 or not all(_is_partial(f) for f in factors):
        return None
    pairs = [(name_key(f.num.a) or "?", name_key(f.den.a) or "?") for f in factors]
    if all(top in [c.lower() for c in COSTS] for top, _ in pairs):
        return None  # upstream gradients multiplied: a value, not a chain
    return pairs


def check_chain(pairs: list, d, batch: bool) -> tuple[str, list]:
    def frac(a, b):
        return f"∂{_pretty(a, batch)}/∂{_pretty(b, batch)}"

    wrt = d.wrt.lower()
    problems = []
    if pairs[0][0] not in [c.lower() for c in COSTS]:
        problems.append(f"the chain starts at {_pretty(pairs[0][0], batch)}, not at the loss: "
                        f"its first factor should be ∂L/∂{_pretty(pairs[0][0], batch)}")
    for (a, b), (c, e) in itertools.pairwise(pairs):
        if c == b:
            continue
        if c == a:
            problems.append(f"{frac(c, e)} repeats {_pretty(c, batch)}: after {frac(a, b)} the next factor "
                            f"should be {frac(b, e)}")
        else:
            problems.append(f"the chain breaks between {frac(a, b)} and {frac(c, e)}: "
                            f"a factor {frac(b, c)} is missing")
    if pairs[-1][1] != wrt:
        problems.append(f"the chain ends at {_pretty(pairs[-1][1], batch)}, not at {_pretty(wrt, batch)}")
    shown = " ".join(rf"\frac{{\partial {_latex_name(a, batch)}}}{{\partial {_latex_name(b, batch)}}}"
                     for a, b in pairs)
    return shown, problems


# -------------------------------------------------------------------------------- the verdict


@dataclass
class Values:
    answers: list  # one 2-D array per point
    rows: bool


def evaluate(node, ref: NetworkReference, rows: bool) -> Values:
    out = []
    for p in ref.points:
        with np.errstate(all="ignore"):
            v = Evaluator(ref, p, rows)(node)
        out.append(v.T if rows else v)
    return Values(out, rows)


def _fits(v, e) -> np.ndarray | None:
    """The answer in the expected shape: as is, or a vector in the other orientation; else None."""
    if v.shape == e.shape:
        return v
    if e.shape[1] == 1 and v.shape == (1, e.shape[0]):
        return v.T
    return None


def matches(values: Values, ref: NetworkReference) -> bool | None:
    """True if equal at every point, False if not, None if the shapes do not fit."""
    ok = True
    for v, p in zip(values.answers, ref.points):
        v = _fits(v, p.expected)
        if v is None:
            return None
        ok = ok and bool(np.all(np.isfinite(v)) and np.allclose(v, p.expected, rtol=RTOL, atol=ATOL))
    return ok


def unpack(node, d, batch: bool):
    """The right-hand side of `∂J/∂x = …`, checking that the left names the variable of this check."""
    if not isinstance(node, t.Equation):
        return node
    lhs = node.sides[0]
    if _is_partial(lhs):
        key = name_key(lhs.den.a)
        if key is not None and key != d.wrt.lower():
            raise InvalidAnswer(f"the left-hand side is a derivative with respect to {_pretty(key, batch)}, "
                                f"but this checks the derivative with respect to {_pretty(d.wrt.lower(), batch)}")
    return node.sides[-1]


def expected_latex(d) -> str:
    parts = [rf"\frac{{\partial L}}{{\partial {_latex_name(d.wrt.lower())}}} = {d.gradient.latex}"]
    parts += [rf"{_latex_name(s.name.lower())} = {s.latex}" for s in d.signals]
    return r",\quad ".join(parts)


_NUMBERED = re.compile(r"(?<![\\A-Za-z])([A-Za-z]+)(\d{1,2})(?!\d|\.\d)")


def _numbered(answer: str) -> str:
    """Plain-text layer numbers as subscripts: `W1.T @ delta1` → `W_{1}.T @ delta_{1}` (the grammar
    reads a letter run and a number as a product)."""
    return _NUMBERED.sub(r"\1_{\2}", answer) if isinstance(answer, str) and len(answer) <= 4000 else answer


def check_network(d, answer: str, *, timeout: float | None = 2.0) -> Verdict:
    """The verdict on a matrix answer for a network gradient (see the module's conventions)."""
    from derive.check.compare import Budget, time_limit
    from derive.check.parse import parse
    from derive.check.verdict import LIMITS, stopped

    expected = expected_latex(d)
    batch = d.network.batch
    parsed = None
    try:
        ref = network_reference(d)  # built once per derivation: not the student's time
        with time_limit(timeout):
            node = unpack(_delta_partials(parse(_numbered(answer))), d, batch)
            pairs = _chain(node)
            if pairs is not None:
                parsed, problems = check_chain(pairs, d, batch)
                if problems:
                    return Verdict("incorrect", parsed, expected, [p + "." for p in problems], None, answer)
                return Verdict("undecided", parsed, expected, [
                    (f"the chain rule is complete from L to {_pretty(d.wrt.lower(), batch)}, but it names the "
                    "factors without their values; write them out (e.g. δ1 xᵀ) to have them checked.")], None, answer)
            parsed = answer_latex(node, batch)
            return _judge(node, ref, d, parsed, expected, answer)
    except (InvalidAnswer, Budget, *LIMITS) as exc:
        return stopped(exc, parsed, expected, answer, timeout)
    except (ValueError, ZeroDivisionError):
        return Verdict("invalid", parsed, expected, ["the answer cannot be evaluated"], None, answer)


ROW_NOTE = ("read in the row convention (vectors as rows, s = zW + b, so W there is Wᵀ here): your answer is "
            "the transpose of the gradient in this network's column convention, where it is {}.")
BRACKET_NOTE = ("as written, ⊙ binds less tightly than the products, and then {}; read left to right, "
                "${}$, it is right: put in the brackets.")
READINGS = ((False, False), (False, True), (True, False), (True, True))  # (regrouped, rows), in this order


def _judge(node, ref, d, parsed, expected, answer) -> Verdict:
    batch = ref.net.batch
    results = {}
    for regrouped, rows in READINGS:
        if regrouped and not (_mixes_hadamard(node) and any(isinstance(r, Mismatch) for r in results.values())):
            break
        try:
            results[regrouped, rows] = values = evaluate(left_to_right(node) if regrouped else node, ref, rows)
        except Mismatch as exc:
            results[regrouped, rows] = exc
            continue
        if matches(values, ref):
            notes = []
            if regrouped:
                notes.append(BRACKET_NOTE.format(str(results[False, rows]).rstrip("?").split(":")[0],
                                                 answer_latex(left_to_right(node), batch)))
            if rows:
                notes.append(ROW_NOTE.format(f"∂L/∂{_pretty(d.wrt.lower(), batch)} = ${d.gradient.latex}$"))
            return Verdict("correct", parsed, expected, notes, None, answer)
    fitted = [(key, v) for key, v in results.items() if isinstance(v, Values) and matches(v, ref) is not None]
    if fitted:
        (regrouped, rows), values = fitted[0]
        feedback = explain(values, ref)
        if rows:
            feedback.insert(0, "read in the row convention (every quantity transposed) the shapes fit, "
                               "but the values do not.")
        return Verdict("incorrect", parsed, expected, feedback, counterexample(values, ref), answer)
    column = results[False, False]
    if isinstance(column, Values):
        got, want = column.answers[0].shape, ref.points[0].expected.shape
        text = f"shape {got[0]}×{got[1]}, expected {want[0]}×{want[1]}"
        return Verdict("incorrect", parsed, expected, [text + (": a transpose?" if got == want[::-1] else ".")],
                       None, answer)
    reason = str(column)
    return Verdict("incorrect", parsed, expected, [reason if reason.endswith("?") else reason + "."], None, answer)


def explain(values: Values, ref: NetworkReference) -> list:
    """A named mistake where there is one: zero, a sign, a constant factor; else how much is right."""
    from derive.check.feedback import constant_ratio

    a = np.concatenate([_fits(v, p.expected).ravel() for v, p in zip(values.answers, ref.points)])
    e = np.concatenate([p.expected.ravel() for p in ref.points])
    if np.allclose(a, 0) and not np.allclose(e, 0):
        return ["your answer is 0 everywhere, but the gradient is not."]
    mask = np.abs(e) > 1e-9
    if mask.any() and np.all(np.isfinite(a)) and np.allclose(a[~mask], 0, atol=1e-9):
        r = a[mask] / e[mask]
        if np.allclose(r, r[0], rtol=1e-6):
            return constant_ratio(float(r[0]), "gradient")
    p0 = ref.points[0]
    ok = np.isclose(_fits(values.answers[0], p0.expected), p0.expected, rtol=RTOL, atol=ATOL)
    if ok.any():
        return [f"right in {int(ok.sum())} of {ok.size} entries at the first point, wrong in the others."]
    return ["the answer differs from the gradient."]


def counterexample(values: Values, ref: NetworkReference) -> dict | None:
    for v, p in zip(values.answers, ref.points):
        v = _fits(v, p.expected)
        bad = np.argwhere(~np.isclose(v, p.expected, rtol=RTOL, atol=ATOL) | ~np.isfinite(v))
        if bad.size == 0:
            continue
        r, c = (int(x) for x in bad[0])
        got, want = float(v[r, c]), float(p.expected[r, c])
        data = {k: np.round(a, 4).tolist() for k, a in p.inputs.items()}
        sizes = ", ".join(f"{k} = {n}" for k, n in p.sizes.items())
        entry = f"({r + 1}, {c + 1})" if p.expected.shape[1] > 1 else f"{r + 1}"
        text = (f"at sizes {sizes}, with random x, W, b, y (in 'values'): entry {entry} of your answer "
                f"is {got:.6g}, of ∂L/∂{_pretty(ref.wrt.lower(), ref.net.batch)} it is {want:.6g}.")
        return {"values": data, "sizes": dict(p.sizes), "entry": {"row": r + 1, "col": c + 1},
                "answer": round(got, 6) if np.isfinite(got) else None, "expected": round(want, 6), "text": text}
    return None


# ⊙ printed looser than the products, so A·B ⊙ C reads back the same and (A ⊙ B)·C keeps its brackets
PRECEDENCE = {"+": 1, "-": 1, "odot": 2, "otimes": 2, "*": 2.5, "/": 2.5, "@": 2.5, "juxt": 3}


def answer_latex(node, batch: bool = False) -> str:
    """LaTeX of a network answer as written, names in the network's style (brackets where needed)."""

    def go(n, parent=0):
        if isinstance(n, t.Num):
            return n.text
        key = name_key(n) if isinstance(n, (t.Word, t.Hat, t.Sub)) else None
        if key is not None:
            return _latex_name(key, batch)
        if _is_partial(n):
            top = n.num.a.text if isinstance(n.num.a, t.Word) and n.num.a.text in COSTS else go(n.num.a)
            return rf"\frac{{\partial {_latex_name(top, batch)}}}{{\partial {go(n.den.a)}}}"
        if isinstance(n, t.Frac):
            return rf"\frac{{{go(n.num)}}}{{{go(n.den)}}}"
        if isinstance(n, t.Transpose):
            inner = go(n.a, 4)
            return inner[:-1] + r"\top}" if inner.endswith(")}") and "^{(" in inner else rf"{inner}^{{\top}}"
        if isinstance(n, t.Neg):
            text = "-" + go(n.a, 2.5)
            return rf"\left({text}\right)" if parent > 1 else text
        if isinstance(n, t.Power):
            return rf"{go(n.base, 4)}^{{{go(n.exp)}}}"
        if isinstance(n, t.Prime):
            f = n.a
            if isinstance(f, t.Sub) and isinstance(f.base, t.Word) and len(f.index) == 1 and isinstance(f.index[0], t.Num):
                return f"{f.base.text}_{{{f.index[0].text}}}'"
            return go(f, 4) + "'"
        if isinstance(n, t.Op):
            if n.op == "juxt" and isinstance(n.a, t.Prime):
                return rf"{go(n.a)}\left({go(n.b)}\right)"
            prec = PRECEDENCE[n.op]
            sym = {"+": " + ", "-": " - ", "*": r" \cdot ", "juxt": " ", "/": " / ", "@": " ",
                   "odot": r" \odot ", "otimes": r" \otimes "}[n.op]
            text = go(n.a, prec) + sym + go(n.b, prec + 1)
            return rf"\left({text}\right)" if parent > prec else text
        if isinstance(n, (t.Func, t.Indicator)):
            return function_latex(n, go)
        return "?"

    return go(node)
