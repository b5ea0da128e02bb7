"""The matrix form of an index-form result, written from its index structure.

Each term of the result is read as a matrix expression by where its free indices sit:
`g_i x_j` is the outer product g xᵀ, `Σ_n X_ni G_nj` is Xᵀ G, `δ_ij f_i` is diag(f), and a
term whose entries all carry the result's own indices is entrywise (⊙). Results that fit
none of these (the hinge losses) keep their index form only. Every form carries its own
NumPy value, and `derive.verify.check_matrix_form` compares it with the index form.

Layout: by default a gradient has the shape of the variable (denominator layout); numerator
layout transposes it. A Jacobian ∂y/∂x has rows indexed by y and columns by x.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from derive.render.printer import latex as scalar_latex
from derive.render.printer import name_latex
from derive.render.printer import text as scalar_text
from derive.steps import Derivation, MatrixForm


class NoMatrixForm(Exception):
    pass


@dataclass(frozen=True)
class M:
    """A matrix expression: LaTeX, text, shape (rows, cols) as dimension names or '1', and its
    value as a NumPy array given the variables' values (so the form can be verified)."""

    latex: str
    text: str
    shape: tuple
    num: Callable  # env (name -> 2-d array or float) -> 2-d np.ndarray
    atom: bool = True  # needs no parentheses as a factor
    entrywise: bool = False

    def wrapped(self) -> tuple[str, str]:
        return (self.latex, self.text) if self.atom else (rf"\left({self.latex}\right)", f"({self.text})")

    def t(self) -> M:
        tex, txt = self.wrapped()
        return M(_sup(tex, r"\top"), f"{txt}.T", (self.shape[1], self.shape[0]),
                 lambda env, f=self.num: f(env).T, entrywise=self.entrywise)


def _sup(tex: str, sup: str) -> str:
    """`x^\\top`, or `{e^{y}}^\\top` when the base has a superscript already."""
    if tex.startswith(r"\frac"):
        return rf"\left({tex}\right)^{sup}"
    return f"{{{tex}}}^{sup}" if "^" in tex else f"{tex}^{sup}"


def bold(name: str) -> str:
    """A vector's name: `\\mathbf{x}`, `\\hat{\\mathbf{y}}`, `\\boldsymbol{\\theta}`; ∂C/∂y as written."""
    tex = name_latex(name)
    if tex.startswith(r"\frac"):
        return tex
    if tex.startswith(r"\hat{"):
        return r"\hat{\mathbf{" + tex[5:-1] + "}}"
    if tex.startswith("\\"):
        return rf"\boldsymbol{{{tex}}}"
    return rf"\mathbf{{{tex}}}"


def _dims(var_shape) -> tuple:
    dims = tuple(str(s) for s in var_shape)
    return dims if len(dims) == 2 else (dims[0], "1")


def _text_name(name: str) -> str:
    if name.startswith("d") and "_d" in name:
        a, b = name[1:].split("_d", 1)
        return f"d{a}/d{b}"
    return name


def _symbol(base: sp.IndexedBase, shapes: dict) -> M:
    shape = shapes[base]
    tex = bold(base.name) if shape[1] == "1" else name_latex(base.name)
    return M(tex, _text_name(base.name), shape, lambda env, n=base.name: env[n])


def _split_scalar(term: sp.Expr) -> tuple[sp.Expr, list]:
    scalars, rest = [], []
    for f in sp.Mul.make_args(term):
        (rest if f.has(sp.Indexed) or f.has(sp.KroneckerDelta) else scalars).append(f)
    return sp.Mul(*scalars), rest


def _entry_symbols(expr: sp.Expr, free: tuple) -> dict:
    subs = {}
    for ind in expr.atoms(sp.Indexed):
        if tuple(ind.indices) != tuple(free):
            raise NoMatrixForm(f"{ind} is not entrywise in {free}")
        subs[ind] = sp.Symbol(f"MAT{ind.base.name}")
    return subs


def _entrywise_expr(plain: sp.Expr, names: dict, result_shape: tuple, vector: bool) -> M:
    """A scalar expression in placeholder symbols, read entry by entry over whole arrays."""
    tex, txt = scalar_latex(plain), scalar_text(plain)
    for placeholder, name in sorted(names.items(), key=lambda kv: -len(kv[1])):
        tex = tex.replace(name_latex(placeholder.name), bold(name) if vector else name_latex(name))
        txt = txt.replace(placeholder.name, _text_name(name))
    args = sorted(plain.free_symbols, key=lambda s: s.name)
    compiled = []  # lambdify only when the form is evaluated (verification), not on every derivation

    def num(env):
        if not compiled:
            compiled.append(sp.lambdify(args, plain, modules="numpy"))
        vals = [env[names[a]] if a in names else env[a.name] for a in args]
        out = np.asarray(compiled[0](*vals), dtype=float)
        return np.broadcast_to(out, _numeric_shape(result_shape, env)).copy()

    factors = [f for f in sp.Mul.make_args(plain) if f.free_symbols & set(names)]
    entrywise = len(factors) > 1 or any(
        isinstance(p, sp.Pow) and p.exp.is_negative and p.free_symbols & set(names)
        for p in sp.preorder_traversal(plain) if isinstance(p, sp.Basic))
    atom = isinstance(plain, (sp.Symbol, sp.Number))
    return M(tex, txt, result_shape, num, atom=atom, entrywise=entrywise)


def _numeric_shape(shape: tuple, env: dict) -> tuple:
    return tuple(1 if s == "1" else int(env["__sizes"][s]) for s in shape)


def _elementwise(expr: sp.Expr, free: tuple, result_shape: tuple) -> M:
    """An expression whose every entry carries exactly the free indices: read it entrywise."""
    if expr.has(sp.Sum, sp.KroneckerDelta):
        raise NoMatrixForm("sum or delta in an entrywise term")
    subs = _entry_symbols(expr, free)
    names = {sym: ind.base.name for ind, sym in subs.items()}
    return _entrywise_expr(expr.xreplace(subs), names, result_shape, vector=result_shape[1] == "1")


def _contracted(term: sp.Sum, free: tuple, shapes: dict) -> M:
    """Σ_k A[.., k ..] B[.., k ..] read as a matrix product with the right transposes."""
    (k, _, _), = term.limits
    factors = list(sp.Mul.make_args(term.function))
    if len(factors) != 2 or not all(isinstance(f, sp.Indexed) for f in factors):
        raise NoMatrixForm("not a product of two entries")
    a, b = factors
    if free and free[0] not in a.indices:
        a, b = b, a

    def rows_over(ind, first):
        mat = _symbol(ind.base, shapes)
        return mat if ind.indices[0] == first else mat.t()

    left = rows_over(a, free[0]) if len(a.indices) == 2 else rows_over(a, k).t()
    right = rows_over(b, k)
    if len(free) == 2 and len(b.indices) == 2 and free[1] not in b.indices:
        raise NoMatrixForm("second free index not in the second factor")
    return M(f"{left.latex} {right.latex}", f"{left.text} @ {right.text}", (left.shape[0], right.shape[1]),
             lambda env, l=left.num, r=right.num: l(env) @ r(env), atom=False)


def _column_sum(term: sp.Sum, shapes: dict, result_shape: tuple) -> M:
    """Σ_n G_ni: Gᵀ 1."""
    (k, _, hi), = term.limits
    f = term.function
    if not (isinstance(f, sp.Indexed) and len(f.indices) == 2 and k in f.indices):
        raise NoMatrixForm("sum of a non-entry")
    mat = _symbol(f.base, shapes)
    mat = mat if f.indices[1] == k else mat.t()
    n = scalar_latex(hi)
    return M(rf"{mat.latex} \mathbf{{1}}_{{{n}}}", f"{mat.text} @ ones({hi})", result_shape,
             lambda env, g=mat.num: g(env) @ np.ones((g(env).shape[1], 1)), atom=False)


def _one_term(body: list, free: tuple, shapes: dict, result_shape: tuple) -> M:
    inner = sp.Mul(*body)
    if isinstance(inner, sp.Sum):
        if isinstance(inner.function, sp.Indexed):
            return _column_sum(inner, shapes, result_shape)
        return _contracted(inner, free, shapes)
    deltas = [f for f in body if isinstance(f, sp.KroneckerDelta)]
    if len(free) == 2 and deltas:
        (delta,) = deltas
        if set(delta.args) != set(free):
            raise NoMatrixForm("delta on other indices")
        rest = sp.Mul(*[f for f in body if f is not delta]).xreplace({free[1]: free[0]})
        if rest == 1:
            return M("I", "I", result_shape, lambda env: np.eye(_numeric_shape(result_shape, env)[0]))
        entry = _elementwise(rest, free[:1], (result_shape[0], "1"))
        return M(rf"\operatorname{{diag}}\left({entry.latex}\right)", f"diag({entry.text})", result_shape,
                 lambda env, e=entry.num: np.diagflat(e(env)))
    if len(free) == 2 and not _entrywise(inner, free):
        row = [f for f in body if set(_idx(f)) == {free[0]}]
        col = [f for f in body if set(_idx(f)) == {free[1]}]
        if len(row) + len(col) != len(body) or not col:
            raise NoMatrixForm("not an outer product")
        v = _elementwise(sp.Mul(*col).xreplace({free[1]: free[0]}), free[:1], (result_shape[1], "1"))
        if row:
            u = _elementwise(sp.Mul(*row), free[:1], (result_shape[0], "1"))
        else:
            u = M(r"\mathbf{1}", "ones", (result_shape[0], "1"),
                  lambda env: np.ones((_numeric_shape(result_shape, env)[0], 1)))
        ul, ut = u.wrapped()
        vl, vt = v.wrapped()
        return M(f"{ul} {_sup(vl, chr(92) + 'top')}", f"{ut} @ {vt}.T", result_shape,
                 lambda env, a=u.num, b=v.num: a(env) @ b(env).T, atom=False)
    return _elementwise(inner, free, result_shape)


def _idx(f) -> tuple:
    return tuple(s for ind in f.atoms(sp.Indexed) for s in ind.indices)


def _entrywise(expr, free) -> bool:
    return all(tuple(ind.indices) == tuple(free) for ind in expr.atoms(sp.Indexed))


def translate(expr: sp.Expr, free: tuple, shapes: dict, result_shape: tuple) -> M:
    """The matrix expression equal, entry by entry, to `expr` with free indices `free`."""
    split = expr.has(sp.KroneckerDelta, sp.Sum) or (len(free) == 2 and not _entrywise(expr, free))
    terms = sp.Add.make_args(sp.expand(expr)) if split else (expr,)
    pieces = []
    for term in terms:
        scalar, body = _split_scalar(term)
        pieces.append((scalar, _one_term(body, free, shapes, result_shape)))
    return _combine(pieces, result_shape)


def _combine(pieces: list, shape: tuple) -> M:
    shared = pieces[0][0]
    if shared.could_extract_minus_sign():
        shared = -shared
    if len(pieces) > 1 and not all((s / shared).is_number for s, _ in pieces):
        shared = sp.Integer(1)
    tex, txt, nums, entrywise = "", "", [], False
    for n, (s, m) in enumerate(pieces):
        coeff = sp.nsimplify(s / shared)
        neg = coeff.could_extract_minus_sign()
        part = _scaled(-coeff if neg else coeff, m, shape)
        sign = (" - " if neg else " + ") if n else ("-" if neg else "")
        tex, txt = tex + sign + part.latex, txt + sign + part.text
        nums.append((coeff, m.num))
        entrywise |= m.entrywise
    total = M(tex, txt, shape, lambda env: sum(_scalar_value(c, env) * f(env) for c, f in nums),
              atom=len(pieces) == 1 and pieces[0][1].atom and abs(float(pieces[0][0] / shared)) == 1,
              entrywise=entrywise)
    if len(pieces) == 1:
        total = replace(total, latex=tex, text=txt)
    return _scaled(shared, total, shape)


def _scalar_value(scalar: sp.Expr, env: dict) -> float:
    """A scalar coefficient (β, 1/K, 2) at the values in `env`."""
    return float(scalar.xreplace({s: env[s.name] for s in scalar.free_symbols}))


def _scaled(scalar: sp.Expr, m: M, shape: tuple) -> M:
    if scalar == 1:
        return m
    tex, txt = m.wrapped()

    def num(env, f=m.num):
        return _scalar_value(scalar, env) * f(env)

    return M(rf"{scalar_latex(scalar)} {tex}", f"{scalar_text(scalar)}*{txt}", shape, num,
             atom=False, entrywise=m.entrywise)


def attach_matrix_form(d: Derivation, layout: str = "denominator") -> Derivation:
    """`d` with its matrix form when the index structure has one; unchanged otherwise."""
    try:
        mf, _ = matrix_form(d, layout)
    except NoMatrixForm:
        return d
    return replace(d, matrix=mf)


def matrix_form(d: Derivation, layout: str = "denominator") -> tuple[MatrixForm, M]:
    """The MatrixForm to print, and the M behind it (whose `num` the verifier evaluates)."""
    defn = d.definition
    var = defn.var(d.wrt)
    shapes = {v.symbol: _dims(v.shape) for v in defn.variables if v.shape}
    if d.upstream is not None:
        shapes[d.upstream.symbol] = _dims(d.upstream.shape)
    if defn.kind == "activation" and not defn.index:
        return _elementwise_activation(d)
    if defn.kind == "activation":
        free = (d.lhs.expr.indices[0], *d.indices)
        shape = (str(defn.output.shape[0]), str(var.shape[0]))
        m = translate(d.result, free, shapes, shape)
        return MatrixForm(
            lhs=rf"\frac{{\partial {bold(defn.output.name)}}}{{\partial {bold(var.name)}}}",
            expr=m.latex, text=m.text, shape=shape, factors=_factors(shapes, d),
            layout=f"Jacobian: row i holds ∂{defn.output.name}_i, column j is ∂/∂{var.name}_j"), m
    if not var.shape:
        raise NoMatrixForm("scalar variable")
    shape = _dims(var.shape)
    m = translate(d.result, d.indices, shapes, shape)
    cost = d.cost.name if d.cost is not None else defn.output.name
    name = bold(var.name) if shape[1] == "1" else name_latex(var.name)
    lhs = rf"\frac{{\partial {name_latex(cost)}}}{{\partial {name}}}"
    label = "the gradient has the shape of the variable (denominator layout)"
    if layout == "numerator":
        m, shape = m.t(), (shape[1], shape[0])
        lhs = _sup(lhs, r"\top")
        label = "numerator layout: the transpose of the variable's shape"
    if m.entrywise:
        label += "; products and quotients of vectors are entrywise"
    return MatrixForm(lhs=lhs, expr=m.latex, text=m.text, shape=shape, factors=_factors(shapes, d),
                      layout=label), m


def _factors(shapes: dict, d: Derivation) -> tuple:
    return tuple(((bold(b.name) if s[1] == "1" else name_latex(b.name)), s)
                 for b, s in shapes.items() if d.result.has(b))


def _elementwise_activation(d: Derivation) -> tuple[MatrixForm, M]:
    """y = f(x) entry by entry: ∂C/∂x = ∂C/∂y ⊙ f′, and the Jacobian is diag(f′)."""
    defn = d.definition
    x, y = defn.var(d.wrt), defn.output
    names = {sp.Symbol("MATx"): x.name, sp.Symbol("MATy"): y.name}
    plain = d.result.xreplace({x.symbol: sp.Symbol("MATx"), y.symbol: sp.Symbol("MATy")})
    f = _entrywise_expr(plain, names, ("K", "1"), vector=True)
    up = rf"\frac{{\partial C}}{{\partial {bold(y.name)}}}"
    body, body_t = f.wrapped()
    m = M(rf"{up} \odot {body}", f"dC/dy * {body_t}", ("K", "1"),
          lambda env, g=f.num: env["dC_dy"] * g(env), atom=False, entrywise=True)
    return MatrixForm(lhs=rf"\frac{{\partial C}}{{\partial {bold(x.name)}}}", expr=m.latex, text=m.text,
                      shape=("K", "1"), factors=((up, ("K", "1")),),
                      layout=f"entrywise (⊙); the Jacobian ∂y/∂x is diag({f.text})"), m
