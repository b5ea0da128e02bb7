"""Matrix forms: read from the index form, checked against it at run time, printed only when right.

Every printed form is read back by the answer checker's own reader (derive.check: parse, read)
and compared with the index form at random values, so a dropped bracket or ⊙ fails here.
"""

import json
import random
from dataclasses import replace

import pytest
import sympy as sp

import derive
from derive.api import derivative
from derive.check.meaning import read
from derive.check.parse import parse
from derive.concrete import unroll
from derive.definitions.model import Var
from derive.errors import DeriveError
from derive.model import matexpr as mx
from derive.render.matrix import LatexMatrixPrinter, TextMatrixPrinter
from tests.conftest import NO_MATRIX_FORM, registry_cases

x, A, Y, w, y, P, T = (sp.IndexedBase(n) for n in ("x", "A", "Y", "w", "y", "P", "T"))
i, j, k, n = sp.symbols("i j k n", integer=True)
D, K, N = sp.symbols("D K N", integer=True, positive=True)


def rowscale():
    return derive.define("rowscale", Y[i, j], x[i] * A[i, j], kind="layer")


def conv1d():
    return derive.define("conv1d", y[i], sp.Sum(w[k] * x[i + k - 1], (k, 1, D)), kind="layer",
                         shapes={"x": ("N",), "y": ("M",)})


# -- reading a printed form back ---------------------------------------------------------------


class _Ones:
    """𝟏 and I have no notation in the answer checker: they print as named stand-ins it reads."""

    def _print_Ones(self, node, scalar_ones=False, **kw):
        if scalar_ones:
            return "1"
        dim = node.shape[0] if node.shape[1] == "1" else node.shape[1]
        return self.stand_in(f"ones{dim}") + (self.top if node.shape[0] == "1" else "")

    def _print_Identity(self, node, **kw):
        return self.stand_in(f"eye{node.n}")


class _LatexReadable(_Ones, LatexMatrixPrinter):
    top = r"^\top"

    def stand_in(self, name):
        return rf"\mathbf{{{name}}}"


class _TextReadable(_Ones, TextMatrixPrinter):
    top = "ᵀ"

    def stand_in(self, name):
        return name


def _stand_ins(form, sizes: dict) -> tuple:
    dims = {str(s): s for s in sizes}
    out = []
    for node in mx.walk(form.expr):
        if isinstance(node, mx.Ones) and "1" in node.shape:
            dim = node.shape[0] if node.shape[1] == "1" else node.shape[1]
            out.append(Var(f"ones{dim}", (dims[dim],), role="hyper"))
        elif isinstance(node, mx.Identity):
            out.append(Var(f"eye{node.n}", (dims[node.n], dims[node.n]), role="hyper"))
    return tuple(dict.fromkeys(out))


def _reading_derivation(d):
    """What the checker reads the form against: `d`, with the stand-ins; an elementwise
    activation's scalars x, y made K-vectors, with the gradient ∂C/∂y arriving from above."""
    defn = d.definition
    if not defn.elementwise:
        return replace(d, definition=replace(defn, others=defn.others + _stand_ins(d.matrix, defn.sizes)))
    K = sp.Symbol("K", integer=True, positive=True)
    vector = {v.name: Var(v.name, (K,), role=v.role) for v in (defn.output, defn.inputs[0])}
    defn = replace(defn, index=(i,), output=vector[defn.output.name], inputs=(vector[defn.inputs[0].name],),
                   sizes={K: 3})
    defn = replace(defn, others=defn.others + _stand_ins(d.matrix, defn.sizes))
    lhs = sp.Derivative(defn.output.symbol[i], defn.inputs[0].symbol[i])  # its free index: i
    return replace(d, definition=defn, lhs=lhs, upstream=Var(f"d{defn.upstream}_d{defn.output.name}", (K,),
                                                              role="upstream"))


def _expected(d, rd, shape) -> sp.Matrix:
    """The index form entry by entry, at the reading's sizes (an activation's ∂C/∂y ⊙ f′)."""
    defn = d.definition
    if defn.elementwise:
        scalars = {defn.inputs[0].symbol: rd.definition.inputs[0].symbol, defn.output.symbol: rd.definition.output.symbol}
        return sp.Matrix(shape[0], 1, lambda r, _: rd.upstream.symbol[r + 1] * d.result.xreplace(
            {s: v[r + 1] for s, v in scalars.items()}))
    free = list(d.indices) if defn.kind != "activation" else [d.lhs.expr.indices[0], *d.indices]
    sizes = {s: int(v) for s, v in defn.sizes.items()}

    def entry(r, c):
        at = dict(zip(free, (r + 1, c + 1)))
        return unroll(d.result.xreplace({**sizes, **at})).doit()

    return sp.Matrix(*shape, entry)


def _agree(got: sp.Matrix, want: sp.Matrix, sizes: dict, seed: int) -> bool:
    """Equal at random values of every entry (both signs), dimensions at their sizes."""
    rng = random.Random(seed)
    exprs = [sp.sympify(e) for m in (got, want) for e in m]
    entries = set().union(*(e.atoms(sp.Indexed) for e in exprs))
    labels = {e.base.label for e in entries}
    values = {sp.Symbol(str(s), integer=True, positive=True): v for s, v in sizes.items()}
    for a in sorted(entries | set().union(*(e.free_symbols for e in exprs)) - labels - set(values), key=str):
        name = a.base.name if isinstance(a, sp.Indexed) else a.name
        if name.startswith("ones"):
            values[a] = 1.0
        elif name.startswith("eye"):
            values[a] = float(a.indices[0] == a.indices[1])
        else:
            values[a] = rng.choice((-1, 1)) * rng.uniform(0.2, 1.5)
    for g, e in zip(got, want):
        a, b = complex(sp.sympify(g).xreplace(values)), complex(sp.sympify(e).xreplace(values))
        if abs(a - b) > 1e-9 * (1 + abs(b)):
            return False
    return True


def read_back(d, printed: str) -> bool:
    """Whether `printed`, read as a student's matrix answer, equals the index form."""
    rd = _reading_derivation(d)
    reading = read(parse(printed), rd)
    assert reading.form == "matrix", printed
    want = _expected(d, rd, reading.matrix.shape)
    return all(_agree(reading.matrix, want, rd.definition.sizes, seed) for seed in (1, 2))


def printed(d, printer) -> str:
    return printer(d.matrix.names).doprint(d.matrix.expr)


INDEX_ONLY = ("hinge", "svm", "conv1d", "conv1d_strided", "conv2d", "avgpool1d", "maxpool1d")
# the answer checker reads σ before a term as the sigmoid σ(·): the batch-norm forms are checked by
# value (test_registry) but cannot be read back
NOT_READ = ("batchnorm", "layernorm")
MATRIX_CASES = [p for p in registry_cases() if p.values[0] not in INDEX_ONLY + NOT_READ
                and p.values[1] not in ("gamma", "beta") and tuple(p.values[:2]) not in NO_MATRIX_FORM]
# printed in names the answer reader does not read in a matrix answer yet: σ alone (it reads σ(·)) and ζ;
# their matrix forms are still checked against the index form at every entry
NOT_READ_BACK = {("silu", "x"), ("softplus", "x"), ("mish", "x")}


@pytest.mark.parametrize("target, wrt", MATRIX_CASES)
@pytest.mark.parametrize("printer", [_LatexReadable, _TextReadable], ids=["latex", "text"])
def test_every_printed_matrix_form_reads_back_as_the_index_form(target, wrt, printer):
    d = derivative(target, wrt=wrt)
    assert d.matrix is not None and d.matrix.max_error < 1e-9
    if (target, wrt) in NOT_READ_BACK:
        return
    assert read_back(d, printed(d, printer)), printed(d, printer)


@pytest.mark.parametrize("target", INDEX_ONLY)
def test_the_hinge_losses_and_index_arithmetic_keep_their_index_form_only(target):
    d = derivative(target)
    assert d.matrix is None and d.matrix_refused is None


def test_a_dropped_bracket_or_odot_does_not_read_back():
    """The read-back above can fail: the softmax Jacobian without its bracket, ⊙ as a product."""
    d = derivative("softmax", wrt="x")
    assert read_back(d, "β (diag(y) − y yᵀ)")
    assert not read_back(d, "β diag(y) − y yᵀ")
    p = derivative(derive.define("square_batch", sp.Symbol("L"),
                                 sp.Sum(sp.Sum(P[i, n] ** 2 * T[i, n], (i, 1, K)), (n, 1, N))),
                   wrt="P")
    with pytest.raises(Exception, match="cannot multiply"):
        read_back(p, "2 P T")


# -- the cases a user met --------------------------------------------------------------------


def test_rowscale_input_gradient_is_a_row_sum_of_an_entrywise_product():
    d = derivative(rowscale(), wrt="x")
    assert d.matrix.text == "(A ⊙ ∂C/∂Y) 𝟏" and d.matrix.max_error < 1e-9
    assert read_back(d, printed(d, _TextReadable)) and read_back(d, printed(d, _LatexReadable))


def test_rowscale_weight_gradient_is_diag_of_x_times_the_upstream_gradient():
    d = derivative(rowscale(), wrt="A")
    assert d.matrix.text == "diag(x) ∂C/∂Y"
    assert d.matrix.latex == r"\operatorname{diag}\left(\mathbf{x}\right) \frac{\partial C}{\partial Y}"


def test_a_matrix_form_is_checked_in_numerator_layout_too():
    d = derivative(rowscale(), wrt="A", layout="numerator")
    assert d.matrix.text == "(∂C/∂Y)ᵀ diag(x)" and d.matrix.max_error < 1e-9


def test_a_convolution_kernel_gradient_keeps_its_index_form():
    """x_{i+l−1} is index arithmetic: no product of whole matrices reads it, so none is stated."""
    d = derivative(conv1d(), wrt="w")
    assert d.result.has(sp.Sum) and d.matrix is None and d.matrix_refused is None
    out = d.text()
    assert "matrix:" not in out and ".T" not in out


def test_entrywise_products_of_matrices_keep_odot():
    d = derivative(derive.define("square_batch", sp.Symbol("L"),
                                 sp.Sum(sp.Sum(P[i, n] ** 2 * (1 - P[i, n]) * T[i, n], (i, 1, K)), (n, 1, N))), wrt="P")
    assert d.matrix.shape == ("K", "N") and "⊙" in d.matrix.text and r"\odot" in d.matrix.latex
    assert read_back(d, printed(d, _TextReadable)) and read_back(d, printed(d, _LatexReadable))


# -- a form that fails its check is not shown --------------------------------------------------


def _wrong_form(monkeypatch, expr_of):
    """Make the reader state `expr_of(form)` instead of what it reads (the old rowscale bug)."""
    from derive.calculus import matrix

    real = matrix.matrix_form
    monkeypatch.setattr(matrix, "matrix_form", lambda d, layout="denominator": replace(
        real(d, layout), expr=expr_of(real(d, layout))))


def _a_times_upstream_transposed(form):
    return mx.matmul(mx.MatSym("A", ("K", "K")), mx.transpose(mx.MatSym("dC_dY", ("K", "K"))))


REFUSAL = "the matrix form of ∂C/∂x for rowscale failed its check against the index form; not shown"


@pytest.mark.parametrize("wrong", [
    _a_times_upstream_transposed,  # A (∂C/∂Y)ᵀ: K × K where ∂C/∂x is K × 1
    lambda form: mx.matmul(mx.MatSym("A", ("K", "K")), mx.Ones(("K", "1"))),  # the right shape, wrong values
], ids=["wrong-shape", "wrong-values"])
def test_a_matrix_form_that_fails_its_check_is_named_not_shown(monkeypatch, wrong):
    _wrong_form(monkeypatch, wrong)
    d = derivative(rowscale(), wrt="x")
    assert d.matrix is None and d.matrix_refused is not None
    text = d.text()
    assert f"matrix: {REFUSAL}" in text and "𝟏" not in text
    md = d.markdown()
    assert (r"The matrix form of $\frac{\partial C}{\partial \mathbf{x}}$ for rowscale failed its check "
            "against the index form; not shown.") in md
    assert "Matrix form" not in md and "matrix form agrees" not in md
    assert json.loads(json.dumps(d.to_json()))["matrix_refused"] == REFUSAL and "matrix" not in d.to_json()
    with pytest.raises(DeriveError, match=f"^{REFUSAL}; use --form index$"):
        d.markdown("matrix")


def test_the_checked_line_says_the_matrix_form_was_checked_only_when_it_was(monkeypatch):
    shown = derivative(rowscale(), wrt="x")
    assert "the matrix form agrees with it at every entry" in shown.markdown()
    _wrong_form(monkeypatch, _a_times_upstream_transposed)
    refused = derivative(rowscale(), wrt="x")
    assert "Checked: the result agrees with sympy.diff" in refused.markdown()
    assert "matrix form agrees" not in refused.markdown()


def test_a_built_in_entry_states_its_checked_matrix_form():
    d = derivative("softmax", wrt="x")
    assert d.report is None and d.matrix.max_error < 1e-9
    assert "Checked: the matrix form agrees with the index form at K = 3 at every entry." in d.markdown()
