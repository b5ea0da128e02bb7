import os
import shutil

import pytest

# Pictures of graphs and networks are drawn by Graphviz's dot. Without it (a fresh machine) the tests
# that look at a picture, or at committed output drawn with it, skip; CI installs it, so there they fail.
needs_dot = pytest.mark.skipif(shutil.which("dot") is None and not os.environ.get("CI"),
                               reason="Graphviz's dot is not installed (apt-get install graphviz)")

# The closed forms the seed homeworks need, as the text printer writes them.
CLOSED = [
    ("softmax", "x", "beta*y[i]*(KroneckerDelta(i, j) - y[j])"),
    ("sigmoid", "x", "y*(1 - y)"),
    ("tanh", "x", "1 - y**2"),
    ("relu", "x", "Heaviside(x, 0)"),
    ("softmax_cross_entropy", "theta", "yhat[i] - y[i]"),
    ("mse", "yhat", "2*(yhat[i] - y[i])"),
    ("half_mse", "yhat", "yhat[i] - y[i]"),
    ("bce", "yhat", "(yhat[i] - y[i])/(K*yhat[i]*(1 - yhat[i]))"),
    ("bce_logits", "theta", "(yhat[i] - y[i])/K"),
    ("cross_entropy", "yhat", "-y[i]/yhat[i]"),
    ("affine", "W", "dC_dy[i]*x[j]"),
    ("affine", "b", "dC_dy[i]"),
    ("affine", "x", "Sum(dC_dy[l]*W[l, i], (l, 1, M))"),
    ("elu", "x", "Piecewise((1, x > 0), (alpha + y, True))"),
    ("l2", "W", "lam*W[i, j]"),
    ("half_frobenius", "Yhat", "Yhat[i, j] - Y[i, j]"),
    # every term of the loss depends on every score through the softmax: the sum over l stays
    ("hinge", "o", ("Sum(Heaviside(C + p[l] - p[t], 0)*(1 - KroneckerDelta(l, t))*"
                   "(p[l]*(KroneckerDelta(i, l) - p[i]) - p[t]*(KroneckerDelta(i, t) - p[i])), (l, 1, K))")),
    ("svm", "s", ("Sum((1 - KroneckerDelta(k, t))*(KroneckerDelta(i, k) - KroneckerDelta(i, t))*"
                 "Heaviside(Delta + s[k] - s[t], 0), (k, 1, K))")),
]


# a class index t, a norm under a root, cases per entry, a kept sum: no product of whole matrices reads them
NO_MATRIX_FORM = {("hinge", "o"), ("svm", "s"), ("squared_hinge", "s"), ("huber", "yhat"), ("cosine", "x"),
                  ("cosine", "y"), ("kl_softmax", "a"), ("word2vec_softmax_o", "v"), ("word2vec_softmax_o", "U")}


def registry_cases():
    from derive.definitions import entries, get

    return [pytest.param(e.name, v.name, id=f"{e.name}-{v.name}") for e in entries() for v in get(e.name).inputs]


@pytest.fixture(autouse=True, scope="session")
def _empty_derivation_cache(tmp_path_factory):
    """Every run starts with an empty cache of verified derivations in a folder of its own.

    The suite uses the cache as the CLI does (so a hit is tested against the committed sheets),
    but never one left by an earlier run or by the user. Subprocesses inherit the variable.
    """
    import os

    saved = {k: os.environ.get(k) for k in ("DERIVE_CACHE_DIR", "DERIVE_NO_CACHE")}
    os.environ["DERIVE_CACHE_DIR"] = str(tmp_path_factory.mktemp("derive-cache"))
    os.environ.pop("DERIVE_NO_CACHE", None)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
