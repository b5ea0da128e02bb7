"""Readings of claims the audit added for the seeds' notation, each judged with the answer checker's evidence.

- an identity of two known functions of one letter (`exp(z) = e^z`), the derivative of a written expression
  (`∂(Σ_l e^{o_l})/∂o_j`), a rule stated with placeholder functions (`f′` after `f(x) = g(x)/h(x)`);
- a layer written for every layer (`linear_i(x) = …`, `∂L/∂W_k = Δ_k Z_{k−1}^T`): judged at each layer;
- `D_{i,j} y_t`: ∂y_t/∂W_{i,j} when W is the question's only variable with two indices;
- `σ(z) = …`, `σ'(x) = …`, `CE(y, ŷ) = …`: the value or derivative of the question's activation or loss;
- a sum written with dots, `a_1 + a_2 + … + a_K`: Σ_{m=1}^{K} a_m (derive.audit.dotsum).
`Further` is mixed into the audit's judge, whose `_claim`, `_derivation`, `_wrts` and `_judge_text` it uses.
"""

from __future__ import annotations

import re
from dataclasses import replace

from derive.audit.claims import Claim
from derive.audit.derivatives import derivative_of, partials
from derive.errors import DeriveError


class Further:
    def further(self, claim: Claim, question, title: str, found):
        """A claim the readings of audit.py leave not checked, read as an identity of two functions, the
        derivative of a written expression, a rule stated with placeholder functions, or with its sum
        written with dots read as a Σ; else `found`."""
        from derive.audit.closed import closed_identity
        from derive.audit.dotsum import summed

        dotted = summed(claim.rhs) if "ellipsis" in found.reason else None
        if dotted is not None:
            read = self._claim(replace(claim, rhs=dotted[0]), question, title)
            if read.verdict != "not checked":
                return replace(read, latex=claim.latex, evidence=f"{dotted[1]}; {read.evidence}")

        identity = closed_identity(claim.previous or claim.lhs, claim.rhs)  # exp(z) = e^z, (.)^+ = ReLU(.)
        side = f"an identity of two functions: {claim.rhs} judged against {claim.previous or claim.lhs}"
        if identity is None:
            identity = self._written_derivative(claim, question)  # ∂(Σ_l e^{o_l})/∂o_j = e^{o_j}
            side = "the derivative of the written expression, by sympy.diff"
        if identity is None:
            identity, side = self._placeholder_rule(claim, title)
        if identity is None:
            return found
        verdict = identity[0].check(identity[1], timeout=self.timeout)
        if verdict.verdict == "invalid":
            return found
        return replace(found, verdict=verdict.verdict, feedback=tuple(verdict.feedback), reason="",
                       evidence=f"{side}: {verdict.evidence_text}",
                       counterexample=(verdict.counterexample or {}).get("text", ""))

    def _placeholder_rule(self, claim: Claim, title: str) -> tuple:
        """(module, claim text) of f′(x) = … after the document defined f(x) = g(x)/h(x); else (None, "")."""
        from derive.audit.placeholders import derivative_rule, placeholder_definition, prime_of

        defined = placeholder_definition(claim.lhs, claim.rhs)
        if defined is not None:
            self._placeholders[(title, defined[0])] = (defined, claim.line)
            return None, ""
        prime = prime_of(claim.lhs)
        if prime is None or (title, prime[0]) not in self._placeholders:
            return None, ""
        (f, x, body), line = self._placeholders[(title, prime[0])]
        if prime[1] != x:
            return None, ""
        rule = derivative_rule((f, x, body), claim.rhs)
        if rule is None:
            return None, ""
        return rule, (f"{f}′ of {f}({x}) = {body} (line {line}), for any functions it names, by sympy's chain rule "
                      f"({rule[2]})")

    def _written_derivative(self, claim: Claim, question):
        """(module, claim text) of ∂(expression)/∂v = … in the names of a module part of the question, or None."""
        from derive.audit.explicit import expression_derivative

        match = derivative_of(claim.lhs)
        if match is None or claim.previous or claim.condition or re.fullmatch(r"\\?[A-Za-z]+(_\{?\w*\}?)?", match[0]):
            return None
        for part in question.parts:
            if part.kind in ("target", "module"):
                try:
                    d = self._derivation(part, self._wrts(part)[0])
                except DeriveError:
                    continue
                found = expression_derivative(match[0], match[1], partials(claim.rhs), d)
                if found is not None:
                    return found
        return None

    def notation(self, claim: Claim, question, title: str, finding):
        """The finding of a claim in a notation read here (D_{i,j} y_t, linear_i(x), ∂W_k = ∂L/∂W_k = …,
        ∂L/∂W_k = …), judged as what it stands for; None for any other claim."""
        from derive.audit.layers import generic_layer

        read = self._d_notation(claim, question)
        if read is not None:  # D_{i,j} y_t: ∂y_t/∂W_{i,j}, judged so and reported as written
            found = self._claim(read[0], question, title)
            if found.verdict == "not checked":
                return replace(found, latex=claim.latex)
            return replace(found, latex=claim.latex, evidence=f"{read[1]}; {found.evidence}")
        network = next((p for p in question.parts if p.kind == "network"), None)
        if network is None:
            return None
        generic = generic_layer(claim.lhs)
        if generic is not None:
            return self._generic_layer(claim, generic, network, finding)
        if claim.previous and re.fullmatch(r"\\partial\s*[^=]+", claim.lhs.strip()) and derivative_of(claim.previous):
            link = self._claim(replace(claim, lhs=claim.previous, previous=""), question, title)  # ∂W_k = ∂L/∂W_k = …
            return replace(link, latex=claim.latex)
        return self._every_layer(claim, network, finding)

    def _every_layer(self, claim: Claim, part, finding):
        """`∂L/∂W_k = Δ_k Z_{k−1}^T`, k any layer: judged at each layer of the network; None for other claims."""
        from derive.audit.layers import every_layer, layer_letter
        from derive.network.chain import network

        match = derivative_of(claim.lhs)
        net = network(part.network, names=part.names or None)
        letter = layer_letter(match[1], net.params) if match else None
        if letter is None:
            return None
        wrt = self._wrts(part)[0]
        texts = every_layer(partials(f"{claim.lhs} = {claim.rhs}"), letter, net.depth, net.input_name,
                            part.names or {})
        return self._at_each([(text, self._judge_text(part, wrt, text, finding)) for _, text in texts], finding,
                             "for every layer of the network")

    def _generic_layer(self, claim: Claim, generic: tuple, part, finding):
        """`linear_i(x) = W^{(i)} x + b^{(i)}`: judged as the forward row of every affine layer of the network."""
        from derive.audit.layers import instances
        from derive.network.chain import network

        wrt = self._wrts(part)[0]
        net = network(part.network, names=part.names or None)
        judged = [(text, self._judge_text(part, wrt, text, finding))
                  for _, text in instances(partials(claim.rhs), *generic, net, part.names or {})]
        return self._at_each(judged, finding, "for every affine layer of the network")

    @staticmethod
    def _at_each(judged: list, finding, scope: str):
        """One verdict of a claim judged at several layers: right when right at each, wrong when wrong at one."""
        wrong = next(((text, f) for text, f in judged if f.verdict == "incorrect"), None)
        if wrong is not None:
            return replace(wrong[1], evidence=f"read for the layer as {wrong[0]}: {wrong[1].evidence}")
        if judged and all(f.verdict == "correct" for _, f in judged):
            return finding("correct", (), f"{scope}: " +
                           "; ".join(f"{text}: {f.evidence}" for text, f in judged))
        other = next(((text, f) for text, f in judged if f.verdict != "correct"), None)
        if other is None:
            return finding("not checked", reason="the question's network has no such layer")
        if other[1].verdict == "undecided":
            return replace(other[1], evidence=f"read for the layer as {other[0]}: {other[1].evidence}")
        return finding("not checked", reason=f"read for the layer as {other[0]}: {other[1].reason}")

    def _d_notation(self, claim: Claim, question):
        """(the claim with D_{i,j} y_t written ∂y_t/∂V_{i,j}, how it was read) when V is the question's only
        variable with two indices; None for any other claim."""
        from derive.audit.derivatives import D_ENTRY, d_entry

        if D_ENTRY.fullmatch(claim.lhs.strip()) is None:
            return None
        matrices = set()
        for part in question.parts:
            if part.kind in ("target", "module"):
                for wrt in self._wrts(part):
                    try:
                        shape = self._derivation(part, wrt).definition.var(wrt).shape
                    except (DeriveError, KeyError):
                        continue
                    if len(shape) == 2:
                        matrices.add(wrt)
        return d_entry(claim, matrices.pop()) if len(matrices) == 1 else None

    def _function_claim(self, claim: Claim, question):
        """`σ(z) = …`, `σ'(x) = …`: the value or the derivative of the activation a part of the question
        derives, as (part, wrt, the claim in that module's names); None for any other claim."""
        loss = _LOSS_HEAD.fullmatch(claim.lhs.strip())
        if loss is not None:  # CE(y, ŷ) = …, ℓ_MSE(ŷ, y) = …: the value of the question's loss of that name
            names = _LOSSES[(loss.group(1) or loss.group(2)).upper()]
            part = next((p for p in question.parts if p.kind == "target" and p.target in names), None)
            if part is None:
                return None
            wrt = self._wrts(part)[0]
            return part, wrt, f"{self._derivation(part, wrt).definition.output.name} = {claim.rhs}"
        head = _FUNCTION_HEAD.fullmatch(claim.lhs.strip())
        if head is None:
            return None
        target = _FUNCTIONS.get(head.group(1).lstrip("\\").lower())
        part = next((p for p in question.parts if p.kind == "target" and p.target == target), None)
        if part is None:
            return None
        wrt = self._wrts(part)[0]
        output = self._derivation(part, wrt).definition.output.name
        rhs, arg = claim.rhs, head.group(3)
        if arg != wrt:  # σ(z) = (1 + e^{−z})^{−1} is the module's y = (1 + e^{−x})^{−1}
            if re.search(rf"(?<![A-Za-z\\]){re.escape(wrt)}(?![A-Za-z])", rhs):
                return None
            rhs = re.sub(rf"(?<![A-Za-z\\]){re.escape(arg)}(?![A-Za-z])", wrt, rhs)
        lhs = rf"\frac{{\partial {output}}}{{\partial {wrt}}}" if head.group(2) else output
        return part, wrt, f"{lhs} = {rhs}"


_LOSSES = {"CE": ("softmax_cross_entropy", "cross_entropy"), "MSE": ("mse",), "BCE": ("bce",)}
_LOSS_HEAD = re.compile(r"(?:(CE)|\\ell_\{?\s*(?:\\(?:mathrm|text)\{)?(MSE|BCE|CE)\}?\s*\}?)\s*\(.*\)",
                        re.IGNORECASE | re.DOTALL)
_FUNCTIONS = {"sigma": "sigmoid", "σ": "sigmoid", "tanh": "tanh", "relu": "relu", "mathrm{relu}": "relu"}
_FUNCTION_HEAD = re.compile(r"(\\?sigma|σ|\\?tanh|ReLU|\\mathrm\{ReLU\})\s*('|\^\{?\\prime\}?)?\s*\(\s*([a-z])\s*\)")
