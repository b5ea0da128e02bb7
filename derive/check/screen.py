"""Screening a student's answer before it is parsed: caps, characters, commands, balance.

Everything here is string work with fixed regular expressions; nothing is evaluated. The result
is the answer in one normal notation (`σ` → `\\sigma`, `\\left(` → `(`, `\\mathbf{x}` → `{x}`)
that the grammar reads, or an InvalidAnswer naming the problem in one line.
"""

from __future__ import annotations

import re

MAX_LENGTH = 2000  # characters; a backprop answer is a line or two
MAX_DEPTH = 40  # nested brackets of any kind
MAX_DIGITS = 30  # in one number


class InvalidAnswer(ValueError):
    """The answer cannot be read; `str()` is one line for the student."""


UNICODE = {
    "σ": r"\sigma ", "β": r"\beta ", "δ": r"\delta ", "θ": r"\theta ", "α": r"\alpha ", "λ": r"\lambda ",
    "Δ": r"\Delta ", "η": r"\eta ", "γ": r"\gamma ", "μ": r"\mu ", "ε": r"\epsilon ", "φ": r"\phi ",
    "ℓ": r"\ell ", "π": r"\pi ", "Σ": r"\sum ", "∑": r"\sum ", "∂": r"\partial ", "∇": r"\nabla ",
    "−": "-", "–": "-", "·": r"\cdot ", "⋅": r"\cdot ", "×": r"\times ", "⊙": r"\odot ", "∘": r"\circ ",
    "⊗": r"\otimes ", "ᵀ": r"^\top ", "≠": r"\neq ", "≤": r"\leq ", "≥": r"\geq ", "′": "'",
    "²": "^2", "³": "^3", "ŷ": r"\hat{y}", "Ŷ": r"\hat{Y}", "𝟙": r"\one", "𝟏": r"\one",
    "ω": r"\omega ", "ρ": r"\rho ", "τ": r"\tau ", "Λ": r"\Lambda ", "∗": "*",
    "Φ": r"\Phi ", "ζ": r"\zeta ",  # GELU's Φ(x), Mish's ζ = softplus(x), named in their derivatives
    "‖": r"\| ", "…": r"\dots ", "⋯": r"\cdots ", "⋮": r"\vdots ", "⋱": r"\ddots ",
}

# Commands a student may write. Anything else (\def, \input, \csname, ...) is refused by name.
KNOWN_COMMANDS = frozenset(["Phi", "zeta", "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "eta", "theta", "lambda", "mu", "rho", "tau", "phi", "omega", "ell", "Delta", "Lambda", "pi", "exp", "log", "ln", "tanh", "sinh", "cosh", "sigma", "max", "min", "sqrt", "diag", "rowsum", "softmax", "relu", "sech", "sgn", "frac", "dfrac", "tfrac", "partial", "hat", "widehat", "tilde", "widetilde", "sum", "cdot", "times", "odot", "circ", "otimes", "top", "intercal", "T", "geq", "leq", "neq", "ge", "le", "ne", "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "mathbf", "boldsymbol", "bm", "vec", "mathrm", "mathit", "mathbb", "mathds", "mathbbm", "mathcal", "operatorname", "text", "textrm", "begin", "end", "quad", "qquad", "one", "cases", "endcases", "otherwise", "displaystyle", "layer",
                            "dots", "cdots", "ldots", "vdots", "ddots", "matrix", "endmatrix",
                            "Vert", "lVert", "rVert", "norm"])

_COMMAND = re.compile(r"\\([A-Za-z]+)")
_SPACING = re.compile(r"(?<!\\)\\(?=\s)|\\[,;:!]|\\q?quad(?![A-Za-z])|\\displaystyle(?![A-Za-z])|~")
_SIZING = re.compile(r"\\(?:left|right|[Bb]igg?[lr]?)(?![A-Za-z])\s*(\.|\\\{|\\\}|\\\||[()\[\]|])?")
_IDENTITY = re.compile(r"\\(?:mathbb|mathds|mathbbm)\s*\{\s*I\s*\}")
_HADAMARD_POWER = re.compile(r"\^\s*\{\s*\\(?:odot|circ)\s*(\d+|\{\s*\d+\s*\})\s*\}")
_ONE = re.compile(r"\\(?:mathbb|mathbf|mathds|mathbbm)\s*\{\s*1\s*\}")
_PLAIN_ONE = re.compile(r"(?<![\w.^\\])1\s*(?=[\[(]|_\s*\{)")  # 1[…], 1(…), 1_{…}: an indicator if … compares
_COMPARES = re.compile(r"[<>=]|\\(?:geq|leq|neq|ge|le|ne)(?![A-Za-z])")
_NAMED_FUNC = re.compile(r"\\(?:operatorname|mathrm|text|textrm)\s*\{\s*(diag|rowsum|softmax|sigmoid|relu|ReLU|sgn|tr|Tr|erf|"
                         r"softplus)\s*\}")
_TEXT_HAT = re.compile(r"\\(?:text|textrm|mathrm)\s*\{\s*(\\hat\s*\{\s*[A-Za-z]\s*\})\s*\}")  # \text{x̂}
# ‖a‖, ||a||, \lVert a \rVert with _F or _2: the norm; a sized \left\| is a bar too
_NORM = re.compile(r"(?:\\\||\|\|)(.+?)(?:\\\||\|\|)(?:\s*_\s*(?:\{\s*[F2]\s*\}|[F2]))?")
# the loss written as a function of its arguments: CE(y, ŷ), ℓ_MSE(ŷ, y), L(ŷ, y) are the cost
_COST_CALL = re.compile(r"(?<![A-Za-z\\])(?:CE|BCE|NLL|MSE|CCE)\s*\([^()]*\)|(\\ell(?![A-Za-z])(?:\s*_\s*(?:\{[A-Za-z]+\}|[A-Za-z]))?"
                        r"|(?<![A-Za-z\\])[LJCE](?:\s*_\s*(?:\{[A-Za-z0-9]+\}|[A-Za-z0-9]))?)\s*\([^()]*,[^()]*\)")
# Y_{\mathrm{out}}, \ell_{\text{MSE}}: a word in a subscript is a label, read as its letters (then allow-listed)
_SUB_TEXT = re.compile(r"_\s*(\{\s*)?\\(?:text|textrm|mathrm|operatorname)\s*\{\s*([A-Za-z]{1,12})\s*\}(?(1)\s*\})")
_TEXT = re.compile(r"\\(?:text|textrm|mathrm)\s*\{([^{}]*)\}")
_FONT = re.compile(r"\\(?:mathbf|boldsymbol|bm|vec|mathit|mathcal|mathrm)(?![A-Za-z])")
_LAYER = re.compile(r"(?<![A-Za-z\\])([A-Za-z])\s*\^\s*\{\s*\(\s*(\d{1,2})\s*\)\s*(\\top|\\intercal|T)?\s*\}")
# δ^{(2)}, Δ^{(2)}: a layer's error signal, written as δ_2 (the single-letter rule above cannot see it)
_GREEK_LAYER = re.compile(r"\\(delta|Delta)\s*\^\s*\{\s*\(\s*(\d{1,2})\s*\)\s*(\\top|\\intercal|T)?\s*\}")
MATRICES = ("bmatrix", "pmatrix", "matrix")  # brackets or none; vmatrix is a determinant, not read
_MATRIX = re.compile(r"\\(begin|end)\s*\{\s*(?:bmatrix|pmatrix|matrix)\s*\}")
_MATRIX_BODY = re.compile(r"\\begin\s*\{\s*[bp]?matrix\s*\}.*?\\end\s*\{\s*[bp]?matrix\s*\}", re.DOTALL)
_DOTS = re.compile(r"\\[clv]?dots(?![A-Za-z])|\\ddots(?![A-Za-z])|\.\.\.|…")
_CASES = re.compile(r"\\begin\s*\{\s*cases\s*\}|\\end\s*\{\s*cases\s*\}")
_ENV = re.compile(r"\\(?:begin|end)\s*\{([^{}]*)\}")
_NAME = r"(?:\\hat\s*\{\s*[A-Za-z]\s*\}|\\[A-Za-z]+|[A-Za-z]tilde(?![A-Za-z])|[A-Za-z])"
_TILDE = re.compile(r"\\(?:wide)?tilde\s*\{\s*\{?\s*([A-Za-z])\s*\}?\s*\}")
_PARTIAL_SLASH = re.compile(rf"\\partial\s*({_NAME})\s*/\s*\\partial\s*({_NAME}(?:\s*_\s*(?:\{{[^{{}}]*\}}|[A-Za-z0-9]))?)")
_WORDS = re.compile(r"\b(?:if|for|when|where)\b")
_OTHERWISE = re.compile(r"(?<!\\)\b(?:otherwise|else)\b")


def _sized(m: re.Match) -> str:
    """`\\left(` → `(`; a sized square bracket groups, as in UvA's `\\left[(W^T Δ) ⊙ f'(S)\\right] Z^T`."""
    bracket = m.group(1)
    if not bracket or bracket in (".", r"\|"):
        return ""
    return {"[": "(", "]": ")"}.get(bracket, bracket)


def _cost(m: re.Match) -> str:
    """CE(y, ŷ) → L; ℓ_MSE(ŷ, y) → ℓ (a label names the kind of loss); C_2(y, ŷ) → C_2 (a second cost)."""
    name = m.group(1)
    if not name:
        return "L "
    base, _, sub = name.partition("_")
    return (name if re.fullmatch(r"\s*\{?\d+\}?", sub) else base.strip()) + " "


def _text_replacement(m: re.Match) -> str:
    words = m.group(1).strip().strip(",").strip()
    if words in ("", "if", "for", "when", "where", ",", "and"):
        return " "
    if words in ("otherwise", "else", "else,", "if not", "sonst"):
        return r" \otherwise "
    raise InvalidAnswer(f"text inside the answer is not mathematics: \\text{{{m.group(1)}}}")


def _check_characters(text: str) -> None:
    for ch in text:
        code = ord(ch)
        if (code < 32 and ch not in "\n\t\r") or code == 127 or 0x80 <= code < 0xA0:
            raise InvalidAnswer(f"the answer contains a control character (U+{code:04X})")


def _check_balance(text: str) -> None:
    depth, stack = 0, []
    pairs = {"(": ")", "[": "]", "{": "}"}
    closers = {v: k for k, v in pairs.items()}
    for ch in text:
        if ch in pairs:
            stack.append(ch)
            depth = max(depth, len(stack))
            if depth > MAX_DEPTH:
                raise InvalidAnswer(f"brackets are nested more than {MAX_DEPTH} deep")
        elif ch in closers:
            if not stack:
                raise InvalidAnswer(f"unbalanced brackets: '{ch}' closes nothing")
            if stack[-1] != closers[ch]:
                raise InvalidAnswer(f"unbalanced brackets: '{stack[-1]}' is closed by '{ch}'")
            stack.pop()
    if stack:
        missing = "".join(pairs[c] for c in reversed(stack))
        raise InvalidAnswer(f"unbalanced brackets: missing '{missing}' at the end")


_TEMPERED = re.compile(r"(?<![A-Za-z])\\?softmax\s*_\s*(?:\{\s*\\beta\s*\}|\\beta(?![A-Za-z]))\s*\(")


def _tempered(text: str) -> str:
    """softmax_β(x), the softmax with inverse temperature β, is softmax(β (x))."""
    while (m := _TEMPERED.search(text)) is not None:
        depth, k = 1, m.end()
        while k < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[k], 0)
            k += 1
        if depth:
            raise InvalidAnswer("softmax_β( has no closing ')'")
        text = f"{text[:m.start()]}\\softmax(\\beta ({text[m.end():k - 1]})){text[k:]}"
    return text


def _plain_indicator(text: str) -> str:
    """1[x > 0], 1(x > 0), 1_{x > 0} and 1\\{x > 0\\} (by now 1(x > 0)) are the indicator, as 𝟙[x > 0] is, when
    the bracket after the plain 1 holds a comparison; 1(x + y) stays a product."""
    out, last = [], 0
    for m in _PLAIN_ONE.finditer(text):
        k = text.index("{", m.end()) if text[m.end()] == "_" else m.end()
        opener, closer = text[k], {"[": "]", "(": ")", "{": "}"}[text[k]]
        depth, j = 0, k
        for j in range(k, len(text)):  # the brackets are balanced: checked before
            depth += (text[j] == opener) - (text[j] == closer)
            if depth == 0:
                break
        if _COMPARES.search(text[k + 1:j]):
            out.append(text[last:m.start()] + "\\one ")
            last = m.end()
    return "".join(out) + text[last:]


def screen(answer: str) -> str:
    """The answer in the grammar's normal notation, or InvalidAnswer with a one-line reason.

    >>> screen(r"β y_i(δ_{ij} − y_j)")
    '\\\\beta  y_i(\\\\delta _{ij} - y_j)'
    """
    if not isinstance(answer, str):
        raise InvalidAnswer("the answer must be text")
    if len(answer) > MAX_LENGTH:
        raise InvalidAnswer(f"the answer is {len(answer)} characters long; the limit is {MAX_LENGTH}")
    _check_characters(answer)
    text = answer.strip().strip("$").strip()
    if text.startswith(r"\[") and text.endswith(r"\]"):
        text = text[2:-2]
    if not text:
        raise InvalidAnswer("the answer is empty")
    if "__" in text:
        raise InvalidAnswer("the answer looks like Python code ('__'); write the mathematics")
    if re.search(r"!(?!=)", text):
        raise InvalidAnswer("'!' (a factorial) is not part of this notation")
    text = re.sub("([A-Za-z])\u0302", r"\\hat{\1}", text)  # x̂ typed as x and a combining hat
    text = re.sub("([A-Za-z])\u0303", r"\\tilde{\1}", text)  # h̃, a GRU's candidate state
    for ch, command in UNICODE.items():
        text = text.replace(ch, command)
    bad = next((c for c in text if ord(c) > 126), None)
    if bad is not None:
        raise InvalidAnswer(f"unexpected character {bad!r} (U+{ord(bad):04X})")
    for name in _COMMAND.findall(text):
        if name not in KNOWN_COMMANDS:
            raise InvalidAnswer(f"unknown LaTeX command \\{name}")
    opened: list = []
    for m in _ENV.finditer(text):
        name = m.group(1).strip()
        if name not in ("cases", *MATRICES):
            raise InvalidAnswer(f"unsupported environment {{{m.group(1)}}}; only cases and "
                                f"{', '.join(MATRICES)} are read")
        if m.group(0).lstrip("\\").startswith("begin"):
            opened.append(name)
        elif not opened or opened.pop() != name:
            raise InvalidAnswer(f"\\end{{{name}}} closes no \\begin{{{name}}}")
    if _DOTS.search(_MATRIX_BODY.sub(" ", text)):
        raise InvalidAnswer("an ellipsis (…) is read only inside a matrix, where its entries follow a pattern")
    for m in re.finditer(r"\d+", text):
        if len(m.group()) > MAX_DIGITS:
            raise InvalidAnswer(f"a number with {len(m.group())} digits is too long")
    _check_balance(re.sub(r"\\[{}]", "", text))
    text = re.sub(r"\\(?:left|right|[Bb]igg?[lr]?)\s*\\\||\\[lr]?Vert(?![A-Za-z])|‖", r"\\|", text)
    text = _NORM.sub(lambda m: rf" \norm({m.group(1)})", text)
    text = text.replace(r"\{", "(").replace(r"\}", ")")
    text = _SPACING.sub(" ", text)
    text = _SIZING.sub(_sized, text)
    text = _ONE.sub(r"\\one ", text)
    text = _plain_indicator(text)
    text = _NAMED_FUNC.sub(lambda m: "\\" + m.group(1).lower().replace("sigmoid", "sigma") + " ", text)
    text = _tempered(text)
    text = _SUB_TEXT.sub(r"_{\2}", text)
    text = _TEXT_HAT.sub(r"\1", text)
    text = _TEXT.sub(_text_replacement, text)
    text = _OTHERWISE.sub(r" \\otherwise ", text)
    text = re.sub(r"\\(?:widehat)(?![A-Za-z])", r"\\hat", text)
    text = re.sub(r"\\[dt]frac(?![A-Za-z])", r"\\frac", text)
    text = re.sub(r"\\(?:ge)(?![A-Za-z])", r"\\geq", text)
    text = re.sub(r"\\(?:le)(?![A-Za-z])", r"\\leq", text)
    text = re.sub(r"\\(?:ne)(?![A-Za-z])", r"\\neq", text)
    text = re.sub(r"\\(?:intercal)(?![A-Za-z])", r"\\top", text)
    text = _FONT.sub("", text)
    text = _TILDE.sub(r" \1tilde ", text)  # \tilde{h} is the one name htilde (the grammar has no accent but ^)
    text = _COST_CALL.sub(_cost, text)
    text = _GREEK_LAYER.sub(lambda m: rf"\{m.group(1)}_{{{m.group(2)}}}" + ("^\\top " if m.group(3) else " "), text)
    text = _LAYER.sub(lambda m: rf"\layer{{{m.group(1)}}}{{{m.group(2)}}}" + ("^\\top " if m.group(3) else " "), text)
    text = _MATRIX.sub(lambda m: r" \endmatrix " if m.group(1) == "end" else r" \matrix ", text)
    text = re.sub(r"\\\\\s*(?=\\endmatrix)", " ", text)  # a row separator after the last row
    text = re.sub(r"\\(?:[cl]?dots)(?![A-Za-z])|\.\.\.", r" \\dots ", text)  # ⋯, …: along the row
    text = _CASES.sub(lambda m: r" \endcases " if "end" in m.group() else r" \cases ", text)
    text = re.sub(r"\by_hat\b", "yhat", text)
    # δ_ij, W_li, (W_f)_li typed without braces mean δ_{ij}, W_{li}: two index letters, not δ_i·j
    text = re.sub(r"(?<=[A-Za-z})])\s*_\s*([a-z])([a-z])(?![A-Za-z])", r"_{\1\2}", text)
    # ∂C/∂y_i written on one line is the fraction \frac{∂C}{∂y_i}
    text = _PARTIAL_SLASH.sub(lambda m: rf"\frac{{\partial {m.group(1)}}}{{\partial {m.group(2)}}}", text)
    text = re.sub(r"\\mathbb\s*\{\s*R\s*\}", "", text)
    text = _IDENTITY.sub("I", text)  # \mathbb{I}, \mathbf{I}: the identity, read as I
    text = _HADAMARD_POWER.sub(r"^{\1}", text)  # A^{⊙2}: powers of a matrix are read entry by entry anyway
    if r"\cases" in text:
        text = _WORDS.sub(" ", text)
    return text.strip()
