"""Writing a sheet's files: whole or not at all, each name checked against the file system's limit."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from derive.errors import DeriveError


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `path` whole or not at all: a temporary file in the same folder, then a rename.
    DeriveError (one line) if it cannot be written; what was there before is left as it was."""
    path = Path(path)
    check_name(path)
    output_folder(path.parent)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".derive-", suffix=".tmp", dir=path.parent)  # short: any name fits
        os.chmod(tmp, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise DeriveError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def output_folder(folder: Path, make: bool = True) -> Path:
    """`folder`, made if missing (with `make`); DeriveError (one line) if it, or the nearest folder
    above it that exists, is a file or cannot be written."""
    folder = Path(folder)
    there = folder
    while not os.path.lexists(there) and there != there.parent:
        check_name(there)
        there = there.parent
    if not os.path.isdir(there):
        raise DeriveError(f"the output {there} is a file, not a folder; name a folder with -o")
    try:  # the only sure test (root passes every permission check; a read-only file system does not)
        fd, probe = tempfile.mkstemp(prefix=".derive-", suffix=".tmp", dir=there)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise DeriveError(f"cannot write in the output folder {there}: {exc.strerror or exc}") from None
    if make:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeriveError(f"cannot make the output folder {folder}: {exc.strerror or exc}") from None
    return folder


def check_name(path: Path) -> None:
    """DeriveError if the file name is longer than the file system allows (about 255 bytes)."""
    try:
        name_max = os.pathconf(path.parent if os.path.isdir(path.parent) else ".", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    if len(os.fsencode(Path(path).name)) > name_max:
        raise DeriveError(f"cannot write {Path(path).name[:40]}…: a name in a path is at most {name_max} bytes")


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
