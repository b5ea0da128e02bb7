"""The matrix form of an index-form result, read from its index structure.

Each term of the result is read by where its free indices sit: `g_i x_j` is the outer product
g xᵀ, `Σ_n X_ni G_nj` is Xᵀ G, `Σ_j A_ij G_ij` is (A ⊙ G) 𝟏, `δ_ij f_i` is diag(f), `x_i G_ij`
is diag(x) G, and a term whose entries all carry the result's own indices is entrywise (⊙).
A term that fits none of these (the hinge losses, index arithmetic such as x_{i+k−1}) leaves
the result without a matrix form (NoMatrixForm). The form is a tree (derive.model.matexpr)
with the names to print it by; derive.verify checks it against the index form before it is
attached to a derivation.

Layout: by default a gradient has the shape of the variable (denominator layout); numerator
layout transposes it. A Jacobian ∂y/∂x has rows indexed by y and columns by x.
"""

from __future__ import annotations

import sympy as sp

from derive.model import matexpr as mx
from derive.model import notation
from derive.steps import Derivation, MatrixForm


class NoMatrixForm(Exception):
    pass


def _dims(var_shape) -> tuple:
    dims = tuple(str(s) for s in var_shape)
    return dims if len(dims) == 2 else (dims[0], "1")


def _indices(factor: sp.Expr, allowed: set) -> frozenset:
    """The index symbols the entries of `factor` carry; NoMatrixForm for any other index."""
    found = set()
    for ind in factor.atoms(sp.Indexed):
        for s in ind.indices:
            if not (isinstance(s, sp.Symbol) and s in allowed):
                raise NoMatrixForm(f"the index {s} of {ind} is not one a matrix product can read")
            found.add(s)
    return frozenset(found)


def _oriented(ind: sp.Indexed, orient: tuple, shapes: dict) -> mx.MatExpr:
    """The matrix of an entry, transposed when its indices run the other way round."""
    if ind.base not in shapes:
        raise NoMatrixForm(f"{ind.base} has no shape")
    leaf = mx.MatSym(ind.base.name, shapes[ind.base])
    if tuple(ind.indices) == tuple(orient):
        return leaf
    if len(orient) == 2 and tuple(ind.indices) == tuple(orient[::-1]):
        return mx.transpose(leaf)
    raise NoMatrixForm(f"{ind} is not indexed by {orient}")


def _entrywise(expr: sp.Expr, orient: tuple, shapes: dict) -> mx.MatExpr:
    """`expr`, every entry of which is indexed by `orient`, read entry by entry as one matrix."""
    if expr.has(sp.Sum, sp.KroneckerDelta, sp.Derivative):
        raise NoMatrixForm("a sum, delta or derivative inside an entrywise factor")
    entries = sorted(expr.atoms(sp.Indexed), key=sp.default_sort_key)  # named by their matrix: A before G
    stand_ins = {ind: sp.Symbol(f"{ind.base.name}·{n}") for n, ind in enumerate(entries)}
    trees = {stand_ins[ind]: _oriented(ind, orient, shapes) for ind in stand_ins}
    if not trees:
        raise NoMatrixForm("no entry to read")
    return from_scalar(expr.xreplace(stand_ins), trees, next(iter(trees.values())).shape)


_FUNCTIONS = {sp.exp: "exp", sp.log: "log", sp.tanh: "tanh"}
_RELATIONS = {sp.StrictGreaterThan: ">", sp.GreaterThan: ">=", sp.StrictLessThan: "<", sp.LessThan: "<="}
_NOT = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


def from_scalar(e: sp.Expr, trees: dict, shape: tuple) -> mx.MatExpr:
    """A scalar expression in stand-in symbols (each one entry of the matrix `trees[symbol]`) as
    the matrix expression that computes it entry by entry."""

    def read(a):
        return from_scalar(a, trees, shape)

    if not e.free_symbols & trees.keys():
        return mx.scale(e, mx.Ones(shape))
    if e in trees:
        return trees[e]
    if isinstance(e, sp.Add):
        return mx.add(*(read(a) for a in e.args))
    if isinstance(e, sp.Mul):
        coeff = sp.Mul(*(f for f in e.args if not f.free_symbols & trees.keys()))
        factors = [f for f in e.args if f.free_symbols & trees.keys()]
        den = [f.base ** -f.exp for f in factors if isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp < 0]
        num = [read(f) for f in factors if not (isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp < 0)]
        top = mx.hadamard(*num) if num else mx.Ones(shape)
        return mx.scale(coeff, mx.quotient(top, mx.hadamard(*(read(f) for f in den))) if den else top)
    if isinstance(e, sp.Pow) and e.exp.is_Integer:
        base = mx.power(read(e.base), abs(int(e.exp)))
        return base if e.exp > 0 else mx.quotient(mx.Ones(shape), base)
    if isinstance(e, sp.Pow) and e.exp == sp.S.Half:
        return mx.Apply("sqrt", read(e.base))
    if type(e) in _FUNCTIONS and len(e.args) == 1:
        return mx.Apply(_FUNCTIONS[type(e)], read(e.args[0]))
    if isinstance(e, sp.Heaviside) and len(e.args) == 2 and e.args[1] in (0, 1):
        return mx.Indicator(read(e.args[0]), ">" if e.args[1] == 0 else ">=")
    if isinstance(e, sp.Piecewise) and len(e.args) == 2 and e.args[1].cond is sp.true \
            and type(e.args[0].cond) in _RELATIONS:
        (first, cond), (other, _) = e.args
        arg, op, bound = _comparison(cond, trees)
        return mx.add(mx.hadamard(read(first), mx.Indicator(read(arg), op, bound)),
                      mx.hadamard(read(other), mx.Indicator(read(arg), _NOT[op], bound)))
    symbols = e.free_symbols & trees.keys()
    if len(symbols) == 1:  # any other function of one entry: applied entry by entry as written
        (symbol,) = symbols
        return mx.Entrywise(e, symbol, trees[symbol])
    raise NoMatrixForm(f"cannot read {e} entry by entry")


def _comparison(cond, trees: dict) -> tuple:
    """`x > 0` as (x, ">", 0): the matrix side on the left, a scalar bound on the right."""
    op, lhs, rhs = _RELATIONS[type(cond)], cond.lhs, cond.rhs
    if not rhs.free_symbols & trees.keys():
        return lhs, op, rhs
    if not lhs.free_symbols & trees.keys():
        return rhs, _FLIP[op], lhs
    return lhs - rhs, op, sp.S.Zero


def _vector(factors: list, index, shapes: dict) -> mx.MatExpr:
    return _entrywise(sp.Mul(*factors), (index,), shapes)


def _product(factors: list, free: tuple, shapes: dict, shape: tuple) -> mx.MatExpr:
    """A term without sums or deltas: entrywise, an outer product u vᵀ, or diag(u) A diag(v)."""
    groups: dict = {}
    for f in factors:
        groups.setdefault(_indices(f, set(free)), []).append(f)
    if not groups:
        return mx.Ones(shape)
    if len(free) == 1:
        return _entrywise(sp.Mul(*factors), free, shapes)
    i, j = free
    full, row, col = (groups.pop(frozenset(s), None) for s in ({i, j}, {i}, {j}))
    if groups:
        raise NoMatrixForm("a factor with no free index")
    if full:
        left = [mx.diag(_vector(row, i, shapes))] if row else []
        right = [mx.diag(_vector(col, j, shapes))] if col else []
        return mx.matmul(*left, _entrywise(sp.Mul(*full), free, shapes), *right)
    u = _vector(row, i, shapes) if row else mx.Ones((shape[0], "1"))
    v = _vector(col, j, shapes) if col else mx.Ones((shape[1], "1"))
    return mx.matmul(u, mx.transpose(v))


def _diagonal(delta: sp.KroneckerDelta, rest: list, free: tuple, shapes: dict, shape: tuple) -> mx.MatExpr:
    """δ_ij f_i: diag(f), or I."""
    if len(free) != 2 or set(delta.args) != set(free):
        raise NoMatrixForm("a delta on other indices")
    i, j = free
    body = sp.Mul(*rest).xreplace({j: i})
    if body == 1:
        return mx.Identity(shape[0])
    return mx.diag(_entrywise(body, (i,), shapes))


def _contraction(s: sp.Sum, outside: list, free: tuple, shapes: dict, shape: tuple | None = None) -> mx.MatExpr:
    """Σ_k over entries: M q (with 𝟏 for a missing q) for a vector, L diag(m) R for a matrix."""
    if len(s.limits) != 1:
        raise NoMatrixForm("a sum over several indices")
    (k, lo, hi), = s.limits
    if lo != 1 or k in free:
        raise NoMatrixForm("a sum that does not run over a whole dimension")
    groups: dict = {}
    scalars = []
    for f in [*sp.Mul.make_args(s.function), *outside]:
        if f.has(sp.Sum, sp.KroneckerDelta):
            raise NoMatrixForm("a sum or delta inside a sum")
        if f.has(sp.Indexed):
            groups.setdefault(_indices(f, {*free, k}), []).append(f)
        else:
            scalars.append(f)
    if len(free) == 1:
        (i,) = free
        m, q, r = (groups.pop(frozenset(x), None) for x in ({i, k}, {k}, {i}))
        if not groups and m is None and q and shape is not None:
            # x̂_i Σ_k g_k x̂_k = x̂ (x̂ᵀ g), Σ_k g_k = 𝟏 (𝟏ᵀ g): a column times an inner product
            u, v = _inner(q, k, shapes)
            _whole(mx.transpose(u), hi)
            left = _vector(r, i, shapes) if r else mx.Ones((shape[0], "1"))
            return mx.scale(sp.Mul(*scalars), mx.matmul(left, mx.transpose(u), v))
        if groups or m is None:
            raise NoMatrixForm("not a matrix times a vector")
        a = _entrywise(sp.Mul(*m), (i, k), shapes)
        _whole(a, hi)
        out = mx.matmul(a, _vector(q, k, shapes) if q else mx.Ones((a.shape[1], "1")))
        out = mx.hadamard(_vector(r, i, shapes), out) if r else out
    else:
        i, j = free
        left, mid, right, row, col = (groups.pop(frozenset(x), None) for x in ({i, k}, {k}, {k, j}, {i}, {j}))
        full = groups.pop(frozenset({i, j}), None)
        if not groups and left is not None and right is None and mid is None and shape is not None:
            # F_ij Σ_k L_ik = diag(L 𝟏) F: a row sum scaling each row (softmax's Σ_k A_ik ∂C/∂A_ik)
            a = _entrywise(sp.Mul(*left), (i, k), shapes)
            _whole(a, hi)
            sums = mx.matmul(a, mx.Ones((a.shape[1], "1")))
            sums = mx.hadamard(_vector(row, i, shapes), sums) if row else sums
            if full:
                out = mx.matmul(mx.diag(sums), _entrywise(sp.Mul(*full), free, shapes),
                                *([mx.diag(_vector(col, j, shapes))] if col else []))
            else:
                out = mx.matmul(sums, mx.transpose(_vector(col, j, shapes) if col else mx.Ones((shape[1], "1"))))
            return mx.scale(sp.Mul(*scalars), out)
        if groups or full or left is None or right is None:
            raise NoMatrixForm("not a product of two matrices")
        a = _entrywise(sp.Mul(*left), (i, k), shapes)
        _whole(a, hi)
        parts = [mx.diag(_vector(row, i, shapes))] if row else []
        parts += [a] + ([mx.diag(_vector(mid, k, shapes))] if mid else [])
        parts += [_entrywise(sp.Mul(*right), (k, j), shapes)] + ([mx.diag(_vector(col, j, shapes))] if col else [])
        out = mx.matmul(*parts)
    return mx.scale(sp.Mul(*scalars), out)


def _inner(factors: list, k, shapes: dict) -> tuple:
    """Σ_k u_k v_k as (u, v), each a column over k: the first factor and the product of the rest
    (𝟏 and the factor for a sum of one vector)."""
    v = _vector(factors[1:] or factors, k, shapes)
    return (_vector(factors[:1], k, shapes) if len(factors) > 1 else mx.Ones(v.shape)), v


def _whole(a: mx.MatExpr, hi) -> None:
    """A product sums over every column; a sum that stops short of the dimension is no product."""
    if a.shape[1] != str(hi):
        raise NoMatrixForm(f"the sum runs to {hi}, over a dimension of size {a.shape[1]}")


def _term(term: sp.Expr, free: tuple, shapes: dict, shape: tuple) -> tuple:
    """(scalar coefficient, matrix) of one term of the result."""
    scalars, body = [], []
    for f in sp.Mul.make_args(term):
        (body if f.has(sp.Indexed, sp.KroneckerDelta) else scalars).append(f)
    sums = [f for f in body if isinstance(f, sp.Sum)]
    deltas = [f for f in body if isinstance(f, sp.KroneckerDelta)]
    rest = [f for f in body if not isinstance(f, (sp.Sum, sp.KroneckerDelta))]
    if len(sums) + len(deltas) > 1:
        raise NoMatrixForm("more than one sum or delta in a term")
    if sums:
        return sp.Mul(*scalars), _contraction(sums[0], rest, free, shapes, shape)
    if deltas:
        return sp.Mul(*scalars), _diagonal(deltas[0], rest, free, shapes, shape)
    return sp.Mul(*scalars), _product(rest, free, shapes, shape)


def translate(expr: sp.Expr, free: tuple, shapes: dict, result_shape: tuple) -> mx.MatExpr:
    """The matrix expression equal, entry by entry, to `expr` with free indices `free`."""
    split = expr.has(sp.KroneckerDelta, sp.Sum) or (len(free) == 2 and not _entrywise_in(expr, free))
    terms = sp.Add.make_args(sp.expand(expr)) if split else (expr,)
    try:
        out = _combine([_term(t, free, shapes, result_shape) for t in terms])
    except mx.ShapeError as exc:
        raise NoMatrixForm(str(exc)) from None
    if out.shape != tuple(result_shape):
        raise NoMatrixForm(f"read as {' × '.join(out.shape)}, not {' × '.join(result_shape)}")
    return out


def _entrywise_in(expr: sp.Expr, free: tuple) -> bool:
    return all(tuple(ind.indices) == tuple(free) for ind in expr.atoms(sp.Indexed))


def _combine(pieces: list) -> mx.MatExpr:
    """Σ c_n M_n with the coefficient the terms share in front: β (diag(y) − y yᵀ)."""
    shared = pieces[0][0]
    if shared.could_extract_minus_sign():
        shared = -shared
    if len(pieces) > 1 and not all((s / shared).is_number for s, _ in pieces):
        shared = sp.S.One
    return mx.scale(shared, mx.add(*(mx.scale(sp.nsimplify(s / shared), m) for s, m in pieces)))


# -- the matrix form of a derivation -----------------------------------------------------------


def matrix_form(d: Derivation, layout: str = "denominator") -> MatrixForm:
    """The derivation's result as matrices, not yet checked (derive.verify_matrix.with_matrix_form
    checks it); NoMatrixForm when the index structure has none."""
    defn = d.definition
    if defn.elementwise:
        return _elementwise_activation(d)
    var = defn.var(d.wrt)
    shapes = {v.symbol: _dims(v.shape) for v in defn.variables if v.shape}
    if d.upstream is not None:
        shapes[d.upstream.symbol] = _dims(d.upstream.shape)
    names = _names(d)
    if defn.kind == "activation":
        out = defn.output
        shape = (str(out.shape[0]), str(var.shape[0]))
        expr = translate(d.result, (d.lhs.expr.indices[0], *d.indices), shapes, shape)
        lhs = _derivative(names, out.name, var.name, shape)
        return MatrixForm(lhs=lhs, expr=expr, names=names, layout="jacobian")
    if not var.shape:
        raise NoMatrixForm("scalar variable")
    shape = _dims(var.shape)
    expr = translate(d.result, d.indices, shapes, shape)
    lhs = _derivative(names, d.cost.name if d.cost is not None else defn.output.name, var.name, shape)
    if layout == "numerator":
        return MatrixForm(lhs=mx.transpose(lhs), expr=mx.transpose(expr), names=names, layout="numerator")
    return MatrixForm(lhs=lhs, expr=expr, names=names, layout="denominator")


def _names(d: Derivation) -> dict:
    """How each name of the form is written: the definition's own LaTeX, bold for a vector that
    was declared without it (or as the scalar of an elementwise activation)."""
    defn = d.definition
    table = {}
    for v in defn.variables:
        vector = (v.rank == 1 and not v.latex) or (defn.elementwise and v.role != "hyper")
        table[v.name] = notation.declared(v.name, v.latex, vector=vector)
    if d.upstream is not None or defn.elementwise:
        up = f"d{defn.upstream}_d{defn.output.name}"
        table[up] = notation.derivative(notation.declared(defn.upstream), table[defn.output.name])
    for v in defn.variables:  # the gradient at a named quantity (∂C/∂S of attention's scores)
        at = v.name.removeprefix(f"d{defn.upstream}_d")
        if v.role == "upstream" and at in table:
            table[v.name] = notation.derivative(notation.declared(defn.upstream), table[at])
    return table


def _derivative(names: dict, top: str, bottom: str, shape: tuple) -> mx.MatSym:
    """The left-hand side ∂top/∂bottom as a named matrix, entered in `names`."""
    name = f"d{top}_d{bottom}"
    names[name] = notation.derivative(names.get(top) or notation.declared(top), names[bottom])
    return mx.MatSym(name, shape)


def _elementwise_activation(d: Derivation) -> MatrixForm:
    """y = f(x) entry by entry: ∂C/∂x = ∂C/∂y ⊙ f′, and the Jacobian ∂y/∂x is diag(f′)."""
    defn = d.definition
    x, y = defn.var(d.wrt), defn.output
    shape = ("K", "1")
    trees = {x.symbol: mx.MatSym(x.name, shape), y.symbol: mx.MatSym(y.name, shape)}
    trees |= {it.var.symbol: mx.MatSym(it.var.name, shape) for it in defn.intermediates}  # σ, Φ, φ
    fprime = from_scalar(d.result, trees, shape)
    names = _names(d)
    upstream = mx.MatSym(f"d{defn.upstream}_d{y.name}", shape)
    lhs = _derivative(names, defn.upstream, x.name, shape)
    return MatrixForm(lhs=lhs, expr=mx.hadamard(upstream, fprime), names=names, layout="entrywise",
                      jacobian=mx.diag(fprime))
