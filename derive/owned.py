"""Whether a folder or a file is the user's own, so that a file in it that can carry code may be loaded.

A folder qualifies when it is a real directory (not a symbolic link) the user owns that neither its
group nor others can write, and every folder above it (after resolving links) belongs to the user
or to root and is not writable by others unless it is sticky (as /tmp is: there only an entry's
owner can rename it). A file qualifies when it is a regular file the user owns that neither its
group nor others can write, in such a folder. Where there are no user ids (Windows) nothing does.

Used for the lark parser's cache (derive/check/parse.py); derive/cache.py keeps its own rules.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


def _uid() -> int | None:
    return os.getuid() if hasattr(os, "getuid") else None


def private_folder(folder: Path) -> bool:
    """Whether `folder` is the user's own and nobody else can write in it or swap it (see above)."""
    uid = _uid()
    if uid is None:
        return False
    try:
        st = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & _OTHERS_WRITE:
        return False
    for parent in Path(os.path.realpath(folder)).parents:
        try:
            pst = os.stat(parent)
        except OSError:
            return False
        if pst.st_uid not in (uid, 0):
            return False
        if pst.st_mode & _OTHERS_WRITE and not pst.st_mode & stat.S_ISVTX:
            return False
    return True


def private_file(path: Path) -> bool:
    """Whether `path` is a regular file the user owns, that nobody else can write, in a private folder."""
    uid = _uid()
    if uid is None:
        return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISREG(st.st_mode) and st.st_uid == uid and not st.st_mode & _OTHERS_WRITE
            and private_folder(Path(path).parent))


def make_private_folder(folder: Path) -> bool:
    """Create `folder` (and missing parents) readable and writable by the user alone; whether it is private."""
    folder = Path(folder)
    missing = []
    for f in (folder, *folder.parents):
        if f.exists() or f.is_symlink():
            break
        missing.append(f)
    try:
        for f in reversed(missing):
            f.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return False
    return private_folder(folder)
