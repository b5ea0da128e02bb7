"""What `pip install .` ships: every package folder of derive, and the files the page and sheets read."""

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_folder_of_python_code_is_a_listed_package():
    listed = set(CONFIG["packages"])
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "derive").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert folders <= listed, f"not shipped by pip install .: {sorted(folders - listed)}"


def test_the_checking_page_ships_its_files():
    data = CONFIG["package-data"]
    static = ROOT / "derive" / "serve" / "static"
    for name in ("index.html", "page.js", "page.css", "katex/katex.min.js", "katex/katex.min.css", "katex/LICENSE"):
        path = static / name
        package = ".".join(("derive", "serve", "static", *Path(name).parts[:-1]))
        assert path.exists() and any(path.match(glob) for glob in data[package]), name
