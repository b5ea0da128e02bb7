"""A module defined in a sheet, as an index expression, made into a registry-like Definition.

    [questions.parts.module]
    name = "scaled_tanh"
    output = "y[i]"
    expr = "a * tanh(b * x[i])"
    inputs = ["x"]
    shapes = { x = ["K"], y = ["K"], a = [], b = [] }
"""

from __future__ import annotations

import re

from sympy import Indexed, KroneckerDelta, Sum, preorder_traversal

from derive import limits
from derive.definitions.model import IDX, Definition, Var, dim
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
    expr = parse_index_expr(spec["expr"], body_shapes)
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
    )
    check_index_ranges(defn)
    return defn
