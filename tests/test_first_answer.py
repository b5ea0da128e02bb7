"""What makes one `derive check` start quickly: a cached reference, collection paused while importing."""

import gc

import pytest

from derive import cache
from derive.check import check
from derive.check.compare import Reference, remember
from derive.check.task import request
from derive.model.request import Request
from derive.network.chain import derive_request
from derive.numpy_lambdify import compile_numpy
from derive.warm import collector_paused

ANSWERS = {  # target: right and wrong answers whose verdicts must not depend on where the reference came from
    "softmax": [r"\beta y_j(\delta_{ij} - y_i)", r"y_i(\delta_{ij} - y_j)", r"\beta y_i(\delta_{ij} + y_j)"],
    "hinge": [r"\sum_{l=1}^{K} \mathbf{1}[C + p_l - p_t > 0](1-\delta_{lt})(p_l(\delta_{il}-p_i) - p_t(\delta_{it}-p_i))",
              r"\sum_{l=1}^{K} \mathbf{1}[C + p_l - p_t > 0](1-\delta_{lt})(p_l(\delta_{il}-p_i) + p_t(\delta_{it}-p_i))"],
    "relu": [r"\mathbf{1}[x > 0]", r"\mathbf{1}[x < 0]", "1"],
}


def test_a_compiled_function_pickles_as_its_source_and_gives_the_same_values():
    import numpy as np
    import sympy as sp

    x, y = sp.symbols("x y", real=True)
    f = compile_numpy([sp.exp(x) * y, sp.Max(x, y)], [x, y])
    g = cache.loads(cache.dumps(f))
    a, b = np.array([0.5, -1.0, 2.0]), np.array([1.5, 3.0, -2.0])
    assert g.source == f.source and all(np.array_equal(p, q) for p, q in zip(f(a, b), g(a, b)))


@pytest.mark.parametrize("target", sorted(ANSWERS))
def test_a_reference_from_the_cache_gives_the_verdicts_of_a_fresh_one(target):
    d = derive_request(Request(target, None), verify=True)
    fresh = [check(remember(Reference(d)).d, a).to_json() for a in ANSWERS[target]]
    loaded = cache.loads(cache.dumps(Reference(d)))
    again = [check(remember(loaded).d, a).to_json() for a in ANSWERS[target]]
    assert again == fresh
    assert [v["verdict"] for v in fresh][:2] == ["correct", "incorrect"]


def test_the_worker_keeps_the_reference_in_the_cache(tmp_path, monkeypatch):
    from derive.check import worker

    monkeypatch.setenv("DERIVE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DERIVE_NO_CACHE", raising=False)
    r = request("softmax", None)
    worker._PREPARED.clear()
    worker.prepare(r)
    assert cache.has("reference", r.cache_key()) and cache.has("derivation", r.cache_key())


def test_collection_is_paused_inside_and_as_it_was_after():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
        gc.unfreeze()

