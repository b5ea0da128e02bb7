"""What a network answer claims, read from its left-hand side in the network's own names.

- `∂L/∂W1 = …`: the derivation's own gradient; `∂L/∂b2 = …` another parameter's; `∂L/∂z1 = …` the
  gradient with respect to an intermediate (an error signal);
- `∂z1/∂s1 = …`: a layer's local Jacobian, diag(f′(s1)), or the identity I where the layer has no
  activation (so `∂ŷ/∂ŷ`-like claims against the number 1 are wrong: I is meant);
- `z1 = max(0, W1 x + b1)`: a forward value, written in terms of earlier quantities only;
- `δ1 = W2ᵀ δ2 ⊙ 1[s1 > 0]` (δ₃, Δ_k in a sheet's names): an error signal, ∂L/∂s1, written without
  itself or the signals backprop computes from it;
- `L = …`: the loss's value.
Names are the network's LayerNames (derive/network/names.py) and their aliases (h, φ, θ), so a
sheet that renames its quantities is read in its own names. Anything else is refused with a
one-line reason; a claim is never re-targeted.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import numpy as np

from derive.check import parse as t
from derive.check.nettext import COSTS, _is_partial, name_key
from derive.check.screen import InvalidAnswer

_COST_KEYS = {c.lower() for c in COSTS}


@dataclass(frozen=True)
class NetClaim:
    """What is checked: `text` as shown back; `kind` gradient | parameter | signal | jacobian | value | loss."""

    text: str
    kind: str
    key: object = None  # the quantity (a name key, a parameter's code name, or a layer number)
    forbidden: frozenset = frozenset()  # names the right-hand side of a value claim may not use


def own_claim(ref) -> NetClaim:
    return NetClaim(f"∂L/∂{_said(ref.wrt.lower(), ref)}", "gradient")


def _said(key: str | None, ref, unknown: str = "?") -> str:
    return unknown if key is None else ref.said(key)


def claim_of(node, ref) -> tuple[t.Node, NetClaim]:
    """The right-hand side of a network answer and the claim its left-hand side makes."""
    if not isinstance(node, t.Equation):
        return node, own_claim(ref)
    if len(node.sides) > 2:
        raise InvalidAnswer("the answer has more than one '='; write one claim: ∂L/∂W1 = …")
    lhs, rhs = node.sides
    if _is_partial(lhs):
        return rhs, _partial_claim(lhs, ref)
    claim = _value_claim(lhs, ref)
    forward = {name for name, _ in ref._rows}
    if claim.kind == "value" and _key(rhs, ref) in claim.forbidden & forward and name_key(rhs) != name_key(lhs):
        # S₂ = Z₂ (two names, not one written twice): do they say one quantity?
        return rhs, dataclasses.replace(claim, forbidden=frozenset())  # its values decide, not a refusal
    return rhs, claim


def _key(node, ref) -> str | None:
    key = name_key(node)
    return ref.aliases.get(key, key)


def _partial_claim(lhs, ref) -> NetClaim:
    batch = ref.net.batch
    top = lhs.num.a
    top_key = name_key(top) if name_key(top) is not None else getattr(top, "text", None)
    key = _key(lhs.den.a, ref)
    shown = _said(key, ref)
    p = ref.points[0]
    params = {q.lower(): q for q in ref.net.params}
    if top_key is not None and top_key.lower() in _COST_KEYS:
        if key == ref.wrt.lower():
            return own_claim(ref)
        if key in params:
            return NetClaim(f"∂L/∂{shown}", "parameter", params[key])
        if key in p.upstream:
            return NetClaim(f"∂L/∂{shown}", "signal", key)
        raise InvalidAnswer(f"∂L/∂{shown}: {shown} is not a quantity of this network; "
                            f"the names here are: {ref.allowed()}")
    top_key = ref.aliases.get(top_key, top_key)
    for k in range(1, ref.net.depth + 1):
        if ref.names.out[k].lower() == top_key and (ref.names.pre[k] or "").lower() == key:
            if batch:
                raise InvalidAnswer(f"∂{_said(top_key, ref)}/∂{shown} of a batch has four indices; "
                                    "it is not checked here")
            return NetClaim(f"∂{_said(top_key, ref)}/∂{shown}", "jacobian", k)
    raise InvalidAnswer(f"∂{_said(top_key, ref)}/∂{shown}: the left-hand side is checked when it is "
                        "the gradient of the loss, ∂L/∂q, or a layer's own Jacobian ∂z_k/∂s_k")


def _value_claim(lhs, ref) -> NetClaim:
    raw = name_key(lhs) if name_key(lhs) is not None else getattr(lhs, "text", None)
    partials = frozenset(k for k in ref.points[0].values if k.startswith("delta"))
    if raw is not None and raw.lower() in _COST_KEYS:
        return NetClaim("L", "loss", None, partials)
    key = ref.aliases.get(raw, raw)
    order = [name for name, _ in ref._rows]
    if key in partials:  # δ₃ = 2(ŷ − y): an error signal by its name, the gradient of L by that pre-activation
        k = int(key[len("delta"):])
        below = frozenset(d for d in partials if int(d[len("delta"):]) <= k)  # δ_k and what backprop makes of it
        return NetClaim(_said(key, ref), "signal", ref.names.pre[k].lower(), below)
    if key not in order:
        shown = _said(key, ref, "the left-hand side")
        signals = ", ".join(_said(d, ref) for d in sorted(partials))
        raise InvalidAnswer(f"{shown} = …: the left-hand side is checked when it is a quantity of the forward "
                            f"pass ({', '.join(_said(n, ref) for n in order)}), an error signal ({signals}), "
                            "the loss L, or a derivative")
    later = frozenset(order[order.index(key):])  # the claimed quantity and what is computed from it
    return NetClaim(_said(key, ref), "value", key, later | partials)


def view(ref, claim: NetClaim):
    """The reference with every point's expected value the claimed quantity (the reference itself for
    the derivation's own gradient); made from the reference's own points, not the student's time."""
    if claim.kind == "gradient":
        return ref
    cache = ref.__dict__.setdefault("_views", {})
    if claim in cache:
        return cache[claim]
    out = copy.copy(ref)
    out.forbidden, out.claim_text = claim.forbidden, claim.text
    out.no_partials = claim.kind in ("value", "loss")

    def expected(p):
        return dataclasses.replace(p, expected=_expected(p, claim, ref))

    out.point = lambda inputs, group, family: expected(type(ref).point(ref, inputs, group, family))
    out.points = [expected(p) for p in ref.points]
    cache[claim] = out
    return out


def _expected(p, claim: NetClaim, ref) -> np.ndarray:
    if claim.kind == "parameter":
        from derive.network.codegen import code_name

        g = p.grads[code_name(claim.key)]
        return g[:, None] if g.ndim == 1 else g
    if claim.kind == "signal":
        return p.upstream[claim.key]
    if claim.kind == "value":
        return p.values[claim.key]
    if claim.kind == "loss":
        return np.array([[p.loss]])
    k = claim.key  # a layer's Jacobian: diag(f′(s_k)), the identity without an activation
    if k in p.fprime:
        return np.diag(np.ravel(p.fprime[k]))
    return np.eye(p.values[ref.names.out[k].lower()].shape[0])
