"""Gate circuits with numbers: the course-note examples, written here in our own words, reproduce the
published forward values and gradients; every gradient is checked by central differences first."""

from __future__ import annotations

from fractions import Fraction

import pytest

from derive.errors import DeriveError
from derive.graph.circuit import Circuit
from tests.conftest import needs_dot


def add_multiply() -> Circuit:
    """q = x + y, f = q z at x = −2, y = 5, z = −4 (the first circuit of most course notes)."""
    c = Circuit("f = (x + y) z")
    for name, value in {"x": -2, "y": 5, "z": -4}.items():
        c.input(name, value)
    c.node("q", "add", a="x", b="y")
    c.node("f", "multiply", a="q", b="z")
    return c


def neuron() -> Circuit:
    """f = σ(w0 x0 + w1 x1 + w2) at w = (2, −3, −3), x = (−1, −2)."""
    c = Circuit("sigmoid neuron")
    for name, value in {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}.items():
        c.input(name, value)
    c.node("p0", "multiply", a="w0", b="x0")
    c.node("p1", "multiply", a="w1", b="x1")
    c.node("s", "add", a="p0", b="p1")
    c.node("t", "add", a="s", b="w2")
    c.node("f", "sigmoid", x="t")
    return c


def test_add_multiply_circuit_gives_the_published_numbers():
    r = add_multiply().run()
    assert (r.value("q"), r.value("f")) == (3, -12)
    assert {k: r.gradient(k) for k in "xyzq"} == {"x": -4, "y": -4, "z": 3, "q": -4}
    q_to_f = next(e for e in r.edges if (e.source, e.gate) == ("q", "f"))
    assert (q_to_f.local, q_to_f.backward) == (-4, -4)  # ∂f/∂q = z, the multiply gate swaps its inputs


def test_sigmoid_neuron_gives_the_published_numbers():
    r = neuron().run()
    assert r.value("t") == 1 and r.value("f") == pytest.approx(0.7310586, abs=1e-7)
    got = {k: round(r.gradient(k), 2) for k in ("w0", "x0", "w1", "x1", "w2")}
    assert got == {"w0": -0.2, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.2}
    local = next(e for e in r.edges if e.gate == "f").local  # σ′(t) = σ(t)(1 − σ(t)), from the engine
    assert float(local) == pytest.approx(0.7310586 * (1 - 0.7310586))


def test_max_gate_routes_the_gradient_to_the_larger_input_and_fan_out_sums():
    """f = x y + max(x, z) at x = 3, y = −2, z = 1: x feeds two gates, so ∂f/∂x = y + 1 = −1."""
    c = Circuit("max and fan-out")
    for name, value in {"x": 3, "y": -2, "z": 1}.items():
        c.input(name, value)
    c.node("p", "multiply", a="x", b="y")
    c.node("m", "max", a="x", b="z")
    c.node("f", "add", a="p", b="m")
    r = c.run()
    assert r.value("f") == -3
    assert (r.gradient("x"), r.gradient("y"), r.gradient("z")) == (-1, 3, 0)


def test_fractions_stay_exact():
    c = Circuit("halves")
    c.input("a", "1/2")
    c.input("b", Fraction(3, 4))
    c.node("f", "multiply", a="a", b="b")
    r = c.run()
    assert (r.value("f"), r.gradient("a")) == (Fraction(3, 8), Fraction(3, 4))


def test_max_gate_at_a_tie_is_refused_not_stated():
    c = Circuit("tie")
    c.input("a", 2)
    c.input("b", 2)
    c.node("f", "max", a="a", b="b")
    with pytest.raises(DeriveError, match="disagrees with central differences.*not stated"):
        c.run()


@needs_dot
def test_pictures_put_forward_values_over_gradients_on_each_edge():
    r = add_multiply().run()
    dot = r.dot()
    assert '"x" -> "q" [label=<<font color="darkgreen">−2</font><br/><font color="firebrick">−4</font>>]' in dot
    tikz = r.tikz()  # laid out by Graphviz
    assert r"{\textcolor{green!50!black}{$-4$}\\\textcolor{red!70!black}{$3$}}" in tikz
    assert "| q → f (a) | −4 | 1 · (−4) = −4 |" in r.markdown()


@pytest.mark.parametrize("build, message", [
    (lambda c: c.node("f", "add", a="x", b="w"), "gate f: unknown gate or input 'w'"),
    (lambda c: (c.node("f", "add", a="x", b="g"), c.node("g", "add", a="f", b="x")), "the circuit has a cycle"),
    (lambda c: c.node("f", "softmax", x="x"), "gate f: softmax is not a gate of numbers"),
    (lambda c: (c.node("f", "add", a="x", b="x"), c.node("g", "sigmoid", x="x")), "feed nothing"),
])
def test_bad_circuits_are_refused_in_one_line(build, message):
    c = Circuit("bad")
    c.input("x", 1)
    build(c)
    with pytest.raises(DeriveError, match=message) as err:
        c.run()
    assert "\n" not in str(err.value)


def test_without_graphviz_the_tikz_picture_is_laid_out_by_depth_and_svg_is_one_line(monkeypatch):
    from derive.graph import picture

    r = add_multiply().run()
    monkeypatch.setattr(picture.shutil, "which", lambda name: None)
    assert r"\draw[->] (z) -- node[above, sloped, text=green!50!black] {$-4$} node[below, sloped, " \
           r"text=red!70!black] {$3$} (f);" in r.tikz()
    assert r._repr_svg_() is None
    with pytest.raises(DeriveError, match="apt-get install graphviz"):
        r.svg()
