"""Errors a user can act on: one line, naming the problem and the valid choices."""


class DeriveError(Exception):
    """A problem with the user's input; the CLI prints it as one line and exits 2."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def unknown(kind: str, given: str, choices) -> DeriveError:
    """`unknown target 'sofmax'; did you mean softmax? choose one of: affine, relu, ...`"""
    return DeriveError(f"unknown {kind} {given!r}; {did_you_mean(given, choices)}choose one of: "
                       + ", ".join(sorted(choices)))


def did_you_mean(given: str, choices) -> str:
    """`did you mean softmax? ` for a near miss, else nothing."""
    import difflib

    close = difflib.get_close_matches(str(given), [str(c) for c in choices], n=1, cutoff=0.75)
    return f"did you mean {close[0]}? " if close else ""
