"""The interpreter: a parsed answer as index form (a SymPy expression) or matrix form (explicit entries).

Names come from the derivation's Vocabulary only; functions from a fixed table. Nothing of the
student's text is evaluated as Python.
"""

from __future__ import annotations

import sympy as sp

from derive.check import parse as t
from derive.check.functions import (
    DERIVATIVES,
    FUNCS,
    NAMED,
    is_named_function,
    matrix_scalar,
    sigma_is_quantity,
    sigma_of_input,
)
from derive.check.matrices import _elementwise2, _matrix_func, _matrix_op, make
from derive.check.screen import InvalidAnswer
from derive.check.unsized import constant
from derive.check.vocabulary import (
    COSTS,
    IndexClash,
    Vocabulary,
    _describe,
    _hat_name,
    _is_upstream,
    _pretty,
    _shape_word,
    rewritten,
)
from derive.check.vocabulary import is_delta_split as _is_delta_split
from derive.check.vocabulary import is_updown_delta as _is_updown_delta
from derive.check.vocabulary import number as _number
from derive.check.vocabulary import safe_power as _safe_power
from derive.definitions.model import IDX


class Interpreter:
    """Turns a tree into index form or matrix form for one vocabulary."""

    def __init__(self, vocab: Vocabulary, form: str, keep_cases: bool = False, free: tuple = ()):
        self.v = vocab
        self.form = form
        self.keep_cases = keep_cases  # for display: cases as written, not folded into δ
        self.free = free  # the free indices as the answer writes them (j in ∂L/∂o_j = …)
        self.bound: dict = {}  # the indices of the sums being read, by letter (Σ_w binds w)
        self.own_sizes: dict = {}  # a sum limit the answer names itself (N) -> the size it stands for

    # -- names ----------------------------------------------------------------------------
    def word(self, text: str, index: tuple | None = None):
        """A word with an optional subscript; `xy_i` is x·y_i."""
        v = self.v
        if len(text) == 1 and text.isupper() and text not in v.vars and text not in v.dims \
                and text.lower() in v.vars and v.vars[text.lower()].shape:
            text = text.lower()  # X^T for the vector x: the case of a letter is not the mistake
        if text in v.vars or v.is_upstream_word(text) or text in ("e", "pi") or text in v.dims:
            return self.name(text, index)
        if text in ("I", "ones") and text not in v.vars:
            return self.constant_matrix(text, index)
        short = v.gradient_word(text) or v.dimension_word(text)  # dY, dA: ∂C/∂Y, ∂C/∂A; √d for D
        if short is not None:
            return self.dimension(text, short, index) if isinstance(short, sp.Symbol) else self.entry(short, index)
        if text in ("delta", "Delta") and index is not None:
            return self.name(text, index)
        if v.splits(text):
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

    def constant_matrix(self, text: str, index: tuple | None):
        """I (I_K, 𝕀) or 𝟏: sized by a subscript naming a dimension, else by its neighbours."""
        return constant(text, index, self.form, self.v, make)

    def dimension(self, text: str, size, index: tuple | None):
        return self.scalar(size) if index is None else self._no_index(text)

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
        if isinstance(node, t.Word) and node.text in self.bound:
            return self.bound[node.text]
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
        node = rewritten(node, self.v) or node  # QKᵀ is Q·Kᵀ, xy² is x·y², 1ᵀ is 𝟏ᵀ
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
        at = next((v for v in self.v.defn.variables  # the gradient at a named stage: attention's ∂C/∂S
                   if v.role == "upstream" and v.name == f"d{self.v.defn.upstream}_d{name}"), None)
        if at is not None and name != self.v.output:
            return self.entry(at, index)
        if name not in (self.v.output, "yhat" if self.v.output == "y" else None):
            raise self.v.no_gradient_at(name)
        return self.entry(self.v.upstream, index)

    def read_Func(self, node):
        name = node.name
        if name in ("KroneckerDelta",):
            if self.form == "matrix" or len(node.args) != 2:
                raise InvalidAnswer("KroneckerDelta takes two indices")
            return sp.KroneckerDelta(*(self.index_value(a) for a in node.args))
        if name in NAMED and name in self.v.vars and not is_named_function(self.v.defn, name):
            raise InvalidAnswer(f"{_pretty(name)} is a quantity here, not a function: write {_pretty(name)} "
                                "without brackets, or a product with ·")
        if name == "sigma" and not node.primes and len(node.args) == 1 and sigma_is_quantity(self.v.defn):
            # σ is a quantity here (batch norm's √(σ_B² + ε)) and the module has no sigmoid: σ N, σ(…) are products
            sigma = t.Word("sigma") if node.power is None else t.Power(t.Word("sigma"), node.power)
            return self.read(t.Op("juxt", sigma, node.args[0]))
        args = [self.read(a) for a in node.args]
        if name in ("sigma", "sigmoid") and not node.primes and len(args) == 1:
            sigma_of_input(self.v.defn, args[0])
        if name in ("tr", "norm"):
            return matrix_scalar(name, args, self.form)
        if name in ("max", "min", "Max", "Min"):
            if len(args) != 2:
                raise InvalidAnswer(f"{name} takes two arguments")
            f = sp.Max if name.lower() == "max" else sp.Min
            out = _elementwise2(f, *args) if self.form == "matrix" else f(*args)
        elif name in ("diag", "rowsum", "outer", "softmax"):
            out = _matrix_func(name, args, self)
        else:
            if len(args) != 1:
                raise InvalidAnswer(f"{name} takes one argument")
            if node.primes:
                if name not in DERIVATIVES or node.primes > 1:
                    raise InvalidAnswer(f"cannot read {name}{chr(39) * node.primes}")
                f = DERIVATIVES[name]
            elif name in FUNCS:
                f = FUNCS[name]
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
        k = self._sum_index(node.index)
        if k in self.free:
            other = next(c for c in "klmnpq" if IDX[c] not in self.free and c != node.index)
            raise IndexClash(f"the sum runs over {k}, which is also the free index of the answer "
                             f"(the entry {k} of the gradient): inside the sum {k} cannot mean both; "
                             f"give the sum its own index, e.g. Σ_{other}")
        outer, self.bound = self.bound, {**self.bound, node.index: k}
        try:
            body = self.read(node.body)
        finally:
            self.bound = outer
        lower = self.read(node.lower) if node.lower is not None else sp.Integer(1)
        upper = self._upper(node.upper, k, body)
        if lower != 1 or upper not in self.v.dims.values():
            raise InvalidAnswer(f"the sum over {k} should run from 1 to one of: {', '.join(self.v.dims)}")
        if node.exclude is not None:
            if node.exclude.op != "!=":
                raise InvalidAnswer(f"the sum over {k} reads a lower limit {k} = 1 or {k} ≠ t only")
            body = body * (1 - sp.KroneckerDelta(k, self.index_value(node.exclude.b)))
        return sp.Sum(body, (k, 1, upper))

    def _upper(self, node, k, body):
        """The sum's upper limit: a size here, or a capital of the answer's own (N for x's D) naming one size."""
        if node is None:
            return self._range_of(k, body)
        text = node.text if isinstance(node, t.Word) else ""
        if not (len(text) == 1 and text.isupper()) or text in self.v.vars or text in self.v.dims:
            return self.read(node)
        size = self._range_of(k, body)
        if self.own_sizes.setdefault(text, size) != size:
            raise InvalidAnswer(f"{text} stands for two different sizes in this answer")
        return size

    def _sum_index(self, letter: str | None):
        """The symbol a sum runs over: i, j, k, … or another lower-case letter that names nothing here (Σ_w)."""
        if letter in IDX:
            return IDX[letter]
        v = self.v
        if letter is None or not (len(letter) == 1 and letter.islower()) or letter in v.vars or letter in v.dims \
                or letter == "e":
            raise InvalidAnswer("write the summation index, e.g. \\sum_k")
        return sp.Symbol(letter, integer=True, positive=True)

    def _range_of(self, k, body):
        for e in sp.preorder_traversal(body):
            if isinstance(e, sp.Indexed) and k in e.indices:
                var = self.v.vars.get(e.base.name) or (self.v.upstream if self.v.upstream is not None and
                                                        e.base.name == self.v.upstream.name else None)
                if var is not None:
                    return var.shape[list(e.indices).index(k)]
        raise InvalidAnswer(f"the sum over {k} needs its range, e.g. \\sum_{{{k}=1}}^{{K}}")

    def read_Matrix(self, node):
        raise InvalidAnswer("a matrix of entries is read as the whole right-hand side, not inside an expression")

    def read_Dots(self, node):
        raise InvalidAnswer("an ellipsis (…) is read only inside a matrix")

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
