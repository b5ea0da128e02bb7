"""Parsing an answer into a small tree of what was written, with lark and nothing else.

The tree says only what the student wrote (a product, a subscript, a fraction of two ∂s); what
the names mean for a given derivation is decided in meaning.py against an allow-list.
"""

from __future__ import annotations

from dataclasses import dataclass

from lark import Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from derive.check.lalr import parser
from derive.check.screen import InvalidAnswer, screen


class Node:
    """A piece of the written answer."""


@dataclass(frozen=True)
class Num(Node):
    text: str


@dataclass(frozen=True)
class Word(Node):
    """A run of letters or a command name: `x`, `Wx`, `yhat`, `beta`, `W2` (for W^{(2)})."""

    text: str


@dataclass(frozen=True)
class Sub(Node):
    base: Node
    index: tuple  # of Nodes


@dataclass(frozen=True)
class Hat(Node):
    base: Node


@dataclass(frozen=True)
class Op(Node):
    op: str  # + - * / @ odot otimes juxt
    a: Node
    b: Node


@dataclass(frozen=True)
class Neg(Node):
    a: Node


@dataclass(frozen=True)
class Power(Node):
    base: Node
    exp: Node


@dataclass(frozen=True)
class Transpose(Node):
    a: Node


@dataclass(frozen=True)
class Frac(Node):
    num: Node
    den: Node


@dataclass(frozen=True)
class Partial(Node):
    a: Node


@dataclass(frozen=True)
class Func(Node):
    name: str
    args: tuple
    power: Node | None = None
    primes: int = 0


@dataclass(frozen=True)
class Cond(Node):
    op: str  # > < >= <= = !=
    a: Node
    b: Node


@dataclass(frozen=True)
class Indicator(Node):
    cond: Cond


@dataclass(frozen=True)
class Cases(Node):
    rows: tuple  # ((expr, Cond | None), ...), None meaning "otherwise"


@dataclass(frozen=True)
class BigSum(Node):
    index: str | None
    lower: Node | None
    upper: Node | None
    body: Node
    exclude: Node | None = None  # Cond of \sum_{k \neq t}: every k but t


@dataclass(frozen=True)
class Dots(Node):
    """An ellipsis in a matrix: `dots` along a row (⋯, …), `vdots` down a column (⋮), `ddots` (⋱)."""

    kind: str


@dataclass(frozen=True)
class Matrix(Node):
    """A bmatrix as written: rows of cells, each a Node, a Dots or None (an empty cell)."""

    rows: tuple


@dataclass(frozen=True)
class Equation(Node):
    sides: tuple


@dataclass(frozen=True)
class Prime(Node):
    a: Node


_MULOPS = {"*": "*", r"\cdot": "*", r"\times": "*", "@": "@", r"\odot": "odot", r"\circ": "odot",
           r"\otimes": "otimes"}
_CMPS = {">": ">", "<": "<", ">=": ">=", "<=": "<=", r"\geq": ">=", r"\leq": "<=", r"\ge": ">=",
         r"\le": "<=", "!=": "!=", r"\neq": "!=", r"\ne": "!=", "=": "=", "==": "="}


@v_args(inline=True)
class _ToTree(Transformer):
    def number(self, tok):
        return Num(str(tok))

    def name(self, tok):
        text = str(tok)[1:]
        if text.startswith("layer{"):
            return Word(text[6] + text[9:-1])
        return Word(text)

    def letters(self, tok):
        return Word(str(tok))

    def group(self, e):
        return e

    def add(self, a, b):
        return Op("+", a, b)

    def sub(self, a, b):
        return Op("-", a, b)

    def binop(self, a, op, b):
        return Op(_MULOPS[str(op)], a, b)

    def div(self, a, b):
        return Op("/", a, b)

    def neg(self, a):
        return Neg(a)

    def juxt(self, a, b):
        return Op("juxt", a, b)

    def juxt_sum(self, a, tok, limits, body):
        return Op("juxt", a, self.bigsum(tok, limits, body))

    def bigsum(self, _tok, limits, body):
        index, lower, upper, exclude = limits
        return BigSum(index, lower, upper, body, exclude)

    def limits(self, *parts):
        index = lower = upper = exclude = None
        for part in parts:
            if part[0] == "lower":
                index, lower, exclude = part[1], part[2], part[3]
            else:
                upper = part[1]
        return index, lower, upper, exclude

    def lower_limit(self, tok, op=None, bound=None):
        if op is not None and op.type == "CMP":  # meaning.py reads only ≠ here
            return ("lower", str(tok), None, Cond(_CMPS[str(op)], Word(str(tok)), _char(bound)))
        return ("lower", str(tok), bound, None)

    def upper_limit(self, a):
        return ("upper", _char(a))

    def subidx(self, *items):
        if len(items) == 1 and isinstance(items[0], Token):
            return (_char(items[0]),)
        return items[0]

    def supidx(self, a):
        if isinstance(a, Token) and (a.type == "TOP" or str(a) == "T"):
            return "T"
        if isinstance(a, Word) and a.text == "T":
            return "T"
        return _char(a)

    def positive(self):
        return "+"

    def sup(self, base, sup):
        if sup == "+":
            return Func("relu", (base,))
        if sup == "T":
            return Transpose(base)
        if isinstance(sup, tuple):  # a layer label (n) with or without ^T
            label, top = sup
            node = Word(_word(base) + label) if _word(base) else base
            return Transpose(node) if top else node
        return Power(base, sup)

    def pow(self, base, _tok, exp):
        return Power(base, exp)

    def subscript(self, base, index):
        return Sub(base, index)

    def brackets(self, base, indices):
        return Sub(base, indices)

    def transpose(self, a):
        return Transpose(a)

    def prime(self, a):
        return Prime(a)

    def frac(self, _tok, num, den):
        return Frac(num, den)

    def partial(self, _tok, a):
        return Partial(a)

    def dtext(self, tok):
        top, bottom = (s.strip() for s in str(tok).replace("_d", "/d", 1).split("/"))
        return Frac(Partial(Word(top[1:])), Partial(Word(bottom[1:])))

    def hat(self, _tok, a):
        return Hat(a)

    def indicator(self, _tok, cond):
        return Indicator(cond)

    def ones(self, _tok):
        return Word("ones")  # 𝟏, \\mathbf{1} without a condition: the vector of ones

    def iverson(self, cond):
        return Indicator(cond)

    def farg_num(self, a):
        return self.farg(a)

    def farg(self, a):
        return Num(str(a)) if isinstance(a, Token) and str(a).isdigit() else (
            Word(str(a).lstrip("\\")) if isinstance(a, Token) else a)

    def fpost(self, *a):
        return ("power", a[0]) if a else ("prime", None)

    def func(self, tok, *rest):
        name = str(tok).lstrip("\\")
        power, primes, args = None, 0, ()
        for part in rest:
            if isinstance(part, tuple) and part and part[0] == "power":
                power = part[1]
            elif isinstance(part, tuple) and part and part[0] == "prime":
                primes += 1
            elif isinstance(part, list):
                args = tuple(part)
            else:
                args = (part,)
        if name == "softmax" and len(args) == 1 and isinstance(args[0], Sub) and len(args[0].index) == 1 \
                and power is None and not primes:  # \softmax (θ)_j is the j-th entry, not softmax of θ_j
            return Sub(Func(name, (args[0].base,)), args[0].index)
        return Func(name, args, power, primes)

    def bare_func(self, tok):
        return Word(str(tok).lstrip("\\"))

    def args(self, *a):
        return list(a)

    def cond(self, a, op, b):
        return Cond(_CMPS[str(op)], a, b)

    def cases(self, _tok, rows, _end):
        return Cases(tuple(rows))

    def rows(self, *rows):
        return [r for r in rows if not isinstance(r, Token)]

    def row(self, expr, *rest):
        cond = next((r for r in rest if isinstance(r, Cond)), None)
        return expr, cond

    def matrix(self, _tok, rows, _end):
        return Matrix(tuple(rows))

    def mrows(self, *rows):
        return [r for r in rows if not isinstance(r, Token)]

    def mrow(self, *cells):
        return tuple(cells)

    def mcell(self, *item):
        if not item:
            return None
        if isinstance(item[0], Token):
            return Dots(str(item[0]).lstrip("\\"))
        return item[0]

    def equation(self, *sides):
        return Equation(tuple(s for s in sides if not isinstance(s, Token)))

    def indices(self, *items):
        return tuple(items)

    def layer(self, num, *top):
        return (str(num), bool(top))


def _word(node) -> str | None:
    return node.text if isinstance(node, Word) else None


def _char(a):
    """A single-character token as a node: `2` → Num, `i` → Word; nodes pass through."""
    if isinstance(a, Token):
        return Num(str(a)) if str(a).isdigit() else Word(str(a))
    return a


def parse(answer: str) -> Node:
    """The tree of an answer; InvalidAnswer with a one-line reason when it cannot be read."""
    text = screen(answer)
    try:
        tree = parser().parse(text)
    except UnexpectedCharacters as exc:
        raise InvalidAnswer(f"cannot read {_around(text, exc.pos_in_stream)}") from None
    except UnexpectedEOF:
        raise InvalidAnswer("the answer ends too early") from None
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise InvalidAnswer("the answer ends too early") from None
        raise InvalidAnswer(f"unexpected {str(exc.token)!r} in {_around(text, exc.token.start_pos)}") from None
    except (UnexpectedInput, LarkError) as exc:
        raise InvalidAnswer(f"cannot read the answer ({type(exc).__name__})") from None
    return _ToTree().transform(tree)


def _around(text: str, pos: int | None) -> str:
    if pos is None:
        return "the answer"
    lo, hi = max(0, pos - 12), min(len(text), pos + 12)
    return f"'{text[lo:hi]}' at character {pos + 1}"
