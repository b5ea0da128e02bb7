"""Network parts of a sheet: delegated to derive.network (issue 4) when it is installed."""

from __future__ import annotations


def solve_network(part) -> tuple:
    """(rendered blocks by format, or None; what is missing, or "")."""
    try:
        import derive.network  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name != "derive.network":
            raise
        return None, "derive.network is not available yet; the network part shows its written solution only"
    return None, "network parts are not wired to derive.network yet"
