"""`derive audit`: every claim of a written solution checked against the sheet it answers.

Each claim is tied to a question (`questions.tie`) and judged by what it states:
- printed numbers: against the question's worked example at their printed precision (`numbers`);
- a derivative `∂A/∂V = …`: by the answer checker, against the derivation of the part that derives
  with respect to V (the checker reads the left-hand side and judges that claim);
- anything else (a definition, a chain-rule product of Jacobians, a step of prose) is listed as
  "not checked" with the reason, never dropped.
A verdict always says what it rests on (`evidence`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from derive.audit.claims import Claim, claims_of
from derive.audit.conditions import Conditions
from derive.audit.derivatives import derivative_of, partials
from derive.audit.document import read_document
from derive.audit.facts import given_fact, given_value
from derive.audit.further import Further
from derive.audit.numbers import normal_name, read_printed
from derive.audit.questions import tie
from derive.errors import DeriveError

VERDICTS = ("correct", "incorrect", "undecided", "not checked")
LOSS_NAMES = {"L", "J", "C", "E", "\\ell", "l"}


@dataclass(frozen=True)
class Finding:
    """One row of the report: a claim, where it is, its question, and the verdict with its reasons."""

    line: int
    latex: str
    question: str
    verdict: str
    feedback: tuple = ()
    evidence: str = ""  # what a correct/incorrect/undecided verdict rests on
    reason: str = ""  # why a claim is not checked
    counterexample: str = ""  # a point where an incorrect claim's sides differ, when there is one

    def to_json(self) -> dict:
        return {"line": self.line, "latex": self.latex, "question": self.question, "verdict": self.verdict,
                "feedback": list(self.feedback), "evidence": self.evidence, "reason": self.reason,
                "counterexample": self.counterexample}


@dataclass
class Audit:
    document: str
    sheet: str
    findings: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # document-wide findings, e.g. two loss conventions

    @property
    def summary(self) -> dict:
        counts = {v: 0 for v in VERDICTS}
        for f in self.findings:
            counts[f.verdict] += 1
        checked = len(self.findings) - counts["not checked"]
        return {"claims": len(self.findings), **counts, "checked_share": round(checked / len(self.findings), 3)
                if self.findings else 0.0}

    @property
    def exit_code(self) -> int:
        return 1 if any(f.verdict == "incorrect" for f in self.findings) else 0

    def to_json(self) -> dict:
        return {"document": self.document, "sheet": self.sheet, "claims": [f.to_json() for f in self.findings],
                "notes": list(self.notes), "summary": self.summary}


def audit(text: str, sheet, *, document: str = "solution", fmt: str | None = None, timeout: float = 2.0) -> Audit:
    """The audit of a written solution `text` against `sheet` (a derive.sheets Sheet)."""
    claims = claims_of(read_document(text, fmt))
    titles = [q.title for q in sheet.questions]
    judge = _Judge(sheet, timeout)
    conditions = Conditions(judge)
    result = Audit(document, sheet.name)
    for claim, where in zip(claims, tie(claims, titles)):
        question = sheet.questions[where.question] if where.question is not None else None
        title = f"{where.question + 1}. {question.title}" if question else ""
        result.findings.append(conditions.judged(claim, question, title))
    result.notes.extend(judge.consistency(claims))
    return result


class _Judge(Further):
    def __init__(self, sheet, timeout: float):
        self.sheet, self.timeout = sheet, timeout
        self._derivations: dict = {}
        self._examples: dict = {}
        self._keys: dict = {}  # convention description -> its key (sum, half, mean, half_mean)
        self._wrt_lists: dict = {}  # id(part) -> the variables it derives with respect to
        self._placeholders: dict = {}  # (question, f) -> f(x) = g(x)/h(x) as the document defines it, its line
        self.numbers_hold_under: dict = {}  # convention key -> first line whose numbers hold under it

    def claim(self, claim: Claim, question, title: str) -> Finding:
        found = self._claim(claim, question, title)
        if found.verdict != "not checked" or question is None:
            return found
        return self.further(claim, question, title, found)

    def _claim(self, claim: Claim, question, title: str) -> Finding:
        def finding(verdict, feedback=(), evidence="", reason="", counterexample=""):
            return Finding(claim.line, claim.latex, title, verdict, tuple(feedback), evidence, reason,
                           counterexample)

        if question is None:
            return finding("not checked", reason="no question of the sheet fits this claim's place")
        notation = None if claim.row else self.notation(claim, question, title, finding)
        if notation is not None:  # D_{i,j} y_t, linear_i(x), ∂L/∂W_k: audit/further.py
            return notation
        given = given_value(claim, question)
        if given is not None:
            return finding("not checked", reason=given)
        printed = read_printed(claim.rhs)
        if printed is not None and any(p.kind == "network" and p.numeric for p in question.parts):
            return self._numbers(claim, printed, question, finding)
        if printed is not None and re.search(r"\d\.\d", claim.rhs):  # 0.2350: a value at a point not stated here
            return finding("not checked", reason="decimal numbers, but the question has no worked example of a "
                           "network to compare them with")
        if claim.row:
            return self._table_row(claim, question, finding)
        fact = given_fact(claim, question)
        if fact is not None:
            return finding(*fact)
        network = next((p for p in question.parts if p.kind == "network"), None)
        named = self._function_claim(claim, question)
        if named is not None:
            return self._judge_text(*named, finding)
        match = derivative_of(claim.lhs)
        part, wrt = self._part_for(question, match[1], match[0], _lettered(claim, question)) if match else (None, None)
        if part is None and network is not None:  # ∂L/∂z1, z1 = …, L = …: the network's own names
            part, wrt = network, self._wrts(network)[0]
        if part is None and match:
            wrts = sorted({w for p in question.parts for w in self._wrts(p)})
            return finding("not checked", reason=f"the question derives with respect to {', '.join(wrts) or 'nothing'}"
                           f", not {match[1]}")
        identity = next((p for p in question.parts if p.kind == "identity"), None)
        if part is None and not match and identity is not None:
            return self._step(claim, identity, finding)
        if part is None:
            lettered = _lettered(claim, question)
            part = lettered if lettered is not None and lettered.kind in ("target", "module") else \
                next((p for p in question.parts if p.kind in ("target", "module")), None)
            if part is None:
                return finding("not checked", reason="the question derives nothing this claim can be checked against")
            wrt = self._wrts(part)[0]
        text = partials(claim.latex)
        if match:
            return self._chain_or_answer(claim, match, part, wrt, text, finding)
        return self._judge_text(part, wrt, text, finding)

    def _chain_or_answer(self, claim: Claim, match, part, wrt, text: str, finding) -> Finding:
        """A product of named Jacobians is checked for linking up; with a factor the sheet gives a value
        (∂C₂/∂C = 3) replaced by it, the rest is checked as an answer."""
        from derive.audit.chains import factors, linked, without_given_factors

        given = {}
        if part.scale != 1 and re.search(r"\d", match[0]):  # C₂ = 3C: ∂C₂/∂C is 3
            given[(normal_name(match[0]), re.sub(r"\d+$", "", normal_name(match[0])))] = str(part.scale)
        rhs, notes = without_given_factors(match[0], partials(claim.rhs), given)
        chain = factors(rhs) if part.kind != "network" else None
        if chain is None:
            result = self._judge_text(part, wrt, f"{partials(claim.lhs)} = {rhs}" if notes else text, finding)
            if notes and result.verdict != "not checked":
                return replace(result, evidence="; ".join([*notes, result.evidence]))
            return result
        problems = linked(match, chain)
        if problems:
            return finding("incorrect", [p + "." for p in problems], "the chain of Jacobians, read by their names, "
                           "does not link up")
        why = (f"the chain rule is complete from {normal_name(match[0])} to {normal_name(match[1])}, but it names the factors without their "
               "values; write them out to have them checked.")
        return finding("undecided", [why], "the chain of Jacobians, read by their names, links up")

    def _judge_text(self, part, wrt, text: str, finding) -> Finding:
        try:
            derivation = self._derivation(part, wrt)
        except DeriveError as exc:
            return finding("not checked", reason=f"the sheet's part cannot be derived: {exc.message}")
        try:
            verdict = derivation.check(text, timeout=self.timeout)
        except DeriveError as exc:  # the checker cannot compare with this derivation at all
            return finding("not checked", reason=exc.message)
        if verdict.verdict == "invalid":
            return finding("not checked", reason="; ".join(verdict.feedback) or "the checker cannot read it")
        example = (verdict.counterexample or {}).get("text", "")
        return finding(verdict.verdict, verdict.feedback, verdict.evidence_text, counterexample=example)

    # ------------------------------------------------------------ derivatives

    def _wrts(self, part) -> tuple:
        """What `part` derives with respect to, worked out once per part (asked for every claim)."""
        if id(part) not in self._wrt_lists:
            self._wrt_lists[id(part)] = self._wrts_of(part)
        return self._wrt_lists[id(part)]

    def _wrts_of(self, part) -> tuple:
        if part.kind == "network":  # every parameter of the network, not only those the sheet derives
            from derive.network.chain import network

            return tuple(dict.fromkeys((*part.wrt, *network(part.network, names=part.names or None).params)))
        if part.kind in ("target", "module"):
            return part.wrt or (self._default_wrt(part),)
        return ()

    def _default_wrt(self, part) -> str:
        d = self._derivation(part, None)
        return d.wrt.name if hasattr(d.wrt, "name") else str(d.wrt)

    def _part_for(self, question, denominator: str, numerator: str = "", lettered=None):
        """The part that derives with respect to what `denominator` names, and that variable's name:
        a network's parameter by its layer (W_2, W^{(2)}), a module's variable with or without the
        entry's subscript (x_i, W_{ij}). A cost written with a subscript (C_2) prefers a part whose
        cost is scaled (C₂ = 3C), a plain one (C) a part whose cost is not."""
        name = normal_name(denominator)
        bare = normal_name(re.sub(r"_\{[^{}]*\}\s*$|_[A-Za-z0-9]\s*$", "", denominator.strip()))
        scaled = bool(re.fullmatch(r"[A-Za-z]+_?\{?\d\}?", numerator.strip()))
        networks_first = sorted(question.parts, key=lambda p: (p is not lettered, p.kind != "network",
                                                               (p.scale != 1) != scaled))
        for part in networks_first:
            for wrt in self._wrts(part):
                spelled = {wrt, "\\" + wrt}
                if part.kind == "network" and name in spelled:
                    return part, wrt
                if part.kind != "network" and (name in spelled or bare in spelled):
                    return part, wrt
        return None, None

    def reference(self, question, match, index: str) -> str | None:
        """The LaTeX of the result of the module part `match` (numerator, denominator) names, its free
        index written `index`; None for a network or a part that is not found."""
        part, wrt = self._part_for(question, match[1], match[0])
        if part is None or part.kind == "network":
            return None
        from derive.definitions.model import IDX
        from derive.render.printer import latex

        result = self._derivation(part, wrt).result
        free = [s for s in result.free_symbols if s in IDX.values()]
        if len(free) != 1 or index not in IDX:
            return None
        return latex(result.xreplace({free[0]: IDX[index]}))

    def _derivation(self, part, wrt):
        key = (id(part), wrt)
        if key not in self._derivations:
            self._derivations[key] = _derive(part, wrt)
        return self._derivations[key]

    def _table_row(self, claim: Claim, question, finding) -> Finding:
        """Row k of a forward table: the k-th quantity of the network's forward pass (the loss last)."""
        part = next((p for p in question.parts if p.kind == "network"), None)
        if part is None:
            return finding("not checked", reason="a forward table, but the question has no network")
        wrt = self._wrts(part)[0]
        from derive.check.network import network_reference

        rows = [code for code, _ in network_reference(self._derivation(part, wrt))._rows] + ["L"]
        if claim.row > len(rows):
            return finding("not checked", reason=f"the table has more rows than the network's forward pass "
                           f"has quantities ({len(rows)}, the loss last)")
        code = rows[claim.row - 1]
        name = (part.names or {}).get(code) or {"yhat": "\\hat{y}", "Yhat": "\\hat{Y}"}.get(code) or \
            re.sub(r"^([A-Za-z]+)(\d+)$", r"\1_\2", code)
        return self._judge_text(part, wrt, f"{name} = {partials(claim.rhs)}", finding)

    # ------------------------------------------------------------ "show that"

    def _step(self, claim: Claim, part, finding) -> Finding:
        """A member of a "show that" chain: equal to the identity's left side (so each `=` of the chain
        holds), judged by the answer checker against that side as a definition of its own."""
        from derive.audit.steps import step_text

        try:
            d, output = self._identity(part)
        except DeriveError as exc:
            return finding("not checked", reason=f"the sheet's identity cannot be read: {exc.message}")
        verdict = d.check(step_text(claim, output, d), timeout=self.timeout)
        if verdict.verdict == "invalid":
            return finding("not checked", reason="; ".join(verdict.feedback) or "the checker cannot read it")
        side = f"a step of the identity {part.identity['lhs']} = {part.identity['rhs']}, judged against its left side"
        example = (verdict.counterexample or {}).get("text", "")
        return finding(verdict.verdict, verdict.feedback, f"{side}: {verdict.evidence_text}", counterexample=example)

    def _identity(self, part):
        from derive.audit.steps import identity_module

        if id(part) not in self._derivations:
            self._derivations[id(part)] = identity_module(part.identity)
        return self._derivations[id(part)]

    # ------------------------------------------------------------ numbers

    def _numbers(self, claim: Claim, printed, question, finding) -> Finding:
        from derive.audit.numbers import judge

        part = next((p for p in question.parts if p.kind == "network" and p.numeric), None)
        if part is None:
            return finding("not checked", reason="numbers, but the question has no worked example of a network "
                           "to compare them with")
        examples = self._examples_of(part)
        members = [claim.lhs, *([claim.previous] if claim.previous else [])]
        result = judge(members, printed, examples)
        if result.convention and self._keys.get(result.convention):
            self.numbers_hold_under.setdefault(self._keys[result.convention], claim.line)
        if result.verdict == "not checked":
            return finding("not checked", reason=result.text)
        return finding(result.verdict, [] if result.verdict == "correct" else [result.text], result.text)

    def _examples_of(self, part) -> dict:
        if id(part) not in self._examples:
            examples, keys = _examples(part)
            self._examples[id(part)] = examples
            self._keys.update(keys)
        return self._examples[id(part)]

    # ------------------------------------------------------------ the document as a whole

    def consistency(self, claims: list) -> list:
        """Loss definitions of the document that disagree with the convention its numbers hold under."""
        notes = []
        for claim in claims:
            if normal_name(claim.lhs).lstrip("\\") not in {n.lstrip("\\") for n in LOSS_NAMES}:
                continue
            stated = loss_convention(claim.rhs)
            for held, line in self.numbers_hold_under.items():
                if stated and held and stated != held:
                    notes.append(f"line {claim.line} defines the loss as {_CONVENTION_TEXT[stated]}, but the "
                                 f"numbers from line {line} hold under {_CONVENTION_TEXT[held]}")
        return notes


_CONVENTION_TEXT = {"sum": "‖Ŷ − Y‖²", "half": "½‖Ŷ − Y‖²", "mean": "(1/N)‖Ŷ − Y‖²", "half_mean": "(1/2N)‖Ŷ − Y‖²"}


def loss_convention(latex: str) -> str | None:
    """Which squared-error convention a written loss uses: `\\frac{1}{2}||Y - T||_F^2` → "half"."""
    text = re.sub(r"\s+", "", latex)
    if not re.search(r"(\|\||\\\|?|\\lVert|\\Vert|\\sum).*\^\{?2", text):
        return None
    factor = re.match(r"^(\\frac\{1\}\{(2N|N|2)\}|\\tfrac\{1\}\{(2N|N|2)\}|1/(2N|N|2))?", text)
    denominator = next((g for g in factor.groups()[1:] if g), "") if factor.group(1) else ""
    return {"": "sum", "2": "half", "N": "mean", "2N": "half_mean"}[denominator]


def _derive(part, wrt):
    from derive.network.chain import derivative, network

    if part.kind == "network":
        return network(part.network, names=part.names or None).derive(wrt)
    if part.kind == "module":
        from derive.sheets.custom import module_definition

        return derivative(module_definition(part.module), wrt=wrt, scale=part.scale)
    return derivative(part.target, wrt=wrt, scale=part.scale)


def _examples(part) -> tuple[dict, dict]:
    """The part's worked example under its own loss first, then under each other convention; and the
    convention key (sum, half, mean, half_mean) of each description."""
    from derive.network.chain import network
    from derive.sheets.network import worked_example

    net = network(part.network, names=part.names or None)
    own = worked_example(net, part.numeric)
    others = {}
    for key in ("sum", "half", "mean", "half_mean"):
        try:
            others[key] = worked_example(net, part.numeric, key)
        except DeriveError:  # a convention for squared error only
            continue
    own_key = next((k for k, ex in others.items() if abs(ex.loss - own.loss) <= 1e-12 * max(1, abs(own.loss))), None)
    examples, keys = {own.convention: own}, {own.convention: own_key}
    for key, ex in others.items():
        if key != own_key:
            examples[ex.convention], keys[ex.convention] = ex, key
    return examples, keys


def _lettered(claim: Claim, question):
    """The part a heading "(b)" or "b)" over the claim names (the sheets' own layout), else None."""
    for heading in reversed(claim.section):
        found = re.fullmatch(r"\s*(?:part\s+)?\(?([a-z])\)\s*", heading, flags=re.IGNORECASE)
        if found:
            k = ord(found.group(1).lower()) - ord("a")
            return question.parts[k] if k < len(question.parts) else None
    return None
