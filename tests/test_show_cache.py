"""`derive show` prints a checked derivation; a second show of the same request prints it from the cache."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOWN = [
    ["softmax"],
    ["affine", "--wrt", "W", "--format", "json"],
    ["hinge", "--format", "md"],
    ["softmax", "--form", "matrix", "--format", "tex"],
    ["affine>relu>affine>relu>affine>mse"],
    ["affine>sigmoid>affine>softmax_cross_entropy", "--format", "numpy"],
]
PROBE = ("import sys\nfrom derive.cli import main\ncode = main(sys.argv[1:])\n"
         "print('sympy' in sys.modules, code, file=sys.stderr)")


def _show(cache, *argv):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DERIVE_CACHE_DIR": str(cache)}
    env.pop("DERIVE_NO_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", PROBE, "show", *argv], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    *said, probe = proc.stderr.splitlines()
    imported, code = probe.split()
    return proc.stdout, said, imported == "True", int(code)


@pytest.mark.parametrize("argv", SHOWN, ids=[" ".join(a) for a in SHOWN])
def test_a_second_show_prints_the_same_without_importing_sympy(tmp_path, argv):
    first, said, imported, code = _show(tmp_path, *argv)
    assert code == 0 and imported and not said
    second, said, imported, code = _show(tmp_path, *argv)
    assert code == 0 and second == first and not imported and not said


def test_what_a_fresh_show_prints_is_what_the_cached_one_prints(tmp_path):
    cached, *_ = _show(tmp_path, "softmax", "--format", "json")
    cached, *_ = _show(tmp_path, "softmax", "--format", "json")
    fresh, *_ = _show(tmp_path / "other", "softmax", "--format", "json")
    assert cached == fresh and json.loads(cached)["check"]["max_finite_difference_error"] < 1e-5


def test_an_error_is_not_cached(tmp_path):
    for _ in range(2):
        out, said, _, code = _show(tmp_path, "hinge", "--form", "matrix")
        assert code == 2 and out == "" and len(said) == 1 and "no matrix form" in said[0]


def test_sympys_version_is_read_the_same_without_importing_it():
    code = ("import sys\nfrom derive import cache\nread = cache.sympy_version()\nprint('sympy' in sys.modules)\n"
            "import sympy\nprint(read == sympy.__version__ == cache.sympy_version())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
