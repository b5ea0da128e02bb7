"""The cache of verified derivations: exact results, keys that miss on any change, safe storage."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from derive import cache
from derive.sheets import builder, resolve
from derive.sheets import solve as solving
from derive.sheets.builder import build, solve
from derive.sheets.loader import load

MODULE_SHEET = '''\
    title = "Modules"
    [[questions]]
    title = "Scaled softmax"
    statement = "Differentiate it."
    wrt = "x"
    numeric = { x = [1.0, 2.0, 0.5], a = 2 }
    [questions.module]
    name = "scaled"
    output = "y[i]"
    expr = "exp(a*x[i]) / sum(exp(a*x[k]), k, 1, K)"
    inputs = ["x"]
    shapes = { x = ["K"], y = ["K"], a = [] }
    '''


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(folder))
    monkeypatch.delenv("DERIVE_NO_CACHE", raising=False)
    return folder


def assert_same(a, b, path="solved"):
    """Equal all the way down: dataclasses field by field, SymPy objects by == and srepr."""
    assert type(a) is type(b), path
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for n, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{n}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, np.ndarray):
        assert np.array_equal(a, b), path
    elif isinstance(a, sp.Basic):
        assert a == b and sp.srepr(a) == sp.srepr(b), path
    elif type(a).__module__.startswith("derive") and hasattr(a, "__dict__"):
        assert_same(vars(a), vars(b), path)
    else:
        assert a == b, path


def sheets(tmp_path) -> list:
    module = tmp_path / "module.toml"
    module.write_text(textwrap.dedent(MODULE_SHEET), encoding="utf-8")
    # cs224n_a1: registry targets, numeric tables, an identity and its proof, a network
    return [load(resolve("cs224n_a1")), load(module)]


def test_a_cached_sheet_is_exactly_a_fresh_one(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setenv("DERIVE_NO_CACHE", "1")
    fresh = [solve(s) for s in sheets(tmp_path)]
    fresh_text = [build(s).outputs for s in sheets(tmp_path)]
    assert not cache_dir.exists()

    monkeypatch.delenv("DERIVE_NO_CACHE")
    first = [solve(s) for s in sheets(tmp_path)]  # misses: derived, verified, stored
    assert [build(s).outputs for s in sheets(tmp_path)] == fresh_text  # and printed, stored
    stored = sorted(cache_dir.glob("*.pickle"))
    assert len(stored) >= 8

    def never(*args, **kwargs):
        raise AssertionError("derived again although the cache holds it")

    for module, name in ((solving, "_derivation"), (solving, "_proof"), (builder, "_printed")):
        monkeypatch.setattr(module, name, never)
    monkeypatch.setattr("derive.verify.verify", never)
    monkeypatch.setattr("derive.sheets.network.solve_network", never)
    monkeypatch.setattr("derive.sheets.numeric.module_tables", never)
    second = [solve(s) for s in sheets(tmp_path)]  # hits only
    assert sorted(cache_dir.glob("*.pickle")) == stored
    assert_same(fresh, first)
    assert_same(fresh, second)
    assert [build(s).outputs for s in sheets(tmp_path)] == fresh_text


def test_sums_and_products_come_back_in_their_stored_order():
    beta, y = sp.Symbol("beta"), sp.IndexedBase("y")
    i, j = sp.symbols("i j", integer=True)
    expr = sp.Mul(beta, y[i], sp.KroneckerDelta(i, j) - y[j], evaluate=False)  # not SymPy's own order
    assert sp.Mul(*expr.args).args != expr.args
    back = cache.loads(cache.dumps(expr))
    assert back == expr and back.args == expr.args
    assert sp.Mul(*expr.args).args != expr.args  # SymPy's own cache was not handed the unsorted one


def test_a_change_to_any_source_file_misses():
    files = cache.source_files()
    assert "cache.py" in files and "calculus/engine.py" in files and "sheets/builder.py" in files
    assert any(name.endswith("partials/derivation.md.j2") for name in files)
    request = {"target": "softmax", "wrt": "x", "scale": 1, "layout": "denominator"}
    base = cache.key("derivation", request, digest=cache.sources_digest(files))
    assert base == cache.key("derivation", request)  # the installed sources, as read
    template = next(name for name in files if name.endswith("partials/derivation.md.j2"))
    for name in ("calculus/engine.py", "verify.py", "definitions/activations.py", "sheets/cs224n_a1.toml", template):
        edited = {**files, name: files[name] + b"\n# one more line\n"}
        assert cache.key("derivation", request, digest=cache.sources_digest(edited)) != base, name
    added = {**files, "calculus/new_rule.py": b"RULE = 1\n"}
    renamed = {("verify2.py" if k == "verify.py" else k): v for k, v in files.items()}
    removed = {k: v for k, v in files.items() if k != "steps.py"}
    for changed in (added, renamed, removed):
        assert cache.key("derivation", request, digest=cache.sources_digest(changed)) != base


def test_the_request_and_sympy_version_are_in_the_key(monkeypatch):
    request = {"target": "softmax", "wrt": "x", "scale": 1, "layout": "denominator"}
    base = cache.key("derivation", request)
    assert cache.key("derivation", dict(reversed(list(request.items())))) == base  # order does not matter
    for change in ({"wrt": "beta"}, {"scale": 3}, {"layout": "numerator"}, {"target": "sigmoid"}):
        assert cache.key("derivation", {**request, **change}) != base, change
    assert cache.key("network", request) != base
    monkeypatch.setattr(sp, "__version__", "0.0.1")
    assert cache.key("derivation", request) != base


def test_a_sheet_module_is_keyed_on_its_definition(tmp_path):
    (sheet,) = sheets(tmp_path)[1:]
    part = sheet.questions[0].parts[0]
    other = dataclasses.replace(part, module={**part.module, "expr": "exp(a*x[i]) / sum(exp(x[k]), k, 1, K)"})
    assert cache.key("derivation", solving.part_request(part, "x")) != cache.key("derivation", solving.part_request(other, "x"))


@pytest.fixture
def registry():
    """The registry as it was, restored after the test (define(register=True) writes into it)."""
    from derive.definitions import _BUILT, REGISTRY, _load_builtins

    _load_builtins()
    saved = dict(REGISTRY), dict(_BUILT)
    yield
    for live, old in zip((REGISTRY, _BUILT), saved):
        live.clear()
        live.update(old)


def test_a_module_registered_at_run_time_is_not_cached(registry):
    import derive
    from derive.network.chain import builtin

    x, y = sp.IndexedBase("x"), sp.IndexedBase("y")
    i = sp.Symbol("i", integer=True)
    assert builtin("softmax") and builtin("affine[bias=false]>relu>affine>mse")
    derive.define("cache_test_cube", y[i], x[i] ** 3, register=True)
    derive.define("sigmoid", y[i], x[i] ** 3, register=True)  # a built-in name, redefined
    assert not builtin("cache_test_cube") and not builtin("sigmoid")
    assert not builtin("affine>cache_test_cube>affine>mse")
    assert not builtin("no_such_module")
    calls = []
    assert cache.cached("derivation", None, lambda: calls.append(1) or 7) == 7 and calls


def test_a_corrupt_entry_is_ignored_and_rebuilt(cache_dir):
    calls = []

    def compute():
        calls.append(1)
        return {"value": 42}

    name = cache.key("test", {"n": 1})
    assert cache.cached("test", {"n": 1}, compute) == {"value": 42}
    path = cache_dir / f"{name}.pickle"
    for garbage in (b"", b"not a pickle", path.read_bytes()[:10], b"\x80\x05cno_such_module\nthing\n."):
        path.write_bytes(garbage)
        assert cache.cached("test", {"n": 1}, compute) == {"value": 42}
        assert cache.load(name) == {"value": 42}  # rewritten whole
    assert len(calls) == 5
    assert cache.cached("test", {"n": 1}, compute) == {"value": 42} and len(calls) == 5


def test_an_unreadable_or_unwritable_cache_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(blocker / "cache"))
    assert cache.cached("test", {"n": 2}, lambda: 5) == 5


def test_failures_are_not_cached(cache_dir):
    def broken():
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.cached("test", {"n": 3}, broken)
    assert not cache_dir.exists() or not list(cache_dir.glob("*.pickle"))


def test_entries_are_written_whole(cache_dir):
    cache.cached("test", {"n": 4}, lambda: list(range(1000)))
    assert [p.name for p in cache_dir.iterdir() if not p.name.endswith(".pickle")] == []  # no temporaries


def test_derive_no_cache_neither_reads_nor_writes(cache_dir, monkeypatch):
    cache.cached("test", {"n": 5}, lambda: "stored")
    monkeypatch.setenv("DERIVE_NO_CACHE", "1")
    assert cache.cached("test", {"n": 5}, lambda: "fresh") == "fresh"
    assert cache.cached("test", {"n": 6}, lambda: "fresh") == "fresh"
    assert len(list(cache_dir.glob("*.pickle"))) == 1
    monkeypatch.setenv("DERIVE_NO_CACHE", "0")
    assert cache.cached("test", {"n": 5}, lambda: "fresh") == "stored"


def test_the_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.directory() == tmp_path / "mine"
    monkeypatch.delenv("DERIVE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.directory() == tmp_path / "xdg" / "derive"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.directory() == Path(tmp_path / "home" / ".cache" / "derive")


def test_the_cli_reuses_verified_derivations(tmp_path, cache_dir):
    from derive.cli import main

    assert main(["sheet", "nyu2020_hw1", "-o", str(tmp_path / "a"), "--format", "md,tex"]) == 0
    entries = sorted(cache_dir.glob("*.pickle"))
    assert entries
    assert main(["sheet", "nyu2020_hw1", "-o", str(tmp_path / "b"), "--format", "md,tex"]) == 0
    assert sorted(cache_dir.glob("*.pickle")) == entries
    for fmt in ("md", "tex"):
        assert (tmp_path / "a" / f"nyu2020_hw1.{fmt}").read_text() == (tmp_path / "b" / f"nyu2020_hw1.{fmt}").read_text()


def test_a_whole_sheet_comes_from_the_cache_only_when_its_file_and_the_templates_are_fixed(tmp_path, cache_dir,
                                                                                          monkeypatch):
    from derive.sheets.cli import write_sheet

    sheet = load(resolve("nyu2020_hw1"))
    first = [p.read_text() for p in write_sheet(sheet, tmp_path / "a")]

    def never(*args, **kwargs):
        raise AssertionError("built again although the cache holds the sheet")

    monkeypatch.setattr(builder, "build", never)
    assert [p.read_text() for p in write_sheet(sheet, tmp_path / "b")] == first
    # own templates are not in any key: such a sheet is always built
    with pytest.raises(AssertionError, match="built again"):
        write_sheet(sheet, tmp_path / "c", templates=str(tmp_path))
    # a different file is a different request
    copy = tmp_path / "copy.toml"
    copy.write_text(Path(sheet.path).read_text() + "\n# a comment\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="built again"):
        write_sheet(load(copy), tmp_path / "d")
