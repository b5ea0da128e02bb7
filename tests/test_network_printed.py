"""Every matrix formula a network prints reads back as what it states.

For every activation (with and without hyperparameter values) and every loss a network accepts, a
two-layer network is rendered (Markdown, LaTeX, text); each matrix formula it prints — forward
rows, outputs in terms of the input, ∂L/∂(output), f′, error signals in every form, the gradient,
the local Jacobians that are matrices — is checked to be in the rendered output, then parsed back
by the answer checker's own reader (derive.check: parse, and the network reader's Evaluator) and
compared numerically with the network's generated code at the checker's random points. A dropped
⊙ or bracket changes the value or the shape, and fails.
"""

import json
import re

import numpy as np
import pytest

from derive.check.network import Evaluator, _numbered, network_reference
from derive.check.parse import parse
from derive.errors import DeriveError
from derive.model import matexpr as mx
from derive.network import network
from derive.network.chain import supported_losses
from derive.render import matrix
from tests.test_network import _ACTS, _WITH_VALUES, RAW_SYMPY, UVA

_GREEK = {"α": "alpha", "β": "beta", "δ": "delta", "Δ": "Delta"}


def _two_layer(activation: str, loss: str) -> str:
    """affine>{activation}>affine>{loss}: a batch of columns for a matrix loss, σ before a loss of probabilities."""
    from derive.definitions import get

    layer = "affine_batch" if len(get(loss).inputs[0].shape) == 2 else "affine"
    before = "sigmoid>" if loss in ("bce", "cross_entropy") else ""
    return f"{layer}>{activation}>{layer}>{before}{loss}"


class _Reader(Evaluator):
    """The network reader, also knowing the widths d_k (the point carries the α_k it was computed with)."""

    def named(self, key, node):
        if key in self.p.sizes:
            return np.array([[float(self.p.sizes[key])]])
        return super().named(key, node)


def _readable(printed: str, fmt: str) -> str:
    """An entrywise power, ^⊙2, is the reader's plain power; Greek letters as the screen spells them."""
    if fmt == "latex":
        return re.sub(r"\^\{\\odot (\d+)\}", r"^{\1}", printed)
    for letter, word in _GREEK.items():
        printed = printed.replace(letter, word)
    return _numbered(re.sub(r"\^⊙(\d+)", r"^\1", printed))


def reads_back(d, printed: str, fmt: str, expected) -> bool:
    """Whether `printed`, read by the checker's reader, equals `expected(point)` at every reference point."""
    ref = network_reference(d)
    node = parse(_readable(printed, fmt))
    for p in ref.points:
        with np.errstate(all="ignore"):
            got = _Reader(ref, p)(node)
        want = np.asarray(expected(p), dtype=float)
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-7, atol=1e-10):
            return False
    return True


def value_of(name: str):
    """The network's value of `name` at a reference point."""
    return lambda p: p.values[name]


def formulas(d) -> list:
    """(what, tree, names, expected value at a reference point) for every matrix formula printed."""
    bp = d.backprop
    out = []
    for row in bp.forward:
        key = row.name.lower()
        for tree in (row.after, row.expanded):
            if tree is not None:
                out.append((f"row {row.name}", tree, row.names, lambda p, key=key: p.values[key]))
    for s in d.signals:
        k = s.k

        def delta(p, k=k):
            return p.values[f"delta{k}"]

        for tree in (s.general, *s.forms):  # ∂L/∂q and f′ are printed inside these, and as Jacobians
            out.append((f"signal {s.name}", tree, s.names, delta))
    out.append(("gradient", d.gradient.after, d.gradient.names, lambda p: p.expected))
    for j in d.chain:
        if j.after is None or isinstance(j.after, (mx.Identity, mx.Ones)):  # a tensor's entry; I and 𝟏 below
            continue
        out.append((f"Jacobian ∂{j.top}/∂{j.bottom}", j.after, j.names, _jacobian_value(d, j)))
    return out


def _jacobian_value(d, j):
    batch, names = d.network.batch, d.backprop.names
    if j.top == "L":
        return lambda p: p.upstream[j.bottom.lower()] if batch else p.upstream[j.bottom.lower()].T
    if j.bottom.lower() in (names.pre[k].lower() for k in names.pre if k):  # an activation: diag(f′)
        k = names.layer(j.bottom)
        return lambda p: p.fprime[k] if batch else np.diag(p.fprime[k][:, 0])
    return lambda p: p.inputs[f"W{names.layer(j.top)}"]  # ∂s_k/∂z_{k−1} = W_k


def _check_network(chain: str) -> None:
    d = network(chain).derive("W1")
    md, tex, text = d.markdown(), d.tex(), d.text()
    assert not any(raw in text for raw in RAW_SYMPY), text
    assert json.loads(json.dumps(d.to_json(), ensure_ascii=False))["matrix"]["text"] == d.gradient.text
    found = formulas(d)
    assert len(found) >= 8
    for what, tree, names, expected in found:
        t, tx = matrix.text(tree, names), matrix.latex(tree, names)
        if what == "gradient":  # printed factor by factor, each with its shape beneath it
            assert t in text and all(matrix.latex(f, names) in md for f in d.gradient.factors), (what, tx)
        elif what.startswith("Jacobian"):  # the table of local Jacobians: Markdown and text
            assert t in text and tx in md, (what, t, tx)
        else:
            assert t in text and tx in md and tx in tex, (what, t, tx)
        assert reads_back(d, t, "text", expected), (chain, what, t)
        assert reads_back(d, tx, "latex", expected), (chain, what, tx)


PAIRS = [pytest.param(_two_layer(a, loss), id=f"{a}-{loss}") for a in _ACTS + _WITH_VALUES for loss in supported_losses()]


@pytest.mark.parametrize("chain", PAIRS)
def test_every_printed_matrix_formula_of_a_two_layer_network_reads_back_as_its_value(chain):
    _check_network(chain)


def test_the_jacobians_that_are_i_or_all_ones_print_as_such():
    """∂s/∂b = I, and an identity output layer's ∂Ŷ/∂S (a batch: every entry 1); the reader has no I or 𝟏."""
    d = network("affine>relu>affine>mse").derive("b1")
    assert isinstance(d.chain[-1].after, mx.Identity) and d.text().count("= I\n") == 1
    d = network(UVA).derive("W1")
    ones = d.chain[1]
    assert isinstance(ones.after, mx.Ones) and ones.after.shape == ("d2", "N")
    assert r"$\mathbf{1}_{d_{2} \times N}$" in d.markdown() and "= 𝟏\n" in d.text()


# -- a dropped ⊙ or bracket fails ---------------------------------------------------------------


def test_uva_output_error_signal_prints_every_entrywise_product_with_odot():
    """Δ⁽³⁾ of the UvA sheet's batch recursion: d₃ × N matrices, so a product without ⊙ would be a matrix product."""
    d = network("affine_batch>sigmoid>affine_batch>sigmoid>affine_batch>sigmoid>half_frobenius").derive("W1")
    top = d.signals[0]
    assert top.text == "(Ŷ − Y) ⊙ Ŷ ⊙ (1 − Ŷ)"
    assert top.latex == r"\left(\hat{Y} - Y\right) \odot \hat{Y} \odot \left(1 - \hat{Y}\right)"
    assert top.latex in d.markdown() and top.text in d.text()
    delta3 = value_of("delta3")
    assert reads_back(d, top.text, "text", delta3) and reads_back(d, top.latex, "latex", delta3)
    with pytest.raises(Exception, match="cannot multiply"):
        reads_back(d, top.text.replace(" ⊙ ", " "), "text", delta3)  # Ŷ(1 − Ŷ)(Ŷ − Y): matrix products


def test_a_dropped_bracket_in_an_error_signal_does_not_read_back():
    d = network("affine_batch>sigmoid>affine_batch>sigmoid>affine_batch>sigmoid>half_frobenius").derive("W1")
    top, hidden = d.signals[0], d.signals[1]
    assert hidden.text == "(W3ᵀ Δ3) ⊙ Z2 ⊙ (1 − Z2)"
    delta2, delta3 = value_of("delta2"), value_of("delta3")
    assert reads_back(d, hidden.text, "text", delta2)
    assert not reads_back(d, "(W3ᵀ Δ3) ⊙ Z2 ⊙ 1 − Z2", "text", delta2)
    assert not reads_back(d, top.text.replace("(", "").replace(")", ""), "text", delta3)


# -- a statement that fails its check is not printed ---------------------------------------------


@pytest.fixture
def fresh_backprop():
    """No backward pass built before the test is reused in it, and none built in it after it."""
    from derive.network import backprop

    backprop.backprop.cache_clear()
    backprop._checked.cache_clear()
    yield
    backprop.backprop.cache_clear()
    backprop._checked.cache_clear()


def _wrong(monkeypatch, where: str):
    """Make the network state a wrong tree in one place (the derivation's own values stay right)."""
    from derive.network import trees

    real = trees.required

    def doubled(expr, names, shape, what, free=None):
        tree = real(expr, names, shape, what, free)
        return mx.scale(2, tree) if what == where else tree

    monkeypatch.setattr(trees, "required", doubled)


@pytest.mark.parametrize("where, named", [
    ("∂L/∂W1", "the printed gradient ∂L/∂W1 = 2 δ1 xᵀ"),
    ("f_1′", "the printed f_1′ = 2 𝟙[s1 > 0]"),
    ("∂L/∂z1", "the printed ∂L/∂z1 = 2 W2ᵀ δ2"),
    ("layer 2's affine map", ("the printed forward row ŷ = 2 W2 z1 + 2 b2 disagrees with its index form (the "
                              "registry's definition)")),
])
def test_a_wrong_statement_is_refused_in_one_line_naming_it(monkeypatch, capsys, fresh_backprop, where, named):
    from derive.cli import main

    _wrong(monkeypatch, where)
    monkeypatch.setenv("DERIVE_NO_CACHE", "1")  # the cache holds what the unpatched code printed
    chain = "affine>relu>affine>mse"
    with pytest.raises(DeriveError) as err:
        network(chain).derive("W1")
    message = err.value.message
    assert "\n" not in message and named in message and message.endswith("; not stated"), message
    assert main(["show", chain, "--wrt", "W1"]) == 2
    out, errout = capsys.readouterr()
    assert out == "" and errout.count("\n") == 1 and named in errout
