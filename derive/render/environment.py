"""The Jinja environments: TeX-safe delimiters, StrictUndefined, and a finalize hook.

Templates write `((( value )))` and `((* for ... *))`, which clash with neither TeX braces
nor Markdown. SymPy objects print through the project's printer; plain strings are escaped
for TeX; strings already in LaTeX travel as `Markup` and pass unchanged.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from derive.render.printer import escape_tex
from derive.render.prose import convention_markup
from derive.render.reason import reason_markup

DELIMITERS = {
    "block_start_string": "((*", "block_end_string": "*))",
    "variable_start_string": "(((", "variable_end_string": ")))",
    "comment_start_string": "((=", "comment_end_string": "=))",
    "line_statement_prefix": None, "trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True,
}


def template_dir() -> Path:
    """The bundled templates: `derive/templates` when installed, `templates/` in a checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "templates", package.parent / "templates"):
        if (candidate / "partials").is_dir():
            return candidate
    raise FileNotFoundError(f"no templates beside {package}")


def _finalize_for(fmt: str):
    def finalize(value):
        if isinstance(value, Markup):
            return str(value)
        if _is_math(value):
            from derive.render.printer import latex

            return latex(value)
        if isinstance(value, str) and fmt == "tex":
            return escape_tex(value)
        return value

    return finalize


def _is_math(value) -> bool:
    # Matrix is not a Basic: check for both, without importing SymPy for plain values.
    mod = type(value).__module__
    return mod.startswith("sympy.")


@lru_cache(maxsize=8)
def environment(fmt: str, override: str | None = None) -> jinja2.Environment:
    """The environment for `fmt` ('md' or 'tex'); templates in `override` win over the bundled ones."""
    paths = ([override] if override else []) + [str(template_dir())]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize_for(fmt),
        autoescape=False,
        bytecode_cache=_bytecode_cache(),
        **DELIMITERS,
    )
    env.filters["tex"] = lambda s: Markup(escape_tex(str(s)))
    env.filters["math"] = lambda v: Markup(_math(v))
    env.filters["reason"] = lambda r: reason_markup(r, "tex" if fmt == "tex" else "md")
    env.filters["convention"] = lambda c: convention_markup(c, "tex" if fmt == "tex" else "md")
    return env


class _PrivateBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache, reading only files this user alone owns and can write (a planted one
    would run as code: the bucket is a pickle and marshalled code)."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        from derive import cache

        path = Path(self._get_cache_filename(bucket))
        data = cache.read_private(path.parent, path.name)
        if data is not None:
            try:
                bucket.bytecode_from_string(data)
            except Exception:  # noqa: BLE001  (truncated or foreign: compile the template again)
                bucket.reset()


def _bytecode_cache():
    """Compiled templates kept beside the derivation cache (Jinja checks each template's mtime)."""
    from derive import cache

    if not cache.enabled():
        return None
    folder = cache.directory() / "templates"
    if not (cache.make_private(cache.directory()) and cache.make_private(folder)):
        return None  # an unwritable or shared cache folder costs speed, never correctness
    return _PrivateBytecodeCache(str(folder))


def _math(value) -> str:
    if isinstance(value, Markup):
        return str(value)
    from derive.render.printer import latex

    return latex(value)


def render(template: str, fmt: str, override: str | None = None, **context) -> str:
    return environment(fmt, override).get_template(template).render(**context)
