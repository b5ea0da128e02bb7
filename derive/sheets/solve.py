"""Solving a sheet: each part's derivations, proof, network and numbers, before anything is rendered.

Every result is checked when it is made (derive.verify, derive.network) and cached with its request
(derive.cache); one that cannot be made is a SheetError naming the place in the sheet file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derive.errors import DeriveError
from derive.model.request import Request
from derive.network.chain import builtin
from derive.sheets.loader import SheetError
from derive.sheets.model import Part, Sheet
from derive.sheets.names import check_names, layer_cost


@dataclass
class Solved:
    """What a part's answer is made of, before rendering."""

    part: Part
    derivations: list = field(default_factory=list)  # derive.steps.Derivation
    proof: dict | None = None  # {"lhs", "rhs", "steps"} as SymPy objects
    numeric: list = field(default_factory=list)  # per derivation: tables
    network: object = None
    missing: str = ""  # what could not be produced, said in the sheet
    requests: list = field(default_factory=list)  # per derivation: its cache request, or None
    printed: list = field(default_factory=list)  # per derivation: its LaTeX, printed once for every format


def at(part: Part, key: str):
    """Where `key` of the part is in the sheet file (the part itself when it has no such key)."""
    return part.fields.get(key, part.where)


def request(part: Part, wrt, target=None) -> Request:
    """The derivation a target or module part asks for, with the options the loader read."""
    return Request(part.target if target is None else target, wrt, part.scale, form=part.form)


def _derivation(part: Part, wrt, verify: bool = True):
    from derive.network.chain import derive_request

    if part.kind == "module":
        from derive.sheets.custom import module_definition

        try:
            target = module_definition(part.module)
        except DeriveError as exc:
            raise SheetError(at(part, "module"), exc.message) from None
    else:
        target = part.target
    cost = layer_cost(part)
    if cost:  # the homework's name for the cost: the layer is derived with it (∂L/∂W, not ∂C/∂W), a loss is it
        from dataclasses import replace

        from derive.definitions import get

        defn = target if part.kind == "module" else get(target)
        target = (replace(defn, output=replace(defn.output, name=cost, latex=cost)) if defn.kind == "loss"  # J = −Σ y log ŷ
                  else replace(defn, upstream=cost))
    try:
        return derive_request(request(part, wrt, target), verify=verify)
    except DeriveError as exc:
        raise SheetError(at(part, "wrt" if "variable" in exc.message else part.kind), exc.message) from None
    except Exception as exc:  # noqa: BLE001  (the engine's limits, said as one line with the place)
        raise SheetError(at(part, part.kind), f"cannot derive this {part.kind} with respect to "
                         f"{wrt}: {type(exc).__name__}: {' '.join(str(exc).split())}") from None


def part_request(part: Part, wrt) -> dict | None:
    """What a derivation depends on besides the package's source: the cache key's request.

    None (not cached) for a target registered at run time, which the source does not fix.
    """
    cost = layer_cost(part)
    extra = {"cost": cost} if cost else {}  # the same layer derived with the homework's cost name
    if part.kind == "module":
        return request(part, wrt, target=part.module).cache_key({"module": part.module, **extra})
    if isinstance(part.target, str) and builtin(part.target):
        return request(part, wrt).cache_key({"target": part.target, **extra})
    return None


def _derivations(part: Part, verify: bool = True) -> list:
    """The derivation for each `wrt`, checked (its `.report`) unless `verify` is False; checked ones
    come from the cache. A result the checks reject is never printed: it is a SheetError here."""
    from derive import cache

    wrts = part.wrt or (None,)
    if not verify:
        return [_derivation(part, wrt, verify=False) for wrt in wrts]
    return [cache.cached("derivation", part_request(part, wrt), lambda wrt=wrt: _derivation(part, wrt))
            for wrt in wrts]


def _proof(part: Part) -> dict:
    from derive.sheets.indexexpr import parse_index_expr

    spec = part.identity
    for key in ("lhs", "rhs"):
        if key not in spec:
            raise SheetError(at(part, "identity"), f"an identity needs {key}")
    shapes = spec.get("shapes", {})
    try:
        lhs = parse_index_expr(spec["lhs"], shapes)
        rhs = parse_index_expr(spec["rhs"], shapes)
    except DeriveError as exc:
        raise SheetError(at(part, "identity"), exc.message) from None
    try:
        from derive.calculus.identity import prove
    except ModuleNotFoundError as exc:
        if exc.name != "derive.calculus.identity":
            raise
        return {"lhs": lhs, "rhs": rhs, "steps": None}
    try:
        result = prove(lhs, rhs)
    except DeriveError as exc:
        raise SheetError(at(part, "identity"), exc.message) from None
    steps = getattr(result, "steps", result)
    return {"lhs": lhs, "rhs": rhs, "steps": list(steps)}


def _numeric(part: Part, derivations: list) -> list:
    from derive import cache
    from derive.sheets.numeric import module_tables

    def fresh(d):
        try:
            return module_tables(d, part.numeric)
        except DeriveError as exc:
            raise SheetError(at(part, "numeric"), exc.message) from None

    request = part_request(part, None)
    return [cache.cached("numeric", request and {**request, "wrt": d.wrt, "numeric": part.numeric},
                         lambda d=d: fresh(d)) for d in derivations]


def _network(part: Part):
    from derive import cache
    from derive.sheets.network import solve_network

    def fresh():
        try:
            return solve_network(part)
        except DeriveError as exc:
            raise SheetError(at(part, "numeric" if "numeric" in exc.message else "network"), exc.message) from None

    return cache.cached("network", network_request(part), fresh)


def network_request(part: Part) -> dict | None:
    """A network part's cache request; None (not cached) for a chain with a module registered at run time."""

    if not (isinstance(part.network, str) and builtin(part.network)):
        return None
    request = {"network": part.network, "wrt": part.wrt, "numeric": part.numeric}
    return {**request, "names": part.names} if part.names else request


def solve(sheet: Sheet, *, verify: bool = True) -> tuple[list, list]:
    """Each question's parts solved: ([[Solved, …], …], warnings)."""
    check_names(sheet)
    solved, warnings = [], []
    for q in sheet.questions:
        row = []
        for part in q.parts:
            s, said = solve_part(part, verify=verify)
            row.append(s)
            warnings += said
        solved.append(row)
    return solved, warnings


def solve_part(part: Part, *, verify: bool = True) -> tuple[Solved, list]:
    """One part's derivations, proof, network or numbers, each from the cache when it is there;
    TimeLimitError naming the part after the time limit (derive/limits.py)."""
    from derive import limits

    with limits.time_limit(f"{part.where}: this part"):
        return _solve_part(part, verify)


def _solve_part(part: Part, verify: bool) -> tuple[Solved, list]:
    from derive import cache

    s, warnings = Solved(part), []
    if part.kind in ("target", "module"):
        s.derivations = _derivations(part, verify)
        s.requests = [part_request(part, w) if verify else None for w in part.wrt or (None,)]
        if part.numeric:
            s.numeric = _numeric(part, s.derivations)
        for d in s.derivations:
            if d.matrix_refused is not None:
                from derive.render.show import refusal

                warnings.append(f"{part.where}: {refusal(d)}")
            elif part.form == "matrix" and d.matrix is None:
                warnings.append(f"{part.where}: {d.target} with respect to {d.wrt} has no matrix form; "
                                "showing the index form")
    elif part.kind == "identity":
        s.proof = cache.cached("identity", part.identity, lambda: _proof(part))
        if s.proof["steps"] is None:
            s.missing = "proof"
            warnings.append(f"{part.where}: derive.calculus.identity is not available; "
                            "the identity is stated without its proof")
    elif part.kind == "network":
        s.network = _network(part)
    return s, warnings
