"""A matrix written with ellipses, read as its general entry.

`[x_1 g_1, x_2 g_1, ⋯, x_N g_1; ⋮; x_1 g_M, ⋯, x_N g_M]` stands for the entry x_j g_i at row i,
column j: every written entry is that pattern at its own row and column, and the last row and
column (after ⋮ and ⋯) say where the matrix ends. The pattern is worked out from the subscripts
that change from entry to entry, each a row's or a column's number plus a fixed offset; every written
entry must then be the pattern at its place, else the matrix is refused in one line as ambiguous.
The ends are checked against the gradient's shape (a wrong end is a wrong answer, ShapeMismatch).
Everything is tree work on what the parser built; nothing is evaluated.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from derive.check import parse as t
from derive.check.screen import InvalidAnswer
from derive.check.vocabulary import ShapeMismatch

_SLOT = t.Word("□")  # a subscript's place in the skeleton that entries share


def general_entry(matrix: t.Matrix, axes: list, dims: dict) -> t.Node:
    """The entry of `matrix` at the gradient's free indices. `axes`: [(free index name, dimension
    Symbol)] of the gradient (one for a vector, two for a matrix); `dims`: the sizes' names here."""
    rows, cols, cells = _layout(matrix)
    if not axes:
        raise InvalidAnswer("the answer is a matrix, but the gradient here is a scalar")
    first = next(iter(cells.values()))
    skeleton = _fill(first, iter([_SLOT] * len(_indices(first))))
    for (r, c), cell in cells.items():
        if _fill(cell, iter([_SLOT] * len(_indices(cell)))) != skeleton:
            raise InvalidAnswer(f"the written entries do not follow one pattern ({_where(r, c)} differs in "
                                "form from the first): write the general entry instead")
    places = [_place(p, cells, rows, cols) for p in range(len(_indices(first)))]
    ends = {axis: _end(axis, k, labels, places, cells) for axis, k, labels in (("row", 0, rows), ("col", 1, cols))}
    names = _orient(axes, rows, cols)
    _sizes(ends, names, dict(axes), dims)
    start = min(cells, key=lambda rc: (rc[0][0] != 0, rc[0], rc[1][0] != 0, rc[1]))
    r0, c0 = cells[start], start
    if c0[0][0] != 0 or c0[1][0] != 0:
        raise InvalidAnswer("the matrix shows no entry before its ellipses; write its first entry")
    used = {n.text for n in _words(r0)} | {n.index for n in _sums(r0)}
    clash = sorted(used & {name for name, _ in axes})
    if clash:
        raise InvalidAnswer(f"the entries already use {', '.join(clash)}, which the pattern needs for the "
                            "rows and columns; write the general entry instead")
    slots = []
    for kind, offset in places:
        slots.append(_index(names[kind], offset) if kind in ("row", "col") else None)
    written = iter(_indices(r0))
    return _fill(r0, (s if s is not None else old for s, old in zip(slots, written)))


def _where(r, c) -> str:
    """The entry at labels r, c in words: row 2, column 1; the last row, column 1."""
    def one(label, what):
        base, offset = label
        if base == 0:
            return f"{what} {offset}"
        return f"the last {what}" if offset == 0 else f"the {what} {-offset} before the last"

    return f"the entry in {one(r, 'row')}, {one(c, 'column')}"


def _layout(matrix: t.Matrix):
    """Row and column labels ((0, k): the k-th from the start; (1, −k): k before the end) and the
    written entries by (row label, column label)."""
    def elided(cells) -> bool:
        return all(c is None or isinstance(c, t.Dots) for c in cells) and any(isinstance(c, t.Dots) for c in cells)

    kept = [r for r in matrix.rows if not elided(r)]
    rows = _labels([elided(r) for r in matrix.rows], "⋮ rows")
    if not kept:
        raise InvalidAnswer("the matrix has no written entries")
    width = len(kept[0])
    if any(len(r) != width for r in kept):
        raise InvalidAnswer("the matrix's rows have different numbers of entries")
    col_elided = [all(r[c] is None or isinstance(r[c], t.Dots) for r in kept)
                  and any(isinstance(r[c], t.Dots) and r[c].kind in ("dots", "ddots") for r in kept) for c in range(width)]
    cols = _labels(col_elided, "⋯ columns")
    row_of = [lab for lab in rows if lab is not None]
    col_of = [lab for lab in cols if lab is not None]
    cells = {}
    for r, row in enumerate(kept):
        for c, cell in enumerate(cell for cell, gone in zip(row, col_elided) if not gone):
            if isinstance(cell, t.Node) and not isinstance(cell, t.Dots):
                cells[(row_of[r], col_of[c])] = cell
    if not cells:
        raise InvalidAnswer("the matrix has no written entries")
    return rows, cols, cells


def _labels(gone: list, what: str) -> list:
    """Labels of the kept places (None for an elided one); one run of elided places at most."""
    runs = sum(1 for i, g in enumerate(gone) if g and (i == 0 or not gone[i - 1]))
    if runs > 1:
        raise InvalidAnswer(f"the matrix has more than one run of {what}: its pattern is ambiguous; "
                            "write the general entry instead")
    if not runs:
        return [(0, k + 1) for k in range(len(gone))]
    at = gone.index(True)
    after = len(gone) - at - sum(gone)
    return [(0, k + 1) for k in range(at)] + [None] * sum(gone) + [(1, k - after + 1) for k in range(after)]


def _value(node) -> sp.Expr | None:
    """A subscript as a number or a size: 2, T, N − 1 (None for anything else)."""
    if isinstance(node, t.Num) and node.text.isdigit():
        return sp.Integer(int(node.text))
    if isinstance(node, t.Word) and node.text.isalpha() and len(node.text) == 1:
        return sp.Symbol(node.text)
    if isinstance(node, t.Op) and node.op in ("+", "-"):
        a, b = _value(node.a), _value(node.b)
        if a is not None and b is not None:
            return a + b if node.op == "+" else a - b
    return None


_END = {"row": sp.Symbol("END_ROW"), "col": sp.Symbol("END_COL")}


def _at(label, axis: str) -> sp.Expr:
    base, offset = label
    return sp.Integer(offset) if base == 0 else _END[axis] + offset


def _place(p: int, cells: dict, rows, cols) -> tuple:
    """What subscript p follows: ("row", offset), ("col", offset) or ("const", None)."""
    values = {rc: _value(_indices(cell)[p]) for rc, cell in cells.items()}
    written = {rc: _indices(cell)[p] for rc, cell in cells.items()}
    if len(set(written.values())) == 1:
        return ("const", None)
    if any(v is None for v in values.values()):
        raise InvalidAnswer("a subscript that changes from entry to entry is not a number or a size; "
                            "write the general entry instead")
    fits = []
    for axis, k in (("row", 0), ("col", 1)):
        starts = {sp.simplify(v - _at(rc[k], axis)) for rc, v in values.items() if rc[k][0] == 0}
        if len(starts) == 1:
            fits.append((axis, starts.pop()))
    if len(fits) != 1:
        raise InvalidAnswer("a subscript changes in a way that follows neither the row nor the column "
                            "(or both): the pattern is ambiguous; write the general entry instead")
    return fits[0]


def _end(axis: str, k: int, labels: list, places: list, cells: dict) -> sp.Expr:
    """Where the axis ends: its count when nothing is elided, else what the entries after the
    ellipsis say at the subscripts that follow this axis (all of them alike)."""
    if None not in labels:
        return sp.Integer(len(labels))
    ends = set()
    for p, (kind, offset) in enumerate(places):
        if kind != axis:
            continue
        for rc, cell in cells.items():
            if rc[k][0] == 1:
                ends.add(sp.expand(_value(_indices(cell)[p]) - offset - rc[k][1]))
    what = "row" if axis == "row" else "column"
    if not ends:
        raise InvalidAnswer(f"the matrix does not show its last {what} (no subscript after the ellipsis "
                            "follows it): write the general entry instead")
    if len(ends) > 1:
        raise InvalidAnswer(f"the entries after the ellipsis disagree on the last {what} "
                            f"({', '.join(sorted(map(str, ends)))}): write the general entry instead")
    return ends.pop()


def _orient(axes: list, rows: list, cols: list) -> dict:
    """Which free index each axis of the matrix stands for: rows and columns for a matrix gradient;
    the one axis that has more than one place for a vector (a column or a row)."""
    if len(axes) == 2:
        return {"row": axes[0][0], "col": axes[1][0]}
    if len(cols) == 1:
        return {"row": axes[0][0], "col": None}
    if len(rows) == 1:
        return {"row": None, "col": axes[0][0]}
    raise ShapeMismatch("the answer is a matrix, but the gradient here is a vector")


def _sizes(ends: dict, names: dict, sizes: dict, dims: dict) -> None:
    """The matrix's last row and column against the gradient's sizes; an end the answer names by a
    letter of its own (T for the length of y) stands for one size only."""
    own: dict = {}
    for axis in ("row", "col"):
        end, name = ends[axis], names[axis]
        what = "rows" if axis == "row" else "columns"
        if name is None:
            continue
        size = sizes[name]
        if end.is_Integer:
            raise InvalidAnswer(f"the matrix is written out in full ({end} {what}), but the gradient's {what} "
                                f"run to {size}: write the pattern with ⋮ and ⋯, or the general entry")
        if not isinstance(end, sp.Symbol):
            raise InvalidAnswer(f"the last of the matrix's {what} is {end}, which is not a size")
        if end.name in dims:
            if end.name != str(size):
                raise ShapeMismatch(f"the matrix's {what} run to {end}, but the gradient's run to {size}")
        elif own.setdefault(end.name, size) != size:
            raise ShapeMismatch(f"the matrix's rows and columns both run to {end}, but the gradient is "
                                f"{own[end.name]} × {size}")


def _index(name: str, offset) -> t.Node:
    word = t.Word(name)
    if offset == 0:
        return word
    n = t.Num(str(abs(int(offset))))
    return t.Op("+" if offset > 0 else "-", word, n)


def _children(node):
    return [(f.name, getattr(node, f.name)) for f in dataclasses.fields(node)] if isinstance(node, t.Node) else []


def _indices(node) -> list:
    """The subscripts of `node`, in reading order: every entry of every Sub's index."""
    out = []

    def go(n):
        if isinstance(n, t.Sub):
            go(n.base)
            out.extend(_split(n.index))
            return
        for _, value in _children(n):
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, tuple):
                    for sub in item:
                        go(sub)
                else:
                    go(item)

    go(node)
    return out


def _split(index: tuple) -> list:
    """A subscript's places: W_{k1} (k next to 1) has two, like W_{k,1}."""
    out = []
    for item in index:
        if isinstance(item, t.Word) and len(item.text) > 1 and item.text.isalpha():  # W_{kD}: two letters
            out.extend(t.Word(c) for c in item.text)
            continue
        leaves = _juxt_leaves(item)
        out.extend(leaves if leaves and len(leaves) > 1 else [item])
    return out


def _juxt_leaves(node) -> list | None:
    if isinstance(node, t.Op) and node.op == "juxt":
        a, b = _juxt_leaves(node.a), _juxt_leaves(node.b)
        return a + b if a is not None and b is not None else None
    if isinstance(node, t.Num) and node.text.isdigit() or isinstance(node, t.Word) and len(node.text) == 1:
        return [node]
    return None


def _fill(node, new):
    """`node` with its subscripts (in `_indices` order) replaced by the nodes `new` yields."""
    if isinstance(node, t.Sub):
        base, old = _fill(node.base, new), _split(node.index)
        index = tuple(next(new) for _ in old)
        return t.Sub(base, node.index if list(index) == old else index)  # unchanged: as written (Y_{gt})
    if not isinstance(node, t.Node):
        return node
    changes = {}
    for name, value in _children(node):
        if isinstance(value, tuple):
            changes[name] = tuple(tuple(_fill(s, new) for s in v) if isinstance(v, tuple) else _fill(v, new)
                                  for v in value)
        elif isinstance(value, t.Node):
            changes[name] = _fill(value, new)
    return dataclasses.replace(node, **changes) if changes else node


def _words(node):
    if isinstance(node, t.Word):
        yield node
    for _, value in _children(node):
        for item in value if isinstance(value, tuple) else (value,):
            for sub in item if isinstance(item, tuple) else (item,):
                yield from _words(sub)


def _sums(node):
    if isinstance(node, t.BigSum):
        yield node
    for _, value in _children(node):
        for item in value if isinstance(value, tuple) else (value,):
            for sub in item if isinstance(item, tuple) else (item,):
                yield from _sums(sub)
