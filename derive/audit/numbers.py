"""Printed numbers of a worked example, judged at the precision they are printed with.

A claim such as `Z_1 = \\begin{bmatrix} 0.4580 & 0.1205 \\\\ … \\end{bmatrix}` or `\\mathcal{L} = 0.4916`
is read into an array with each entry's number of decimals. It is compared with the value the
claim names — computed by derive's own worked example (`derive.network.numeric.example`), the
formulas of which are verified against central differences — and an entry agrees when it is the
true value rounded to the decimals printed (|printed − true| ≤ half a unit in the last place).

When the numbers do not hold under the sheet's loss convention, the other conventions are tried,
so the verdict can say under which loss they would hold (the mean over N instead of ½‖·‖², say).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

MAX_ENTRIES = 400  # entries of one printed matrix
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_MATRIX = re.compile(r"^\\begin\{([bpvBV]?matrix|array)\}(\{[^}]*\})?(.*)\\end\{\1\}$", re.DOTALL)


@dataclass(frozen=True)
class Printed:
    """Numbers as printed: the values and, per entry, how many decimals were written."""

    values: np.ndarray
    decimals: np.ndarray

    @property
    def shape(self) -> tuple:
        return self.values.shape


def read_printed(latex: str) -> Printed | None:
    """The numbers of `0.4916`, `-0.2254` or a `bmatrix` of numbers; None when it is not only numbers."""
    text = re.sub(r"(?<!\\)\\(left|right)(?![A-Za-z])|(?<!\\)\\[,;! ]", "", latex.replace("\\\\", "\n\\\\")).strip()
    text = text.replace("−", "-").replace("\\text{-}", "-")
    match = _MATRIX.match(text)
    if match:
        rows = [r for r in re.split(r"\\\\", match.group(3)) if r.strip()]
        cells = [[c.strip() for c in row.split("&")] for row in rows]
        if not cells or any(len(r) != len(cells[0]) for r in cells) or len(cells) * len(cells[0]) > MAX_ENTRIES:
            return None
    else:
        cells = [[text]]
    if not all(_NUMBER.match(c) for row in cells for c in row):
        return None
    values = np.array([[float(c) for c in row] for row in cells])
    decimals = np.array([[len(c.split(".")[1]) if "." in c else 0 for c in row] for row in cells])
    if not match:
        return Printed(values.reshape(()), decimals.reshape(()))
    return Printed(values, decimals)


@dataclass(frozen=True)
class Agreement:
    """How printed numbers compare with a true value: `holds`, and the worst entry otherwise."""

    holds: bool
    worst: tuple | None = None  # (entry index, printed, true) of the entry furthest outside its precision
    off_by_one: bool = False  # every entry within one unit in the last printed place

    def text(self, name: str) -> str:
        if self.holds:
            return ""
        where, printed, true = self.worst
        entry = f"{name}[{', '.join(str(k + 1) for k in where)}]" if where else name
        return f"{entry} is printed as {printed} but is {true:.6g}"


def agree(printed: Printed, true) -> Agreement:
    """Whether each printed entry is the true entry rounded to its printed decimals."""
    true = np.asarray(true, dtype=float)
    if true.shape != printed.shape:
        if true.size == printed.values.size == 1:
            true = true.reshape(printed.shape)
        else:
            return Agreement(False, None)
    unit = 10.0 ** (-printed.decimals.astype(float))
    gap = np.abs(printed.values - true)
    outside = gap - 0.5 * unit * (1 + 1e-9) - 1e-12
    if np.all(outside <= 0):
        return Agreement(True)
    where = np.unravel_index(int(np.argmax(outside / unit)), outside.shape) if outside.ndim else ()
    return Agreement(False, (tuple(int(k) for k in where), _entry(printed.values[where], printed.decimals[where]),
                             float(true[where])), bool(np.all(gap <= unit * (1 + 1e-9))))


def _entry(value: float, decimals: int) -> str:
    return f"{value:.{int(decimals)}f}"


def normal_name(latex: str) -> str:
    """A name as written, reduced so that spellings of one quantity compare equal:
    `S_1`, `S^{(1)}`, `\\mathbf{S}_{1}` → `S1`; `\\frac{\\partial \\mathcal{L}}{\\partial W_2}` → `dL/dW2`;
    `\\hat{Y}` and `Y_{out}` stay apart (a sheet's names say when they are one)."""
    text = latex.strip()
    frac = re.fullmatch(r"\\frac\s*\{\s*\\partial\s*(.*?)\}\s*\{\s*\\partial\s*(.*)\}", text, re.DOTALL)
    if frac:
        return f"d{normal_name(frac.group(1))}/d{normal_name(frac.group(2))}"
    text = re.sub(r"\\(mathbf|mathcal|mathrm|boldsymbol|bm|mathit)\s*\{([^{}]*)\}", r"\2", text)
    text = re.sub(r"\\(mathbf|mathcal|mathrm|boldsymbol|bm|mathit)\s*(\\?[A-Za-z])", r"\2", text)
    text = re.sub(r"\^\{\((\w+)\)\}|\^\((\w+)\)", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"_\{([^{}]*)\}", r"\1", text).replace("_", "")
    return re.sub(r"[\s{}]", "", text)


@dataclass(frozen=True)
class Candidate:
    """A value of a worked example that a printed claim may state: its names, what it is, its array."""

    names: frozenset
    what: str
    array: np.ndarray
    step: tuple | None = None  # (value before the step, its gradient, η) for a parameter after one step


def candidates(example) -> list[Candidate]:
    """Every value of a worked example with the names it may be written by: as the example prints it
    (a sheet's own name where the sheet renames it) and its code name."""
    out = []

    def add(value, what, step=None):
        spelled = {normal_name(value.latex), normal_name(value.name)}
        out.append(Candidate(frozenset(spelled), what.format(value.latex), value.array, step))

    for v in example.inputs:
        add(v, "${}$ as given")
    for v in example.forward:
        add(v, "${}$ of the forward pass")
    for v in example.signals:
        add(v, "the error signal ${}$")
    for v in example.gradients:
        add(v, "${}$")
    for v in example.updated:
        add(v, "${}$ after one step", (_given(example, v.name),
                                       example.value(f"d{v.name}"), example.lr))
    loss = {"L", "l", "J", "C", "E"}
    out.append(Candidate(frozenset(loss), "the loss", np.asarray(example.loss)))
    out.append(Candidate(frozenset(loss), "the loss after one step", np.asarray(example.loss_after)))
    return out


@dataclass(frozen=True)
class NumberVerdict:
    verdict: str  # correct | incorrect | not checked
    text: str  # one sentence: what was compared, and how it came out
    convention: str = ""  # the loss convention under which the numbers hold, when one does


def judge(members: list[str], printed: Printed, examples: dict) -> NumberVerdict:
    """The verdict on numbers stated for the names in `members` (a chain `Z_1 = f(S_1) = [numbers]`).

    `examples` maps a convention's description to its worked example, the sheet's own first."""
    wanted = {normal_name(m) for m in members}
    precision = f"at the {int(printed.decimals.max())} decimals printed"
    first_miss = None
    for n, (convention, example) in enumerate(examples.items()):
        every = candidates(example)
        named = [c for c in every if c.names & wanted]
        pool = named or [c for c in every if np.shape(c.array) == printed.shape
                         or np.size(c.array) == printed.values.size == 1]
        for cand in pool:
            agreement = agree(printed, cand.array)
            if agreement.holds:
                how = "" if named else " (matched by value: no name of the claim is one of the example's)"
                if n == 0:
                    return NumberVerdict("correct", f"{cand.what} {precision}, under {convention}{how}",
                                         convention)
                return NumberVerdict("incorrect", f"not {cand.what} under the sheet's {_first(examples)}; "
                                     f"they are under {convention}", convention)
            if n == 0 and named and first_miss is None:
                first_miss = (cand, agreement)
    stepped = _other_learning_rate(wanted, printed, examples, precision)
    if stepped:
        return stepped
    if first_miss:
        cand, agreement = first_miss
        near = " (every entry within one unit of the last place: rounded intermediates?)" if agreement.off_by_one else ""
        what = agreement.text(cand.what) if agreement.worst else f"the numbers do not have the shape of {cand.what}"
        return NumberVerdict("incorrect", f"{what} {precision}, under {_first(examples)}{near}")
    return NumberVerdict("not checked", "no value of the worked example has these names or these numbers")


def _given(example, name: str) -> np.ndarray:
    return next(v.array for v in example.inputs if v.name == name)


def _other_learning_rate(wanted: set, printed: Printed, examples: dict, precision: str) -> NumberVerdict | None:
    """Updated parameters that hold with another learning rate: η fitted by least squares, then the
    numbers judged at their printed precision with it."""
    for convention, example in examples.items():
        for cand in candidates(example):
            if cand.step is None or not cand.names & wanted or np.shape(cand.array) != printed.shape:
                continue
            before, gradient, lr = cand.step
            norm = float(np.sum(gradient * gradient))
            if norm == 0:
                continue
            eta = float(np.sum((before - printed.values) * gradient)) / norm
            if eta > 0 and agree(printed, before - eta * gradient).holds:
                return NumberVerdict("incorrect", f"not {cand.what} with the sheet's η = {lr:g} under "
                                     f"{_first(examples)}; they are with η ≈ {eta:.4g} under {convention} "
                                     f"({precision})", convention)
    return None


def _first(examples: dict) -> str:
    return next(iter(examples))
