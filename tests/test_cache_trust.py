"""The caches run code when they are read (pickles, Jinja bytecode): only the user's own are read."""

from __future__ import annotations

import os
import pickle
from fractions import Fraction

import jinja2
import pytest

from derive import cache
from derive.render.environment import _PrivateBytecodeCache

OTHER_UID = 12345
as_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                             reason="giving a file to another user needs root")


class Payload:
    """Unpickling this makes the folder `marker`: proof that the planted file ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    path.mkdir(mode=0o700)
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(path))
    monkeypatch.delenv("DERIVE_NO_CACHE", raising=False)
    cache._WARNED.clear()
    return path


def plant(folder, name, marker):
    path = folder / f"{name}.pickle"
    path.write_bytes(pickle.dumps(Payload(marker)))
    path.chmod(0o600)
    return path


def test_a_pickle_of_ones_own_in_a_private_folder_is_read(folder, tmp_path):
    # the control: the planted payload does run when the files are trusted
    marker = tmp_path / "ran"
    plant(folder, "entry", marker)
    assert cache.load("entry") is not cache._MISS
    assert marker.is_dir()


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777, 0o1777])
def test_a_pickle_in_a_folder_others_can_write_is_not_read(folder, tmp_path, capsys, mode):
    marker = tmp_path / "ran"
    plant(folder, "entry", marker)
    folder.chmod(mode)
    assert cache.load("entry") is cache._MISS
    assert cache.cached("test", {"n": 1}, lambda: "fresh") == "fresh"
    assert not marker.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "can be written by others" in err[0]
    assert not list(folder.glob(f"{cache.key('test', {'n': 1})}.pickle"))  # bypassed: not written either


@as_root
def test_a_pickle_owned_by_another_user_is_not_read(folder, tmp_path, capsys):
    marker = tmp_path / "ran"
    os.chown(plant(folder, "entry", marker), OTHER_UID, OTHER_UID)
    assert cache.load("entry") is cache._MISS
    assert not marker.exists()
    assert "is not yours" in capsys.readouterr().err


@as_root
def test_a_folder_owned_by_another_user_is_not_read(folder, tmp_path, capsys):
    marker = tmp_path / "ran"
    plant(folder, "entry", marker)
    os.chown(folder, OTHER_UID, OTHER_UID)
    assert cache.load("entry") is cache._MISS
    assert not cache.writable() and not cache.has("test", {"n": 1})
    assert not marker.exists()
    assert capsys.readouterr().err.count("\n") == 1  # one warning, however often the cache is asked


@pytest.mark.parametrize("mode", [0o620, 0o602])
def test_a_pickle_others_can_write_is_not_read(folder, tmp_path, mode):
    marker = tmp_path / "ran"
    plant(folder, "entry", marker).chmod(mode)
    assert cache.load("entry") is cache._MISS
    assert not marker.exists()


def test_a_symlinked_entry_is_not_followed(folder, tmp_path):
    marker = tmp_path / "ran"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    target = plant(elsewhere, "entry", marker)
    (folder / "entry.pickle").symlink_to(target)
    assert cache.load("entry") is cache._MISS
    assert not marker.exists()


def test_derive_show_bypasses_a_shared_cache_with_one_line(folder, tmp_path, capsys):
    from derive.cli import main

    marker = tmp_path / "ran"
    request = cache.derivation_request({"target": "sigmoid"}, None, Fraction(1), "denominator")
    plant(folder, cache.key("derivation", request), marker)
    folder.chmod(0o777)
    assert main(["show", "sigmoid", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert '"result": "y*(1 - y)"' in out
    assert not marker.exists()
    assert len(err.strip().splitlines()) == 1 and str(folder) in err


@pytest.mark.parametrize("share", ["mode", pytest.param("owner", marks=as_root)])
def test_jinja_bytecode_is_read_only_from_a_private_folder(tmp_path, share):
    marker = tmp_path / "ran"
    folder = tmp_path / "templates"
    folder.mkdir(mode=0o700)
    bcc = _PrivateBytecodeCache(str(folder))
    env = jinja2.Environment()
    bucket = jinja2.bccache.Bucket(env, bcc.get_cache_key("t.j2", "t.j2"), bcc.get_source_checksum("x"))
    path = folder / os.path.basename(bcc._get_cache_filename(bucket))
    # a bucket holds the magic header, then a pickled checksum: the pickle runs on load
    path.write_bytes(jinja2.bccache.bc_magic + pickle.dumps(Payload(marker)))
    path.chmod(0o600)
    if share == "mode":
        folder.chmod(0o777)
    else:
        os.chown(path, OTHER_UID, OTHER_UID)
    bcc.load_bytecode(bucket)
    assert not marker.exists() and bucket.code is None
    folder.chmod(0o700)
    os.chown(path, os.getuid(), os.getgid())
    bcc.load_bytecode(bucket)  # the control: trusted, the same file is read (and its payload runs)
    assert marker.is_dir()


def test_a_relative_xdg_cache_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.delenv("DERIVE_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert cache.directory() == tmp_path / "home" / ".cache" / "derive"


def test_a_new_cache_folder_is_private(folder):
    inner = folder / "a" / "b"
    assert cache.make_private(inner)
    assert inner.stat().st_mode & 0o077 == 0
