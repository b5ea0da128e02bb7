"""A written solution read into its math, each piece with its line and the headings above it.

Markdown (with `$…$`, `$$…$$`, `\\begin{aligned}`, tables, block quotes) is read with markdown-it-py
and its math plugins; LaTeX (`$…$`, `\\[…\\]`, `equation`, `align`, …) with pylatexenc. Neither runs
anything from the document: both are parsers, and the text they return is only ever read by
derive's own answer grammar, never evaluated as Python nor handed to TeX.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from derive.errors import DeriveError

MAX_DOCUMENT_CHARS = 200_000  # a solution of 50 pages; larger documents are refused in one line
MAX_MATH = 5_000  # math pieces in one document

FORMATS = ("md", "tex")


@dataclass(frozen=True)
class Math:
    """One piece of math: where it starts (1-based line), its LaTeX, and the headings it sits under."""

    line: int
    latex: str
    display: bool
    section: tuple[str, ...]
    row: tuple[int, str] | None = None  # (k, label) for the output cell of row k of a forward table


def read_document(text: str, fmt: str | None = None) -> list[Math]:
    """The math of a written solution, in document order. `fmt` is "md" or "tex"; by default a
    document with `\\documentclass`, `\\begin{document}` or `\\section` is LaTeX, any other Markdown."""
    if not isinstance(text, str):
        raise DeriveError("a document must be text")
    if len(text) > MAX_DOCUMENT_CHARS:
        raise DeriveError(f"the document has {len(text):,} characters; at most {MAX_DOCUMENT_CHARS:,} are read")
    if "\x00" in text:
        raise DeriveError("the document contains a NUL character; is it a binary file?")
    fmt = fmt or guess_format(text)
    if fmt not in FORMATS:
        raise DeriveError(f"unknown document format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    try:
        pieces = _markdown(text) if fmt == "md" else _latex(text)
    except RecursionError:  # the parsers recurse into groups and quotes
        raise DeriveError("the document nests groups or quotes too deeply to read") from None
    if len(pieces) > MAX_MATH:
        raise DeriveError(f"the document has {len(pieces):,} pieces of math; at most {MAX_MATH:,} are read")
    return pieces


def guess_format(text: str) -> str:
    return "tex" if re.search(r"\\(documentclass|begin\{document\}|(sub)*section\*?\{)", text) else "md"


# ---------------------------------------------------------------- Markdown


def _markdown_parser():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.amsmath import amsmath_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    return (MarkdownIt("commonmark").enable("table")
            .use(dollarmath_plugin, allow_space=True, allow_digits=True, double_inline=True)
            .use(amsmath_plugin))


def _markdown(text: str) -> list[Math]:
    lines = text.splitlines()
    tokens = _markdown_parser().parse(text)
    pieces: list[Math] = []
    headings: list[tuple[int, str]] = []
    table = _Table()
    for n, token in enumerate(tokens):
        row = table.see(token)
        if row is not None:
            pieces.append(Math(row[0], row[1], False, tuple(h[1] for h in headings), row[2]))
        if token.type == "heading_open":
            level = int(token.tag[1:])
            title = _plain(tokens[n + 1]) if n + 1 < len(tokens) else ""
            headings = [h for h in headings if h[0] < level] + [(level, title)]
        elif token.type in ("math_block", "math_block_label", "amsmath"):
            start = token.map[0] + 1 if token.map else 1
            pieces.append(Math(_first_line_of(token.content, lines, start), token.content.strip(), True,
                               tuple(h[1] for h in headings)))
        elif token.type == "inline" and token.children:
            cursor = _Cursor(lines, token.map[0] if token.map else 0)
            for child in token.children:
                if child.type in ("math_inline", "math_inline_double"):
                    pieces.append(Math(cursor.find(child.content), child.content.strip(),
                                       child.type == "math_inline_double", tuple(h[1] for h in headings)))
    return pieces


class _Table:
    """The output cells of a forward table, one per row: a table with a column headed "Output", its rows
    the modules in order (`| Linear_1 | x | W x + b |`). Each cell is the claim that the row's module
    outputs it."""

    def __init__(self):
        self.column = self.cells = self.body = self.line = None
        self.header: list = []
        self.count = 0

    def see(self, token):
        """(line, output cell's math, (row number, label)) when `token` ends a body row with one."""
        if token.type == "table_open":
            self.header, self.body, self.column, self.count = [], False, None, 0
        elif token.type == "tbody_open":
            self.body = True
            self.column = next((k for k, h in enumerate(self.header) if h.strip().lower() == "output"), None)
        elif token.type == "tr_open":
            self.cells, self.line = [], (token.map[0] + 1 if token.map else 1)
        elif token.type == "inline" and self.cells is not None:
            if not self.body:
                self.header.append(_plain(token))
            self.cells.append(token)
        elif token.type == "tr_close" and self.body and self.column is not None and self.cells is not None:
            self.count += 1
            cells, self.cells = self.cells, None
            maths = [[c.content for c in (cell.children or ()) if c.type == "math_inline"] for cell in cells]
            if self.column < len(maths) and len(maths[self.column]) == 1 and maths[0]:
                return self.line, maths[self.column][0].strip(), (self.count, maths[0][0].strip())
        elif token.type == "table_close":
            self.body = self.cells = None
        return None


def _plain(inline) -> str:
    """A heading's text without its markup (math kept as written)."""
    if inline.type != "inline":
        return ""
    return " ".join(c.content.strip() for c in inline.children or () if c.content).strip()


def _first_line_of(content: str, lines: list[str], start: int) -> int:
    """The line where a block's math begins: its first non-empty line at or after the block's start."""
    first = next((s for s in content.splitlines() if s.strip()), "")
    for k in range(start - 1, min(len(lines), start + 20)):
        if first.strip()[:30] and first.strip()[:30] in lines[k]:
            return k + 1
    return start


class _Cursor:
    """Finds the line of each inline math piece of a paragraph, moving forward as pieces are found."""

    def __init__(self, lines: list[str], start: int):
        self.lines, self.row, self.col = lines, start, 0

    def find(self, content: str) -> int:
        probe = content.splitlines()[0] if content.strip() else content
        for row in range(self.row, min(len(self.lines), self.row + 200)):
            col = self.lines[row].find(probe, self.col if row == self.row else 0)
            if col >= 0:
                self.row, self.col = row, col + max(1, len(probe))
                return row + 1
        return self.row + 1


# ---------------------------------------------------------------- LaTeX

_DISPLAY_ENVS = {"equation", "equation*", "align", "align*", "gather", "gather*", "multline", "multline*",
                 "flalign", "flalign*", "eqnarray", "eqnarray*", "displaymath", "math"}
_SECTIONS = {"part": 0, "chapter": 1, "section": 2, "subsection": 3, "subsubsection": 4, "paragraph": 5}


def _latex(text: str) -> list[Math]:
    from pylatexenc.latexwalker import (
        LatexEnvironmentNode,
        LatexGroupNode,
        LatexMacroNode,
        LatexMathNode,
        LatexWalker,
        LatexWalkerError,
    )

    walker = LatexWalker(text, tolerant_parsing=True)
    try:
        nodes, _, _ = walker.get_latex_nodes()
    except LatexWalkerError as error:  # pylatexenc's own parse errors, even in tolerant mode
        raise DeriveError(f"cannot read the LaTeX document: {str(error).splitlines()[0]}") from None
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())

    def line_of(pos: int) -> int:
        import bisect

        return bisect.bisect_right(starts, pos)

    pieces: list[Math] = []
    headings: list[tuple[int, str]] = []

    def visit(nodelist, depth=0):
        nonlocal headings
        if depth > 50:
            raise DeriveError("the document nests groups more than 50 deep")
        for node in nodelist or ():
            if isinstance(node, LatexMacroNode) and node.macroname in _SECTIONS:
                level = _SECTIONS[node.macroname]
                title = _macro_argument(node)
                headings = [h for h in headings if h[0] < level] + [(level, title)]
            elif isinstance(node, LatexMathNode):
                body = node.latex_verbatim()
                inner = body[len(node.delimiters[0]):len(body) - len(node.delimiters[1])]
                pieces.append(Math(line_of(node.pos), inner.strip(), node.displaytype == "display",
                                   tuple(h[1] for h in headings)))
            elif isinstance(node, LatexEnvironmentNode) and node.environmentname in _DISPLAY_ENVS:
                body = node.latex_verbatim()
                inner = re.sub(r"^\\begin\{[^}]*\}|\\end\{[^}]*\}$", "", body)
                if node.environmentname.startswith(("align", "flalign", "eqnarray")):
                    inner = "\\begin{aligned}" + inner.rstrip() + "\\end{aligned}"  # rows keep their lines
                else:
                    inner = inner.strip()
                pieces.append(Math(line_of(node.pos), inner, True, tuple(h[1] for h in headings)))
            elif isinstance(node, (LatexEnvironmentNode, LatexGroupNode)):
                visit(node.nodelist, depth + 1)

    visit(nodes)
    return pieces


def _macro_argument(node) -> str:
    args = node.nodeargd.argnlist if node.nodeargd else []
    group = next((a for a in reversed(args) if a is not None), None)
    if group is None:
        return ""
    text = group.latex_verbatim()
    return text[1:-1].strip() if text.startswith("{") else text.strip()
