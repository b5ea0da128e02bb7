"""Statements: Markdown with `$…$` math, checked and turned into Markdown or LaTeX.

The rule for untrusted text in a sheet: prose is *escaped* (every TeX special character
becomes a printable one, so `\\input{/etc/hostname}` in a sentence prints as those
characters), and math is *sanitized* (it must pass through unchanged to render, so each
control sequence must be on an allow-list; `\\input`, `\\write18`, `\\def`, `\\csname`,
`\\catcode`, `^^` escapes, `#` and `%` are refused with an error naming the line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

from derive.errors import DeriveError
from derive.render.printer import escape_tex

GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi "
         "rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega")
COMMANDS = frozenset((GREEK + " "
    "frac dfrac tfrac partial nabla sum prod int log ln exp max min arg argmax argmin sup inf lim "
    "tanh sinh cosh sin cos tan det operatorname mathbf mathrm mathbb mathcal mathit boldsymbol "
    "text textbf textit emph hat tilde bar vec dot top intercal prime left right big Big bigg Bigg "
    "bigl bigr Bigl Bigr cdot cdots ldots dots vdots ddots times odot circ otimes oplus in notin "
    "subset subseteq le leq ge geq neq ne approx equiv sim propto to rightarrow leftarrow Rightarrow "
    "Leftarrow implies iff mapsto infty quad qquad sqrt underbrace overbrace underset overset boxed "
    "mid ell pm mp forall exists langle rangle lVert rVert lvert rvert vert Vert displaystyle "
    "textstyle limits nolimits begin end mathsf ast star cup cap setminus emptyset not lfloor "
    "rfloor lceil rceil colon mathop").split())
CONTROL_SYMBOLS = frozenset("\\,;!: {}|_&%")
ENVIRONMENTS = frozenset(["aligned", "cases", "bmatrix", "pmatrix", "matrix", "vmatrix", "Bmatrix", "split", "gathered", "array"])

# Unicode a statement may use inside math, as TeX.
MATH_UNICODE = {
    "∂": r"\partial ", "δ": r"\delta ", "β": r"\beta ", "σ": r"\sigma ", "θ": r"\theta ", "α": r"\alpha ",
    "λ": r"\lambda ", "Δ": r"\Delta ", "Σ": r"\Sigma ", "∈": r"\in ", "ℝ": r"\mathbb{R}", "×": r"\times ",
    "ᵀ": r"^\top ", "⊙": r"\odot ", "≠": r"\neq ", "≤": r"\leq ", "≥": r"\geq ", "−": "-", "·": r"\cdot ",
    "→": r"\to ", "ŷ": r"\hat{y}", "φ": r"\phi ", "ϕ": r"\phi ", "∑": r"\sum ", "…": r"\ldots ", "′": "'",
    "‖": r"\| ", "∘": r"\circ ",
}

_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\$)(.+?)(?<!\\)\$", re.DOTALL)
_CONTROL = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)


class StatementError(DeriveError):
    """A problem in a statement; `line` is the line within the statement (1-based)."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Segment:
    kind: str  # text | math | display
    body: str


def check_math(math: str, line: int = 1) -> str:
    """The math as TeX, or StatementError if it uses anything outside the allow-list."""
    out = []
    for c in math:
        if ord(c) > 126:
            if c not in MATH_UNICODE:
                raise StatementError(f"character {c!r} in math; write it as a TeX command", line)
            out.append(MATH_UNICODE[c])
        else:
            out.append(c)
    tex = "".join(out)
    if "^^" in tex:
        raise StatementError("'^^' in math is a TeX character escape and is not allowed", line)
    for ch in "#%":
        if re.search(r"(?<!\\)" + re.escape(ch), tex):
            raise StatementError(f"{ch!r} in math is not allowed", line)
    depth = 0
    for m in re.finditer(r"\\.|[{}]", tex, re.DOTALL):
        if m.group() == "{":
            depth += 1
        elif m.group() == "}":
            depth -= 1
            if depth < 0:
                raise StatementError("unbalanced '}' in math", line)
    if depth:
        raise StatementError("unbalanced '{' in math", line)
    for m in _CONTROL.finditer(tex):
        name = m.group(1)
        if len(name) == 1 and not name.isalpha():
            if name not in CONTROL_SYMBOLS:
                raise StatementError(f"control symbol \\{name} is not allowed in math", line)
            continue
        if name not in COMMANDS:
            raise StatementError(f"\\{name} is not allowed in math (allowed: the usual math commands)", line)
        if name in ("begin", "end"):
            env = re.match(r"\s*\{([A-Za-z*]+)\}", tex[m.end():])
            if not env or env.group(1) not in ENVIRONMENTS:
                raise StatementError(f"\\{name} of an environment other than {', '.join(sorted(ENVIRONMENTS))}",
                                     line)
    return tex


def segments(text: str) -> list:
    """Prose and math, in order; math checked."""
    out, pos = [], 0
    for m in _MATH.finditer(text):
        if m.start() > pos:
            out.append(Segment("text", text[pos:m.start()]))
        line = text.count("\n", 0, m.start()) + 1
        if m.group(1) is not None:
            out.append(Segment("display", check_math(m.group(1), line)))
        else:
            out.append(Segment("math", check_math(m.group(2), line)))
        pos = m.end()
    if pos < len(text):
        out.append(Segment("text", text[pos:]))
    return out


def check_statement(text: str) -> None:
    """Raise StatementError (with the line in `text`) for math outside the allow-list, a bad code block
    or a link to anything but a web page or a mail address."""
    prose = []
    for block in _blocks(text):
        if block[0] == "code" and re.search(r"\\end\s*\{\s*lstlisting\s*\}", block[2]):
            raise StatementError("a code block may not contain \\end{lstlisting}", block[3])
    for n, line in enumerate(_without_code(text).splitlines()):
        prose.append(line)
        m = _LINK.search(line)
        if m and m.group(1).lower() not in LINK_SCHEMES:
            raise StatementError(f"a link to {m.group(1)}: is not allowed; links may be "
                                 f"{', '.join(LINK_SCHEMES)} or relative", n + 1)
    segments("\n".join(prose))


def _without_code(text: str) -> str:
    """The text with fenced code blocks blanked out, line numbers kept."""
    out, inside = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            inside = not inside
            out.append("")
        else:
            out.append("" if inside else line)
    return "\n".join(out)


# ---------------------------------------------------------------- Markdown → Markdown


LINK_SCHEMES = ("http", "https", "mailto")
# A link's or image's target, inline `](x:` or a reference `[r]: x:`, naming a scheme (javascript:, data:)
_LINK = re.compile(r"(?:\]\(\s*<?|^\s*\[[^\]]+\]:\s*<?)\s*([A-Za-z][A-Za-z0-9+.-]*):")
_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.DOTALL)


def to_markdown(text: str) -> Markup:
    """The statement as Markdown: checked, trailing space trimmed, and raw HTML made text (a `<`
    in prose is `&lt;`, in math `\\lt`), so nothing in a sheet becomes a tag where it is shown.
    Code blocks and code spans are left as they are: Markdown shows them as typed."""
    check_statement(text)
    return Markup(_no_html(text.strip()))


def markdown_text(text: str) -> Markup:
    """A plain one-line field (a title) for Markdown, with raw HTML made text."""
    return Markup(str(text).replace("<", "&lt;"))


def _no_html(text: str) -> str:
    out, chunk, fence = [], [], None
    for line in text.split("\n"):
        opens = line.lstrip().startswith("```")
        if fence is None and opens:
            out.append(_no_html_inline("\n".join(chunk)))
            chunk, fence = [], line
            out.append(line)
        elif fence is not None:
            out.append(line)
            fence = None if opens else fence
        else:
            chunk.append(line)
    out.append(_no_html_inline("\n".join(chunk)))
    return "\n".join(o for o in out if o is not None)


def _no_html_inline(text: str) -> str:
    out, pos = [], 0
    for m in _MATH.finditer(text):  # math as written (checked already), its < as \\lt
        math = m.group().replace("<", r"\lt ")
        before = _no_html_prose(text[pos:m.start()])
        if m.group(1) is not None:  # a display: a paragraph of its own, or GitHub sets it inline
            before, math = before.rstrip(" \t\n") + "\n\n", math + "\n\n"
            if not before.strip():
                before = before.strip()
        out += [before, math]
        pos = m.end()
        if m.group(1) is not None:
            pos += len(text[pos:]) - len(text[pos:].lstrip(" \t\n"))
    tail = _no_html_prose(text[pos:])
    if out and out[-1].endswith("$$\n\n") and not tail.strip():
        out[-1], tail = out[-1][:-2], ""  # a display that ends the text needs no blank line after it
    return "".join(out + [tail])


def _no_html_prose(text: str) -> str:
    out, pos = [], 0
    for m in _SPAN.finditer(text):  # a code span shows as typed
        out += [text[pos:m.start()].replace("<", "&lt;"), m.group()]
        pos = m.end()
    out.append(text[pos:].replace("<", "&lt;"))
    return "".join(out)


# ---------------------------------------------------------------- Markdown → LaTeX

_LIST = re.compile(r"^\s*(?:([-*+])|(\d+)[.)])\s+")


def _blocks(text: str) -> list:
    """Block structure: ('code', lang, body, line), ('list', ordered, items), ('table', rows),
    ('heading', text), ('para', text)."""
    lines = text.strip("\n").splitlines()
    blocks, n = [], 0
    while n < len(lines):
        line = lines[n]
        if not line.strip():
            n += 1
            continue
        if line.lstrip().startswith("```"):
            lang, start, body = line.strip()[3:].strip(), n + 1, []
            n += 1
            while n < len(lines) and not lines[n].lstrip().startswith("```"):
                body.append(lines[n])
                n += 1
            if n == len(lines):
                raise StatementError("code block not closed with ```", start)
            n += 1
            blocks.append(("code", lang, "\n".join(body), start))
            continue
        if line.lstrip().startswith("|"):
            rows = []
            while n < len(lines) and lines[n].lstrip().startswith("|"):
                cells = [c.strip() for c in lines[n].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                    rows.append(cells)
                n += 1
            blocks.append(("table", rows))
            continue
        if line.startswith("#"):
            blocks.append(("heading", line.lstrip("#").strip()))
            n += 1
            continue
        if _LIST.match(line):
            ordered = bool(_LIST.match(line).group(2))
            items = []
            while n < len(lines) and lines[n].strip():
                m = _LIST.match(lines[n])
                if m:
                    items.append(lines[n][m.end():])
                else:
                    items[-1] += "\n" + lines[n].strip()
                n += 1
            blocks.append(("list", ordered, items))
            continue
        para = []
        while n < len(lines) and lines[n].strip() and not lines[n].lstrip().startswith(("```", "|")):
            para.append(lines[n])
            n += 1
        blocks.append(("para", "\n".join(para)))
    return blocks


def _inline_tex(text: str) -> str:
    """Prose escaped, math passed through checked, **bold**, *emphasis* and `code`."""
    out, state = [], {"**": False, "*": False}
    for seg in segments(text):
        if seg.kind == "math":
            out.append(f"${seg.body}$")
        elif seg.kind == "display":
            out.append(f"\n\\[ {seg.body} \\]\n")
        else:
            for tok in re.split(r"(`[^`]+`|\*\*|\*)", seg.body):
                if tok in ("**", "*"):
                    state[tok] = not state[tok]
                    out.append(("\\textbf{" if tok == "**" else "\\emph{") if state[tok] else "}")
                elif tok.startswith("`") and tok.endswith("`") and len(tok) > 1:
                    out.append(r"\texttt{" + escape_tex(tok[1:-1], names=False) + "}")
                else:
                    out.append(escape_tex(tok.replace("\\$", "$")))
    out += ["}" for v in state.values() if v]
    return "".join(out)


def to_tex(text: str) -> Markup:
    """The statement as a LaTeX fragment."""
    check_statement(text)
    parts = []
    for block in _blocks(text):
        kind = block[0]
        if kind == "code":
            lang = block[1] if re.fullmatch(r"[A-Za-z]+", block[1] or "") else ""
            opts = f"[language={lang.capitalize()}]" if lang.lower() == "python" else ""
            parts.append(f"\\begin{{lstlisting}}{opts}\n{block[2]}\n\\end{{lstlisting}}")
        elif kind == "list":
            env = "enumerate" if block[1] else "itemize"
            items = "\n".join(f"  \\item {_inline_tex(item)}" for item in block[2])
            parts.append(f"\\begin{{{env}}}\n{items}\n\\end{{{env}}}")
        elif kind == "table":
            rows = block[1]
            width = max(len(r) for r in rows)
            body = [" & ".join(_inline_tex(c) for c in r + [""] * (width - len(r))) + r" \\" for r in rows]
            head = body[:1] + [r"\midrule"] + body[1:] if len(body) > 1 else body
            parts.append("\\begin{center}\\begin{tabular}{" + "l" * width + "}\n\\toprule\n"
                         + "\n".join(head) + "\n\\bottomrule\n\\end{tabular}\\end{center}")
        elif kind == "heading":
            parts.append(f"\\paragraph{{{_inline_tex(block[1])}}}")
        else:
            parts.append(_inline_tex(block[1]))
    return Markup("\n\n".join(parts))
