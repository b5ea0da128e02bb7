"""Index expressions from sheet files, parsed with a grammar and built from SymPy's constructors.

`exp(beta*x[i]) / sum(exp(beta*x[k]), k, 1, K)` becomes the SymPy expression a registry
definition would hold. Nothing in the text is evaluated as Python: names come from an
allow-list (declared variables, indices i…v, dimensions, a few functions), numbers and
exponents are bounded, so a sheet cannot run code or ask SymPy for 10^10^10.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, VisitError

from derive.definitions.model import IDX, dim
from derive.errors import DeriveError

GRAMMAR = r"""
?start: sum
?sum: product
    | sum "+" product   -> add
    | sum "-" product   -> sub
?product: unary
    | product "*" unary -> mul
    | product "/" unary -> div
?unary: power
    | "-" unary         -> neg
    | "+" unary
?power: atom
    | atom ("^" | "**") unary -> pow
?atom: NUMBER                     -> number
    | NAME                        -> name
    | NAME "[" sum ("," sum)* "]" -> entry
    | NAME "(" arg ("," arg)* ")" -> call
    | "(" sum ")"
?arg: sum
    | sum RELATION sum            -> relation
RELATION: ">=" | "<=" | ">" | "<"
NAME: /[A-Za-z][A-Za-z0-9_]*/
NUMBER: /\d+(\.\d+)?/
%ignore /[ \t\n]+/
"""

_PARSER = Lark(GRAMMAR, parser="lalr")

MAX_LENGTH = 2000
MAX_NUMBER = 10**6
MAX_EXPONENT = 16
MAX_EXP_ARGUMENT = 1000  # e^1000 is already past any float
DIMENSIONS = ("K", "D", "M", "N", "T", "H")
CLASS = "class"  # `shapes = { t = "class" }` declares an index variable


def _sigmoid(u):
    return 1 / (1 + sp.exp(-u))


FUNCTIONS = {
    "exp": (1, sp.exp),
    "log": (1, sp.log),
    "tanh": (1, sp.tanh),
    "sqrt": (1, sp.sqrt),
    "sigmoid": (1, _sigmoid),
    "relu": (1, lambda u: sp.Max(0, u)),
    "max": (2, sp.Max),
    "min": (2, sp.Min),
    "abs": (1, sp.Abs),
    "sign": (1, sp.sign),
    "erf": (1, sp.erf),
    "delta": (2, sp.KroneckerDelta),
    "where": (3, lambda c, a, b: sp.Piecewise((a, c), (b, True))),  # where(x[i] > 0, a, b), as NumPy's
}
_RELATIONS = {">": sp.StrictGreaterThan, ">=": sp.GreaterThan, "<": sp.StrictLessThan, "<=": sp.LessThan}


class IndexExprError(DeriveError):
    pass


@v_args(inline=True)
class _Build(Transformer):
    def __init__(self, symbols: dict):
        super().__init__()
        self.symbols = symbols  # name -> Symbol or IndexedBase

    def number(self, tok):
        value = Fraction(str(tok))
        if abs(value) > MAX_NUMBER:
            raise IndexExprError(f"number {tok} is too large (at most {MAX_NUMBER})")
        return sp.Rational(value.numerator, value.denominator)

    def name(self, tok):
        name = str(tok)  # a declared variable comes first: p or T may name one (then it is no index)
        if name in self.symbols and not isinstance(self.symbols[name], sp.IndexedBase):
            return self.symbols[name]
        if name in self.symbols:
            raise IndexExprError(f"{name} has indices; write {name}[…]")
        if name in IDX:
            return IDX[name]
        if name in DIMENSIONS:
            return dim(name)
        if name == "pi":
            return sp.pi
        raise IndexExprError(f"unknown name {name!r}; declare it under shapes (a variable), "
                             f"or use an index ({', '.join(IDX)}) or a dimension ({', '.join(DIMENSIONS)})")

    def entry(self, tok, *indices):
        name = str(tok)
        base = self.symbols.get(name)
        if not isinstance(base, sp.IndexedBase):
            raise IndexExprError(f"{name} is not declared with a shape; declare it under shapes")
        rank = self.symbols.get(f"__rank_{name}")
        if rank is not None and rank != len(indices):
            raise IndexExprError(f"{name} has {rank} indices, not {len(indices)}")
        for t in indices:
            _index_arithmetic(t)
        return base[tuple(indices)]

    def relation(self, a, op, b):
        return _RELATIONS[str(op)](a, b)

    def call(self, tok, *args):
        name = str(tok)
        if any(isinstance(a, sp.Rel) for a in args[1:]) or (args and isinstance(args[0], sp.Rel)
                                                             and name != "where"):
            raise IndexExprError("a comparison (x[i] > 0) is the first argument of where(condition, then, else)")
        if name == "where" and not isinstance(args[0], (sp.Rel, sp.logic.boolalg.BooleanAtom)):
            raise IndexExprError("where takes (condition, then, else), e.g. where(x[i] > 0, x[i], 0)")
        if name == "sum":
            return self._sum(args)
        if name not in FUNCTIONS:
            raise IndexExprError(f"unknown function {name!r}; choose one of: sum, {', '.join(FUNCTIONS)}")
        arity, build = FUNCTIONS[name]
        if len(args) != arity:
            raise IndexExprError(f"{name} takes {arity} argument{'s' if arity > 1 else ''}, not {len(args)}")
        if name in ("exp", "sigmoid") and args[0].is_number and abs(complex(args[0].evalf(15))) > MAX_EXP_ARGUMENT:
            # e^(e^1000000) has more digits than any computer holds; SymPy would try to compare it anyway
            raise IndexExprError(f"{name} of a number larger than {MAX_EXP_ARGUMENT}; use smaller constants")
        return build(*args)

    def _sum(self, args):
        if len(args) != 4:
            raise IndexExprError("sum takes (body, index, from, to), e.g. sum(exp(x[k]), k, 1, K)")
        body, var, lo, hi = args
        if not (isinstance(var, sp.Symbol) and var.name in IDX and var == IDX[var.name]):
            raise IndexExprError("the second argument of sum must be an index")
        return sp.Sum(body, (var, lo, hi))

    def add(self, a, b):
        return a + b

    def sub(self, a, b):
        return a - b

    def mul(self, a, b):
        return a * b

    def div(self, a, b):
        if b == 0:
            raise IndexExprError("division by zero")
        return a / b

    def neg(self, a):
        return -a

    def pow(self, base, exponent):
        if exponent.is_number and (not exponent.is_real or abs(float(exponent)) > MAX_EXPONENT):
            raise IndexExprError(f"exponent {exponent} is too large (at most {MAX_EXPONENT})")
        # Bound the size of the number SymPy would compute: ((10^6)^16)^16… has 10^12 digits.
        if (base.is_number and exponent.is_number and base != 0
                and abs(float(exponent)) * abs(sp.log(abs(base), 10).evalf(5)) > 300):
            raise IndexExprError("a number too large to write out; use smaller constants")
        if base.is_number and not exponent.is_number:
            raise IndexExprError("a number raised to a symbolic power; write exp(…) instead")
        return sp.Pow(base, exponent)


def _index_arithmetic(t) -> None:
    """An index, or index arithmetic: i + k - 1, s*(i - 1) + k; integers, indices and dimensions only."""
    if not isinstance(t, sp.Expr) or not t.free_symbols or not t.is_polynomial():
        raise IndexExprError(f"{t} is not an index; use one of {', '.join(IDX)}, or arithmetic such as i + k - 1")
    for s in t.free_symbols:
        if not s.is_integer:
            raise IndexExprError(f"{s} in the index {t} is not an index; use {', '.join(IDX)} or a dimension")
    if sp.Poly(t, *t.free_symbols).total_degree() > 2 or any(
            not c.is_integer for c in sp.Poly(t, *t.free_symbols).coeffs()):
        raise IndexExprError(f"the index {t} must be whole-number arithmetic of indices, e.g. i + k - 1")


def symbols_for(shapes: dict) -> dict:
    """Declared variables as SymPy objects: a shape [] is a scalar, [\"K\"] a vector, …"""
    if not isinstance(shapes, dict):
        raise IndexExprError("shapes must be a table such as { x = [\"K\"], c = [] }")
    out = {}
    for name, shape in shapes.items():
        if shape == CLASS:  # an index variable: the true class t, an integer from 1 to the scores' length
            out[name] = sp.Symbol(name, integer=True, positive=True)
            continue
        if not isinstance(shape, list) or not all(isinstance(s, str) and s in DIMENSIONS for s in shape):
            raise IndexExprError(f"shape of {name} must be a list of dimensions from {', '.join(DIMENSIONS)}, "
                                 "e.g. [\"K\"], [] for a scalar, or \"class\" for a class index")
        if name in FUNCTIONS or name == "sum" or name == "pi" or name.startswith("__"):
            raise IndexExprError(f"{name!r} is reserved (a function or a constant); rename it")
        if shape:
            out[name] = sp.IndexedBase(name, real=True)
            out[f"__rank_{name}"] = len(shape)
        else:
            out[name] = sp.Symbol(name, real=True)
    return out


def parse_index_expr(text: str, shapes: dict) -> sp.Expr:
    """The SymPy expression for `text`, with the variables declared in `shapes`.

    >>> parse_index_expr("x[i] + c", {"x": ["K"], "c": []})
    c + x[i]
    """
    if not isinstance(text, str):
        raise IndexExprError("an index expression must be a string")
    if len(text) > MAX_LENGTH:
        raise IndexExprError(f"expression longer than {MAX_LENGTH} characters")
    if text.count("(") > 200:
        raise IndexExprError("expression nested too deeply")
    try:
        tree = _PARSER.parse(text)
        return _bounded(_Build(symbols_for(shapes)).transform(tree))
    except VisitError as exc:
        if isinstance(exc.orig_exc, DeriveError):
            raise IndexExprError(exc.orig_exc.message) from None
        raise IndexExprError(f"cannot build {text!r}: {exc.orig_exc}") from None
    except LarkError as exc:
        first = str(exc).strip().splitlines()[0]
        col = getattr(exc, "column", None)
        where = f" at column {col}" if isinstance(col, int) and col > 0 else ""
        raise IndexExprError(f"cannot parse {text!r}{where}: {first}") from None
    except RecursionError:
        raise IndexExprError("expression nested too deeply") from None


def _bounded(expr: sp.Expr) -> sp.Expr:
    """`expr`, unless SymPy combined powers past the limit: ((x+1)^16)^16 is (x+1)^256, whose
    expansion has 257 terms and whose check would run for minutes."""
    for p in expr.atoms(sp.Pow):
        if p.exp.is_number and abs(p.exp) > MAX_EXPONENT:
            raise IndexExprError(f"the power {p.exp} (powers of powers multiply) is too large; "
                                 f"at most {MAX_EXPONENT}")
    return expr


def parse_entry(text: str, shapes: dict) -> tuple:
    """`y[i]` → (name, (i,)); `L` → (name, ())."""
    if not isinstance(text, str):
        raise IndexExprError(f"the output must be a name or an entry such as y[i], not {text!r}")
    try:
        tree = _PARSER.parse(text)
    except LarkError:
        raise IndexExprError(f"the output must be a name or an entry such as y[i], not {text!r}") from None
    if isinstance(tree, Token) or tree.data not in ("name", "entry"):
        raise IndexExprError(f"the output must be a name or an entry such as y[i], not {text!r}")
    name = str(tree.children[0])
    idx = []
    for t in tree.children[1:]:
        t = t.children[0] if not isinstance(t, Token) and t.data == "name" else t  # y[i]: a plain index
        if not isinstance(t, Token) or str(t) not in IDX:
            raise IndexExprError(f"{t!s} is not an index; use one of {', '.join(IDX)}")
        idx.append(IDX[str(t)])
    return name, tuple(idx)
