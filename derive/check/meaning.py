"""What a parsed answer means for one derivation: names from an allow-list, index or matrix form.

Index form (`β y_i(δ_ij − y_j)`) becomes a SymPy expression in the engine's own symbols, with
free indices i, j. Matrix form (`∂C/∂y xᵀ`, `W^T δ`) is evaluated at the definition's concrete,
non-square sizes into an explicit matrix of entries; shapes are checked on the way, and a
product that does not fit is a ShapeMismatch (a wrong answer), not an unreadable one.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from derive.check import parse as t
from derive.check.screen import InvalidAnswer
from derive.definitions.model import IDX

COSTS = ("C", "L", "E", "J", "ell", "l", "Lcal")
MAX_EXPONENT = 64
MATRIX_ONLY_FUNCS = ("diag", "outer", "softmax")


class IndexClash(Exception):
    """A sum runs over an index that is also free in the answer (Σ_j … in ∂L/∂o_j); `str()` says so."""

    latex: str | None = None


class ShapeMismatch(Exception):
    """The answer is readable but its matrices do not fit together; `str()` says how."""

    latex: str | None = None  # what was understood, set once known


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
        names = sorted(n for n in self.vars if n != self.output or self.defn.kind == "activation")
        if self.upstream is not None:
            names.append(f"∂C/∂{self.output}")
        return ", ".join(names)

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


def form_of(node: t.Node, vocab: Vocabulary) -> str:
    index = matrix = None
    for n in _walk(node):
        if isinstance(n, (t.Sub, t.BigSum, t.Cases)) or isinstance(n, t.Func) and n.name == "KroneckerDelta":
            index = index or n
        elif isinstance(n, t.Transpose) or (isinstance(n, t.Op) and n.op in ("@", "odot", "otimes")) or isinstance(n, t.Func) and n.name in MATRIX_ONLY_FUNCS:
            matrix = matrix or n
    if index is not None and matrix is not None:
        raise InvalidAnswer("the answer mixes index notation (y_i, δ_ij, Σ) with matrix notation "
                            "(ᵀ, ⊙, ⊗, diag): write it in one of them")
    if index is not None:
        return "index"
    scalars = all(not v.shape for v in vocab.vars.values()) and (vocab.upstream is None or not vocab.upstream.shape)
    return "scalar" if matrix is None and scalars else "matrix"


# ---------------------------------------------------------------------------------------------


def _number(text: str) -> sp.Rational:
    f = Fraction(text)
    return sp.Rational(f.numerator, f.denominator)


def _safe_power(base: sp.Expr, exp: sp.Expr) -> sp.Expr:
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


def _sigmoid(a):
    return 1 / (1 + sp.exp(-a))


_FUNCS = {
    "exp": sp.exp, "log": sp.log, "ln": sp.log, "tanh": sp.tanh, "sinh": sp.sinh, "cosh": sp.cosh,
    "sigma": _sigmoid, "sigmoid": _sigmoid, "sqrt": sp.sqrt, "sech": sp.sech, "abs": sp.Abs,
    "sgn": sp.sign, "sign": sp.sign, "relu": lambda a: sp.Max(0, a),
    "Heaviside": lambda a: sp.Heaviside(a, 0), "erf": sp.erf,
}
_DERIVATIVES = {
    "sigma": lambda a: _sigmoid(a) * (1 - _sigmoid(a)), "sigmoid": lambda a: _sigmoid(a) * (1 - _sigmoid(a)),
    "tanh": lambda a: 1 - sp.tanh(a) ** 2, "exp": sp.exp, "relu": lambda a: sp.Heaviside(a, 0),
    "log": lambda a: 1 / a, "ln": lambda a: 1 / a,
}


class Interpreter:
    """Turns a tree into index form or matrix form for one vocabulary."""

    def __init__(self, vocab: Vocabulary, form: str, keep_cases: bool = False, free: tuple = ()):
        self.v = vocab
        self.form = form
        self.keep_cases = keep_cases  # for display: cases as written, not folded into δ
        self.free = free  # the free indices as the answer writes them (j in ∂L/∂o_j = …)

    # -- names ----------------------------------------------------------------------------
    def word(self, text: str, index: tuple | None = None):
        """A word with an optional subscript; `xy_i` is x·y_i."""
        v = self.v
        if len(text) == 1 and text.isupper() and text not in v.vars and text not in v.dims \
                and text.lower() in v.vars and v.vars[text.lower()].shape:
            text = text.lower()  # X^T for the vector x: the case of a letter is not the mistake
        if text in v.vars or v.is_upstream_word(text) or text in ("e", "pi") or text in v.dims:
            return self.name(text, index)
        if text in ("delta", "Delta") and index is not None:
            return self.name(text, index)
        if len(text) > 1 and all(c in v.vars or c in v.dims or c == "e" for c in text):
            parts = [self.name(c, None) for c in text[:-1]] + [self.name(text[-1], index)]
            return self.product(parts)
        if text in COSTS or text == v.output:
            raise InvalidAnswer(f"{_pretty(text)} on its own is not part of this answer; "
                                f"the names here are: {v.allowed()}")
        raise InvalidAnswer(f"unknown name {_pretty(text)}; the names here are: {v.allowed()}")

    def name(self, text: str, index: tuple | None):
        v = self.v
        if text == "e" and "e" not in v.vars:
            return self.scalar(sp.E) if index is None else self._no_index("e")
        if text == "pi":
            return self.scalar(sp.pi)
        if text in v.dims and text not in v.vars:
            return self.scalar(v.dims[text]) if index is None else self._no_index(text)
        if text in ("delta", "Delta") and index is not None and (len(self._split(index, 2)) == 2
                                                                 or not v.is_upstream_word(text)):
            if len(self._split(index, 2)) != 2:
                raise InvalidAnswer("δ takes two indices here: δ_ij")
            a, b = self._split(index, 2)
            if self.form == "matrix":
                raise InvalidAnswer("δ_ij is index notation")
            return sp.KroneckerDelta(a, b)
        if v.is_upstream_word(text):
            return self.entry(v.upstream, index)
        var = v.var_of_word(text)
        if var is None:
            raise InvalidAnswer(f"unknown name {_pretty(text)}; the names here are: {v.allowed()}")
        named = any(it.var.name == var.name for it in v.defn.intermediates)  # the RNN's h, named in its result
        if v.defn.kind != "activation" and var is v.defn.output and v.defn.kind == "layer" and not named:
            raise InvalidAnswer(f"{_pretty(text)} is the layer's output; the gradient of {v.d.wrt} "
                                f"is written in terms of: {v.allowed()}")
        return self.entry(var, index)

    def _no_index(self, text):
        raise InvalidAnswer(f"{_pretty(text)} takes no subscript")

    def _split(self, index: tuple, rank: int) -> list:
        """Subscript parts: `ij` → i, j when the name has two indices; `i,j` as written."""
        parts = []
        for node in index:
            if isinstance(node, t.Word) and len(node.text) > 1 and len(index) < rank:
                parts += [t.Word(c) for c in node.text]
            else:
                parts.append(node)
        return [self.index_value(p) for p in parts]

    def index_value(self, node) -> sp.Expr:
        if isinstance(node, t.Num):
            value = _number(node.text)
            if not value.is_integer or value < 1:
                raise InvalidAnswer(f"index {node.text} is not a positive whole number")
            return value
        if isinstance(node, t.Word) and node.text in IDX:
            return IDX[node.text]
        if isinstance(node, t.Word) and node.text in self.v.vars and self.v.vars[node.text].domain == "class":
            return self.v.vars[node.text].symbol
        if isinstance(node, t.Op) and node.op in ("+", "-"):
            a, b = self.index_value(node.a), self.index_value(node.b)
            return a + b if node.op == "+" else a - b
        raise InvalidAnswer(f"cannot read the subscript {_describe(node)} as an index")

    def entry(self, var, index: tuple | None):
        shape = var.shape
        if not shape:
            if index is not None:
                raise InvalidAnswer(f"{_pretty(var.name)} is a scalar here and takes no subscript")
            return self.scalar(var.symbol)
        if index is None:
            if self.form == "index":
                raise InvalidAnswer(
                    f"{_pretty(var.name)} is a {_shape_word(shape)} here: write its entries "
                    f"({_pretty(var.name)}_{'ij'[:len(shape)]}), or write the whole answer with matrices")
            return self.matrix_of(var)
        idx = self._split(index, len(shape))
        if len(idx) != len(shape):
            raise InvalidAnswer(f"{_pretty(var.name)} has {len(shape)} index(es), not {len(idx)}")
        for value, dim in zip(idx, shape):
            if value.is_Integer and value > self.v.sizes.get(dim, value):
                pass  # an out-of-range entry is caught when evaluated
        return var.symbol[tuple(idx)]

    def matrix_of(self, var) -> sp.ImmutableMatrix:
        sizes = [self.v.sizes[s] for s in var.shape]
        if len(sizes) == 1:
            return sp.ImmutableMatrix(sizes[0], 1, lambda r, c: var.symbol[r + 1])
        return sp.ImmutableMatrix(sizes[0], sizes[1], lambda r, c: var.symbol[r + 1, c + 1])

    def scalar(self, value):
        return sp.ImmutableMatrix([[value]]) if self.form == "matrix" else value

    # -- structure ------------------------------------------------------------------------
    def read(self, node):
        method = getattr(self, "read_" + type(node).__name__)
        return method(node)

    def read_Num(self, node):
        return self.scalar(_number(node.text))

    def read_Word(self, node):
        return self.word(node.text)

    def read_Sub(self, node):
        base = node.base
        if isinstance(base, t.Hat):
            base = t.Word(_hat_name(base))
        if isinstance(base, t.Word):
            return self.word(base.text, node.index)
        if isinstance(base, t.Frac) and _is_upstream(base):
            return self.upstream(base, node.index)
        raise InvalidAnswer(f"cannot read a subscript on {_describe(base)}")

    def read_Hat(self, node):
        inner = node.base
        if isinstance(inner, t.Sub) and isinstance(inner.base, t.Word):
            return self.word(_hat_name(t.Hat(inner.base)), inner.index)
        return self.word(_hat_name(node))

    def read_Op(self, node):
        a, b = self.read(node.a), self.read(node.b)
        if self.form == "index":
            if node.op in ("@", "odot", "otimes"):
                raise InvalidAnswer("⊙, ⊗ and @ are matrix notation")
            return {"+": lambda: a + b, "-": lambda: a - b, "/": lambda: a / b}.get(node.op, lambda: a * b)()
        return _matrix_op(node.op, a, b)

    def read_Neg(self, node):
        return -self.read(node.a)

    def read_Power(self, node):
        if _is_updown_delta(node):  # δ_j^k, Kronecker's delta with one index up
            if self.form == "matrix":
                raise InvalidAnswer("δ_j^k is index notation")
            return sp.KroneckerDelta(self.index_value(node.base.index[0]), self.index_value(node.exp))
        base = self.read(node.base)
        exp = self.read(node.exp)
        if self.form == "matrix":
            if exp.shape != (1, 1):
                raise InvalidAnswer("an exponent must be a number")
            return base.applyfunc(lambda e: _safe_power(e, exp[0, 0]))
        return _safe_power(base, exp)

    def read_Transpose(self, node):
        value = self.read(node.a)
        return value.T if self.form == "matrix" else value

    def read_Prime(self, node):
        raise InvalidAnswer("a prime (′) is read only on a function: σ'(x), tanh'(x)")

    def read_Frac(self, node):
        if _is_upstream(node):
            return self.upstream(node, None)
        if isinstance(node.num, t.Partial) or isinstance(node.den, t.Partial):
            raise InvalidAnswer("a derivative in the answer must be the gradient arriving from above, "
                                f"∂C/∂{self.v.output}" if self.v.upstream is not None else
                                "the answer should not contain a derivative")
        return self.read(t.Op("/", node.num, node.den))

    def read_Partial(self, node):
        raise InvalidAnswer("∂ is read only in a fraction ∂C/∂y")

    def upstream(self, frac, index):
        cost, target = frac.num.a, frac.den.a
        if self.v.upstream is None:
            raise InvalidAnswer(f"{self.v.defn.name} is not a layer: there is no gradient arriving from above")
        if not (isinstance(cost, t.Word) and cost.text in COSTS):
            raise InvalidAnswer(f"∂{_describe(cost)}/∂…: write the cost as C, L, E or J")
        if isinstance(target, t.Sub):
            if index is not None:
                raise InvalidAnswer("the gradient has two subscripts")
            target, index = target.base, target.index
        name = _hat_name(target) if isinstance(target, t.Hat) else getattr(target, "text", None)
        if name not in (self.v.output, "yhat" if self.v.output == "y" else None):
            raise InvalidAnswer(f"∂C/∂{_pretty(name or '?')}: the gradient arriving from above is "
                                f"∂C/∂{self.v.output}")
        return self.entry(self.v.upstream, index)

    def read_Func(self, node):
        name = node.name
        if name in ("KroneckerDelta",):
            if self.form == "matrix" or len(node.args) != 2:
                raise InvalidAnswer("KroneckerDelta takes two indices")
            return sp.KroneckerDelta(*(self.index_value(a) for a in node.args))
        args = [self.read(a) for a in node.args]
        if name in ("max", "min", "Max", "Min"):
            if len(args) != 2:
                raise InvalidAnswer(f"{name} takes two arguments")
            f = sp.Max if name.lower() == "max" else sp.Min
            out = _elementwise2(f, *args) if self.form == "matrix" else f(*args)
        elif name in ("diag", "outer", "softmax"):
            out = _matrix_func(name, args, self)
        else:
            if len(args) != 1:
                raise InvalidAnswer(f"{name} takes one argument")
            if node.primes:
                if name not in _DERIVATIVES or node.primes > 1:
                    raise InvalidAnswer(f"cannot read {name}{chr(39) * node.primes}")
                f = _DERIVATIVES[name]
            elif name in _FUNCS:
                f = _FUNCS[name]
            else:
                raise InvalidAnswer(f"unknown function {name}")
            a = args[0]
            out = a.applyfunc(f) if self.form == "matrix" else f(a)
        if node.power is not None:
            exp = self.read(node.power)
            if self.form == "matrix":
                out = out.applyfunc(lambda e: _safe_power(e, exp[0, 0]))
            else:
                out = _safe_power(out, exp)
        return out

    def read_Indicator(self, node):
        c = node.cond
        a, b = self.read(c.a), self.read(c.b)
        if c.op in ("=", "!="):
            if self.form == "matrix":
                raise InvalidAnswer("an indicator of an equality is index notation")
            delta = sp.KroneckerDelta(a, b)
            return delta if c.op == "=" else 1 - delta
        if self.form == "matrix":  # 𝟙[x > 0] entry by entry: a scalar side stands for a matrix of it
            a = _matrix_op("-", a, b)
            b = sp.ImmutableMatrix.zeros(*a.shape)
        diff = {">": a - b, ">=": a - b, "<": b - a, "<=": b - a}[c.op]
        at0 = 1 if c.op in (">=", "<=") else 0
        if self.form == "matrix":
            return diff.applyfunc(lambda e: sp.Heaviside(e, at0))
        return sp.Heaviside(diff, at0)

    def read_Cases(self, node):
        if self.form == "matrix":
            raise InvalidAnswer("cases are read in index notation: write the entries, e.g. y_i")
        pieces = []
        for expr, cond in node.rows:
            pieces.append((self.read(expr), self.condition(cond)))
        if len(pieces) == 2 and _is_delta_split(pieces) and not self.keep_cases:
            (e1, c1), (e2, _) = pieces
            delta = sp.KroneckerDelta(*c1.args)
            return e1 * delta + e2 * (1 - delta)
        if pieces[-1][1] is not sp.true:
            pieces.append((sp.nan, True))
        return sp.Piecewise(*pieces)

    def condition(self, cond):
        if cond is None:
            return sp.true
        a, b = (self.index_value(x) if isinstance(x, t.Word) and x.text in IDX else self.read(x)
                for x in (cond.a, cond.b))
        return {"=": sp.Eq, "!=": sp.Ne, ">": sp.Gt, ">=": sp.Ge, "<": sp.Lt, "<=": sp.Le}[cond.op](a, b)

    def read_BigSum(self, node):
        if self.form == "matrix":
            raise InvalidAnswer("Σ is read in index notation")
        if node.index is None or node.index not in IDX:
            raise InvalidAnswer("write the summation index, e.g. \\sum_k")
        k = IDX[node.index]
        if k in self.free:
            other = next(c for c in "klmnpq" if IDX[c] not in self.free and c != node.index)
            raise IndexClash(f"the sum runs over {k}, which is also the free index of the answer "
                             f"(the entry {k} of the gradient): inside the sum {k} cannot mean both; "
                             f"give the sum its own index, e.g. Σ_{other}")
        body = self.read(node.body)
        lower = self.read(node.lower) if node.lower is not None else sp.Integer(1)
        upper = self.read(node.upper) if node.upper is not None else self._range_of(k, body)
        if lower != 1 or upper not in self.v.dims.values():
            raise InvalidAnswer(f"the sum over {k} should run from 1 to one of: {', '.join(self.v.dims)}")
        if node.exclude is not None:
            if node.exclude.op != "!=":
                raise InvalidAnswer(f"the sum over {k} reads a lower limit {k} = 1 or {k} ≠ t only")
            body = body * (1 - sp.KroneckerDelta(k, self.index_value(node.exclude.b)))
        return sp.Sum(body, (k, 1, upper))

    def _range_of(self, k, body):
        for e in sp.preorder_traversal(body):
            if isinstance(e, sp.Indexed) and k in e.indices:
                var = self.v.vars.get(e.base.name) or (self.v.upstream if self.v.upstream is not None and
                                                        e.base.name == self.v.upstream.name else None)
                if var is not None:
                    return var.shape[list(e.indices).index(k)]
        raise InvalidAnswer(f"the sum over {k} needs its range, e.g. \\sum_{{{k}=1}}^{{K}}")

    def read_Equation(self, node):
        raise AssertionError("equations are unpacked before reading")

    def read_Cond(self, node):
        raise InvalidAnswer("a comparison on its own is not an answer; write 1[x > 0] for an indicator")

    @staticmethod
    def product(parts):
        out = parts[0]
        for p in parts[1:]:
            out = _matrix_op("juxt", out, p) if isinstance(out, sp.MatrixBase) else out * p
        return out


def _is_updown_delta(node) -> bool:
    base = node.base
    return (isinstance(base, t.Sub) and isinstance(base.base, t.Word) and base.base.text == "delta"
            and len(base.index) == 1 and isinstance(node.exp, (t.Word, t.Num)))


def _is_delta_split(pieces) -> bool:
    (_, c1), (_, c2) = pieces
    if not isinstance(c1, sp.Eq) or not all(isinstance(a, sp.Symbol) and a.name in IDX for a in c1.args):
        return False
    return c2 is sp.true or (isinstance(c2, sp.Ne) and set(c2.args) == set(c1.args))


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


# -- matrix arithmetic at concrete sizes ----------------------------------------------------


def _is_scalar(m) -> bool:
    return m.shape == (1, 1)


def _matrix_op(op: str, a, b):
    sa, sb = _shape_text(a.shape), _shape_text(b.shape)
    if op in ("+", "-"):
        if a.shape != b.shape and not (_is_scalar(a) or _is_scalar(b)):
            raise ShapeMismatch(f"cannot {'add' if op == '+' else 'subtract'} a {sa} and a {sb} matrix")
        if _is_scalar(a) and not _is_scalar(b):
            a = sp.ImmutableMatrix(*b.shape, lambda r, c: a[0, 0])
        if _is_scalar(b) and not _is_scalar(a):
            b = sp.ImmutableMatrix(*a.shape, lambda r, c: b[0, 0])
        return a + b if op == "+" else a - b
    if op == "/":
        if _is_scalar(b):
            return a.applyfunc(lambda e: e / b[0, 0])
        if _is_scalar(a):
            return b.applyfunc(lambda e: a[0, 0] / e)
        if a.shape == b.shape:
            return sp.ImmutableMatrix(*a.shape, lambda r, c: a[r, c] / b[r, c])
        raise ShapeMismatch(f"cannot divide a {sa} by a {sb} matrix")
    if op == "odot":
        if _is_scalar(a) or _is_scalar(b):
            return _matrix_op("*", a, b)
        if a.shape != b.shape:
            raise ShapeMismatch(f"the Hadamard product needs equal shapes, not {sa} and {sb}")
        return sp.ImmutableMatrix(*a.shape, lambda r, c: a[r, c] * b[r, c])
    if op == "otimes":
        if 1 not in a.shape or 1 not in b.shape:
            raise ShapeMismatch(f"an outer product ⊗ is read for vectors, not {sa} and {sb}")
        u, w = a.reshape(len(a), 1), b.reshape(len(b), 1)
        return u * w.T
    # juxtaposition, *, ·, @
    if _is_scalar(a) and op != "@":
        return b.applyfunc(lambda e: a[0, 0] * e)
    if _is_scalar(b) and op != "@":
        return a.applyfunc(lambda e: e * b[0, 0])
    if a.shape[1] == b.shape[0]:
        return a * b
    if op != "@" and a.shape == b.shape and a.shape[1] == 1:  # y(1 − y) for vectors: entry by entry
        return sp.ImmutableMatrix(*a.shape, lambda r, c: a[r, c] * b[r, c])
    hint = ": a transpose?" if a.shape[1] == b.shape[1] or a.shape[0] == b.shape[0] else ""
    raise ShapeMismatch(f"cannot multiply a {sa} by a {sb} matrix{hint}")


def _elementwise2(f, a, b):
    if _is_scalar(a) and not _is_scalar(b):
        a = sp.ImmutableMatrix(*b.shape, lambda r, c: a[0, 0])
    if _is_scalar(b) and not _is_scalar(a):
        b = sp.ImmutableMatrix(*a.shape, lambda r, c: b[0, 0])
    if a.shape != b.shape:
        raise ShapeMismatch(f"{f.__name__} of a {_shape_text(a.shape)} and a {_shape_text(b.shape)} matrix")
    return sp.ImmutableMatrix(*a.shape, lambda r, c: f(a[r, c], b[r, c]))


def _matrix_func(name, args, interp):
    if interp.form != "matrix":
        raise InvalidAnswer(f"{name} is matrix notation")
    if name == "diag":
        (v,) = args
        if 1 not in v.shape:
            raise ShapeMismatch(f"diag of a {_shape_text(v.shape)} matrix: diag takes a vector")
        entries = list(v)
        return sp.ImmutableMatrix(len(entries), len(entries), lambda r, c: entries[r] if r == c else 0)
    if name == "outer":
        return _matrix_op("otimes", *args)
    (v,) = args
    col = v.reshape(len(v), 1)
    total = sum(sp.exp(e) for e in col)
    return col.applyfunc(lambda e: sp.exp(e) / total)


# -- the whole answer -----------------------------------------------------------------------


def unpack(node: t.Node, d) -> tuple[t.Node, dict]:
    """The right-hand side of `∂y_j/∂x_i = …`, and the renaming of its indices to the engine's."""
    if not isinstance(node, t.Equation):
        return node, {}
    lhs, rhs = node.sides[0], node.sides[-1]
    rename = {}
    if _is_upstream(lhs):
        top, bottom = lhs.num.a, lhs.den.a
        wrt = bottom.base if isinstance(bottom, t.Sub) else bottom
        wrt_name = _hat_name(wrt) if isinstance(wrt, t.Hat) else getattr(wrt, "text", None)
        if wrt_name is not None and wrt_name != d.wrt and not (wrt_name == "yhat" and d.wrt == "yhat"):
            raise InvalidAnswer(f"the left-hand side is a derivative with respect to {_pretty(wrt_name)}, "
                                f"but this checks the derivative with respect to {_pretty(d.wrt)}")
        written = []
        if isinstance(top, t.Sub) and d.definition.kind == "activation" and d.definition.index:
            written += _index_letters(top.index)
        if isinstance(bottom, t.Sub):
            written += _index_letters(bottom.index)
        engine = [s.name for s in _free_indices(d)]
        if len(written) == len(engine) and all(w in IDX for w in written):
            rename = {IDX[w]: IDX[e] for w, e in zip(written, engine) if w != e}
    return rhs, rename


def _index_letters(index: tuple) -> list:
    out = []
    for node in index:
        if isinstance(node, t.Word):
            out += list(node.text) if len(index) == 1 else [node.text]
    return out


def _free_indices(d) -> list:
    if d.definition.kind == "activation" and d.definition.index:
        return [d.lhs.expr.indices[0], *d.indices]
    return list(d.indices)


def read(node: t.Node, d) -> Reading:
    """The Reading of a parsed answer for derivation `d`; InvalidAnswer or ShapeMismatch if none."""
    from derive.render.printer import latex

    vocab = Vocabulary(d)
    node, rename = unpack(node, d)
    form = form_of(node, vocab)
    text = matrix_latex(node, vocab) if form in ("matrix", "scalar") else None
    scalar, form = form == "scalar", "index" if form == "scalar" else form  # all scalars: no 1×1 matrices needed
    written = {**{e: e for e in _free_indices(d)}, **{w: w for w in rename}}
    free = tuple(w for w in written if w not in rename.values() or w in rename)
    try:
        value = Interpreter(vocab, form, free=free).read(node)
    except ShapeMismatch as exc:
        exc.latex = text
        raise
    except InvalidAnswer:
        raise
    except (TypeError, ValueError, ZeroDivisionError) as exc:  # SymPy refusing a value: 1[√(−1) > 0], max(i, 0)
        raise InvalidAnswer(f"the answer has no real value: {_refusal(exc)}") from None
    _defined(value)
    if form == "index":
        if isinstance(value, sp.MatrixBase):  # cannot happen: index reading makes no matrices
            raise InvalidAnswer("cannot read the answer")
        value = sp.sympify(value).xreplace(rename) if rename else sp.sympify(value)
        free = {s for s in value.free_symbols if s.name in IDX and s == IDX[s.name]}
        allowed = set(_free_indices(d))
        stray = sorted(s.name for s in free - allowed)
        if stray:
            names = ", ".join(s.name for s in _free_indices(d)) or "none"
            raise InvalidAnswer(f"index {', '.join(stray)} is not free in this gradient "
                                f"(its indices are: {names})")
        if scalar:
            return Reading("index", expr=value, latex=text)
        shown = value
        if any(isinstance(n, t.Cases) for n in _walk(node)):
            shown = Interpreter(vocab, form, keep_cases=True).read(node)
            shown = sp.sympify(shown).xreplace(rename) if rename else shown
        return Reading("index", expr=value, latex=latex(shown))
    return Reading("matrix", matrix=value, latex=text)


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
            return " ".join(name_latex(c) for c in n.text)
        if isinstance(n, t.Hat):
            return name_latex(_hat_name(n))
        if isinstance(n, t.Frac):
            return up() if _is_upstream(n) else rf"\frac{{{go(n.num)}}}{{{go(n.den)}}}"
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

    def up():
        return rf"\frac{{\partial C}}{{\partial {name_latex(vocab.output)}}}"

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
