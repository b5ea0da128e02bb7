"""Errors a user can act on: one line, naming the problem and the valid choices."""


class DeriveError(Exception):
    """A problem with the user's input; the CLI prints it as one line and exits 2."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def unknown(kind: str, given: str, choices) -> DeriveError:
    """`unknown target 'sofmax'; choose one of: affine, relu, ...`"""
    listed = ", ".join(sorted(choices))
    return DeriveError(f"unknown {kind} {given!r}; choose one of: {listed}")
