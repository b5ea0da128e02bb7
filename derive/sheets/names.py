"""A sheet's [names]: which parts they reach (networks; the cost of a layer or an elementwise activation),
that each names something on the sheet, and the table that states them once."""

from __future__ import annotations

from markupsafe import Markup

from derive.errors import DeriveError
from derive.sheets.loader import SheetError
from derive.sheets.model import Part, Sheet


def _at(part: Part, key: str):
    return part.fields.get(key, part.where)


def layer_cost(part: Part) -> str | None:
    """The sheet's name for the cost where `part` derives a layer or an elementwise activation, whose
    gradients are written of a cost (C by default: ∂C/∂W, ∂C/∂x = ∂C/∂y ⊙ f′), or a loss, whose
    output is that cost (L by default: J = −Σ y log ŷ on CS224n's sheet); else None."""
    from derive.network.names import first_spelling

    value = first_spelling(part.names.get("cost"))
    if value is None or part.kind not in ("target", "module"):
        return None
    from derive.model.notation import written_parts

    try:
        if part.kind == "module":
            from derive.sheets.custom import module_definition

            defn = module_definition(part.module)
        else:
            from derive.definitions import get

            defn = get(part.target)
    except DeriveError:
        return None  # the part's own error is said where it is derived
    if defn.kind not in ("layer", "loss") and not defn.elementwise:
        return None
    p = written_parts(value) or {}
    if set(p) != {"letter"} or len(p["letter"]) != 1:
        raise SheetError(_at(part, part.kind), "names: a layer's gradient is written of its cost by one "
                         f"letter (cost = \"L\", \"E\" or \"J\"), not {value!r}")
    return p["letter"]


def check_names(sheet: Sheet) -> None:
    """SheetError at a [names] entry that no network of the sheet has (and `cost` with nothing to name)."""
    if not sheet.names:
        return
    from derive.network import network
    from derive.network.names import keys_of

    valid: set = set()
    parts = [p for q in sheet.questions for p in q.parts]
    for p in parts:
        if p.kind == "network" and isinstance(p.network, str):
            try:
                valid |= keys_of(network(p.network))
            except DeriveError:
                continue  # the part's own error is said where it is derived
        elif p.kind in ("target", "module"):
            valid.add("cost")
    for key in sheet.names:
        if key not in valid:
            where = "no network on this sheet has" if key != "cost" else "nothing on this sheet derives"
            raise SheetError(sheet.names_at[key], f"names: {where} {key!r}; choose from: "
                             + (", ".join(sorted(valid, key=lambda k: (k != "cost", k))) or "(none)"))


def notation_rows(sheet: Sheet, fmt: str, text) -> list:
    """The sheet's own names, stated once: [{"written", "what", "default"}] (LaTeX, prose as `text`
    makes it for `fmt`, LaTeX)."""
    from derive.network.names import notation

    parts = [p for q in sheet.questions for p in q.parts]
    kinds = {"network" for p in parts if p.kind == "network" or (layer_cost(p) and _is_loss(p))}
    kinds |= {"layer" for p in parts if layer_cost(p) and not _is_loss(p)}
    cost = ", ".join(c for c, kind in (("L", "network"), ("C", "layer")) if kind in kinds) or "L"
    return [{"written": Markup(w), "what": text(fmt, what),
             "default": Markup(cost if key == "cost" else default)}
            for key, (w, what, default) in zip(sheet.names, notation(sheet.names))]


def _is_loss(part: Part) -> bool:
    """Whether `part` derives a registry loss (its output is the cost, L by default)."""
    if part.kind != "target" or not isinstance(part.target, str):
        return False
    from derive.definitions import get

    return get(part.target).kind == "loss"
