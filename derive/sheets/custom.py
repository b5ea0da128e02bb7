"""A module defined in a sheet, as an index expression, made into a registry-like Definition.

    [questions.parts.module]
    name = "scaled_tanh"
    output = "y[i]"
    expr = "a * tanh(b * x[i])"
    inputs = ["x"]
    shapes = { x = ["K"], y = ["K"], a = [], b = [] }

A module may name quantities its results are written in, in order, each using the ones before it:

    named = { mu = "sum(x[k], k, 1, N) / N", "xhat[i]" = "(x[i] - mu) / sigma" }

with their shapes under `shapes`; a quantity defined as a square root or an exponential is positive.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy import Indexed, KroneckerDelta, Sum, preorder_traversal

from derive import limits
from derive.definitions.model import IDX, Definition, Intermediate, Var, dim, written_out
from derive.definitions.ranges import check_index_ranges
from derive.errors import DeriveError
from derive.sheets.indexexpr import CLASS, DIMENSIONS, parse_entry, parse_index_expr

DEFAULT_SIZES = {"K": 3, "D": 2, "M": 4, "N": 5, "T": 6, "H": 7}  # distinct, non-square


def _shape(name: str, shape) -> tuple:
    if shape == CLASS:
        return ()
    if not isinstance(shape, list) or not all(isinstance(s, str) and s in DIMENSIONS for s in shape):
        raise DeriveError(f"shape of {name} must be a list of dimensions from {', '.join(DIMENSIONS)}, e.g. [\"K\"]")
    return tuple(dim(s) for s in shape)


MAX_NAMED = 12


def _named(named, shapes: dict) -> tuple[list, dict]:
    """(Var, index, expression) per named quantity, in order, each expression in the Vars before it, and
    each quantity's symbol as parsed → its Var's symbol; DeriveError naming the problem."""
    if named is None:
        return [], {}
    if not isinstance(named, dict) or not all(isinstance(v, str) for v in named.values()):
        raise DeriveError('named must be a table of quantities such as { mu = "sum(x[k], k, 1, N) / N" }')
    if len(named) > MAX_NAMED:
        raise DeriveError(f"named has {len(named)} quantities; at most {MAX_NAMED}")
    entries = [parse_entry(key, shapes) for key in named]
    out, known = [], {}  # a named quantity's own symbol (positive for a root) wherever the ones after it use it
    for n, ((name, index), text) in enumerate(zip(entries, named.values())):
        if name not in shapes or len(index) != len(_shape(name, shapes[name])):
            raise DeriveError(f"the named quantity {name} needs its shape under shapes, with one dimension "
                              f"per index of {list(named)[n]!r}")
        value = parse_index_expr(text, shapes)
        used = {s.name for s in value.free_symbols} | {b.label.name for b in value.atoms(sp.IndexedBase)}
        later = sorted(used & {m for m, _ in entries[n:]})
        if later:
            raise DeriveError(f"the named quantity {name} uses {', '.join(later)}, which is named at or after it: "
                              "name each quantity after the ones it uses")
        value = value.xreplace(known)
        root = isinstance(value, sp.Pow) and value.exp == sp.Rational(1, 2)
        var = Var(name, _shape(name, shapes[name]), role="output",
                  domain="positive" if root or isinstance(value, sp.exp) else "real")
        plain = sp.IndexedBase(name, real=True) if index else sp.Symbol(name, real=True)
        known[plain] = var.symbol
        out.append((var, index, value))
    return out, known


def module_definition(spec: dict) -> Definition:
    """The Definition a `module` table describes; DeriveError naming the problem otherwise."""
    for key in ("output", "expr", "inputs", "shapes"):
        if key not in spec:
            raise DeriveError(f"a module needs {key}")
    shapes = spec["shapes"]
    if not isinstance(shapes, dict):
        raise DeriveError("shapes must be a table such as { x = [\"K\"], beta = [] }")
    vars_ = {name: Var(name, _shape(name, s), domain="class" if s == CLASS else "real") for name, s in shapes.items()}
    out_name, index = parse_entry(spec["output"], shapes)
    if out_name not in vars_:
        vars_[out_name] = Var(out_name, ())
    output = Var(out_name, vars_[out_name].shape, role="output")
    if len(index) != output.rank:
        raise DeriveError(f"the output {out_name} has {output.rank} indices in shapes, "
                          f"but {spec['output']!r} gives {len(index)}")
    body_shapes = {k: v for k, v in shapes.items() if k != out_name}
    declared, own = _named(spec.get("named"), body_shapes)
    expr = parse_index_expr(spec["expr"], body_shapes).xreplace(own)
    for var, at, value in reversed(declared):  # the definition in the inputs alone: each name written out
        expr = written_out(expr, var.symbol, at, value)
    for var, *_ in declared:
        vars_.pop(var.name)
        body_shapes.pop(var.name)
    free = {a for e in expr.atoms(Indexed) for t in e.indices for a in t.free_symbols if a.name in IDX} | {
        a for e in expr.atoms(KroneckerDelta) for t in e.args for a in t.free_symbols if a.name in IDX}
    bound = {lim[0] for e in preorder_traversal(expr) if isinstance(e, Sum) for lim in e.limits}
    loose = sorted(str(a) for a in free - bound - set(index) if a.is_Symbol)
    if loose:
        raise DeriveError(f"index {', '.join(loose)} is neither in the output {spec['output']!r} nor summed over")
    inputs = spec["inputs"]
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs:
        raise DeriveError("inputs must list the variables to differentiate by, e.g. [\"x\"]")
    for name in inputs:
        if name not in body_shapes:
            raise DeriveError(f"input {name!r} is not declared under shapes")
    kind = spec.get("kind", "loss" if not index and not output.shape else "activation")
    if kind not in ("activation", "layer", "loss"):
        raise DeriveError(f"module kind must be activation, layer or loss, not {kind!r}")
    if kind == "loss" and index:
        raise DeriveError(f"a loss has one number as its output, such as L; {spec['output']!r} has an index")
    others = tuple(Var(n, v.shape, role="target" if v.domain == "class" else "hyper", domain=v.domain)
                   for n, v in vars_.items() if n not in inputs and n != out_name)
    if any(vars_[n].domain == "class" for n in inputs):
        raise DeriveError("a class index cannot be differentiated by; list it under shapes only")
    dims = {d for v in vars_.values() for d in v.shape}
    sizes = spec.get("sizes", {})
    if not isinstance(sizes, dict):
        raise DeriveError("sizes must be a table such as { K = 3 }")
    used = sorted(d.name for d in dims)
    for name, given in sizes.items():
        if name not in used:
            raise DeriveError(f"sizes names {name!r}, a dimension no variable has; the shapes use: "
                              f"{', '.join(used) or '(none)'}")
        limits.size(given, f"sizes {name}")
    name = spec.get("name", "module")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,39}", name):
        raise DeriveError(f"module name must be a name such as scaled_tanh (letters, digits, _; at most 40), "
                          f"not {str(name)[:40]!r}")
    title = spec.get("title", name)
    if not isinstance(title, str) or len(title) > 200 or re.search(r"[<\x00-\x1f\x7f]", title):
        raise DeriveError("module title must be one line of text (at most 200 characters, no '<')")
    defn = Definition(
        name=name,
        kind=kind,
        title=title,
        output=output,
        index=index,
        expr=expr,
        inputs=tuple(vars_[n] for n in inputs),
        others=others,
        sizes={d: int(sizes.get(d.name, DEFAULT_SIZES[d.name])) for d in dims},
        intermediates=tuple(Intermediate(var, at, value) for var, at, value in declared),
    )
    check_index_ranges(defn)
    return defn
