"""A layer written for every layer of a network at once: `linear_i(x) = W^{(i)} x + b^{(i)}`.

The claim holds when it holds for each affine layer k of the question's network: with i written k and
the argument x written as that layer's input (x, then the previous layer's output), it is the forward
row `s_k = W^{(k)} x + b^{(k)}` in the sheet's names, which the network checker judges.
"""

from __future__ import annotations

import re

_GENERIC = re.compile(r"(?:\\(?:mathrm|text|operatorname)\s*\{\s*)?(?:[Ll]inear|[Aa]ffine)\s*\}?\s*_\s*\{?\s*([a-z])\s*\}?"
                      r"\s*\(\s*([a-z])\s*\)")


def generic_layer(lhs: str) -> tuple[str, str] | None:
    """(layer index letter, argument letter) of `linear_i(x)`, else None."""
    found = _GENERIC.fullmatch(lhs.strip())
    return found.groups() if found else None


def _spelled(code: str, names: dict) -> str:
    return names.get(code) or re.sub(r"^([A-Za-z]+)(\d+)$", r"\1_\2", code)


def instances(rhs: str, index: str, argument: str, net, names: dict) -> list[tuple[int, str]]:
    """(k, `s_k = rhs` with i written k and x written as layer k's input) for each affine layer k."""
    out = []
    for stage in net.stages:
        if stage.affine is None or stage.affine.name != "affine":
            continue
        k = stage.k
        given = net.input_name if k == 1 else _spelled(f"z{k - 1}", names)
        text = re.sub(rf"\^\s*\{{\s*\(\s*{index}\s*\)(\s*(?:\\top|\\intercal|T)?)\s*\}}",
                      lambda m, k=k: f"^{{({k}){m.group(1)}}}", rhs)  # W^{(i)}, W^{(i)\intercal}
        text = re.sub(rf"_\s*\{{\s*{index}\s*\}}|_\s*{index}(?![A-Za-z])", f"_{{{k}}}", text)  # W_i
        text = re.sub(rf"(?<![A-Za-z\\]){argument}(?![A-Za-z])", f"{{{given}}}", text)
        out.append((k, f"{_spelled(f's{k}', names)} = {text}"))
    return out


_LAYER_OF = re.compile(r"\\?([A-Za-z]+)\s*_\s*\{?\s*([a-z])\s*\}?")


def layer_letter(denominator: str, params: tuple) -> str | None:
    """k of `∂L/∂W_k` when W is a parameter of every layer of the network (W1, W2, …), else None."""
    found = _LAYER_OF.fullmatch(denominator.strip())
    return found.group(2) if found and f"{found.group(1)}1" in params else None


def every_layer(text: str, letter: str, depth: int, input_name: str, names: dict) -> list[tuple[int, str]]:
    """(n, `text` with the layer letter k written n, k − 1 written n − 1) for each layer n; Z_0 (the sheet's
    Z_{k−1} of the first layer) is the network's input."""
    family = re.match(r"\\?([A-Za-z]+)_k$", str(names.get("Z") or names.get("z") or ""))
    out = []
    for n in range(1, depth + 1):
        written = re.sub(rf"_\s*\{{\s*{letter}\s*-\s*1\s*\}}", f"_{{{n - 1}}}", text)
        written = re.sub(rf"_\s*\{{\s*{letter}\s*\}}|_\s*{letter}(?![A-Za-z])", f"_{{{n}}}", written)
        if family:
            written = re.sub(rf"(?<![A-Za-z\\]){family.group(1)}_\{{0\}}", f"{{{input_name}}}", written)
        out.append((n, written))
    return out
