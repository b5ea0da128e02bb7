"""The command line: `derive list | show | check | grade | sheet | serve`.

SymPy is imported only by the commands that need it, so `--help` and `list` start fast.
Every user error is one line on stderr and exit code 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from derive import limits
from derive.errors import DeriveError, did_you_mean
from derive.network.chain import builtin, is_chain

FORMATS = ("text", "md", "tex", "json")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for every other bad input
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:  # argparse's list, with a near miss named first
            choices = [c.strip(" '") for c in m.group(2).split(",")]
            message = message[:m.start()] + f"invalid choice {m.group(1)!r}; {did_you_mean(m.group(1), choices)}" \
                f"choose one of: {', '.join(choices)}"
        where = self.prog.removeprefix("derive").strip()  # main() says "derive: " once
        raise DeriveError(f"{where}: {message}" if where else message)


EXAMPLES = r"""examples:
  derive list
  derive show softmax                          the Jacobian of softmax, step by step, checked
  derive show affine --wrt W --form matrix     (∂C/∂y) xᵀ boxed, the index form after it
  derive show "affine>relu>affine>mse" --wrt W1
  derive show affine,relu,affine,mse --wrt W1  the same chain; quote a chain written with >,
                                               or the shell reads > as a redirection
  derive check softmax '\beta y_i(\delta_{ij} - y_j)'
  derive sheet --all -o output
  derive serve --sheet nyu2020_hw1"""


def _list(args) -> int:
    """Each entry with its variables, from derive/definitions/catalogue.py (no SymPy for built-in ones)."""
    from derive.definitions import entries
    from derive.definitions.describe import line, variables

    rows = [{"name": e.name, "kind": e.kind, "title": e.title, **variables(e.name)} for e in entries()]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            print(f"{r['name']:<{width}}  {r['kind']:<10}  {r['title']}")
            print(f"{'':<{width}}  {line(r)}")
    return 0


def _show(args) -> int:
    from derive import cache

    # What show prints comes from a derivation checked before it is shown (sympy.diff and finite
    # differences; a network's every printed statement and gradient) and is cached with it, per
    # request and sources: a second show prints it without importing SymPy.
    print(cache.cached("shown", _show_request(args), lambda: _shown(args)), end="")
    return 0


def _names(text: str) -> list:
    """--names "s1=z_1,cost=L" as [(key, name), …]; argparse's one-line error for a piece without both."""
    pairs = [piece.partition("=") for piece in text.split(",")]
    bad = next((a + b + c for a, b, c in pairs if not (a.strip() and b and c.strip())), None)
    if bad is not None:
        raise argparse.ArgumentTypeError(f"{bad!r} is not KEY=NAME, e.g. s1=z_1 or cost=L")
    return [(a.strip(), c.strip()) for a, _, c in pairs]


def _show_request(args) -> dict | None:
    """What names a show's output in the cache; None (not cached) for a module registered at run time."""

    if not builtin(args.target):
        return None
    named = {"names": sorted(args.names)} if args.names else {}
    return {**_request(args).cache_key(), "form": args.form, "format": args.format, **named}


def _request(args):
    """The derivation `derive show` asks for, its options read once (derive.model.request)."""
    from derive.model.request import Request

    return Request(args.target, args.wrt, args.cost_scale, args.layout, args.form)


def _shown(args) -> str:
    """The text `derive show` prints for `args`."""
    from derive.warm import collector_paused

    if is_chain(args.target) or args.format == "numpy":  # a network: derive.network
        with collector_paused():  # SymPy's and the engine's imports: see derive/warm.py
            import derive.network.backprop
            from derive.network.cli import network_text

        return network_text(args)
    if args.names:
        raise DeriveError(f"--names renames a network's quantities; {args.target} is a single module")
    from derive import cache

    with collector_paused():
        import derive.calculus.engine
        import derive.verify  # noqa: F401
        from derive.network.chain import derive_request

    # Checked before it is shown (sympy.diff and finite differences), once per engine: cached.
    request = _request(args)
    with limits.time_limit(f"deriving {args.target}" + (f" with respect to {args.wrt}" if args.wrt else "")):
        d = cache.cached("derivation", request.cache_key() if builtin(args.target) else None,
                         lambda: derive_request(request, verify=True, beside=True))
    form = request.form or "index"
    if args.format == "json":
        from derive.render.show import form_of

        form_of(d, form)  # JSON holds both forms; a matrix form that does not exist is still an error
        return json.dumps(d.to_json(), indent=2, ensure_ascii=False) + "\n"
    if args.format == "md":
        return d.markdown(form)
    if args.format == "tex":
        return d.tex(form)
    return d.text(form)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description="Backprop derivations, step by step, verified.", epilog=EXAMPLES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="the registered modules and losses, with their variables and shapes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_list)

    p = sub.add_parser("show", help="derive a gradient step by step")
    p.add_argument("target", help="a registry name, e.g. softmax, or a chain such as \"affine>relu>affine>mse\" "
                                  "(quoted) or affine,relu,affine,mse")
    p.add_argument("--wrt", help="the variable to differentiate by (default: the first input)")
    p.add_argument("--form", choices=("index", "matrix"),
                   help="the form the result is stated in first: index (default) or matrix; "
                        "a network shows only this form (default: both)")
    p.add_argument("--format", choices=(*FORMATS, "numpy"), default="text",
                   help="numpy (networks only): a NumPy function for the forward pass and every gradient")
    p.add_argument("--layout", choices=("denominator", "numerator"), default="denominator",
                   help="denominator: the gradient has the shape of the variable (default)")
    p.add_argument("--cost-scale", default="1", type=limits.cost_scale,
                   help="differentiate c·C instead of C (a layer's cost), e.g. 3")
    p.add_argument("--names", type=_names, action="extend", default=[], metavar="KEY=NAME,…",
                   help="a network's quantities in your notation, e.g. \"s1=z_1,delta2=\\delta_3,cost=L\" "
                        "(the keys of a sheet's [names])")
    limits.add_time_limit(p, "the derivation and its checks")
    p.set_defaults(run=_show)

    for extend in _extensions():
        extend(sub)
    return parser


# Further subcommands (check, grade, sheet, audit, serve, graph) live beside their code: each has register(subparsers).
EXTENSIONS = ("derive.check.cli", "derive.sheets.cli", "derive.audit.cli", "derive.serve.cli",
              "derive.graph.cli")


def _extensions() -> list:
    import importlib

    found = []
    for name in EXTENSIONS:
        try:
            found.append(importlib.import_module(name).register)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


def _run(args) -> int:
    """The command, under its time limit where it has one (--time-limit)."""
    if not hasattr(args, "time_limit"):
        return args.run(args)
    previous = limits.time_limit_seconds()
    limits.set_time_limit(args.time_limit)
    try:
        return args.run(args)
    finally:
        limits.set_time_limit(previous)


def main(argv: list[str] | None = None) -> int:
    as_program = argv is None
    argv = sys.argv[1:] if argv is None else argv
    if not argv:  # bare `derive`: what it does and how to call it
        print(build_parser().format_help(), file=sys.stderr, end="")
        return 2
    try:
        args = build_parser().parse_args(argv)
        code = _run(args)
        if as_program:  # the program is ending: spare the collection at exit, which walks every SymPy object
            import gc

            gc.freeze()
        return code
    except DeriveError as exc:
        print(f"derive: {' '.join(exc.message.splitlines())}", file=sys.stderr)  # one line, whatever it quotes
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
