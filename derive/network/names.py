"""The names of a network's quantities: one table that every printer reads (LaTeX, text, code).

Layer k's W, b, s, z, δ print as W^{(k)}, s^{(k)}, δ^{(k)} in LaTeX and as W1, s1, δ1 in text; a
batch writes the per-sample quantities in capitals (X, S, Z, Δ, Y, Ŷ). ∂L/∂q is named `dL_dq`
and f_k′(s_k) `fprime_k`. Entries keep their layer number up and the index down: s^{(1)}_{i}.
"""

from __future__ import annotations

import re

import sympy as sp

from derive.definitions.model import IDX
from derive.errors import DeriveError
from derive.model import matexpr as mx
from derive.model.notation import WRITTEN_HELP, Name, derivative, is_family, name_latex, written
from derive.render.printer import DeriveLatexPrinter
from derive.render.unicode import UnicodePrinter, name_text

I, J = IDX["i"], IDX["j"]
N_IDX = IDX["n"]
N = sp.Symbol("N", integer=True, positive=True)
LAYERED = re.compile(r"^(s|z|S|Z|delta|Delta|W|b)(\d+)$")
_PRIME = re.compile(r"^fprime(\d+)$")
_PARTIAL = re.compile(r"^d([A-Za-z][A-Za-z0-9]*?)_d([A-Za-z][A-Za-z0-9]*)$")
COST = "cost"  # the key a sheet names the loss by; inside, the loss is L
FAMILIES = ("W", "b", "s", "z", "S", "Z", "delta", "Delta")  # a key naming every layer's one: S = "S_k"


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


def quantities(net) -> list:
    """Every quantity of `net` a sheet may rename, by its name inside derive: x, W1, b1, s1, z1, δ1, y."""
    names = LayerNames(net)
    out = [net.input_name, *net.params]
    for k in range(1, net.depth + 1):
        out += [names.pre[k], names.out[k], names.delta(k)]
    out += [names.target, *sorted(names.intermediates)]
    return list(dict.fromkeys(out))


def declare(net, given: dict) -> tuple:
    """A sheet's names for `net`'s quantities, checked: ((name inside derive, written, layer), …).

    Keys are quantities (`s1`, `z1`, `yhat`, `delta2`, `W1`; `quantities(net)`), `cost` for the loss,
    or a family (`S`, `W`, `delta`, …) whose value writes the layer as k (`S_k`). Values are names in
    derive.model.notation's small notation; each is parsed, and no two quantities may print alike.
    """
    if not isinstance(given, dict):
        raise DeriveError("names must be a table such as { s1 = \"z_1\", cost = \"L\" }")
    given = {k: first_spelling(v) for k, v in given.items()}
    valid = quantities(net)
    families = {LAYERED.match(v).group(1) for v in valid if LAYERED.match(v)}
    keys = ", ".join([COST, *valid, *(f for f in FAMILIES if f in families)])
    out: dict = {}
    for key, value in sorted(given.items(), key=lambda kv: kv[0] not in FAMILIES):  # families first
        if not isinstance(value, str):
            raise DeriveError(f"names: {key} must be a string such as \"z_1\"")
        try:
            written(value)
        except ValueError:
            raise DeriveError(f"names: {key} = {value!r} is not a name; write {WRITTEN_HELP}") from None
        if key == COST:
            out["L"] = (value, None)
        elif key in FAMILIES:
            members = [v for v in valid if LAYERED.match(v) and LAYERED.match(v).group(1) == key]
            if not members:
                raise DeriveError(f"names: {net.spec} has no quantity {key}k; choose from: {keys}")
            if not is_family(value):
                raise DeriveError(f"names: {key} names every layer's {key}, so write the layer as k, "
                                  f"e.g. {key} = \"{key}_k\"; or name one, e.g. {members[0]} = {value!r}")
            out.update({v: (value, int(LAYERED.match(v).group(2))) for v in members})
        elif key in valid:
            out[key] = (value, None)
        else:
            raise DeriveError(f"names: {net.spec} has no quantity {key!r}; choose from: {keys}")
    declared = tuple((k, v, layer) for k, (v, layer) in out.items())
    printed: dict = {}
    table = LayerNames(net, declared)
    for q in [*valid, "L"]:
        tex = table.name(q).latex
        if tex in printed:
            who = [COST if x == "L" else x for x in (printed[tex], q)]
            raise DeriveError(f"names: {who[0]} and {who[1]} would both be written ${tex}$; "
                              "give them different names")
        printed[tex] = q
    return declared


class LayerNames:
    """Base names of layer k's quantities, their shapes, and how each is written: the defaults above,
    or a sheet's own names (`written`: name inside derive → Name, e.g. s1 → z₁, L → the cost)."""

    def __init__(self, net, declared: tuple | None = None):
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
        declared = getattr(net, "names", ()) if declared is None else declared
        self.written = {key: written(value, layer) for key, value, layer in declared}

    def declared(self) -> list:
        """[(name inside derive, Name as the sheet writes it, default Name)]: the mapping a sheet states."""
        plain = LayerNames(self.net, ())
        return [(key, name, plain.name(key)) for key, name in self.written.items()]

    def reading(self) -> dict:
        """Written form (LaTeX and text) → name inside derive, for a reader of answers in these names."""
        return {form: key for key, name in self.written.items() for form in (name.latex, name.text)}

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
        if name in self.written:
            return self.written[name]
        m = _PRIME.match(name)
        if m:
            k = m.group(1)
            pre = self.name(self.pre[int(k)])
            return Name(rf"f_{{{k}}}'\left({pre.latex}\right)", f"f_{k}′({pre.text})")
        m = _PARTIAL.match(name)
        if m:
            return derivative(self.name(m.group(1)), self.name(m.group(2)))
        return Name(net_name(name), net_text(name), "layer" if LAYERED.match(name) else "plain")

    def index_latex(self, expr: sp.Basic) -> str:
        """An index form in these names: s^{(1)}_{i}, or {z_{1}}_{i} where the sheet says z_1."""
        return IndexLatexPrinter(self).doprint(expr)

    def index_text(self, expr: sp.Basic) -> str:
        return IndexTextPrinter(self).doprint(expr)

    def table(self, trees) -> dict:
        """name → Name for every named matrix in `trees`: what the matrix printers read."""
        return {leaf.name: self.name(leaf.name) for t in trees if t is not None for leaf in mx.leaves(t)}


class IndexLatexPrinter(DeriveLatexPrinter):
    """Index forms with the network's names: s^{(1)}_{i}, not s_{1}_{i}; a sheet's own names if given."""

    def __init__(self, names: LayerNames | None = None):
        super().__init__({})
        self.written = names.written if names is not None else {}

    def _name(self, name: str) -> str:
        return self.written[name].latex if name in self.written else net_name(name)

    def _print_Symbol(self, expr, style="plain"):
        return self._name(expr.name)

    def _print_IndexedBase(self, expr):
        return self._name(expr.name)

    def _print_Indexed(self, expr):
        name = expr.base.name
        if name in self.written or LAYERED.match(name):
            idx = "".join(self._print(i) for i in expr.indices)
            base = self._name(name)
            if name in self.written and base.endswith("}") and "_{" in base and "^" not in base:
                return f"{base[:-1]},{idx}}}"  # z_{1} at i is z_{1,i}, as the homework writes it
            return f"{{{base}}}_{{{idx}}}" if "_" in base or (name in self.written and "^" in base) else \
                f"{base}_{{{idx}}}"
        return super()._print_Indexed(expr)


class IndexTextPrinter(UnicodePrinter):
    """Index forms as Unicode text in a sheet's own names (z₁_i); the defaults otherwise (s1_i)."""

    def __init__(self, names: LayerNames):
        super().__init__({"order": "none"})
        self.written = names.written

    def _print_Symbol(self, expr):
        return self.written[expr.name].text if expr.name in self.written else super()._print_Symbol(expr)

    def _print_IndexedBase(self, expr):
        return self.written[expr.name].text if expr.name in self.written else super()._print_IndexedBase(expr)

    def _print_Indexed(self, expr):
        if expr.base.name in self.written:
            return f"{self.written[expr.base.name].text}_{self._subscript(expr.indices)}"
        return super()._print_Indexed(expr)


def index_latex(expr: sp.Basic) -> str:
    return IndexLatexPrinter().doprint(expr)


_SIGNAL = "the error signal of layer {k} (the gradient at affine layer {k}'s output)"
_ROLES = {"W": "the weights of layer {k}", "b": "the bias of layer {k}", "s": "the output of affine layer {k}",
          "S": "the output of affine layer {k}", "z": "the output of layer {k}'s activation",
          "Z": "the output of layer {k}'s activation", "delta": _SIGNAL, "Delta": _SIGNAL}
_PLAIN_ROLES = {"x": "the input", "X": "the input (samples as columns)", "y": "the target",
                "Y": "the targets", "yhat": "the network's output", "Yhat": "the network's output",
                COST: "the loss"}


def first_spelling(value):
    """The spelling a sheet prints: the value, or the first of a list of spellings (the others are read)."""
    return value[0] if isinstance(value, list) and value and isinstance(value[0], str) else value


def also_read(net, given: dict | None) -> tuple:
    """((name inside derive, other spelling, layer), …): the spellings after the first of a [names] list,
    for the answer reader only (Y_3 as well as Y_out); a family's apply to each of its layers."""
    out = []
    for key, value in (given or {}).items():
        if not isinstance(value, list):
            continue
        for layer_key, _, layer in declare(net, {key: value[0]}):
            out += [(layer_key, v, layer) for v in value[1:]]
    return tuple(out)


def notation(given: dict) -> list:
    """The mapping a sheet states once: [(written LaTeX, what it is, derive's own LaTeX)] per declared key."""
    rows = []
    for key, value in ((k, first_spelling(v)) for k, v in given.items()):
        if key in FAMILIES:
            rows.append((written(value).latex, _ROLES[key].format(k="$k$"), rf"{name_latex(key)}^{{(k)}}"))
            continue
        m = LAYERED.match(key)
        if m:
            role = _ROLES[m.group(1)].format(k=m.group(2))
        else:
            role = _PLAIN_ROLES.get(key, f"${name_latex(key)}$")
        rows.append((written(value).latex, role, "L" if key == COST else net_name(key)))
    return rows


def keys_of(net) -> set:
    """Every key a sheet may use for `net`: its quantities, the families it has, and the cost."""
    valid = quantities(net)
    return {COST, *valid, *(LAYERED.match(v).group(1) for v in valid if LAYERED.match(v))}
