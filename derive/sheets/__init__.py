"""Solution sheets: problem-set files (TOML) rendered to Markdown, LaTeX and PDF.

    >>> from derive.sheets import load, build
    >>> built = build(load(resolve("nyu2020_hw1")))
    >>> built.outputs["md"][:2]
    '# '
"""

from __future__ import annotations

from pathlib import Path

from derive.errors import DeriveError

HERE = Path(__file__).resolve().parent


def bundled() -> list[str]:
    """The names of the bundled sheets, e.g. `nyu2020_hw1`."""
    return sorted(p.stem for p in HERE.glob("*.toml"))


def resolve(name_or_file: str) -> Path:
    """A bundled sheet's file, or the given file; DeriveError naming the choices otherwise."""
    import os.path

    path = Path(name_or_file)  # os.path's tests: False, not an exception, for a name too long
    if path.suffix == ".toml" or os.path.exists(path):
        if not os.path.isfile(path):
            raise DeriveError(f"sheet file not found: {path}")
        return path
    if os.path.isfile(HERE / f"{name_or_file}.toml"):
        return HERE / f"{name_or_file}.toml"
    raise DeriveError(f"unknown sheet {name_or_file!r}; choose a .toml file or one of: {', '.join(bundled())}")


def load(path):
    from derive.sheets.loader import load as _load

    return _load(path)


def build(sheet, **kw):
    from derive.sheets.builder import build as _build

    return _build(sheet, **kw)
