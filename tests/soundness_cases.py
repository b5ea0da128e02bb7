"""Generated answers for the soundness tests, each with an oracle that does not use the checker.

Every case is LaTeX for the checker and, beside it, the same function written in Python over
mpmath numbers (30 digits). The oracle evaluates it and the true derivative (written here, from
the definition) at a wide grid (±10⁻³ … ±10²) and at points inside every interval the case's own
thresholds make; a case is *wrong* if they differ somewhere, *equivalent* if they agree at every
point. Cases the oracle cannot classify are dropped. Generation is deterministic (a seeded RNG).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import mpmath as mp

mp.mp.dps = 30
ONE, ZERO = mp.mpf(1), mp.mpf(0)
GRID = [s * mp.mpf(10) ** (e / mp.mpf(6)) for e in range(-18, 13) for s in (-1, 1)]  # ±1e-3 … ±1e2
CUTS = ["0.001", "0.003", "0.01", "0.04", "0.25", "0.5", "1", "2.5", "6", "9.5", "20", "50"]
WIDTHS = ["0.001", "0.01", "0.1", "1", "4"]
FACTORS = ["1", "0.5", "2", "3"]


@dataclass(frozen=True)
class Case:
    target: str
    latex: str
    kinks: tuple  # where the case's thresholds sit (the oracle looks between them)
    wrong: bool  # what the oracle established


def _ind(cond: bool):
    return ONE if cond else ZERO


def _sig(x):
    return 1 / (1 + mp.exp(-x))


# Scalar activations: (latex, f(x, α)) forms of the derivative, and the true derivative itself.
TRUTH = {
    "relu": lambda x, a: _ind(x > 0),
    "leaky_relu": lambda x, a: ONE if x > 0 else a,
    "elu": lambda x, a: ONE if x > 0 else a * mp.exp(x),
    "sigmoid": lambda x, a: _sig(x) * (1 - _sig(x)),
    "tanh": lambda x, a: 1 - mp.tanh(x) ** 2,
    "softplus": lambda x, a: _sig(x),
}
FORWARD = {  # y, for forms written in the output
    "relu": lambda x, a: max(ZERO, x),
    "leaky_relu": lambda x, a: x if x > 0 else a * x,
    "elu": lambda x, a: x if x > 0 else a * (mp.exp(x) - 1),
    "sigmoid": lambda x, a: _sig(x),
    "tanh": lambda x, a: mp.tanh(x),
    "softplus": lambda x, a: mp.log(1 + mp.exp(x)),
}
FORMS = {
    "relu": [
        (r"\mathbb{1}[x > 0]", lambda x, a, y: _ind(x > 0)),
        (r"\mathbb{1}[x \geq 0]", lambda x, a, y: _ind(x >= 0)),
        (r"Heaviside(x)", lambda x, a, y: _ind(x > 0)),
        (r"\frac{\operatorname{sgn}(x) + 1}{2}", lambda x, a, y: (mp.sign(x) + 1) / 2),
        (r"\mathbb{1}[y > 0]", lambda x, a, y: _ind(y > 0)),
        (r"\operatorname{relu}'(x)", lambda x, a, y: _ind(x > 0)),
        (r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}", lambda x, a, y: _ind(x > 0)),
        (r"\frac{y}{x}", lambda x, a, y: y / x),
        (r"\max(0, \operatorname{sgn}(x))", lambda x, a, y: max(ZERO, mp.sign(x))),
    ],
    "leaky_relu": [
        (r"\begin{cases} 1 & x > 0 \\ \alpha & \text{otherwise} \end{cases}", lambda x, a, y: ONE if x > 0 else a),
        (r"\mathbb{1}[x > 0] + \alpha \mathbb{1}[x \leq 0]", lambda x, a, y: _ind(x > 0) + a * _ind(x <= 0)),
        (r"\alpha + (1 - \alpha)\mathbb{1}[x > 0]", lambda x, a, y: a + (1 - a) * _ind(x > 0)),
        (r"\frac{y}{x}", lambda x, a, y: y / x),
    ],
    "elu": [
        (r"\begin{cases} 1 & x > 0 \\ y + \alpha & \text{otherwise} \end{cases}", lambda x, a, y: ONE if x > 0 else y + a),
        (r"\mathbb{1}[x > 0] + \mathbb{1}[x \leq 0] \alpha e^{x}", lambda x, a, y: _ind(x > 0) + _ind(x <= 0) * a * mp.exp(x)),
        (r"\mathbb{1}[x > 0] + \mathbb{1}[x \leq 0](y + \alpha)", lambda x, a, y: _ind(x > 0) + _ind(x <= 0) * (y + a)),
    ],
    "sigmoid": [
        (r"y(1 - y)", lambda x, a, y: y * (1 - y)),
        (r"\sigma(x)(1 - \sigma(x))", lambda x, a, y: _sig(x) * (1 - _sig(x))),
        (r"\frac{e^{-x}}{(1 + e^{-x})^2}", lambda x, a, y: mp.exp(-x) / (1 + mp.exp(-x)) ** 2),
        (r"\sigma'(x)", lambda x, a, y: _sig(x) * (1 - _sig(x))),
        (r"y - y^2", lambda x, a, y: y - y ** 2),
    ],
    "tanh": [
        (r"1 - y^2", lambda x, a, y: 1 - y ** 2),
        (r"1 - \tanh^2(x)", lambda x, a, y: 1 - mp.tanh(x) ** 2),
        (r"\frac{4}{(e^x + e^{-x})^2}", lambda x, a, y: 4 / (mp.exp(x) + mp.exp(-x)) ** 2),
        (r"(1 - y)(1 + y)", lambda x, a, y: (1 - y) * (1 + y)),
    ],
    "softplus": [
        (r"\sigma(x)", lambda x, a, y: _sig(x)),
        (r"\frac{1}{1 + e^{-x}}", lambda x, a, y: 1 / (1 + mp.exp(-x))),
        (r"\frac{e^x}{1 + e^x}", lambda x, a, y: mp.exp(x) / (1 + mp.exp(x))),
        (r"1 - e^{-y}", lambda x, a, y: 1 - mp.exp(-y)),
    ],
}
MOVABLE = {  # forms with their threshold at a parameter: (latex template, f(x, α, y, c))
    "relu": [(r"\mathbb{1}[x > {c}]", lambda x, a, y, c: _ind(x > c)),
             (r"\begin{cases} 1 & x > {c} \\ 0 & \text{otherwise} \end{cases}", lambda x, a, y, c: _ind(x > c))],
    "leaky_relu": [(r"\begin{cases} 1 & x > {c} \\ \alpha & \text{otherwise} \end{cases}",
                    lambda x, a, y, c: ONE if x > c else a),
                   (r"\alpha + (1 - \alpha)\mathbb{1}[x > {c}]", lambda x, a, y, c: a + (1 - a) * _ind(x > c))],
    "elu": [(r"\mathbb{1}[x > {c}] + \mathbb{1}[x \leq {c}](y + \alpha)",
             lambda x, a, y, c: _ind(x > c) + _ind(x <= c) * (y + a))],
}


def _num(text: str, sign: int = 1):
    return sign * mp.mpf(text)


def _tex(value) -> str:
    return mp.nstr(value, 12, strip_zeros=True)


def _group(D: str) -> str:
    return rf"\left({D}\right)" if "cases" in D else D


def zeros(rng: random.Random, target: str):
    """(wrapper, f(D, x, y), kinks): rewrites that keep the value — zero terms with thresholds in them."""
    c = _num(rng.choice(CUTS), rng.choice((-1, 1)))
    k = mp.mpf(rng.choice(FACTORS)) * rng.choice((-1, 1))
    kind = rng.randrange(4)
    if kind == 0:  # an empty region
        return (lambda D: rf"{_group(D)} + {_tex(k)}\,\mathbb{{1}}[x > {_tex(c)}]\,\mathbb{{1}}[x < {_tex(c)}]",
                lambda d, x, y: d, (c,))
    if kind == 1:  # one kinked term written two ways
        return (lambda D: rf"{_group(D)} + \mathbb{{1}}[x > {_tex(c)}](x - {_tex(c)}) - \max(0, x - {_tex(c)})"
                .replace("- -", "+ "), lambda d, x, y: d, (c,))
    if kind == 2:  # a partition of one
        return (lambda D: rf"\left({D}\right)\left(\mathbb{{1}}[x > {_tex(c)}] + \mathbb{{1}}[x \leq {_tex(c)}]\right)",
                lambda d, x, y: d, (c,))
    forward = {"relu": r"\max(0, x)", "sigmoid": r"\sigma(x)", "tanh": r"\tanh(x)",
               "softplus": r"\log(1 + e^{x})"}.get(target)
    if forward is None:
        return (lambda D: rf"{_group(D)} + {_tex(k)}(x - x)\mathbb{{1}}[x > {_tex(c)}]", lambda d, x, y: d, (c,))
    return (lambda D: rf"{_group(D)} + {_tex(k)}\left(y - {forward}\right)", lambda d, x, y: d, ())


def perturbations(rng: random.Random):
    """(latex suffix or wrapper, f(D, x), kinks): terms that vanish on a range, indicators, flips, …"""
    c = _num(rng.choice(CUTS), rng.choice((-1, 1)))
    w = mp.mpf(rng.choice(WIDTHS))
    k = mp.mpf(rng.choice(FACTORS)) * rng.choice((-1, 1))
    a, b = c, c + w
    kind = rng.randrange(8)
    if kind == 0:  # vanishes left of c
        return (lambda D: rf"{_group(D)} + \mathbb{{1}}[x > {_tex(c)}](x - {_tex(c)})".replace("- -", "+ "),
                lambda d, x: d + _ind(x > c) * (x - c), (c,))
    if kind == 1:  # a bump on (a, b)
        return (lambda D: rf"{_group(D)} + {_tex(k)}\,\mathbb{{1}}[x > {_tex(a)}]\,\mathbb{{1}}[x < {_tex(b)}]",
                lambda d, x: d + k * _ind(x > a) * _ind(x < b), (a, b))
    if kind == 2:  # a hinge added
        return (lambda D: rf"{_group(D)} + \max(0, x - {_tex(c)})".replace("- -", "+ "),
                lambda d, x: d + max(ZERO, x - c), (c,))
    if kind == 3:  # an indicator multiplied in
        return (lambda D: rf"\left({D}\right)\mathbb{{1}}[x < {_tex(c)}]", lambda d, x: d * _ind(x < c), (c,))
    if kind == 4:  # the sign flipped on (a, b)
        return (lambda D: rf"\left({D}\right)\left(1 - 2\,\mathbb{{1}}[x > {_tex(a)}]\,\mathbb{{1}}[x < {_tex(b)}]\right)",
                lambda d, x: d * (1 - 2 * _ind(x > a) * _ind(x < b)), (a, b))
    if kind == 5:  # a step through sgn
        return (lambda D: rf"{_group(D)} + {_tex(k)}\frac{{\operatorname{{sgn}}(x - {_tex(c)}) + 1}}{{2}}".replace("- -", "+ "),
                lambda d, x: d + k * (mp.sign(x - c) + 1) / 2, (c,))
    if kind == 6:  # a kink hidden in a square root
        return (lambda D: rf"{_group(D)} + \sqrt{{(x - {_tex(c)})^2}} - (x - {_tex(c)})".replace("- -", "+ "),
                lambda d, x: d + abs(x - c) - (x - c), (c,))
    # an indicator multiplied in from the other side
    return (lambda D: rf"\left({D}\right)\mathbb{{1}}[x > {_tex(c)}]", lambda d, x: d * _ind(x > c), (c,))


def _points(kinks) -> list:
    """The wide grid, and points inside and at the edges of every interval the kinks make."""
    pts = []
    ks = sorted(set(kinks) | {ZERO})
    for lo, hi in itertools.pairwise(ks):
        pts += [lo + (hi - lo) * mp.mpf(f) for f in ("0.001", "0.5", "0.999")]
    for k in ks:
        pts += [k - mp.mpf("0.001") * (1 + abs(k)), k + mp.mpf("0.001") * (1 + abs(k))]
    pts += GRID  # after the targeted points: a difference there ends the search early
    return [p for p in pts if all(abs(p - k) > mp.mpf("1e-12") for k in ks)]


ALPHAS = [mp.mpf("0.3"), mp.mpf("3")]


def classify(target: str, f, kinks) -> bool | None:
    """True if f differs from the true derivative somewhere, False if it agrees everywhere checked."""
    truth, forward = TRUTH[target], FORWARD[target]
    worst = ZERO
    for a in ALPHAS if target in ("leaky_relu", "elu") else ALPHAS[:1]:
        for x in _points(kinks):
            t = truth(x, a)
            try:
                v = f(x, a, forward(x, a))
            except (ZeroDivisionError, ValueError):
                return None
            if not mp.isfinite(v) or mp.im(v) != 0:
                return True
            worst = max(worst, abs(v - t) / (1 + abs(t)))
            if worst > mp.mpf("1e-6"):
                return True
    if worst < mp.mpf("1e-20"):
        return False
    return None


def scalar_cases(count: int, seed: int = 0) -> list:
    """`count` generated answers for the scalar activations, classified by the oracle."""
    rng = random.Random(seed)
    out = []
    targets = sorted(FORMS)
    while len(out) < count:
        target = rng.choice(targets)
        if target in MOVABLE and rng.random() < 0.3:
            template, g = rng.choice(MOVABLE[target])
            c = _num(rng.choice(CUTS), rng.choice((-1, 1))) if rng.random() < 0.9 else ZERO
            latex = template.replace("{c}", _tex(c))
            kinks = (c,)

            def f(x, a, y, g=g, c=c):
                return g(x, a, y, c)
        else:
            latex_d, fd = rng.choice(FORMS[target])
            r = rng.random()
            if r < 0.1:  # a rewrite with no perturbation at all
                latex, f, kinks = latex_d, fd, ()
            elif r < 0.22:
                wrap, fz, kinks = zeros(rng, target)
                latex = wrap(latex_d)

                def f(x, a, y, fd=fd, fz=fz):
                    return fz(fd(x, a, y), x, y)
            else:
                wrap, fp, kinks = perturbations(rng)
                latex = wrap(latex_d)

                def f(x, a, y, fd=fd, fp=fp):
                    return fp(fd(x, a, y), x)
        wrong = classify(target, f, kinks)
        if wrong is not None:
            out.append(Case(target, latex, tuple(float(k) for k in kinks), wrong))
    return out


# ------------------------------------------------------------------------------ vector modules
# A point is a dict of mp values (vectors as lists, 0-based); an answer entry is f(pt, i, j), 0-based.


def _softmax(v):
    m = max(v)
    e = [mp.exp(a - m) for a in v]
    s = sum(e)
    return [a / s for a in e]


def _vec(rng, n, lo=-3, hi=2):
    return [rng.choice((-1, 1)) * mp.mpf(10) ** mp.mpf(rng.uniform(lo, hi)) for _ in range(n)]


def _mse_point(rng):
    return {"yhat": _vec(rng, 3), "y": _vec(rng, 3)}


def _softmax_point(rng):
    beta = mp.mpf(10) ** mp.mpf(rng.uniform(-2, 1))
    x = _vec(rng, 3, -3, 1)
    return {"x": x, "beta": beta, "y": _softmax([beta * a for a in x])}


def _hinge_point(rng):
    o = _vec(rng, 4, -3, 1)
    return {"o": o, "p": _softmax(o), "C": mp.mpf(10) ** mp.mpf(rng.uniform(-3, 1)), "t": rng.randrange(4)}


def _d(a, b):
    return ONE if a == b else ZERO


def _hinge_truth(pt, i, j):
    p, t, C = pt["p"], pt["t"], pt["C"]
    return sum((_ind(C + p[k] - p[t] > 0) * (p[k] * (_d(i, k) - p[i]) - p[t] * (_d(i, t) - p[i]))
                for k in range(4) if k != t), ZERO)


VECTOR = {  # target: (point maker, entries (rows, cols), truth, [right forms], [(variable, its LaTeX)])
    "mse": (_mse_point, (3, 1), lambda pt, i, j: 2 * (pt["yhat"][i] - pt["y"][i]),
            [(r"2(\hat{y}_i - y_i)", lambda pt, i, j: 2 * (pt["yhat"][i] - pt["y"][i])),
             (r"2\hat{y}_i - 2y_i", lambda pt, i, j: 2 * pt["yhat"][i] - 2 * pt["y"][i]),
             (r"-2(y_i - \hat{y}_i)", lambda pt, i, j: -2 * (pt["y"][i] - pt["yhat"][i]))],
            [("yhat", r"\hat{y}_i", "i"), ("y", "y_i", "i")]),
    "softmax": (_softmax_point, (3, 3), lambda pt, i, j: pt["beta"] * pt["y"][i] * (_d(i, j) - pt["y"][j]),
                [(r"\beta y_i(\delta_{ij} - y_j)", lambda pt, i, j: pt["beta"] * pt["y"][i] * (_d(i, j) - pt["y"][j])),
                 (r"\beta y_i \delta_{ij} - \beta y_i y_j",
                  lambda pt, i, j: pt["beta"] * pt["y"][i] * _d(i, j) - pt["beta"] * pt["y"][i] * pt["y"][j]),
                 (r"\begin{cases} \beta y_i(1 - y_i) & i = j \\ -\beta y_i y_j & i \neq j \end{cases}",
                  lambda pt, i, j: pt["beta"] * pt["y"][i] * (1 - pt["y"][i]) if i == j
                  else -pt["beta"] * pt["y"][i] * pt["y"][j])],
                [("x", "x_j", "j"), ("y", "y_i", "i"), ("y", "y_j", "j")]),
    "hinge": (_hinge_point, (4, 1), _hinge_truth,
              [(r"\sum_{l \neq t} \mathbb{1}[C + p_l - p_t > 0](p_l(\delta_{il} - p_i) - p_t(\delta_{it} - p_i))",
                _hinge_truth)],
              [("o", "o_i", "i"), ("p", "p_i", "i")]),
}
VECTOR_CUTS = {"x": CUTS[:10], "yhat": CUTS[:10], "y": CUTS[:10], "o": CUTS[:10], "p": ["0.01", "0.1", "0.5", "0.9", "0.99"]}


def _vector_perturbation(rng, target):
    var, tex, index = rng.choice(VECTOR[target][4])
    probability = var == "p" or (target == "softmax" and var == "y")
    c = _num(rng.choice(VECTOR_CUTS["p" if probability else var]), 1 if probability else rng.choice((-1, 1)))
    k = mp.mpf(rng.choice(FACTORS)) * rng.choice((-1, 1))

    def at(pt, i, j):
        return pt[var][i if index == "i" else j]

    kind = rng.randrange(5)
    if kind == 0:
        return (lambda D: rf"\left({D}\right) + \mathbb{{1}}[{tex} > {_tex(c)}]({tex} - {_tex(c)})".replace("- -", "+ "),
                lambda d, pt, i, j: d + _ind(at(pt, i, j) > c) * (at(pt, i, j) - c), (var, c))
    if kind == 1:
        return (lambda D: rf"\left({D}\right)\mathbb{{1}}[{tex} < {_tex(c)}]",
                lambda d, pt, i, j: d * _ind(at(pt, i, j) < c), (var, c))
    if kind == 2:
        return (lambda D: rf"\left({D}\right)\mathbb{{1}}[{tex} > {_tex(c)}]",
                lambda d, pt, i, j: d * _ind(at(pt, i, j) > c), (var, c))
    if kind == 3:
        return (lambda D: rf"\left({D}\right) + {_tex(k)}\max(0, {tex} - {_tex(c)})".replace("- -", "+ "),
                lambda d, pt, i, j: d + k * max(ZERO, at(pt, i, j) - c), (var, c))
    # an empty region: a rewrite that keeps the value
    return (lambda D: rf"\left({D}\right) + {_tex(k)}\mathbb{{1}}[{tex} > {_tex(c)}]\mathbb{{1}}[{tex} < {_tex(c)}]",
            lambda d, pt, i, j: d, (var, c))


def classify_vector(target, f, kink, rng) -> bool | None:
    make, (rows, cols), truth, _, _ = VECTOR[target]
    worst = ZERO
    for n in range(120):
        pt = make(rng)
        if kink is not None and n % 3 == 0 and kink[0] in ("yhat", "y", "x", "o") and kink[0] in pt:
            var, c = kink  # a targeted point: one entry just either side of the threshold, or far past it
            step = mp.mpf(rng.choice(("0.001", "0.1", "1", "10"))) * (1 + abs(c)) * rng.choice((-1, 1))
            pt[var][rng.randrange(len(pt[var]))] = c + step
            if target == "softmax":
                pt["y"] = _softmax([pt["beta"] * a for a in pt["x"]])
            if target == "hinge":
                pt["p"] = _softmax(pt["o"])
        for i in range(rows):
            for j in range(cols):
                t, v = truth(pt, i, j), f(pt, i, j)
                worst = max(worst, abs(v - t) / (1 + abs(t)))
                if worst > mp.mpf("1e-6"):
                    return True
    return False if worst < mp.mpf("1e-20") else None


def vector_cases(count: int, seed: int = 0, targets=("mse", "softmax", "hinge"), weights=(5, 4, 1)) -> list:
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        target = rng.choices(targets, weights)[0]
        latex_d, fd = rng.choice(VECTOR[target][3])
        if rng.random() < 0.1:
            latex, f, kink = latex_d, fd, None
        else:
            wrap, fp, kink = _vector_perturbation(rng, target)
            latex = wrap(latex_d)

            def f(pt, i, j, fd=fd, fp=fp):
                return fp(fd(pt, i, j), pt, i, j)
        wrong = classify_vector(target, f, kink, rng)
        if wrong is not None:
            out.append(Case(target, latex, (float(kink[1]),) if kink else (), wrong))
    return out


# ------------------------------------------------------------------------------ odd answers
ODD_NAMES = {
    "relu": ["x", "y"], "sigmoid": ["x", "y"], "softmax": ["y_i", "y_j", r"\beta", "x_i", "x_j", r"\delta_{ij}"],
    "mse": [r"\hat{y}_i", "y_i", "K"], "hinge": ["p_i", "p_t", "C", "o_i", r"\delta_{it}"],
    "affine": [r"\frac{\partial C}{\partial y_i}", "x_j", "W_{ij}", "b_i"],
}
ODD_LEAVES = ["0", "1", "2", "0.5", "100", "10^{9}", "-1"]
ODD_FUNCS = [r"\exp", r"\log", r"\tanh", r"\sigma", r"\sqrt", r"\operatorname{relu}", r"\operatorname{sgn}",
             "Heaviside", r"\sigma'"]
ODD_RELATIONS = [">", "<", r"\geq", r"\leq", "=", r"\neq"]
ODD_POWERS = ["2", "-1", "1/2", "1/3", "64", "-2.5", "0"]


def odd_answer(rng: random.Random, names: list, depth: int = 0) -> str:
    """A random, often meaningless, answer: divisions by zero, huge powers, nested 1[·], roots of negatives."""
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice(names + ODD_LEAVES)
    sub = [odd_answer(rng, names, depth + 1) for _ in range(2)]
    if r < 0.45:
        return f"{sub[0]} {rng.choice(['+', '-', '*', '/', ' '])} {sub[1]}"
    if r < 0.55:
        return rf"\frac{{{sub[0]}}}{{{sub[1]}}}"
    if r < 0.65:
        return f"{rng.choice(ODD_FUNCS)}({sub[0]})"
    if r < 0.72:
        return rf"\{rng.choice(['max', 'min'])}({sub[0]}, {sub[1]})"
    if r < 0.85:
        return rf"\mathbb{{1}}[{sub[0]} {rng.choice(ODD_RELATIONS)} {sub[1]}]"
    if r < 0.95:
        return f"({sub[0]})^{{{rng.choice(ODD_POWERS)}}}"
    return rf"\left(\begin{{cases}} {sub[0]} & x > 0 \\ {sub[1]} & \text{{otherwise}} \end{{cases}}\right)"


def odd_answers(count: int, seed: int = 0) -> list:
    rng = random.Random(seed)
    targets = sorted(ODD_NAMES)
    return [(t, odd_answer(rng, ODD_NAMES[t])) for t in (rng.choice(targets) for _ in range(count))]
