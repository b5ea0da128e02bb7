"""Bounds on the work an input may ask for; each refusal is one line naming the field and the limit.

A sheet, an option or a command-line number is refused before any work when it is out of
bounds, and each derivation and sheet part runs under a wall-clock limit, so no input keeps
derive busy without end. The README ("Security and limits") lists these with their defaults.
"""

from __future__ import annotations

import math
import re
import signal
import threading
from contextlib import contextmanager
from fractions import Fraction

from derive.errors import DeriveError

MAX_SIZE = 10  # a dimension's size: a sheet module's `sizes`, numeric data along one axis
MAX_NUMBER = 10**6  # the magnitude of a number given in a sheet, an option or on the command line
MIN_NUMBER = Fraction(1, 10**6)  # the smallest nonzero magnitude of a scale (finer ones round to 0)
MAX_NUMBER_TEXT = 40  # characters of a number written as text
MAX_PARTS = 26  # parts of a question, lettered (a) to (z)
TIME_LIMIT = 60.0  # seconds for one derivation (`derive show`) or one sheet part; --time-limit

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?|[+-]?\d+/\d+")


class TimeLimitError(DeriveError):
    """A derivation or sheet part ran past the time limit; `what` names it."""

    def __init__(self, message: str, what: str = ""):
        super().__init__(message)
        self.what = what


def number(value, what: str) -> Fraction:
    """`value` (an int, a float, or text such as "3", "1/2", "2.5e-3") as a Fraction within the limits;
    DeriveError naming `what` otherwise. Text is checked before it is converted, so "1e999999999"
    is refused at once instead of computing 10^999999999."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Fraction)):
        raise DeriveError(f"{what} must be a number, e.g. 3 or \"1/2\"")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_NUMBER_TEXT or not _NUMBER.fullmatch(text):
            raise DeriveError(f"{what} must be a number such as 3, 0.5 or \"1/2\" (at most {MAX_NUMBER_TEXT} "
                              f"characters, exponents of at most 3 digits), not {_short(text)}")
        if "/" in text and int(text.split("/")[1]) == 0:
            raise DeriveError(f"{what}: division by zero in {text!r}")
        if "e" in text.lower() and abs(int(text.lower().split("e")[1])) > 30:
            raise DeriveError(f"{what} {text!r} is out of range; its magnitude must be at most {MAX_NUMBER:g}")
        result = Fraction(text)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise DeriveError(f"{what} must be a finite number, not {value}")
        if abs(value) > MAX_NUMBER:
            raise DeriveError(f"{what} {value:g} is out of range; its magnitude must be at most {MAX_NUMBER:g}")
        result = Fraction(value)
    else:
        result = Fraction(value)
    if abs(result) > MAX_NUMBER:
        raise DeriveError(f"{what} {_short(str(value))} is out of range; its magnitude must be at most "
                          f"{MAX_NUMBER:g}")
    return result


def scale(value, what: str = "scale") -> Fraction:
    """A cost scale: a number within the limits, nonzero magnitudes at least 1e-6, denominators at most
    10^6 (a float such as 0.1 becomes the nearest such fraction, 1/10)."""
    result = number(value, what)
    if result and abs(result) < MIN_NUMBER:
        raise DeriveError(f"{what} {_short(str(value))} is too small; a nonzero scale has magnitude at least 1e-06")
    if isinstance(value, float) or result.denominator > 10**6:
        result = result.limit_denominator(10**6)
    return result


def real(value, what: str) -> float:
    """A finite float of magnitude at most MAX_NUMBER (numeric data, a learning rate, an option)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DeriveError(f"{what} must be a number, not {type(value).__name__} {_short(repr(value))}")
    if isinstance(value, int) and abs(value) > MAX_NUMBER:
        raise DeriveError(f"{what} {_short(str(value))} is out of range; its magnitude must be at most "
                          f"{MAX_NUMBER:g}")
    result = float(value)
    if not math.isfinite(result) or abs(result) > MAX_NUMBER:
        raise DeriveError(f"{what} {_short(str(value))} is out of range; a finite number of magnitude at most "
                          f"{MAX_NUMBER:g}")
    return result


def size(value, what: str) -> int:
    """A dimension's size: a whole number from 1 to MAX_SIZE."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
        raise DeriveError(f"{what} must be a whole number from 1 to {MAX_SIZE}, not {_short(repr(value))}")
    return value


def array(values, what: str):
    """A number, a list of numbers or a list of equal rows, the same shape with floats: each number
    finite and within MAX_NUMBER, each axis at most MAX_SIZE long."""
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        return real(values, what)
    if not isinstance(values, list) or not values:
        raise DeriveError(f"{what} must be a number, a list of numbers, or a list of equal rows")
    if len(values) > MAX_SIZE:
        raise DeriveError(f"{what} has {len(values)} entries along its first axis; at most {MAX_SIZE}")
    if all(isinstance(v, list) for v in values):
        if len({len(r) for r in values}) != 1 or not values[0]:
            raise DeriveError(f"{what} must be a number, a list of numbers, or a list of equal rows")
        if len(values[0]) > MAX_SIZE:
            raise DeriveError(f"{what} has {len(values[0])} entries along its second axis; at most {MAX_SIZE}")
        return [[real(v, what) for v in row] for row in values]
    return [real(v, what) for v in values]


def grid(values, what: str) -> list:
    """`array(values)` as rows: a number is one row of one, a list of numbers is a column."""
    checked = array(values, what)
    if isinstance(checked, float):
        return [[checked]]
    return checked if isinstance(checked[0], list) else [[v] for v in checked]


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------- time limit

_seconds = TIME_LIMIT
_active = threading.local()
# What ran out of time in a worker that solved ahead (derive/sheets/ahead.py): `what` -> the refusal,
# so the build says it at once instead of running out of time again. Emptied after each run.
expired: dict = {}


class _Expired(BaseException):
    """Raised by the timer: a BaseException, so that no `except Exception` inside SymPy swallows it."""


def set_time_limit(seconds: float | None) -> None:
    """The limit for each derivation and sheet part from now on (None or 0: none)."""
    global _seconds
    _seconds = seconds or 0.0


def time_limit_seconds() -> float:
    return _seconds


def _expire(signum, frame):
    if getattr(_active, "on", False):
        raise _Expired


@contextmanager
def time_limit(what: str):
    """Run the block for at most the time limit; TimeLimitError ("`what` took longer than 60 s …")
    after it. Only in the main thread of a process (signals), and the outermost limit governs."""
    seconds = _seconds
    if (what, seconds) in expired:
        raise TimeLimitError(expired[what, seconds], what)
    if (not seconds or getattr(_active, "on", False) or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _expire)
    _active.on = True
    # The timer repeats each second after it first fires, in case a bare `except:` swallowed it.
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    except _Expired:
        raise TimeLimitError(f"{what} took longer than {seconds:g} s, the time limit "
                             "(--time-limit SECONDS to change it)", what) from None
    finally:
        _active.on = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def seconds(text: str) -> float:
    """A time limit on the command line: seconds, 0 for none."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 <= value <= 86400):
        raise argparse.ArgumentTypeError(f"not a time limit: {text!r}; give seconds from 0 (none) to 86400")
    return value


def cost_scale(text: str) -> Fraction:
    """--cost-scale of show, check and grade: a Fraction within the limits, or argparse's one-line error."""
    import argparse

    try:  # bounded before it is converted: Fraction("1e999999999") would not return
        return scale(text, "the cost scale")
    except DeriveError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def add_time_limit(parser, what: str) -> None:
    """`--time-limit SECONDS` on an argparse parser, for `what`."""
    parser.add_argument("--time-limit", type=seconds, default=TIME_LIMIT, metavar="SECONDS",
                        help=f"seconds allowed for {what} (default {TIME_LIMIT:g}; 0: no limit)")
