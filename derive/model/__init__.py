"""The data a derivation is made of, below every stage that computes or prints it.

`matexpr`: matrix expressions as a tree; `evaluate`: the one NumPy evaluator of that tree;
`notation`: how each name is written (LaTeX, Unicode text). Nothing here imports from the rest
of derive except errors.
"""

FORMS = ("index", "matrix")  # the forms a result is stated in: index notation, or matrices
