"""Long formulas broken across lines for a printed page, the way a person breaks them: at the
top-level + and − of a sum, and, where the sum sits inside a product, a Σ or a ∂/∂x (…), at the
+ and − inside its brackets (sized to match on every line).

The width of a piece is estimated from its LaTeX (`width`, in ems of an 11 pt display; calibrated
against pdflatex on the bundled sheets); a piece that cannot be broken (a fraction, an indicator)
stays whole on its line. The lines are for `align*`: the first follows `&=`, the others
`&\\qquad`.
"""

from __future__ import annotations

import re

import sympy as sp

from derive.render.printer import _ordered_factors, _ordered_terms, latex

# em widths of the LaTeX our printer writes, display style, 11 pt Latin Modern
_COMMANDS = {"partial": 0.57, "sum": 1.45, "left": 0.0, "right": 0.0, "top": 0.75, "odot": 1.0, "cdot": 0.5,
             "times": 1.0, "neq": 1.3, "quad": 1.0, "qquad": 2.0, "log": 1.3, "exp": 1.45, "max": 1.7,
             "tanh": 2.0, "infty": 1.0, "lVert": 0.5, "rVert": 0.5, "mid": 0.5, "ell": 0.42,
             "mathbb": None, "hat": None, "mathbf": None, "boldsymbol": None, "mathrm": None,
             "operatorname": None, "text": None, "frac": None, "sqrt": None,
             "bigl": 0.45, "bigr": 0.45, "Bigl": 0.5, "Bigr": 0.5, "biggl": 0.55, "biggr": 0.55,
             "Biggl": 0.6, "Biggr": 0.6, "vphantom": None}
_RELATIONS = {"=": 1.34, ">": 1.34, "<": 1.34}
_BINARY = {"+": 1.23, "-": 1.23}
_TOKEN = re.compile(r"\\([A-Za-z]+)|\\(.)|(\s+)|(.)", re.DOTALL)


def _group(s: str, i: int) -> tuple[str, int]:
    """The brace group (or single token) starting at s[i], and the index after it."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return "", i
    if s[i] != "{":
        m = _TOKEN.match(s, i)
        return m.group(0), m.end()
    depth = 0
    for j in range(i, len(s)):
        depth += {"{": 1, "}": -1}.get(s[j], 0)
        if depth == 0:
            return s[i + 1:j], j + 1
    return s[i + 1:], len(s)


def width(tex: str, scale: float = 1.0, display: bool = True) -> float:
    """Estimated width of `tex` in ems: display style, or text style inside a fraction (`scale` < 1 for
    scripts)."""
    total, i, prev_op = 0.0, 0, True  # prev_op: a sign here is unary (no spacing)
    while i < len(tex):
        m = _TOKEN.match(tex, i)
        word, symbol, space, char = m.groups()
        i = m.end()
        if space:
            continue
        if word == "frac":
            num, i = _group(tex, i)
            den, i = _group(tex, i)
            inner = scale if display else 0.75 * scale  # display fractions set their parts at text size
            total += max(width(num, inner, False), width(den, inner, False)) + 0.22 * scale
        elif word in ("sqrt",):
            arg, i = _group(tex, i)
            total += width(arg, scale, display) + 0.9 * scale
        elif word in ("mathbb", "hat", "mathbf", "boldsymbol", "vphantom"):
            arg, i = _group(tex, i)
            total += 0 if word == "vphantom" else width(arg, scale, display)
        elif word in ("mathrm", "operatorname", "text"):
            arg, i = _group(tex, i)
            total += 0.5 * len(arg) * scale + (0.3 * scale if word == "operatorname" else 0)
        elif word in ("left", "right"):
            delim, i = _group(tex, i)
            tall = "\\frac" in tex[i:] if word == "left" else "\\frac" in tex[:i]
            total += 0 if delim in (".", "\\.") else (0.62 if tall else 0.45) * scale
        elif word == "begin":
            env, i = _group(tex, i)
            end = tex.find("\\end{" + env + "}", i)
            body, i = tex[i:end], end + len(env) + 6
            rows = [[width(cell, scale, False) for cell in row.split("&")] for row in body.split("\\\\")]
            cols = [max(r[c] if c < len(r) else 0 for r in rows) for c in range(max(map(len, rows)))]
            total += sum(cols) + 1.0 * (len(cols) - 1) * scale + (0.9 if env == "cases" else 0.5) * scale
        elif word == "sum":
            sub = sup = ""
            for _ in range(2):
                j = i
                while j < len(tex) and tex[j] == " ":
                    j += 1
                if tex[j:j + 1] in ("_", "^"):
                    kind = tex[j]
                    arg, i = _group(tex, j + 1)
                    sub, sup = (arg, sup) if kind == "_" else (sub, arg)
            if display:  # limits under and over the sign
                total += max(1.45 * scale, width(sub, 0.7 * scale, False), width(sup, 0.7 * scale, False))
            else:  # limits beside it
                total += 1.0 * scale + max(width(sub, 0.7 * scale, False), width(sup, 0.7 * scale, False))
            total += 0.17 * scale
        elif word is not None:
            total += _COMMANDS.get(word) or (0.6 if len(word) <= 6 else 0.5 * len(word)) * scale
        elif symbol is not None:
            total += {",": 0.17, ";": 0.28, " ": 0.33, "!": -0.17}.get(symbol, 0.5) * scale
        elif char in "_^":
            arg, i = _group(tex, i)
            total += width(arg, scale * 0.7, False)
        elif char in "{}":
            continue
        elif char in _RELATIONS:
            total += _RELATIONS[char] * scale
            prev_op = True
            continue
        elif char in _BINARY:
            total += (0.78 if prev_op else _BINARY[char]) * scale
            prev_op = True
            continue
        elif char in "()[]":
            total += 0.39 * scale
        elif char == ",":
            total += 0.45 * scale
        elif char.isdigit():
            total += 0.5 * scale
        else:
            total += 0.52 * scale
        prev_op = False
    return total


def _delimiters(tex: str) -> tuple[str, str]:
    """Bracket sizes that match across lines: as tall as the tallest thing inside."""
    if "\\frac" in tex and ("\\sum" in tex or tex.count("\\frac") > 1 and "\\frac{\\sum" in tex):
        return r"\Biggl(", r"\Biggr)"
    if "\\frac" in tex or "\\sum" in tex:
        return r"\biggl(", r"\biggr)"
    return r"\bigl(", r"\bigr)"


def _signed_terms(expr: sp.Add) -> list[tuple[str, sp.Expr]]:
    out = []
    for term in _ordered_terms(expr):
        negative = term.could_extract_minus_sign()
        out.append(("-" if negative else "+", -term if negative else term))
    return out


def _piece(expr: sp.Expr) -> str:
    tex = latex(expr)
    return rf"\left({tex}\right)" if isinstance(expr, sp.Add) else tex


def latex_lines(expr: sp.Expr, budget: float) -> list[str]:
    """`expr` as LaTeX lines of at most about `budget` ems (a piece that cannot break may exceed it)."""
    tex = latex(expr)
    if width(tex) <= budget:
        return [tex]
    if isinstance(expr, sp.Add):
        return _sum_lines(_signed_terms(expr), budget)
    if isinstance(expr, sp.Mul) and expr.could_extract_minus_sign():
        lines = latex_lines(-expr, budget - 0.8)
        return ["- " + lines[0], *lines[1:]]
    if isinstance(expr, sp.Mul):
        num, den = sp.fraction(expr, exact=True)
        if den != 1:  # a long numerator: 1/den times it, so the numerator can break
            if width(latex(num)) <= budget:
                return [tex]
            return _wrapped(rf"\frac{{1}}{{{latex(den)}}}", num, "", budget)
        factors = [f for f in _ordered_factors(sp.Mul.make_args(expr)) if f != 1]
        widest = max(range(len(factors)), key=lambda n: width(latex(factors[n])))
        inner = factors[widest]
        if isinstance(inner, sp.Sum):
            inner_lines = latex_lines(inner, budget - width(" ".join(_piece(f) for f in factors[:widest])))
            prefix = " ".join(_piece(f) for f in factors[:widest])
            lines = [f"{prefix} {inner_lines[0]}".strip(), *inner_lines[1:]]
            suffix = " ".join(_piece(f) for f in factors[widest + 1:])
            if suffix:  # what follows a broken Σ goes on a line of its own
                lines.append(r"\cdot " + suffix)
            return lines
        prefix = " ".join(_piece(f) for f in factors[:widest])
        suffix = " ".join(_piece(f) for f in factors[widest + 1:])
        if isinstance(inner, sp.Derivative) and not isinstance(inner.expr, (sp.Symbol, sp.Indexed)):
            # ∂C/∂a_m ∂/∂x (…): broken inside the derivative's brackets, as a ∂/∂x (…) alone is
            head = rf"{prefix} \frac{{\partial}}{{\partial {latex(inner.variables[0])}}}".strip()
            lines = _wrapped(head, inner.expr, suffix, budget)
            return lines if len(lines) > 1 else [tex]
        if not isinstance(inner, sp.Add):
            return [tex]
        return _wrapped(prefix, inner, suffix, budget)
    if isinstance(expr, sp.Sum) and len(expr.limits) == 1:
        var, lo, hi = expr.limits[0]
        head = rf"\sum_{{{latex(var)}={latex(lo)}}}^{{{latex(hi)}}}"
        if isinstance(expr.function, sp.Add):
            return _wrapped(head, expr.function, "", budget)
        lines = latex_lines(expr.function, budget - width(head))
        return [f"{head} {lines[0]}", *lines[1:]]
    if isinstance(expr, sp.Derivative) and not isinstance(expr.expr, (sp.Symbol, sp.Indexed)):
        head = rf"\frac{{\partial}}{{\partial {latex(expr.variables[0])}}}"
        return _wrapped(head, expr.expr, "", budget)
    return [tex]


def _wrapped(prefix: str, inner: sp.Expr, suffix: str, budget: float) -> list[str]:
    """prefix (inner) suffix, with `inner` broken inside brackets of one size on every line."""
    tex = latex(inner)
    open_, close = _delimiters(tex)
    first = width(prefix) + 0.6
    if prefix and first > budget / 2:  # a wide head: the bracket opens on the next line, with room to fill
        lines = _wrapped("", inner, suffix, budget)
        return [prefix, *lines]
    if isinstance(inner, sp.Add):
        lines = _sum_lines(_signed_terms(inner), budget - first)
    else:
        lines = latex_lines(inner, budget - first)
    if len(lines) == 1:
        return [f"{prefix} {open_}{lines[0]}{close} {suffix}".strip()]
    return ([f"{prefix} {open_}{lines[0]}".strip()] + lines[1:-1] + [f"{lines[-1]}{close} {suffix}".rstrip()])


def _sum_lines(terms: list[tuple[str, sp.Expr]], budget: float) -> list[str]:
    """Terms packed greedily into lines; a line after the first starts with its sign."""
    lines: list[str] = []
    current = ""
    for n, (sign, term) in enumerate(terms):
        piece = _piece(term)
        text = (("- " if sign == "-" else "") if n == 0 else f" {sign} ") + piece
        if current and width(current + text) > budget:
            lines.append(current)
            current = "{} " + f"{sign} {piece}"
        else:
            current += text
        if width(current) > budget and isinstance(term, (sp.Mul, sp.Sum, sp.Derivative)):
            # a single term wider than the line: break it too
            head = current[: len(current) - len(piece)]
            broken = latex_lines(term, budget - width(head))
            if len(broken) > 1:
                lines.append(head + broken[0])
                lines.extend(broken[1:-1])
                current = broken[-1]
    lines.append(current)
    return lines
