"""The answer grammar's LALR parser, built once and kept in derive's cache folder (lark can save it)."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import secrets
import sys
from functools import lru_cache
from pathlib import Path

from lark import Lark

GRAMMAR = Path(__file__).with_name("grammar.lark")
_OPTIONS = {"parser": "lalr", "lexer": "contextual", "maybe_placeholders": False}


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser, built once per grammar and kept in derive's cache folder (building it takes
    about 0.25 s, loading it about 0.03 s). Lark's saved parser is a pickle, so it is kept only in a
    folder that is the user's own and loaded only from a file the user owns (derive.cache.read_private);
    otherwise the parser is built every time. The file's name holds a hash of the grammar, the
    options and lark's and Python's versions, so a change to any of them builds a new one."""
    from derive import cache

    grammar = GRAMMAR.read_text()
    path = cache_file(grammar)
    saved = cache.read_private(path.parent, path.name) if path is not None else None  # the cache's own trust check
    if saved is not None:
        try:
            return Lark.load(io.BytesIO(saved))
        except Exception:  # noqa: BLE001, S110  (truncated or from another lark: build it again)
            pass
    parser = Lark(grammar, **_OPTIONS)
    if path is not None and not path.is_symlink():
        save(parser, path)
    return parser


def save(parser: Lark, path: Path) -> None:
    """Write the parser whole or not at all, readable and writable by the user alone."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            parser.save(f)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError):  # not written (a full disk): the next run tries again
        tmp.unlink(missing_ok=True)


def cache_file(grammar: str) -> Path | None:
    """Where the parser for `grammar` is kept, or None when derive's cache is off or not private."""
    from derive import cache

    if not cache.enabled():
        return None
    folder = cache.directory() / "lark"
    if folder.is_symlink() or not cache.make_private(folder):  # a linked folder is not derive's own
        return None
    import lark

    key = "\0".join((grammar, repr(sorted(_OPTIONS.items())), lark.__version__, sys.version))
    return folder / f"grammar-{hashlib.sha256(key.encode()).hexdigest()[:32]}.pickle"
