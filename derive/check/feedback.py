"""What to tell the student: the mistake by name where it has one, and always a counterexample.

Read from the numbers the comparison already has: a constant ratio to the expected answer
("sign error", "off by a factor 2"), a ratio that follows one parameter ("missing factor β"),
agreement on the diagonal only ("the i ≠ j case is wrong: use δ_ij"), swapped indices, shapes.
"""

from __future__ import annotations

import cmath
from fractions import Fraction

import numpy as np

from derive.check.compare import Comparison, Reference, close

GREEK = {"beta": "β", "alpha": "α", "lambda": "λ", "theta": "θ", "yhat": "ŷ", "Yhat": "Ŷ", "Delta": "Δ",
         "hprev": "h_{t−1}", "cprev": "c_{t−1}", "htilde": "h̃"}  # a recurrent cell's states, as printed


def pretty(name: str) -> str:
    if name.startswith("d") and "_d" in name:
        top, bottom = name[1:].split("_d", 1)
        return f"∂{top}/∂{pretty(bottom)}"
    return GREEK.get(name, name)


def shape_text(shape: tuple) -> str:
    if not shape:
        return "a scalar"
    if len(shape) == 1:
        return f"{shape[0]}×1"
    return "×".join(str(s) for s in shape)


def shape_feedback(comp: Comparison) -> list:
    got, want = comp.shape, comp.expected_shape
    text = f"shape {shape_text(got)}, expected {shape_text(want)}"
    if len(want) == 2 and tuple(reversed(got)) == want:
        return [text + ": a transpose?"]
    return [text + "."]


def _constant(values: np.ndarray) -> complex | None:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    first = values[0]
    return first if np.allclose(values, first, rtol=1e-7, atol=1e-9) else None


def _nice(r: float) -> str | None:
    f = Fraction(r).limit_denominator(12)
    if abs(float(f) - r) > 1e-7 * max(1, abs(r)):
        return None
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def value_feedback(comp: Comparison) -> list:
    """An answer that is right where it is a real number, but not real, or undefined, elsewhere."""
    nums = comp.numbers
    defined = np.isfinite(nums.expected)
    real = np.isfinite(nums.answer) & (np.abs(nums.answer.imag) <= 1e-12)
    if not close(nums.answer[real & defined], nums.expected[real & defined]).all():
        return []
    with np.errstate(invalid="ignore"):
        if np.any(defined & np.isfinite(nums.answer) & (np.abs(nums.answer.imag) > 1e-12)):
            return ["your answer is not a real number at some points (a root or log of a negative number?)."]
        if np.any(defined & np.isnan(nums.answer)):
            return [("your answer is undefined at some points where the derivative is defined "
                     "(a division by zero, or a root or log of a negative number?).")]
    return []


def ratio_feedback(comp: Comparison, ref: Reference) -> list:
    nums = comp.numbers
    a, e = nums.answer.real, nums.expected.real
    if np.allclose(a, 0) and not np.allclose(e, 0):
        return ["your answer is 0 everywhere, but the derivative is not."]
    mask = np.abs(e) > 1e-9
    if not mask.any():
        return []
    with np.errstate(all="ignore"):
        return _ratios(a, e, mask, nums, ref)


def _ratios(a, e, mask, nums, ref) -> list:
    ratio = np.where(mask, a / np.where(mask, e, 1), np.nan)
    r = _constant(ratio[mask])
    if r is not None and close(a[~mask], 0 * a[~mask]).all():
        # name a size only where the derivative has it, as the 1/K of a mean does
        sizes = {int(v): s.name for s, v in ref.d.definition.sizes.items() if ref.d.result.has(s)}
        return constant_ratio(float(np.real(r)), "derivative", sizes)
    # A ratio that follows one scalar parameter: a missing or extra β, α, λ, or a sign with it.
    for var in (*ref.d.definition.others, *ref.d.definition.inputs):
        if var.shape or var.domain == "class" or var.symbol not in nums.leaves:
            continue
        p = nums.leaves[var.symbol][None, :] * np.ones_like(ratio)
        for kind, scaled in (("missing", ratio * p), ("extra", ratio / p)):
            c = _constant(scaled[mask])
            if c is not None and close(a[~mask], 0 * a[~mask]).all():
                c = float(np.real(c))
                name = pretty(var.name)
                sign = "sign error and " if abs(c + 1) < 1e-7 else ""
                if abs(abs(c) - 1) < 1e-7:
                    return [f"{sign}{'missing factor' if kind == 'missing' else 'an extra factor'} {name}."]
    return []


def index_feedback(comp: Comparison, ref: Reference) -> list:
    """Right only for i = j (or only for i ≠ j), or i and j swapped."""
    if len(ref.free) != 2:
        return []
    i, j = ref.free
    dims = _dims(ref)
    if dims[0] != dims[1]:
        return []
    ok = close(comp.numbers.answer, comp.numbers.expected).all(axis=1)
    diag = np.array([a[i] == a[j] for a in ref.assignments])
    out = []
    if ok[diag].all() and not ok[~diag].all():
        out.append(f"the {i} = {j} case is right, the {i} ≠ {j} case is wrong: use δ_{i}{j}.")
    elif ok[~diag].all() and not ok[diag].all():
        out.append(f"the {i} ≠ {j} case is right, the {i} = {j} case is wrong.")
    pos = {tuple(a[s] for s in ref.free): n for n, a in enumerate(ref.assignments)}
    swapped = [pos[(a[j], a[i])] for a in ref.assignments]
    if not ok.all() and close(comp.numbers.answer, comp.numbers.expected[swapped]).all():
        out.append(f"{i} and {j} are swapped: your answer is the transpose of the derivative.")
    return out


def _dims(ref: Reference) -> list:
    return [len({a[s] for a in ref.assignments}) for s in ref.free]


def counterexample(comp: Comparison, ref: Reference) -> dict | None:
    nums = comp.numbers
    if nums is None:
        return None
    bad = np.argwhere(~close(nums.answer, nums.expected))
    if bad.size == 0:
        return None
    row, col = comp.witness if comp.witness is not None else bad[0]
    point = nums.points[col]
    d = ref.d
    values = {}
    for var in (*d.definition.inputs, *d.definition.others, *((d.upstream,) if d.upstream else ())):
        if var.domain == "class":
            values[var.name] = int(point.classes[var.symbol])
            continue
        if not var.shape:
            values[var.name] = round(point.values[var.symbol], 4)
        else:
            values[var.name] = _nested(var, lambda e: point.values[e], ref)
    for nm in d.named:
        if nm.index:  # a named matrix (attention's A) is shown as one, row by row
            var = next(v for v in d.definition.variables if v.symbol == nm.symbol)
            values[nm.symbol.name] = _nested(var, lambda e: float(nums.leaves[e][col]), ref)
        elif nm.symbol in nums.leaves:
            values[nm.symbol.name] = round(float(nums.leaves[nm.symbol][col]), 4)
    entry = {s.name: int(v) for s, v in ref.assignments[row].items()}
    got, want = nums.answer[row, col], nums.expected[row, col]
    return {"values": values, "entry": entry, "answer": _num(got), "expected": _num(want),
            "text": _sentence(values, entry, got, want)}


def _nested(var, value, ref):
    """The entries of `var` (vector or matrix), each `value(entry)` rounded, nested as its shape."""
    sizes = [int(ref.d.definition.sizes[s]) for s in var.shape]
    if len(sizes) == 1:
        return [round(value(var.symbol[k]), 4) for k in range(1, sizes[0] + 1)]
    return [[round(value(var.symbol[r, c]), 4) for c in range(1, sizes[1] + 1)]
            for r in range(1, sizes[0] + 1)]


def _num(z: complex):
    z = complex(z)
    if cmath.isnan(z):
        return None
    return round(z.real, 6) if abs(z.imag) < 1e-12 else str(z)


def _fmt(value) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _sentence(values, entry, got, want) -> str:
    where = ", ".join(f"{pretty(k)} = {_fmt(v)}" for k, v in values.items())
    at = ", ".join(f"{k} = {v}" for k, v in entry.items())
    got_text = "undefined" if _num(got) is None else f"{_num(got):.6g}" if isinstance(_num(got), float) else _num(got)
    want_text = "undefined" if _num(want) is None else f"{_num(want):.6g}" if isinstance(_num(want), float) else _num(want)
    entry_text = f" at entry {at}" if at else ""
    return f"with {where}: your answer gives {got_text}{entry_text}, the derivative is {want_text}."


def explain(comp: Comparison, ref: Reference) -> list:
    """Sentences for an incorrect answer, the most specific first."""
    if comp.shape is not None:
        return shape_feedback(comp)
    out = value_feedback(comp) or ratio_feedback(comp, ref) + index_feedback(comp, ref)
    if not out:
        ok = close(comp.numbers.answer, comp.numbers.expected).all(axis=1)
        if len(ok) > 1 and ok.any():
            out.append(f"right in {int(ok.sum())} of {len(ok)} entries, wrong in the others.")
        else:
            out.append("the answer differs from the derivative.")
    return out


def constant_ratio(r: float, noun: str, sizes: dict | None = None) -> list:
    """What a constant ratio answer/expected says: a sign, a size such as K, or a factor such as β."""
    if abs(r) < 1e-12:
        return []
    if abs(r + 1) < 1e-7:
        return [f"sign error: your answer is the negative of the {noun}."]
    for value, name in (sizes or {}).items():
        if abs(r - value) < 1e-7:
            return [f"off by a factor {name} = {value}: is a 1/{name} missing?"]
        if abs(r - 1 / value) < 1e-9:
            return [f"off by a factor 1/{name}: an extra 1/{name}?"]
    nice = _nice(r)
    if nice is not None and nice.startswith("1/"):
        return [f"missing factor {nice[2:]}: your answer is {nice} of the {noun}."]
    if nice is not None:
        return [f"off by a factor {nice}: your answer is {nice} times the {noun}."]
    return [f"off by a constant factor {r:.4g}."]
