"""Network parts of a sheet: a chain such as `affine>relu>affine>mse`, derived by derive.network.

    network = "affine_batch>relu>affine_batch>half_mse_mean"
    wrt = ["W1"]
    numeric = { X = [[…]], W1 = [[…]], W2 = [[…]], targets = [[…]], lr = 0.5 }

`numeric` gives a worked example: the inputs, every parameter by name, the targets (also
`Y` or `y`), the learning rate `lr` and the loss convention `loss` (sum, half, mean, half_mean), which must be the chain's own loss
(the derivation is printed beside the numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

from derive import limits
from derive.errors import DeriveError

TARGET_KEYS = ("targets", "Y", "y")
INPUT_KEYS = ("X", "x")


@dataclass
class NetworkAnswer:
    derivations: list  # derive.network.backprop.NetworkDerivation
    example: object = None  # derive.network.numeric.NumericExample


_OWN = object()  # the sheet's own loss convention, as `numeric` gives it


def worked_example(net, numeric: dict, convention=_OWN):
    """The worked example a network part's `numeric` table asks for, read within the limits; under
    another loss `convention` (sum, half, mean, half_mean, None for the chain's own) when given."""
    data = dict(numeric)
    X = next((data.pop(k) for k in INPUT_KEYS if k in data), None)
    targets = next((data.pop(k) for k in TARGET_KEYS if k in data), None)
    if X is None or targets is None:
        raise DeriveError("a network's numeric data needs the input X and the targets")
    lr = limits.real(data.pop("lr", 0.5), "numeric lr")
    loss = data.pop("loss", None)
    if loss is not None and not isinstance(loss, str):
        raise DeriveError("numeric loss must be the name of a convention: sum, half, mean or half_mean")
    weights = {k: data.pop(k) for k in list(data) if k in net.params}
    if data:
        raise DeriveError(f"unknown numeric key {next(iter(data))!r}; use X, targets, lr, loss and the "
                          f"parameters {', '.join(net.params)}")
    X, targets = limits.array(X, "numeric X"), limits.array(targets, "numeric targets")
    weights = {k: limits.array(v, f"numeric {k}") for k, v in weights.items()}
    return net.example(X=X, weights=weights, targets=targets, lr=lr, loss=loss if convention is _OWN else convention)


def solve_network(part) -> NetworkAnswer:
    """The derivations (one per `wrt`, default ∂L/∂W1) and the worked example of a network part."""
    from derive.network import network

    if not isinstance(part.network, str):
        raise DeriveError("network must be a chain such as \"affine>relu>affine>mse\"")
    net = network(part.network)
    if part.names:  # the sheet's names that this network has (check_names: each is some network's)
        from derive.network.names import keys_of

        mine = keys_of(net)
        net = net.renamed({k: v for k, v in part.names.items() if k in mine})
    derivations = [net.derive(w) for w in part.wrt] if part.wrt else [net.derive()]
    example = worked_example(net, part.numeric) if part.numeric else None
    if example is not None and abs(example.loss_scale - 1.0) > 1e-12:
        # the derivation printed beside the numbers is of the chain's loss: they must be one loss
        raise DeriveError(f"numeric: the worked example's loss ({example.convention}) is not the network's "
                          f"loss {net.loss.name}, so the formulas printed beside its numbers would not fit them; "
                          "end the chain with the loss you mean (e.g. half_mse_mean for (1/2N)‖Ŷ − Y‖²) "
                          "and drop `loss`")
    return NetworkAnswer(derivations, example)


def network_picture(answer: NetworkAnswer, fmt: str, file: str) -> tuple:
    """(the block that shows the plain diagram of the network's layers, the SVG to write as `file`):
    for Markdown an image of `file` and its SVG (None where Graphviz is not installed: then no
    picture), for LaTeX a TikZ picture and None."""
    from markupsafe import Markup

    from derive.graph.layers import layers_dot, layers_tikz
    from derive.graph.picture import maybe_svg

    d = answer.derivations[0]
    if fmt == "tex":
        return Markup("\\begin{center}\n" + layers_tikz(d).strip() + "\n\\end{center}"), None
    svg = maybe_svg(layers_dot(d))
    if svg is None:
        return None, None
    return Markup(f"![The layers of {d.network.spec}]({file})"), svg


def render_network(answer: NetworkAnswer, fmt: str, override: str | None, form: str | None = None,
                   edition: str = "ta") -> list:
    """Rendered blocks: each derivation (only the index or the matrix form if `form` says so), then
    the worked example. A students' edition has no note of the tool's own check (`check` empty; the
    templates also get `edition`)."""
    from markupsafe import Markup

    from derive.network import numeric_render
    from derive.network import render as network_render
    from derive.render.environment import render

    ext = "tex" if fmt == "tex" else "md"
    blocks = [render(f"partials/network.{ext}.j2", fmt, override,
                     **{**network_render.context(d), **({} if edition == "ta" else {"check": ""})},
                     form=form, edition=edition).strip()
              for d in answer.derivations]
    if answer.example is not None:
        blocks.append(render(f"partials/numeric.{ext}.j2", fmt, override,
                             **numeric_render.context(answer.example), edition=edition).strip())
    return [Markup(b) for b in blocks]
