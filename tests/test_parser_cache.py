"""The answer parser is built once and kept in derive's cache folder, and loaded only if it is the user's own."""

import os
import pickle
import stat

import lark
import pytest

from derive import cache
from derive.check import lalr, parse

ANSWER = r"\beta y_j(\delta_{ij} - y_i)"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(folder))
    lalr.parser.cache_clear()
    yield folder
    lalr.parser.cache_clear()  # the next test builds its parser under its own cache folder


class _Planted:
    """A pickle that leaves a mark when loaded: what another user could put in a shared cache."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def _plant(path, marker):
    path.write_bytes(b"0" * 64 + b"\n" + pickle.dumps(_Planted(marker)))


def _never_built(monkeypatch):
    def refuse(self, *a, **k):
        raise AssertionError("the parser was built, not loaded")

    monkeypatch.setattr(lark.Lark, "_build_parser", refuse)


def test_the_parser_is_built_once_then_loaded_from_a_private_file(cache_dir, monkeypatch):
    tree = parse.parse(ANSWER)
    (path,) = (cache_dir / "lark").iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert cache.read_private(path.parent, path.name) is not None  # the cache's own trust check passes
    lalr.parser.cache_clear()
    _never_built(monkeypatch)
    assert parse.parse(ANSWER) == tree


def test_a_changed_grammar_gets_a_file_of_its_own(cache_dir, monkeypatch):
    parse.parse(ANSWER)
    grammar = lalr.GRAMMAR.read_text()
    assert lalr.cache_file(grammar + "\n// changed") != lalr.cache_file(grammar)


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722])
def test_a_parser_file_in_a_folder_others_can_write_is_never_loaded(cache_dir, tmp_path, mode):
    path = lalr.cache_file(lalr.GRAMMAR.read_text())
    marker = tmp_path / "ran"
    _plant(path, marker)
    path.parent.chmod(mode)
    assert parse.parse(ANSWER) is not None
    assert not marker.exists()


def test_a_parser_file_others_can_write_is_never_loaded(cache_dir, tmp_path):
    path = lalr.cache_file(lalr.GRAMMAR.read_text())
    marker = tmp_path / "ran"
    _plant(path, marker)
    path.chmod(0o666)
    assert parse.parse(ANSWER) is not None and not marker.exists()


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="giving a file away needs root")
def test_a_parser_file_owned_by_someone_else_is_never_loaded(cache_dir, tmp_path):
    path = lalr.cache_file(lalr.GRAMMAR.read_text())
    marker = tmp_path / "ran"
    _plant(path, marker)
    os.chown(path, 65534, 65534)
    assert parse.parse(ANSWER) is not None and not marker.exists()


def test_a_linked_parser_folder_is_not_used(cache_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    cache_dir.mkdir()
    (cache_dir / "lark").symlink_to(elsewhere)
    assert parse.parse(ANSWER) is not None and not any(elsewhere.iterdir())


def test_no_parser_file_without_the_cache(cache_dir, monkeypatch):
    monkeypatch.setenv("DERIVE_NO_CACHE", "1")
    assert parse.parse(ANSWER) is not None and not cache_dir.exists()
