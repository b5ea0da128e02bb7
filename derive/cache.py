"""A persistent cache of verified derivations, so a sheet is derived and checked once per engine.

An entry's key is a SHA-256 over the source of every file in the `derive` package, SymPy's
version, Python's version and the request (target or chain, wrt, scale, layout; a sheet module's
table). Any change to the engine, the checks or the definitions therefore misses. The value is
the pickled result (a derivation and its verification report, a network, a proof).

    $DERIVE_CACHE_DIR           the folder (default $XDG_CACHE_HOME/derive or ~/.cache/derive)
    DERIVE_NO_CACHE=1           neither read nor write

Entries are written atomically; one that cannot be read is ignored and rebuilt.

A pickle runs code when it is loaded, so an entry is read only from a folder the user owns and
no one else can write, and only if the user owns it and no one else can write it; otherwise the
cache is bypassed (not read, not written) with one warning on stderr.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import re
import stat
import sys
import tempfile
from pathlib import Path

FORMAT = 1  # bump when the layout of an entry changes without a source change (never, so far)
PACKAGE = Path(__file__).resolve().parent
_MISS = object()


def enabled() -> bool:
    return os.environ.get("DERIVE_NO_CACHE", "").strip() in ("", "0")


def directory() -> Path:
    """Where entries live: $DERIVE_CACHE_DIR, else $XDG_CACHE_HOME/derive, else ~/.cache/derive.

    A relative XDG_CACHE_HOME is ignored, as the XDG Base Directory specification says.
    """
    if os.environ.get("DERIVE_CACHE_DIR"):
        return Path(os.environ["DERIVE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = str(Path.home() / ".cache")
    return Path(base) / "derive"


_WARNED: set = set()


def _private(st: os.stat_result) -> bool:
    """Owned by this user and writable by no one else (no group or world write bit)."""
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _distrust(path: Path, st: os.stat_result, what: str = "cache folder") -> None:
    """One line on stderr, once per path and process: the cache there is bypassed, and how to fix it."""
    if str(path) in _WARNED:
        return
    _WARNED.add(str(path))
    if st.st_uid != os.getuid():
        why, fix = "is not yours", "set DERIVE_CACHE_DIR to a folder of your own"
    else:
        why, fix = "can be written by others", f"chmod go-w {path}, or set DERIVE_CACHE_DIR"
    print(f"derive: warning: {what} {path} {why}; not using the cache ({fix})", file=sys.stderr)


def trusted(folder: Path) -> bool:
    """Whether `folder` is one only this user can write (warning once when it exists and is not)."""
    if not hasattr(os, "getuid"):  # Windows: a profile folder is the user's own
        return True
    try:
        st = os.stat(folder)
    except OSError:
        return True  # not there yet: store() makes it private
    if _private(st):
        return True
    _distrust(folder, st)
    return False


def read_private(folder: Path, filename: str) -> bytes | None:
    """The bytes of `folder/filename` if the folder and the file are this user's alone, else None.

    Both are checked on the open descriptors (no symlink followed for the file), so neither can be
    swapped between the check and the read.
    """
    if not hasattr(os, "getuid"):
        try:
            return (folder / filename).read_bytes()
        except OSError:
            return None
    try:
        dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        st = os.fstat(dfd)
        if not _private(st):
            _distrust(folder, st)
            return None
        try:
            fd = os.open(filename, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dfd)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or not _private(st):
                _distrust(folder / filename, st, "cache file")
                return None
            return fh.read()
    except OSError:
        return None
    finally:
        os.close(dfd)


def make_private(folder: Path) -> bool:
    """Make `folder` (only this user may write it) if it is missing; whether it is trusted."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    return trusted(folder)


def package_files(root: Path = PACKAGE) -> dict:
    """Every file of the package (relative path -> bytes), compiled bytecode left out."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def sources_digest(files: dict) -> str:
    """SHA-256 over file names and contents, in name order."""
    h = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def source_files() -> dict:
    """The package's files and, in a checkout, the top-level templates/ (installed, they are inside)."""
    files = package_files()
    templates = PACKAGE.parent / "templates"
    if templates.is_dir() and not (PACKAGE / "templates").is_dir():
        files |= {f"templates/{name}": data for name, data in package_files(templates).items()}
    return files


@functools.cache
def installed_digest() -> str:
    return sources_digest(source_files())


def _canonical(obj):
    """A JSON-able, order-independent form of a request: dicts sorted, SymPy objects as srepr."""
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    from sympy import Basic, srepr

    if isinstance(obj, Basic):
        return {"srepr": srepr(obj)}
    raise TypeError(f"cannot key a cache entry on {type(obj).__name__}")


def sympy_version() -> str:
    """SymPy's version, read from its release file when SymPy is not imported yet (importing it takes
    about 0.3 s, and a cached `derive show` needs nothing else from it)."""
    if "sympy" in sys.modules:
        return sys.modules["sympy"].__version__
    import importlib.util

    try:
        text = Path(importlib.util.find_spec("sympy").origin).with_name("release.py").read_text()
        return re.search(r"^__version__\s*=\s*[\"']([^\"']+)[\"']", text, re.MULTILINE).group(1)
    except (AttributeError, OSError, TypeError):  # laid out otherwise: import it after all
        pass
    import sympy

    return sympy.__version__


def key(kind: str, request, *, digest: str | None = None) -> str:
    """The entry's name for `request` of `kind` ("derivation", "network", …) under these sources."""
    payload = json.dumps({"format": FORMAT, "sources": digest or installed_digest(),
                          "sympy": sympy_version(), "python": list(sys.version_info[:2]),
                          "kind": kind, "request": _canonical(request)}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


# SymPy pickles Add and Mul as a constructor call, which re-sorts their arguments; an engine
# result built in another order (factor, evaluate=False) would come back unequal. Rebuild them
# exactly as stored instead, the way `Add(*args, evaluate=False)` does, without touching the
# global `evaluate` flag (its results would land in SymPy's cache).
def _assoc(cls, args):
    return cls._exec_constructor_postprocessors(cls._from_args(args))


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        from sympy import Add, Mul

        if type(obj) in (Add, Mul):
            return _assoc, (type(obj), obj.args)
        return NotImplemented


def dumps(value) -> bytes:
    import io

    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buf.getvalue()


def loads(data: bytes):
    return pickle.loads(data)


def load(name: str, folder: Path | None = None):
    """The stored value, or `_MISS` when there is none or it cannot be read."""
    data = read_private(folder or directory(), f"{name}.pickle")
    if data is None:
        return _MISS
    try:
        return loads(data)
    except Exception:  # noqa: BLE001  (truncated, foreign or stale: rebuild it)
        return _MISS


def store(name: str, value, folder: Path | None = None) -> None:
    """Write the entry whole or not at all; a cache that cannot be written is no error."""
    folder = folder or directory()
    tmp = None
    try:
        data = dumps(value)
        if not make_private(folder):
            return
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, folder / f"{name}.pickle")
        tmp = None
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def derivation_request(what: dict, wrt, scale=1, layout: str = "denominator") -> dict:
    """The request naming a checked derivation (kind "derivation"), shared by `derive show` and the
    sheets: what is derived ({"target": name} or a sheet module's table), wrt, scale, layout."""
    return {**what, "wrt": wrt, "scale": str(scale), "layout": layout}


def has(kind: str, request) -> bool:
    """Whether an entry for `request` is stored; a request the cache cannot name never is."""
    if request is None or not enabled():
        return False
    try:
        name = key(kind, request)
    except TypeError:
        return False
    return trusted(directory()) and (directory() / f"{name}.pickle").is_file()


def writable() -> bool:
    """Whether entries can be stored: enabled, and the folder can be made and written."""
    if not enabled():
        return False
    return make_private(directory()) and os.access(directory(), os.W_OK)


def cached(kind: str, request, compute):
    """`compute()`, or what it gave last time for the same request under the same sources.

    A request of None is one the cache cannot name (a module registered at run time): computed.
    """
    if request is None or not enabled():
        return compute()
    try:
        name = key(kind, request)
    except TypeError:  # a request we cannot name exactly is not cached
        return compute()
    value = load(name)
    if value is _MISS:
        value = compute()
        store(name, value)
    return value
