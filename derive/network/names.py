"""The names of a network's quantities: one table that every printer reads (LaTeX, text, code).

Layer k's W, b, s, z, δ print as W^{(k)}, s^{(k)}, δ^{(k)} in LaTeX and as W1, s1, δ1 in text; a
batch writes the per-sample quantities in capitals (X, S, Z, Δ, Y, Ŷ). ∂L/∂q is named `dL_dq`
and f_k′(s_k) `fprime_k`. Entries keep their layer number up and the index down: s^{(1)}_{i}.
"""

from __future__ import annotations

import re

import sympy as sp

from derive.definitions.model import IDX
from derive.model import matexpr as mx
from derive.model.notation import Name, derivative, name_latex
from derive.render.printer import DeriveLatexPrinter
from derive.render.unicode import name_text

I, J = IDX["i"], IDX["j"]
N_IDX = IDX["n"]
N = sp.Symbol("N", integer=True, positive=True)
LAYERED = re.compile(r"^(s|z|S|Z|delta|Delta|W|b)(\d+)$")
_PRIME = re.compile(r"^fprime(\d+)$")
_PARTIAL = re.compile(r"^d([A-Za-z][A-Za-z0-9]*?)_d([A-Za-z][A-Za-z0-9]*)$")


def net_name(name: str) -> str:
    """`delta2` → `\\delta^{(2)}`, `Z1` → `Z^{(1)}`, `d0` → `d_{0}`, `yhat` → `\\hat{y}`."""
    m = LAYERED.match(name)
    if m:
        return f"{name_latex(m.group(1))}^{{({m.group(2)})}}"
    return name_latex(name)


def net_text(name: str) -> str:
    """`delta2` → δ2, `Yhat` → Ŷ, `dL_dz1` → ∂L/∂z1: how the text format and the checker write it."""
    return name_text(name)


def base(name: str) -> sp.IndexedBase:
    return sp.IndexedBase(name, real=True)


class LayerNames:
    """Base names of layer k's quantities, their shapes, and how each is written."""

    def __init__(self, net):
        from derive.network.local import definition

        self.net = net
        self.batch = net.batch
        pred = definition(net.loss).inputs[0].name
        self.takes_prediction = pred in ("yhat", "Yhat")
        L = net.depth
        self.pre, self.out = {0: None}, {0: net.input_name}
        for s in net.stages:
            pre = ("S" if self.batch else "s") + str(s.k)
            out = ("Z" if self.batch else "z") + str(s.k) if s.activation else pre
            if s.k == L and self.takes_prediction:
                out = pred
                pre = pred if s.activation is None else pre
            self.pre[s.k], self.out[s.k] = pre, out
        self.target = "Y" if self.batch else "y"
        self.intermediates = {it.var.name for it in definition(net.loss).intermediates}

    # -- index form
    def entry(self, name: str, index=I) -> sp.Expr:
        return base(name)[(index, N_IDX)] if self.batch else base(name)[index]

    @property
    def free(self) -> tuple:
        """The free indices of a per-sample quantity's entry: (i, n) in a batch, (i,) for one sample."""
        return (I, N_IDX) if self.batch else (I,)

    def delta(self, k: int) -> str:
        return ("Delta" if self.batch else "delta") + str(k)

    # -- shapes
    @property
    def col(self) -> str:
        return "N" if self.batch else "1"

    def shape(self, k: int) -> tuple:
        """As printed: (d_k, N) in a batch, (d_k,) for a vector."""
        return (f"d{k}", "N") if self.batch else (f"d{k}",)

    def dims(self, k: int) -> tuple:
        """As a matrix: (d_k, N), or (d_k, 1) for a column."""
        return (f"d{k}", self.col)

    def layer(self, name: str) -> int | None:
        """The layer whose output or pre-activation `name` is, or whose parameter it is."""
        for k in sorted(self.out, reverse=True):
            if name in (self.out[k], self.pre[k]):
                return k
        m = LAYERED.match(name)
        if m:
            return int(m.group(2))
        if name in self.intermediates or name == self.target:
            return self.net.depth
        return None

    def matrix_shape(self, name: str) -> tuple:
        m = LAYERED.match(name)
        if m and m.group(1) == "W":
            k = int(m.group(2))
            return (f"d{k}", f"d{k - 1}")
        if m and m.group(1) == "b":
            return (f"d{m.group(2)}", "1")
        if m and m.group(1) in ("delta", "Delta"):
            return self.dims(int(m.group(2)))
        return self.dims(self.layer(name))

    def mat(self, name: str) -> mx.MatSym:
        return mx.MatSym(name, self.matrix_shape(name))

    def shapes(self, names) -> dict:
        """IndexedBase → matrix shape, for reading index forms as matrices (derive.calculus.matrix)."""
        return {base(n): self.matrix_shape(n) for n in names}

    def partial(self, name: str) -> mx.MatSym:
        """∂L/∂name, the gradient arriving at `name`, with its shape."""
        return mx.MatSym(f"dL_d{name}", self.matrix_shape(name))

    def fprime(self, k: int) -> mx.MatSym:
        """f_k′(s_k), layer k's entrywise derivative as one named factor."""
        return mx.MatSym(f"fprime{k}", self.dims(k))

    # -- how names are written
    def name(self, name: str) -> Name:
        m = _PRIME.match(name)
        if m:
            k = m.group(1)
            pre = self.pre[int(k)]
            return Name(rf"f_{{{k}}}'\left({net_name(pre)}\right)", f"f_{k}′({net_text(pre)})")
        m = _PARTIAL.match(name)
        if m:
            return derivative(self.name(m.group(1)), self.name(m.group(2)))
        return Name(net_name(name), net_text(name), "layer" if LAYERED.match(name) else "plain")

    def table(self, trees) -> dict:
        """name → Name for every named matrix in `trees`: what the matrix printers read."""
        return {leaf.name: self.name(leaf.name) for t in trees if t is not None for leaf in mx.leaves(t)}


class IndexLatexPrinter(DeriveLatexPrinter):
    """Index forms with the network's names: s^{(1)}_{i}, not s_{1}_{i}."""

    def _print_Symbol(self, expr, style="plain"):
        return net_name(expr.name)

    def _print_IndexedBase(self, expr):
        return net_name(expr.name)

    def _print_Indexed(self, expr):
        if LAYERED.match(expr.base.name):
            idx = "".join(self._print(i) for i in expr.indices)
            return f"{net_name(expr.base.name)}_{{{idx}}}"
        return super()._print_Indexed(expr)


def index_latex(expr: sp.Basic) -> str:
    return IndexLatexPrinter({}).doprint(expr)
