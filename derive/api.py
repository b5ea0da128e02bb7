"""The Python interface: everything the CLI does is a function call here."""

from __future__ import annotations

from derive.errors import DeriveError


def derivative(target, wrt: str | None = None, *, scale=1, layout: str = "denominator", verify=None):
    """The derivation of a registry module or loss (or a Definition) with respect to `wrt`.

    `verify`: check the result against sympy.diff and finite differences now (its report is
    `.report`; a failure raises DeriveError). None checks a module of one's own (a Definition, or
    a name registered at run time) and leaves built-in entries to the test suite, which checks
    every one of them. The matrix form is always checked against the index form before it is
    attached (`.matrix`); one that fails is `.matrix_refused` and is only named when shown.

    >>> derivative("softmax", wrt="x").result
    beta*(KroneckerDelta(i, j) - y[j])*y[i]
    """
    from derive.model.request import Request
    from derive.network.chain import derive_request

    return derive_request(Request(target, wrt, scale, layout), verify)


def network(*modules: str, loss: str | None = None, names: dict | None = None):
    """A network: a chain of registry modules ending in a loss, numbered W1, b1, W2, … from the input.
    `names` prints it in a homework's own names: {"s1": "z_1", "z1": "z_2", "cost": "L"}, or a whole
    family at once, {"S": "S_k"} (derive.network.names.declare).

    >>> network("affine", "relu", "affine", loss="mse").derive("W1").gradient.text
    'δ1 xᵀ'
    """
    from derive.network.chain import network as chain

    return chain(*modules, loss=loss, names=names)


def targets() -> list:
    """The registry entries: name, kind and title of every module and loss."""
    from derive.definitions import entries

    return entries()


def sheet(name_or_file, output_dir="output", formats=("md", "tex"), *, templates: str | None = None,
          edition: str = "ta") -> list:
    """Render a bundled sheet (by name) or a sheet file into `output_dir`; the paths written.

    `formats` may include "pdf" when latexmk is installed; `edition` is ta, solutions or exercises
    (as `derive sheet --edition`).
    """
    from pathlib import Path

    from derive.sheets import load, resolve
    from derive.sheets.cli import write_sheet

    unknown_formats = set(formats) - {"md", "tex", "pdf"}
    if unknown_formats:
        raise DeriveError(f"unknown format {min(unknown_formats)!r}; choose from: md, tex, pdf")
    return write_sheet(load(resolve(str(name_or_file))), Path(output_dir), tuple(formats), templates,
                       edition=edition)


def assert_correct(target, answer: str, wrt: str | None = None, *, scale=1, timeout: float = 5.0):
    """For an autograded notebook cell (nbgrader style): returns the Verdict when `answer` is
    correct, and otherwise fails with an AssertionError whose message is the verdict and its
    feedback, which the autograder shows the student.

    >>> assert_correct("sigmoid", "y(1 - y)").verdict
    'correct'
    """
    verdict = derivative(target, wrt=wrt, scale=scale).check(answer, timeout=timeout)
    if not verdict.correct:
        raise AssertionError(" ".join([f"{verdict.verdict}:", *verdict.feedback]
                                      + ([verdict.counterexample["text"]] if verdict.counterexample else [])))
    return verdict
