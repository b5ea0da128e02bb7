"""`derive show NETWORK`: what the CLI prints for a chain such as affine>relu>affine>mse."""

from __future__ import annotations

import json

from derive.errors import DeriveError


def check_options(request) -> None:
    """A network's request (derive.model.request.Request) asks for no option a network does not take."""
    if request.scale != 1:
        raise DeriveError(f"--cost-scale applies to a single layer, not to the network {request.target}")
    if request.layout != "denominator":
        raise DeriveError("a network's gradients have the shape of the variable; "
                          f"use --layout denominator for {request.target}")


def network_text(args) -> str:
    """What `derive show NETWORK` prints (the gradient, or with --format numpy the NumPy code)."""
    from derive.network.chain import is_chain, network

    if not is_chain(args.target):
        raise DeriveError("--format numpy is for networks: a chain joined by '>' (or ',') "
                          "that ends in a loss, e.g. affine>relu>affine>mse")
    from derive import limits
    from derive.model.request import Request

    check_options(Request(args.target, args.wrt, args.cost_scale, args.layout, args.form))
    with limits.time_limit(f"deriving {args.target}"):
        net = network(args.target)
        if getattr(args, "names", None):  # --names s1=z_1,cost=L: a one-line error names a bad key
            net = net.renamed(dict(args.names))
        if args.format == "numpy":
            return net.numpy()
        d = net.derive(args.wrt)
    if args.format == "json":
        return json.dumps(d.to_json(), indent=2, ensure_ascii=False) + "\n"
    if args.format == "md":
        return d.markdown(args.form)
    if args.format == "tex":
        return d.tex(args.form)
    return d.text(args.form)
