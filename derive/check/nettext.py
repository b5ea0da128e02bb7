"""How a network answer is named and shown: name keys, pretty names, LaTeX, chains of Jacobians."""

from __future__ import annotations

import itertools
import re

from derive.check import parse as t
from derive.check.meaning import function_latex

COSTS = ("C", "L", "E", "J", "ell", "l", "Lcal")


def _is_partial(node) -> bool:
    return isinstance(node, t.Frac) and isinstance(node.num, t.Partial) and isinstance(node.den, t.Partial)


MULTIPLY = ("juxt", "*", "@", "odot")


def _flatten(node, out: list, ops: list) -> None:
    if isinstance(node, t.Op) and node.op in MULTIPLY:
        _flatten(node.a, out, ops)
        ops.append(node.op)
        _flatten(node.b, out, ops)
    else:
        out.append(node)


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


def check_chain(pairs: list, d, batch: bool, end: str | None = None) -> tuple[str, list]:
    """The chain read back, and what is wrong with it as a chain from L to `end` (the claimed quantity:
    the derivation's own variable unless the left-hand side names another)."""
    def frac(a, b):
        return f"∂{_pretty(a, batch)}/∂{_pretty(b, batch)}"

    wrt = end or d.wrt.lower()
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


def expected_latex(d) -> str:
    parts = [rf"\frac{{\partial L}}{{\partial {_latex_name(d.wrt.lower())}}} = {d.gradient.latex}"]
    parts += [rf"{_latex_name(s.name.lower())} = {s.latex}" for s in d.signals]
    return r",\quad ".join(parts)


_NUMBERED = re.compile(r"(?<![\\A-Za-z\u0370-\u03FF])([A-Za-z\u0370-\u03FF]+)(\d{1,2})(?!\d|\.\d)")  # δ1 too


def _numbered(answer: str) -> str:
    """Plain-text layer numbers as subscripts: `W1.T @ delta1` → `W_{1}.T @ delta_{1}`, δ1 → δ_{1} (the grammar
    reads a letter run and a number as a product)."""
    return _NUMBERED.sub(r"\1_{\2}", answer) if isinstance(answer, str) and len(answer) <= 4000 else answer


# ⊙ printed looser than the products, so A·B ⊙ C reads back the same and (A ⊙ B)·C keeps its brackets
PRECEDENCE = {"+": 1, "-": 1, "odot": 2, "otimes": 2, "*": 2.5, "/": 2.5, "@": 2.5, "juxt": 3}


def answer_latex(node, batch: bool = False) -> str:
    """LaTeX of a network answer as written, names in the network's style (brackets where needed)."""

    def go(n, parent=0):
        if isinstance(n, t.Num):
            return n.text
        if isinstance(n, t.Word) and n.text in ("I", "ones"):
            return "I" if n.text == "I" else r"\mathbf{1}"
        if isinstance(n, t.Sub) and isinstance(n.base, t.Word) and n.base.text == "I" and len(n.index) == 1:
            return f"I_{{{getattr(n.index[0], 'text', '?')}}}"
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


def plain(node, batch: bool = False) -> str:
    """A node as plain text for a sentence: s1, W2ᵀ δ2, max(0, s1); … where it has no short form."""
    if isinstance(node, t.Word) and node.text in ("I", "ones"):
        return "I" if node.text == "I" else "𝟏"
    key = name_key(node) if isinstance(node, (t.Word, t.Hat, t.Sub)) else None
    if key is not None:
        return _pretty(key, batch)
    if isinstance(node, t.Num):
        return node.text
    if isinstance(node, t.Neg):
        return "−" + plain(node.a, batch)
    if isinstance(node, t.Transpose):
        return plain(node.a, batch) + "ᵀ"
    if isinstance(node, t.Op):
        sym = {"+": " + ", "-": " − ", "/": "/", "odot": " ⊙ ", "otimes": " ⊗ ", "*": "·"}.get(node.op, " ")
        parts = [plain(n, batch) for n in (node.a, node.b)]
        parts = [f"({p})" if isinstance(n, t.Op) and n.op != node.op else p for p, n in zip(parts, (node.a, node.b))]
        return sym.join(parts)
    if isinstance(node, t.Func):
        return f"{node.name}{chr(39) * node.primes}({', '.join(plain(a, batch) for a in node.args)})"
    return "…"
